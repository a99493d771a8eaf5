"""The embedded ledger: one SQLite file (stdlib ``sqlite3``), WAL journal.

Durability: ``synchronous=FULL`` by default. The host answers Stripe 2xx only
after the ledger commits, and Stripe never re-sends an acknowledged event, so a
commit must survive a power loss, not only a crash of the process (which WAL
with ``NORMAL`` already survives). ``FULL`` costs one more fsync per commit and
still allows thousands of webhooks a second; pass ``synchronous="NORMAL"`` if
the file sits on storage where that loss is acceptable.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, TypeVar, final

from cancelflow._outcomes.ledger_sql import Cursor, SQLLedger
from cancelflow.exceptions import InvalidParameterError, LedgerError

__all__ = ["SQLiteLedger"]

_T = TypeVar("_T")

_SYNC: Final = ("FULL", "NORMAL", "EXTRA")


def _check_path(path: str) -> None:
    """Refuse *path* before SQLite sees it when the reason can be named."""
    where = Path(path)
    if where.is_dir():
        raise LedgerError(
            f"cannot open the SQLite ledger {path!r}: it is a directory; give the "
            "path of a database file"
        )
    parent = where.parent
    if not parent.exists():
        raise LedgerError(
            f"cannot open the SQLite ledger {path!r}: the directory {str(parent)!r} "
            "does not exist; create it first (cancelflow creates only the "
            "database file)"
        )
    if not parent.is_dir():
        raise LedgerError(
            f"cannot open the SQLite ledger {path!r}: {str(parent)!r} is a file, "
            "not a directory"
        )


def _access_hint(path: str) -> str:
    """Why SQLite may have refused *path*, when the file system says so."""
    where = Path(path)
    if where.exists():
        if not os.access(where, os.R_OK | os.W_OK):
            return " (no permission to read and write the file)"
        return ""
    if not os.access(where.parent, os.W_OK | os.X_OK):
        return f" (no permission to create a file in {str(where.parent)!r})"
    return ""


@final
class _Transaction:
    """One transaction of a `SQLiteLedger`, holding its lock: committed when
    the block ends, rolled back when it raises (a ``sqlite3`` error becomes a
    `LedgerError`).

    A plain class rather than a ``@contextmanager`` generator: a transaction
    is the fixed cost of every delivery, and the generator's machinery costs
    several times the bytecodes of these two methods.
    """

    __slots__ = ("_begin", "_cur", "_ledger")

    def __init__(self, ledger: SQLiteLedger, begin: str) -> None:
        self._ledger = ledger
        self._begin = begin

    def __enter__(self) -> sqlite3.Cursor:
        ledger = self._ledger
        ledger._lock.acquire()  # released by _close
        try:
            self._cur = ledger._conn.cursor()
        except BaseException:
            ledger._lock.release()
            raise
        try:
            self._cur.execute(self._begin)
        except BaseException as exc:
            self._end(exc)
            raise
        return self._cur

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._end(exc)
            return  # the block's exception goes on
        try:
            self._cur.execute("COMMIT")
        except BaseException as err:
            self._end(err)
            raise
        self._close()

    def _end(self, exc: BaseException) -> None:
        """Roll back after *exc*, let go, and raise *exc* as a `LedgerError`
        when it is ``sqlite3``'s."""
        try:
            self._ledger._rollback()
        finally:
            self._close()
        if isinstance(exc, sqlite3.Error):
            raise LedgerError(f"the SQLite ledger failed: {exc}") from exc

    def _close(self) -> None:
        try:
            self._cur.close()
        finally:
            self._ledger._lock.release()


@final
class SQLiteLedger(SQLLedger):
    """A `Ledger` in a SQLite file.

    Safe to share between threads; several processes may use the same file
    (writers take SQLite's write lock with ``BEGIN IMMEDIATE`` and wait up to
    *busy_timeout* seconds for it). Opening applies pending schema migrations
    and refuses a schema newer than this cancelflow.

    Args:
        path: the database file, or ``":memory:"``. The file is created if
            missing; its directory must exist (nothing else is created).
        synchronous: SQLite's ``synchronous`` setting: ``"FULL"`` (default),
            ``"NORMAL"`` or ``"EXTRA"``.
        busy_timeout: seconds to wait for another writer.

    Raises:
        LedgerError: the file cannot be opened (the message names the path
            and why: a missing directory, a file where a directory should be,
            a directory where the file should be, no permission, not a
            database), or its schema is newer.
        InvalidParameterError: `path` is not a file path, or `synchronous` is
            not one of the three modes.
    """

    clustered = " WITHOUT ROWID"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL",
        busy_timeout: float = 5.0,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidParameterError(
                "path", f"expected a file path, got {type(path).__name__}"
            )
        if synchronous not in _SYNC:
            raise InvalidParameterError(
                "synchronous", f"must be one of {', '.join(_SYNC)}"
            )
        super().__init__()
        self.path = str(path)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            _check_path(self.path)
        try:
            self._conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            with self._transaction(write=True) as cur:
                self._migrate(cur)
        except sqlite3.Error as exc:
            self._close_quietly()
            raise LedgerError(
                f"cannot open the SQLite ledger {self.path!r}: {exc}"
                f"{_access_hint(self.path)}"
            ) from exc
        except LedgerError:
            self._close_quietly()
            raise

    def _is_permanent(self, exc: BaseException | None) -> bool:
        return isinstance(exc, sqlite3.DataError | sqlite3.IntegrityError)

    def _close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def __repr__(self) -> str:
        return f"SQLiteLedger({self.path!r})"

    def _transaction(
        self, *, write: bool, lock_keys: Sequence[str] = ()
    ) -> _Transaction:
        del lock_keys  # SQLite has one write lock for the whole file
        return _Transaction(self, "BEGIN IMMEDIATE" if write else "BEGIN")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def read_in_parallel(self, works: Sequence[Callable[[Cursor], _T]]) -> list[_T]:
        """Run each of *works* on its own read-only connection, all on one snapshot.

        For cancelflow's reports: SQLite runs one statement on one core, and a
        report reads the cases several times. The connections start their
        read transactions while this ledger holds the write lock, so no commit
        can come between them and they all see the same data; then each runs
        in its own thread (``sqlite3`` releases the GIL while a statement
        runs). An in-memory database, or one this process cannot open a second
        time, runs the works one after another in one read transaction.

        Args:
            works: functions of a cursor; they must not write to cancelflow's
                tables (temporary tables of their own are fine).

        Returns:
            What each work returned, in the order of *works*.

        Raises:
            LedgerError: the store failed.
        """
        if self.path == ":memory:" or len(works) < 2 or (os.cpu_count() or 1) < 2:
            return self.read_only(lambda cur: [work(cur) for work in works])
        try:
            conns = [
                sqlite3.connect(
                    f"{Path(self.path).resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
                for _ in works
            ]
        except sqlite3.Error:
            return self.read_only(lambda cur: [work(cur) for work in works])
        try:
            cursors = [conn.cursor() for conn in conns]
            with self._transaction(write=True):  # no commit until all have begun
                for cur in cursors:
                    cur.execute("BEGIN")
                    cur.execute("SELECT COUNT(*) FROM cancelflow_schema_migrations")
                    cur.fetchall()
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=len(works)) as pool:
                futures = [
                    pool.submit(work, cur)
                    for work, cur in zip(works, cursors, strict=True)
                ]
                return [future.result() for future in futures]
        except sqlite3.Error as exc:
            raise LedgerError(f"the SQLite ledger failed: {exc}") from exc
        finally:
            for conn in conns:
                conn.close()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
