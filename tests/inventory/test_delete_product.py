"""TMF637 ``DELETE /product/{id}``: delete_product (#10 part 7), refused while the product
lives, checked as ``delete`` on ``product``, published as ProductDeleteEvent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Unchanged
from tests.tmf.swagger import TMF637, schema_errors

import etomkit as ek
from etomkit import tmf
from etomkit.inventory.operations import INVENTORY_OPERATIONS


def _buy(inventory: Any, offering: ek.ProductOffering) -> ek.Product:
    product: ek.Product = inventory.record_purchase(
        customer=ek.PartyRef(id="c-42"),
        offering_id=offering.id or "",
        order_item=ek.OrderItemRef(order_id="po-7", item_id="1"),
    )
    return product


def _ended(inventory: Any, offering: ek.ProductOffering, status: str) -> ek.Product:
    """A product bought and moved to ``status`` (terminated, cancelled or aborted)."""
    product = _buy(inventory, offering)
    path = {"terminated": ["active", "terminated"]}.get(status, ["pendingActive", status])
    for step in path:
        product = inventory.transition_product(product.id or "", step)
    return product


@pytest.mark.parametrize("status", ["terminated", "cancelled", "aborted"])
def test_a_product_in_a_terminal_status_is_deleted_and_the_deletion_published(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
    status: str,
) -> None:
    product = _ended(inventory, launched, status)
    removed = inventory.delete_product(product.id or "")
    assert removed == product
    assert inventory.find_product(product.id or "") is None
    event = events.events[-1]
    assert (event.event_type, event.entity, event.field_path) == (
        "ProductDeleteEvent",
        product,
        None,
    )
    doc = tmf.to_json(event)
    assert schema_errors(TMF637, "ProductDeleteEvent", doc) == []
    assert doc["event"]["product"]["id"] == product.id


@pytest.mark.parametrize("status", ["created", "pendingActive", "active", "suspended"])
def test_a_live_product_cannot_be_deleted(
    inventory: ek.ProductOfferingInventory,
    launched: ek.ProductOffering,
    unchanged: Unchanged,
    status: str,
) -> None:
    product = _buy(inventory, launched)
    steps = {"pendingActive": ["pendingActive"], "active": ["active"]}
    for step in steps.get(status, ["active", "suspended"] if status == "suspended" else []):
        product = inventory.transition_product(product.id or "", step)
    assert product.status == status
    with unchanged(), pytest.raises(ek.ConflictError) as refused:
        inventory.delete_product(product.id or "")
    message = str(refused.value)
    assert f"is {status!r}" in message
    assert "'aborted' or 'cancelled' or 'terminated'" in message


def test_deleting_a_product_that_does_not_exist_is_not_found(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ek.NotFoundError):
        inventory.delete_product("p-missing")


def test_a_stale_expected_revision_refuses_the_deletion(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    product = _ended(inventory, launched, "terminated")
    with unchanged(), pytest.raises(ek.ConflictError):
        inventory.delete_product(product.id or "", expected_revision=product.revision - 1)
    assert inventory.delete_product(product.id or "", expected_revision=product.revision)


def test_an_offering_whose_products_were_deleted_can_be_deleted(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    product = _ended(inventory, launched, "terminated")
    inventory.delete_product(product.id or "")
    inventory.transition_offering(launched.id or "", "Retired")
    assert inventory.delete_offering(launched.id or "").id == launched.id


# ------------------------------------------------------------------ access and stores


def test_deleting_a_product_needs_delete_on_product() -> None:
    op = INVENTORY_OPERATIONS["delete_product"]
    assert (op.entity_type, op.action, op.subject) == ("product", "delete", "product-id")


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ek.Store]:
    """An empty store: in memory and a FileStore."""
    made: ek.Store = (
        ek.InMemoryStore() if request.param == "memory" else ek.FileStore(tmp_path / "s")
    )
    yield made
    made.close()


def test_a_session_deletes_a_product_only_with_the_permission_and_meters_it(
    store: ek.Store,
) -> None:
    access = ek.AccessControl(store.clients, scrypt_n=16, insecure_low_cost=True)
    meter = ek.UsageMeter()
    inventory = ek.ProductOfferingInventory(store, access=access, usage=meter)
    admin = inventory.as_client(access.bootstrap().secret)
    offering = admin.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active", "Launched"):
        offering = admin.transition_offering(offering.id or "", status)
    product = _ended(admin, offering, "terminated")
    deleter = inventory.as_client(
        access.register("deleter", [ek.Permission("product", "delete")]).secret
    )
    reader_without = inventory.as_client(
        access.register("no-delete", ek.Permission.every("product", ["read", "modify"])).secret
    )
    with pytest.raises(ek.AccessDeniedError) as denied:
        reader_without.delete_product(product.id or "")
    assert (denied.value.operation, denied.value.entity_type) == ("delete", "product")
    assert store.products.find(product.id or "") == product
    with pytest.raises(ek.AccessDeniedError):
        inventory.delete_product(product.id or "")  # not through a session
    deleter.delete_product(product.id or "")
    assert store.products.find(product.id or "") is None
    records = [(r.client_id, r.operation, r.outcome) for r in meter.records()]
    assert records[-1] == (deleter.client_id, "delete_product", "ok")
    assert (reader_without.client_id, "delete_product", "denied") in records
