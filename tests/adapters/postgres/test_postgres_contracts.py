"""PostgresStore passes the shipped contract suites and the stateful machine
(close/reopen is a reconnect), against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings
from psycopg_pool import ConnectionPool
from tests.adapters.postgres.conftest import CONNINFO, fresh_schema

from etomkit.adapters.postgres import PostgresStore
from etomkit.ports import Store
from etomkit.testing.contracts import (
    StoreContract,
    StoreFactory,
)
from etomkit.testing.stateful import StoreStateMachine


@pytest.fixture(scope="module")
def shared_schema(postgres_conninfo: str) -> Iterator[tuple[ConnectionPool, str]]:
    """One pool and one migrated schema per module; each store starts from empty tables."""
    pool: ConnectionPool = ConnectionPool(postgres_conninfo, min_size=1, max_size=8, open=True)
    schema = fresh_schema()
    PostgresStore(pool, schema=schema).close()
    yield pool, schema
    with pool.connection() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    pool.close()


def _emptied(pool: ConnectionPool, schema: str) -> PostgresStore:
    with pool.connection() as conn:
        conn.execute(
            f'TRUNCATE "{schema}".entity, "{schema}".term, "{schema}".term_tally,'
            f' "{schema}".outbox CASCADE'
        )
    return PostgresStore(pool, schema=schema, migrate=False)


@pytest.fixture
def make_store(shared_schema: tuple[ConnectionPool, str]) -> StoreFactory:
    pool, schema = shared_schema
    return lambda: _emptied(pool, schema)


class TestPostgresStore(StoreContract):
    """The whole shipped kit: every repository contract, the unit of work and the
    unique keys, against one PostgresStore schema."""


class PostgresStoreMachine(StoreStateMachine):
    """The stateful machine on a fresh schema; a reopen is a new store (reconnect)."""

    supports_reopen = True

    def make_store(self) -> Store:
        self.schema = fresh_schema()
        return PostgresStore(CONNINFO, schema=self.schema, pool_size=1)

    def reopen(self, store: Store) -> Store:
        store.close()
        return PostgresStore(CONNINFO, schema=self.schema, pool_size=1, migrate=False)

    def teardown(self) -> None:
        store = getattr(self, "store", None)
        if isinstance(store, PostgresStore):
            store.drop()
            store.close()


@pytest.mark.usefixtures("postgres_conninfo")
class TestPostgresStoreMachine(PostgresStoreMachine.TestCase):  # type: ignore[misc,valid-type]
    # each example migrates a fresh schema: fewer, still long, runs than in memory
    settings = settings(max_examples=30, stateful_step_count=40, deadline=None)
