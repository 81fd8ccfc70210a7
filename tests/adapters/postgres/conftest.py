"""PostgreSQL test configuration: a server from ETOMKIT_TEST_POSTGRES (default the
local server), one fresh schema per store, dropped afterwards.

Where no server answers the tests are skipped with how to start one, except
when ``CI`` is set: there they must run, so a missing server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")

from etomkit.adapters.postgres import PostgresStore  # noqa: E402

CONNINFO = os.environ.get(
    "ETOMKIT_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)
HOW_TO_START = (
    "no PostgreSQL server answers at {conninfo!r} ({error}); start one (e.g. "
    "`pg_ctlcluster 15 main start`, or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust "
    "postgres:15`) or point ETOMKIT_TEST_POSTGRES at one"
)


def _server_answers() -> str | None:
    try:
        with psycopg.connect(CONNINFO, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return None


_PROBLEM = _server_answers()


@pytest.fixture(scope="session")
def postgres_conninfo() -> str:
    """The test server's conninfo (skips, or fails under CI, if none answers)."""
    if _PROBLEM is not None:
        message = HOW_TO_START.format(conninfo=CONNINFO, error=_PROBLEM)
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CONNINFO


def fresh_schema() -> str:
    """A schema name no other test run uses."""
    return f"etomkit_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_postgres_store(postgres_conninfo: str) -> Iterator[Callable[..., PostgresStore]]:
    """Makes PostgresStores, each on a fresh schema (or ``schema=`` to reopen one);
    drops every schema made and closes every store at the end."""
    made: list[PostgresStore] = []
    schemas: set[str] = set()

    def make(schema: str | None = None, **options: Any) -> PostgresStore:
        name = schema or fresh_schema()
        schemas.add(name)
        options.setdefault("pool_size", 2)
        store = PostgresStore(postgres_conninfo, schema=name, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        for name in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
