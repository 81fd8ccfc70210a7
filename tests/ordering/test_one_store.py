"""One store serves both processes, as DESIGN.md's sketch has it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.ordering.helpers import fibre, fibre_rules, fibre_specs, request

import etomkit as ek


def _create_and_issue_then_fail(
    store: ek.InMemoryStore | ek.FileStore,
    inventory: ek.ProductOfferingInventory,
    issuer: ek.ResourceOrderIssuer,
) -> None:
    with store.transaction():
        inventory.create_offering(ek.ProductOffering(name="Fibre 1G", id="po-1"))
        issuer.issue(request(fibre("1")))
        raise RuntimeError("abandon both")


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_the_inventory_and_the_issuer_share_one_store_and_one_transaction(
    kind: str, tmp_path: Path
) -> None:
    store = ek.InMemoryStore() if kind == "memory" else ek.FileStore(tmp_path / "s")
    inventory = ek.ProductOfferingInventory(store, ids=ek.SequentialIdFactory())
    issuer = ek.ResourceOrderIssuer(store, ek.RuleSet(fibre_rules()), ids=ek.SequentialIdFactory())
    store.resource_specifications.add_all(fibre_specs())
    with pytest.raises(RuntimeError):
        _create_and_issue_then_fail(store, inventory, issuer)
    assert "po-1" not in store.offerings
    assert len(store.resource_orders) == 0 and len(store.issuance_records) == 0
    inventory.create_offering(ek.ProductOffering(name="Fibre 1G", id="po-1"))
    result = issuer.issue(request(fibre("1")))
    assert result.orders and store.offerings.get("po-1").name == "Fibre 1G"
    store.close()
