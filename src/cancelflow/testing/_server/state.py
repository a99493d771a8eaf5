"""The ``--state`` file: a served account kept across restarts (strictly private).

The file holds a *journal*: every change made over HTTP (API requests that
change something, portal visits and actions, clock moves, the Dashboard's
portal settings), in order, plus
what the account was built from (seed, clock start, webhook secret). On
start the server replays the journal through the same code that handled it
the first time, so the account comes back exactly (ids, session URLs,
events), and the fake's behaviour stays the one source of truth: no second
serialization of its internals to keep in step. Each replayed step must give
the answer it gave when it was recorded; if it does not (a cancelflow
version whose fake behaves differently), the file is refused, never
silently reset.

The file is JSON (``{"format": "cancelflow-fake-state", "version": 1, …}``),
written atomically (a temporary file in the same folder, flushed to disk,
then ``os.replace``) with owner-only permissions, at most every
:data:`SAVE_INTERVAL` seconds while changes come in, and on stop. A file that
is not JSON, not a state file, or of a newer format version is refused with
a :class:`~cancelflow.exceptions.FakeServerStateError` that says what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import attrs

from cancelflow.exceptions import FakeServerStateError

__all__ = [
    "FORMAT",
    "SAVE_INTERVAL",
    "VERSION",
    "Autosave",
    "SavedState",
    "read",
    "write",
]

FORMAT: Final = "cancelflow-fake-state"
VERSION: Final = 1
"""The format version this cancelflow writes and the newest it reads."""
SAVE_INTERVAL: Final = 0.25
_OPS: Final = frozenset(
    {"api", "visit", "act", "advance", "dashboard", "fail_renewal", "retry_schedule"}
)

JSON = dict[str, Any]


@attrs.define(kw_only=True)
class SavedState:
    """What a state file holds."""

    seed: int
    start: int
    webhook_secret: str = attrs.field(repr=False)
    request_count: int
    entries: list[JSON] = attrs.field(repr=False)
    written_by: str

    def to_json(self) -> JSON:
        return {
            "format": FORMAT,
            "version": VERSION,
            "written_by": self.written_by,
            "seed": self.seed,
            "start": self.start,
            "webhook_secret": self.webhook_secret,
            "request_count": self.request_count,
            "entries": self.entries,
        }


def _refuse(path: Path, problem: str) -> FakeServerStateError:
    return FakeServerStateError(
        f"cannot use the state file {str(path)!r}: {problem}. Nothing was changed; "
        "move the file away (or pass another --state FILE) to start an empty account"
    )


def read(path: Path) -> SavedState | None:
    """The state saved in *path*, ``None`` if there is no such file.

    Raises:
        FakeServerStateError: the file cannot be read, is not a state file, is
            corrupt, or was written by a newer cancelflow.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise _refuse(path, f"it cannot be read ({err.strerror or err})") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise _refuse(path, f"it is not valid JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _refuse(path, "it is not a cancelflow fake state file")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _refuse(path, f"its format version {version!r} is not valid")
    if version > VERSION:
        raise _refuse(
            path,
            f"it was written by a newer cancelflow ({data.get('written_by')!s:.40}, "
            f"state format {version}; this one reads up to {VERSION}); upgrade "
            "cancelflow to use it",
        )
    try:
        state = SavedState(
            seed=_int(data, "seed"),
            start=_int(data, "start"),
            webhook_secret=_secret(data),
            request_count=_int(data, "request_count"),
            entries=_entries(data),
            written_by=str(data.get("written_by", "?")),
        )
    except _CorruptError as err:
        raise _refuse(path, f"it is corrupt ({err})") from None
    return state


class _CorruptError(Exception):
    pass


def _int(data: JSON, key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _CorruptError(f"{key} is not a non-negative integer")
    return value


def _secret(data: JSON) -> str:
    value = data.get("webhook_secret")
    if not isinstance(value, str) or not value.startswith("whsec_"):
        raise _CorruptError("webhook_secret is not a whsec_… secret")
    return value


def _entries(data: JSON) -> list[JSON]:
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise _CorruptError("entries is not a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("op") not in _OPS:
            raise _CorruptError(f"entry {i} is not a journal entry")
    return entries


def write(path: Path, state: SavedState) -> None:
    """Write *state* to *path* atomically: the file is the old one or the new one."""
    text = json.dumps(state.to_json(), separators=(",", ":"), ensure_ascii=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class Autosave:
    """Writes the state in a background thread after changes, and once more on close.

    *snapshot()* is called under no lock of ours; it must return a consistent
    :class:`SavedState` (the account takes its own lock).
    """

    def __init__(
        self,
        path: Path,
        snapshot: Callable[[], SavedState],
        *,
        on_error: Callable[[BaseException], None],
        interval: float = SAVE_INTERVAL,
    ) -> None:
        self._path = path
        self._snapshot = snapshot
        self._on_error = on_error
        self._interval = interval
        self._dirty = threading.Event()
        self._closing = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name="cancelflow-state", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def changed(self) -> None:
        """Something changed: save soon."""
        self._dirty.set()

    def save_now(self) -> None:
        with self._write_lock:
            self._dirty.clear()
            write(self._path, self._snapshot())

    def close(self) -> None:
        """Stop the thread and write the final state."""
        self._closing.set()
        self._dirty.set()
        if self._thread.is_alive():
            self._thread.join()
        self.save_now()

    def _run(self) -> None:
        # close() sets _closing before _dirty: a save_now() clearing _dirty after
        # close() cannot make this loop wait again, since _closing is checked first.
        while not self._closing.is_set():
            self._dirty.wait()
            # let a burst of changes gather (or stop at once when closing)
            if self._closing.wait(self._interval):
                return
            try:
                self.save_now()
            except OSError as err:
                self._on_error(err)
