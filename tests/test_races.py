"""Idempotency under concurrency (issue #10): one order item is one product, one
bootstrap is one administrator, one request is one record — with real threads,
on both stores, and after a FileStore reopen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from tests.ordering.helpers import fibre, fibre_rules, fibre_specs, request

import etomkit as ek
from etomkit.ordering import ResourceOrderIssuer, RuleSet
from etomkit.testing.unique_contracts import race

THREADS = 4
ITEMS = 200


@pytest.fixture(params=["memory", "file"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Opens the store under test (a FileStore reopens the same folder each call)."""
    opened: list[Any] = []

    def make() -> Any:
        store = ek.InMemoryStore() if request.param == "memory" else ek.FileStore(tmp_path / "s")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _launched(inventory: ek.ProductOfferingInventory, name: str) -> ek.ProductOffering:
    offering = inventory.create_offering(ek.ProductOffering(name=name))
    for state in ["In design", "In test", "Active", "Launched"]:
        offering = inventory.transition_offering(str(offering.id), state)
    return offering


def test_threads_buying_the_same_order_items_get_one_product_per_item(
    make_store: Callable[[], Any],
) -> None:
    store = make_store()
    inventory = ek.ProductOfferingInventory(store)
    offering_id = str(_launched(inventory, "Fibre 1G").id)

    def buy_all(worker: int) -> list[str]:
        bought = []
        for n in range(ITEMS):
            item = ek.OrderItemRef(order_id=f"ord-{n}", item_id="1")
            product = inventory.record_purchase(
                customer=ek.PartyRef(id=f"cust-{n}"), offering_id=offering_id, order_item=item
            )
            bought.append(str(product.id))
        return bought

    outcomes = race([partial(buy_all, w) for w in range(THREADS)])
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert all(o == outcomes[0] for o in outcomes)  # every racer got the same products back
    assert len(store.products) == ITEMS
    if isinstance(store, ek.FileStore):
        store.close()
        store = make_store()
    per_item = [store.products.find_by_order_item(f"ord-{n}", "1") for n in range(ITEMS)]
    assert [p.id for p in per_item if p is not None] == outcomes[0]
    assert len(store.products) == ITEMS


def test_racing_purchases_of_one_order_item_for_different_customers_conflict(
    make_store: Callable[[], Any],
) -> None:
    store = make_store()
    inventory = ek.ProductOfferingInventory(store)
    offering_id = str(_launched(inventory, "Fibre 1G").id)
    item = ek.OrderItemRef(order_id="ord-1", item_id="1")
    outcomes = race(
        [
            partial(
                inventory.record_purchase,
                customer=ek.PartyRef(id=f"cust-{n}"),
                offering_id=offering_id,
                order_item=item,
            )
            for n in range(THREADS)
        ]
    )
    products = [o for o in outcomes if isinstance(o, ek.Product)]
    conflicts = [o for o in outcomes if isinstance(o, ek.ConflictError)]
    assert len(products) == 1 and len(conflicts) == THREADS - 1, outcomes
    assert len(store.products) == 1


def test_concurrent_bootstraps_register_one_administrator(make_store: Callable[[], Any]) -> None:
    store = make_store()
    access = ek.AccessControl(store.clients, scrypt_n=2**4, insecure_low_cost=True)
    outcomes = race([access.bootstrap for _ in range(6)])
    admins = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(admins) == 1, outcomes
    assert all(isinstance(e, ek.AccessDeniedError) for e in refused), refused
    assert len(store.clients) == 1
    with pytest.raises(ek.AccessDeniedError):
        access.bootstrap()


def test_concurrent_issues_of_one_request_store_one_record(
    make_store: Callable[[], Any],
) -> None:
    store = make_store()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    the_request = request(fibre("1"), fibre("2", bandwidth="10G"), request_id="SO-race")
    outcomes = race([lambda: issuer.issue(the_request) for _ in range(THREADS)])
    assert all(not isinstance(o, BaseException) for o in outcomes), outcomes
    assert sum(not o.replayed for o in outcomes) == 1
    assert {o.record for o in outcomes} == {outcomes[0].record}
    assert len(store.issuance_records) == 1
    assert len(store.resource_orders) == len(outcomes[0].orders)
