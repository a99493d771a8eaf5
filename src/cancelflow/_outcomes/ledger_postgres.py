"""The ledger on PostgreSQL (psycopg 3), for apps that run on several machines.

Install the extra: ``pip install "cancelflow[postgres]"``. ``psycopg`` is
imported when a `PostgresLedger` is created, never by ``import
cancelflow``. Writers of one subscription are serialised with a transaction
advisory lock, so concurrent deliveries on several machines cannot lose an
update; duplicate deliveries meet on the processed-events primary key.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, final

from cancelflow._outcomes.events import _AboutSubscription
from cancelflow._outcomes.ledger_sql import Cursor, SQLLedger
from cancelflow.exceptions import InvalidParameterError, LedgerError

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresLedger"]

_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_MIGRATION_LOCK: Final = "cancelflow:migrations"


@final
class PostgresLedger(SQLLedger):
    """A `Ledger` in a PostgreSQL database.

    Args:
        conninfo: a libpq connection string or URL
            (``postgresql://user:password@host:5432/db``). It is never shown in
            a ``repr`` or an error message.
        schema: a PostgreSQL schema to keep cancelflow's tables in (created if
            missing); by default the connection's ``search_path`` decides.
        connect_timeout: seconds to wait for the server.

    Opening applies pending schema migrations (under an advisory lock, so
    several processes may start at once) and refuses a newer schema. A broken
    connection is reopened on the next call.

    Raises:
        LedgerError: psycopg is missing, the server cannot be reached, or its
            schema is newer than this cancelflow.
        InvalidParameterError: `conninfo` is not a string, or `schema` is not a
            plain identifier.
    """

    payload_text = "payload::text"
    int_type = "BIGINT"
    bool_type = "BOOLEAN"
    json_type = "JSONB"
    blob_type = "BYTEA"
    dialect = "postgresql"
    decision_experiment = (
        "CASE WHEN jsonb_typeof(decision -> 'experiment') = 'string' "
        "THEN decision ->> 'experiment' END"
    )

    def __init__(
        self, conninfo: str, *, schema: str | None = None, connect_timeout: int = 10
    ) -> None:
        given: object = conninfo
        if not isinstance(given, str):
            raise InvalidParameterError(
                "conninfo", "give a connection string (postgresql://… or key=value)"
            )
        if schema is not None and not _IDENTIFIER.fullmatch(schema):
            raise InvalidParameterError(
                "schema", "must be a plain identifier (letters, digits, underscore)"
            )
        try:
            import psycopg  # noqa: F401 - fail early with a clear message
        except ImportError:
            raise LedgerError(
                'PostgresLedger needs psycopg 3: pip install "cancelflow[postgres]"'
            ) from None
        super().__init__()
        self._conninfo = conninfo
        self.schema = schema
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        try:
            with self._transaction(write=True, lock_keys=[_MIGRATION_LOCK]) as cur:
                self._migrate(cur)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresLedger(<conninfo hidden>, schema={self.schema!r})"

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg import sql

        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        self._conn = None
        try:
            conn = psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=self._connect_timeout
            )
        except psycopg.Error as exc:
            raise LedgerError(
                f"cannot connect to the PostgreSQL ledger ({type(exc).__name__}); "
                "check the server, the connection string and the credentials"
            ) from None
        if self.schema is not None:
            try:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(self.schema)
                    )
                )
                conn.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema))
                )
            except psycopg.Error as exc:
                conn.close()
                raise LedgerError(
                    f"cannot use schema {self.schema!r}: {exc.sqlstate}"
                ) from exc
        self._conn = conn
        return conn

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def _is_permanent(self, exc: BaseException | None) -> bool:
        # SQLSTATE class 22 (data exception: a value the column cannot hold)
        # and 23 (integrity constraint violation) come back on every retry;
        # connection, lock, resource and permission failures do not.
        state = getattr(exc, "sqlstate", None) or ""
        return state.startswith(("22", "23"))

    def _json_in(self, value: object) -> object:
        from psycopg.types.json import Jsonb

        return None if value is None else Jsonb(value)

    def _event_param(self, event: _AboutSubscription) -> object:
        # JSONB: the text read back is PostgreSQL's rendering, not ours, so
        # there is nothing to remember here (the first read decodes it).
        return self._json_in(event.to_json())

    def _ids_in(self, ids: tuple[str, ...]) -> object:
        return self._json_in(list(ids))

    def _bool_in(self, value: object) -> object:
        return value  # a BOOLEAN column takes a bool as it is

    def _packed(self, columns: Sequence[str]) -> str:
        return ", ".join(columns)  # psycopg builds a description only when asked

    def _unpacked(self, row: Sequence[Any]) -> Sequence[Any]:
        return row

    def _as_read(self, params: tuple[object, ...]) -> tuple[object, ...]:
        from psycopg.types.json import Jsonb  # JSONB reads back as Python data

        return tuple(p.obj if isinstance(p, Jsonb) else p for p in params)

    @contextmanager
    def _transaction(
        self, *, write: bool, lock_keys: Sequence[str] = ()
    ) -> Iterator[Cursor]:
        import psycopg

        del write  # PostgreSQL locks rows and keys, not the database
        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    for key in sorted(set(lock_keys)):
                        cur.execute(
                            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                            (f"cancelflow:{key}",),
                        )
                    yield cur
            except psycopg.Error as exc:
                raise LedgerError(
                    f"the PostgreSQL ledger failed ({type(exc).__name__}, "
                    f"SQLSTATE {exc.sqlstate}); the transaction was rolled back"
                ) from exc

    def drop_schema_objects(self) -> None:
        """Drop cancelflow's tables (for tests and uninstalling; irreversible)."""
        with self._transaction(write=True) as cur:
            for table in (
                "cancelflow_problems",
                "cancelflow_cases",
                "cancelflow_links",
                "cancelflow_events",
                "cancelflow_processed_events",
                "cancelflow_schema_migrations",
            ):
                cur.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Close the connection (a later call reconnects)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
