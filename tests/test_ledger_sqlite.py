"""The SQLite ledger: file settings, schema migrations, crash safety."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from cancelflow import SQLiteLedger, parse_event
from cancelflow._ledger_sql import LATEST_VERSION
from cancelflow.exceptions import InvalidParameterError, LedgerError
from sigkill import clean_run, ingest, ingest_and_kill
from stripe_events import SubSim


def pragma(path, name):
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_wal_and_full_sync(tmp_path):
    """The file uses the WAL journal, and the connection synchronous=FULL by default."""
    path = tmp_path / "l.db"
    with SQLiteLedger(path) as ledger:
        assert pragma(path, "journal_mode") == "wal"
        assert ledger._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with SQLiteLedger(path, synchronous="NORMAL") as normal:
        assert normal._conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(InvalidParameterError):
        SQLiteLedger(path, synchronous="OFF")


def test_migrations_are_recorded_and_reopening_is_harmless(tmp_path):
    """Opening creates the schema once and records its version; reopening keeps the data."""
    path = tmp_path / "l.db"
    ledger = SQLiteLedger(path)
    assert ledger.schema_version() == LATEST_VERSION
    ledger.record_events(parse_event(SubSim().schedule()))
    ledger.close()
    with SQLiteLedger(path) as again:
        assert again.schema_version() == LATEST_VERSION
        assert len(again.cases()) == 1
    with closing(sqlite3.connect(path)) as conn, conn:
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM cancelflow_schema_migrations"
            ).fetchone()[0]
            == LATEST_VERSION
        )


def test_newer_schema_is_refused(tmp_path):
    """A database migrated by a newer cancelflow raises LedgerError instead of being touched."""
    path = tmp_path / "l.db"
    SQLiteLedger(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO cancelflow_schema_migrations VALUES (?, 'from the future', 0)",
            (LATEST_VERSION + 1,),
        )
    with pytest.raises(LedgerError, match="newer"):
        SQLiteLedger(path)


def test_not_a_database(tmp_path):
    """A file that is not SQLite raises LedgerError."""
    path = tmp_path / "l.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError):
        SQLiteLedger(path)


def test_two_handles_share_one_file(tmp_path):
    """Two ledger objects on one file (two workers) see each other's events and skip duplicates."""
    path = tmp_path / "l.db"
    with SQLiteLedger(path) as a, SQLiteLedger(path) as b:
        s = SubSim()
        first = parse_event(s.schedule())
        assert a.record_events(first)
        assert not b.record_events(first)
        assert b.record_events(parse_event(s.tick(7).feedback("unused")))
        assert a.cases() == b.cases()
        assert a.cases()[0].feedback is not None


def test_failed_transaction_rolls_back(tmp_path):
    """An error inside a transaction leaves no partial write."""
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        events = parse_event(SubSim().schedule())
        ledger._conn.execute("DROP TABLE cancelflow_cases")
        with pytest.raises(LedgerError):
            ledger.record_events(events)
        assert not ledger.is_processed(events[0].event_id)


@pytest.mark.slow
def test_sigkill_mid_ingest_loses_nothing(tmp_path):
    """A process SIGKILLed while ingesting, restarted with everything re-delivered, ends equal to a clean run."""
    count = 2500
    crashed = tmp_path / "crashed.db"
    seen = ingest_and_kill("sqlite", str(crashed), str(count), after=800)
    assert 800 <= seen < count
    ingest("sqlite", str(crashed), str(count))
    clean, ids = clean_run(count)
    with SQLiteLedger(crashed) as a:
        assert list(a.processed_event_ids()) == ids
        assert a.links() == clean.links()
        assert a.cases() == clean.cases()
        assert len(a.cases()) > 400
