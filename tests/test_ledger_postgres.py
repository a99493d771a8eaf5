"""The PostgreSQL ledger on a real server: schema, errors, crash safety."""

from __future__ import annotations

import psycopg
import pytest

from cancelflow import PostgresLedger, parse_event
from cancelflow._outcomes.ledger_sql import LATEST_VERSION
from cancelflow.exceptions import InvalidParameterError, LedgerError
from sigkill import clean_run, ingest, ingest_and_kill
from stripe_events import SubSim

pytest_plugins = ["pg"]  # the postgres_url and pg_schema fixtures


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_schema_is_created_and_migrated(postgres_url, pg_schema):
    """The tables live in the given schema, with the migration recorded."""
    ledger = PostgresLedger(postgres_url, schema=pg_schema)
    assert ledger.schema_version() == LATEST_VERSION
    with psycopg.connect(postgres_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (pg_schema,),
            )
        }
    assert tables == {
        "cancelflow_schema_migrations",
        "cancelflow_processed_events",
        "cancelflow_events",
        "cancelflow_links",
        "cancelflow_cases",
        "cancelflow_problems",
    }
    ledger.close()


def test_newer_schema_is_refused(postgres_url, pg_schema):
    """A schema migrated by a newer cancelflow raises LedgerError."""
    PostgresLedger(postgres_url, schema=pg_schema).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{pg_schema}".cancelflow_schema_migrations VALUES (%s, %s, 0)',
            (LATEST_VERSION + 1, "future"),
        )
    with pytest.raises(LedgerError, match="newer"):
        PostgresLedger(postgres_url, schema=pg_schema)


def test_reconnects_after_the_connection_drops(postgres_url, pg_schema):
    """A connection killed by the server is reopened on the next call."""
    ledger = PostgresLedger(postgres_url, schema=pg_schema)
    s = SubSim()
    ledger.record_events(parse_event(s.schedule()))
    pid = ledger._connection().info.backend_pid
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(LedgerError):
        ledger.record_events(parse_event(s.tick(7).feedback("unused")))
    assert ledger.record_events(parse_event(s.events[-1]))
    assert ledger.cases()[0].feedback is not None
    ledger.close()


def test_unreachable_server_hides_the_password():
    """Connection failures raise LedgerError without the connection string's secrets."""
    url = "postgresql://someone:hunter2secret@127.0.0.1:1/nothing"
    with pytest.raises(LedgerError) as info:
        PostgresLedger(url, connect_timeout=2)
    assert "hunter2secret" not in str(info.value)
    assert "hunter2secret" not in repr(info.value)


def test_repr_and_schema_name(postgres_url):
    """The repr hides the connection string; a schema name must be an identifier."""
    with pytest.raises(InvalidParameterError):
        PostgresLedger(postgres_url, schema="x; DROP TABLE y")
    with pytest.raises(InvalidParameterError) as info:
        PostgresLedger(5)  # type: ignore[arg-type]
    assert info.value.field == "conninfo"
    name = "cf_test_repr"
    try:
        ledger = PostgresLedger(postgres_url, schema=name)
        assert postgres_url not in repr(ledger)
        assert "hidden" in repr(ledger)
        ledger.drop_schema_objects()
        with pytest.raises(LedgerError):
            ledger.schema_version()
        ledger.close()
    finally:
        drop_schema(postgres_url, name)


@pytest.mark.slow
def test_sigkill_mid_ingest_loses_nothing(postgres_url, pg_schema):
    """A process SIGKILLed while ingesting into PostgreSQL, restarted with everything re-delivered, equals a clean run."""
    count = 2000
    seen = ingest_and_kill("postgres", postgres_url, pg_schema, str(count), after=600)
    assert 600 <= seen < count
    ingest("postgres", postgres_url, pg_schema, str(count))
    clean, ids = clean_run(count)
    a = PostgresLedger(postgres_url, schema=pg_schema)
    assert list(a.processed_event_ids()) == ids
    assert a.links() == clean.links()
    assert a.cases() == clean.cases()
    assert len(a.cases()) > 300
    a.close()


def test_version_1_schema_is_migrated(postgres_url, pg_schema):
    """A schema of version 1 gains the report columns, with the experiment read from the decision."""
    from test_ledger_sqlite import _create_version_1

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
        conn.execute(f'SET search_path TO "{pg_schema}"')
        with conn.transaction():
            _create_version_1(
                conn,
                int_type="BIGINT",
                bool_type="BOOLEAN",
                json_type="JSONB",
                clustered="",
                mark="%s",
            )
    with PostgresLedger(postgres_url, schema=pg_schema) as ledger:
        assert ledger.schema_version() == LATEST_VERSION >= 2
        (link,) = ledger.links()
        (case,) = ledger.cases()
        assert (link.experiment, case.experiment, case.arm) == (
            "spring",
            "spring",
            "control",
        )
        ledger.record_events(parse_event(SubSim().schedule()))
        assert ledger.cases()[0].state.value == "scheduled"
