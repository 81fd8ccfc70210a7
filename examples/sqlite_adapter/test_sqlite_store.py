"""The SQLite example adapter passes the whole kit with one fixture (issue #11),
and the services run on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from examples.sqlite_adapter.sqlite_store import SQLiteStore

import etomkit as ek
from etomkit.testing.contracts import StoreContract, StoreFactory


@pytest.fixture
def make_store() -> StoreFactory:
    return SQLiteStore


class TestSQLiteStore(StoreContract):
    """Every repository contract, the unit of work and the unique keys."""


def test_the_inventory_and_the_auditor_run_on_the_sqlite_store(tmp_path: Path) -> None:
    path = str(tmp_path / "inventory.db")
    store = SQLiteStore(path)
    inventory = ek.ProductOfferingInventory(store, clock=ek.ManualClock())
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    store.close()
    reopened = SQLiteStore(path)
    assert reopened.offerings.get(str(offering.id)) == offering
    auditor = ek.InventoryAuditor(reopened, clock=ek.ManualClock())
    run = auditor.run()
    assert run.offerings_checked == 1
    assert auditor.runs() == [run]
    reopened.close()
