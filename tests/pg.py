"""PostgreSQL for the ledger tests (not a test module).

The server comes from ``CANCELFLOW_TEST_POSTGRES_URL``. When it is unset or
unreachable the PostgreSQL tests skip with the reason, unless ``CI`` is set:
then they fail, because CI must run them.
"""

from __future__ import annotations

import os
import uuid

import pytest

from needs import require

URL_VAR = "CANCELFLOW_TEST_POSTGRES_URL"


def _problem() -> str | None:
    url = os.environ.get(URL_VAR)
    if not url:
        return f"{URL_VAR} is not set (see docs/ledger.md, 'PostgreSQL setup')"
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'cancelflow[postgres]')"
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {URL_VAR}: {type(exc).__name__}: {exc}".splitlines()[
            0
        ]
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL; skips (locally) or fails (CI) without one."""
    require(_problem(), "PostgreSQL tests")
    return os.environ[URL_VAR]


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema(postgres_url: str):
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    name = f"cf_test_{uuid.uuid4().hex[:12]}"
    yield name
    drop_schema(postgres_url, name)
