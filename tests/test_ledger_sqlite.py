"""The SQLite ledger: file settings, schema migrations, crash safety."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from typing import ClassVar

import pytest

from cancelflow import EventKind, LinkRecord, SQLiteLedger, fold_cases, parse_event
from cancelflow._outcomes.ledger import canonical_json
from cancelflow._outcomes.ledger_sql import LATEST_VERSION, payload_json
from cancelflow.exceptions import InvalidParameterError, LedgerError
from sigkill import clean_run, ingest, ingest_and_kill
from stripe_events import SCENARIOS, SubSim, links_for, scenario


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
    """A file that is not SQLite raises LedgerError naming the path."""
    path = tmp_path / "l.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="not a database") as info:
        SQLiteLedger(path)
    assert str(path) in str(info.value)


def test_a_file_where_the_directory_should_be(tmp_path):
    """'some-file/x.db' raises LedgerError naming the path and the cause, not
    FileExistsError, and creates nothing."""
    (tmp_path / "some-file").write_text("notes", encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(LedgerError) as info:
        SQLiteLedger(tmp_path / "some-file" / "x.db")
    assert str(tmp_path / "some-file" / "x.db") in str(info.value)
    assert "is a file, not a directory" in str(info.value)
    assert sorted(tmp_path.iterdir()) == before
    assert (tmp_path / "some-file").read_text(encoding="utf-8") == "notes"


def test_a_missing_directory_is_not_created(tmp_path):
    """A missing parent directory raises LedgerError; no directory appears."""
    path = tmp_path / "a" / "b" / "x.db"
    with pytest.raises(LedgerError, match="does not exist; create it first") as info:
        SQLiteLedger(path)
    assert str(path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_directory_is_not_a_database_file(tmp_path):
    """A directory given as the path raises LedgerError saying so."""
    with pytest.raises(LedgerError, match="it is a directory"):
        SQLiteLedger(tmp_path)


def test_a_file_in_the_current_directory(tmp_path, monkeypatch):
    """A bare file name opens in the current directory (its parent is '.')."""
    monkeypatch.chdir(tmp_path)
    SQLiteLedger("x.db").close()
    assert (tmp_path / "x.db").is_file()


def test_permission_problems_are_named(tmp_path, monkeypatch):
    """When SQLite refuses the path, the message adds what the file system says."""
    import os

    from cancelflow._outcomes import ledger_sqlite

    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)
    assert "no permission to create a file in" in ledger_sqlite._access_hint(
        str(tmp_path / "x.db")
    )
    (tmp_path / "x.db").write_bytes(b"")
    assert "no permission to read and write" in ledger_sqlite._access_hint(
        str(tmp_path / "x.db")
    )
    monkeypatch.undo()
    assert ledger_sqlite._access_hint(str(tmp_path / "x.db")) == ""


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


def test_a_transaction_ends_cleanly_whatever_stops_it(tmp_path):
    """A transaction commits when its block ends; when the block raises, it
    rolls back and the error goes on as it was (a sqlite3 error as a chained
    LedgerError); when BEGIN cannot take the write lock, LedgerError too. Every
    way, the ledger is left unlocked and usable from another thread."""
    path = tmp_path / "l.db"
    with SQLiteLedger(path, busy_timeout=0.05) as ledger:

        def rows():
            with closing(sqlite3.connect(path)) as conn:
                return conn.execute(
                    "SELECT COUNT(*) FROM cancelflow_processed_events"
                ).fetchone()[0]

        def insert(cur, event_id):
            cur.execute(
                "INSERT INTO cancelflow_processed_events VALUES (?, 'x', 1, 0)",
                (event_id,),
            )

        with ledger._transaction(write=True) as cur:
            insert(cur, "evt_kept")
        assert rows() == 1
        with pytest.raises(KeyError), ledger._transaction(write=True) as cur:
            insert(cur, "evt_gone")
            raise KeyError("the block failed")
        with pytest.raises(LedgerError) as info:
            with ledger._transaction(write=True) as cur:
                insert(cur, "evt_gone")
                insert(cur, "evt_kept")  # a duplicate key
        assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            with pytest.raises(LedgerError, match="locked"):
                with ledger._transaction(write=True):
                    pass
            other.execute("ROLLBACK")
        assert rows() == 1
        assert not ledger._conn.in_transaction
        worker = threading.Thread(
            target=ledger.record_events, args=(parse_event(SubSim().schedule()),)
        )
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive()
        assert ledger.processed_count() == 2


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


def test_payload_json_is_the_canonical_json_of_the_event():
    """The stored payload's fast path writes canonical_json(event.to_json()), for every kind."""
    events = [e for k in SCENARIOS for raw in scenario(k, 3) for e in parse_event(raw)]
    assert {e.kind for e in events} == set(EventKind)
    for event in events:
        assert payload_json(event) == canonical_json(event.to_json())


def test_an_event_writes_only_what_changed(tmp_path):
    """A second event of a subscription updates its case in place, assigning only the
    changed columns (not customer_id, whose index entry would be rewritten too)."""
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        s = SubSim()
        ledger.record_events(parse_event(s.schedule()))
        statements: list[str] = []
        ledger._conn.set_trace_callback(statements.append)
        ledger.record_events(parse_event(s.tick(7).feedback("unused")))
        ledger._conn.set_trace_callback(None)
    writes = [q for q in statements if q.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [q.split(" (")[0].split(" SET ")[0] for q in writes] == [
        "INSERT INTO cancelflow_processed_events",
        "INSERT INTO cancelflow_events",
        "UPDATE cancelflow_cases",
    ]
    assigned = writes[2].split(" SET ")[1].split(" WHERE ")[0].split(", ")
    assert {a.split(" = ")[0] for a in assigned} == {
        "updated_at",
        "feedback",
        "feedback_at",
        "event_ids",
    }


class _BindingCursor(sqlite3.Cursor):
    """Records the type of every parameter bound."""

    bound: ClassVar[set[type]] = set()

    def execute(self, sql, parameters=(), /):
        self.bound.update(type(p) for p in parameters)
        return super().execute(sql, parameters)


class _Connection:
    def __init__(self, conn):
        self._conn = conn

    def cursor(self):
        return self._conn.cursor(_BindingCursor)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_ingest_binds_only_exact_ints_and_strings(tmp_path):
    """Recording links and events binds no None and no bool: sqlite3 looks up an
    adapter for any parameter that is not exactly an int, float or str, at a
    cost of thousands of instructions each. What is read back is unchanged."""
    raw = [e for k in SCENARIOS for n in range(2) for e in scenario(k, n)]
    events = [parse_event(r) for r in raw]
    links = links_for(raw)
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        ledger._conn = _Connection(ledger._conn)  # type: ignore[assignment]
        _BindingCursor.bound = set()
        for link in links:
            ledger.record_link(link)
        for batch in events:
            ledger.record_events(batch)
        assert _BindingCursor.bound == {int, str}
        assert ledger.cases() == fold_cases(links, [e for b in events for e in b])
        assert all(isinstance(c.livemode, bool) for c in ledger.cases())


def test_case_rows_read_back_exactly(tmp_path):
    """A case row read back (as one JSON array) equals the row written, for the
    extremes of what a row holds: 64-bit bounds, quotes, backslashes, escapes,
    line separators and astral characters. Folding the subscription again
    writes nothing."""
    (scheduled,) = parse_event(SubSim("sub_x", "cus_x").schedule())
    event = scheduled.replace(
        created=2**63 - 1,
        effective_at=-(2**63),
        mrr=2**63 - 1,
        customer_id='cus_"\\/\\u0000\u2028\U0001f600',
        price_id="price_\u00e9\t\n",
    )
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        ledger.record_events([event])
        (case,) = ledger.cases()
        assert (case.opened_at, case.effective_at, case.mrr) == (
            2**63 - 1,
            -(2**63),
            2**63 - 1,
        )
        assert case.customer_id == event.customer_id
        assert case.price_id == event.price_id
        link = LinkRecord(
            session_id="bps_x",
            subscription_id="sub_x",
            customer_id=event.customer_id,
            created=2**63 - 2,
            livemode=True,
            offered_coupon='C"\\',
            decision={"why": ["é\u2028", {"n": -(2**63)}], "experiment": "e"},
            mrr=-(2**63),
        )
        ledger.record_link(link)
        assert ledger.links() == [link]
        assert ledger.cases()[0].decision == link.decision
        before = ledger._conn.total_changes
        with ledger._transaction(write=True) as cur:
            ledger._refold(cur, "sub_x")
        assert ledger._conn.total_changes == before


def test_booleans_are_bound_as_integers_and_nothing_else_changes():
    """SQLite binds True/False as 1/0 (what sqlite3 stores for them anyway) and
    any other value as it is; PostgreSQL binds every value as it is."""
    with SQLiteLedger(":memory:") as ledger:
        sqlite_in = ledger._bool_in
        assert [(v, type(v)) for v in map(sqlite_in, (True, False))] == [
            (1, int),
            (0, int),
        ]
        assert [sqlite_in(v) for v in ("false", None, 1)] == ["false", None, 1]


def test_rows_in_the_earlier_json_style_still_read(tmp_path):
    """Payloads and case JSON written with spaces (the earlier style) read back, and the
    next event of the subscription brings its case up to date."""
    path = tmp_path / "l.db"
    s = SubSim()
    with SQLiteLedger(path) as ledger:
        ledger.record_events(parse_event(s.schedule()))
        conn = ledger._conn
        for (payload,) in conn.execute(
            "SELECT payload FROM cancelflow_events"
        ).fetchall():
            conn.execute(
                "UPDATE cancelflow_events SET payload = ? WHERE payload = ?",
                (json.dumps(json.loads(payload), sort_keys=True), payload),
            )
        conn.execute(
            "UPDATE cancelflow_cases SET event_ids = ?",
            (json.dumps([s.events[0]["id"]]),),
        )
    with SQLiteLedger(path) as ledger:  # a fresh handle: nothing remembered
        assert ledger.cases()[0].event_ids == (s.events[0]["id"],)
        ledger.record_events(parse_event(s.tick(7).feedback("unused")))
        assert ledger.cases() == fold_cases(
            [], [e for raw in s.events for e in parse_event(raw)]
        )


def _create_version_1(
    conn,
    *,
    int_type="INTEGER",
    bool_type="INTEGER",
    json_type="TEXT",
    clustered=" WITHOUT ROWID",
    mark="?",
):
    """The schema as cancelflow 0.1's first migration left it, with one link and its case."""
    from cancelflow._outcomes.ledger_sql import MIGRATIONS, SCHEMA_TABLE

    version, name, statements = MIGRATIONS[0]
    assert version == 1
    conn.execute(
        f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER PRIMARY KEY, "
        f"name TEXT NOT NULL, applied_at {int_type} NOT NULL)"
    )
    for statement in statements:
        conn.execute(
            statement.format(
                int=int_type, bool=bool_type, json=json_type, clustered=clustered
            )
        )
    conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES ({mark}, {mark}, 0)", (1, name))
    decision = json.dumps({"experiment": "spring", "arm": "control", "offer": None})
    conn.execute(
        "INSERT INTO cancelflow_links (session_id, subscription_id, customer_id, "
        f"created, livemode, arm, decision, mrr, currency) VALUES ({', '.join([mark] * 9)})",
        ("bps_1", "sub_1", "cus_1", 100, False, "control", decision, 2000, "eur"),
    )
    conn.execute(
        "INSERT INTO cancelflow_cases (id, subscription_id, customer_id, livemode, "
        "state, opened_at, updated_at, link_session_id, link_created_at, arm, decision, "
        f"mrr, currency, event_ids, customer_initiated) VALUES ({', '.join([mark] * 15)})",
        (
            "case_bps_1",
            "sub_1",
            "cus_1",
            False,
            "opened",
            100,
            100,
            "bps_1",
            100,
            "control",
            decision,
            2000,
            "eur",
            "[]",
            True,
        ),
    )


def test_version_1_database_is_migrated(tmp_path):
    """A database of schema version 1 gains the report columns, with the experiment read from the decision."""
    path = tmp_path / "v1.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        _create_version_1(conn)
    with SQLiteLedger(path) as ledger:
        assert ledger.schema_version() == LATEST_VERSION >= 2
        (link,) = ledger.links()
        (case,) = ledger.cases()
        assert (link.experiment, link.offer_discount, link.offer_months) == (
            "spring",
            None,
            None,
        )
        assert (case.experiment, case.arm, case.product_id, case.started_at) == (
            "spring",
            "control",
            None,
            None,
        )
        ledger.record_events(parse_event(SubSim().schedule()))  # a refold still works
        assert ledger.cases()[0].state.value == "scheduled"
    with closing(sqlite3.connect(path)) as conn, conn:
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(cancelflow_cases)")}
    assert "cancelflow_cases_opened" in indexes
