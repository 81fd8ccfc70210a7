"""README-shaped service code, type-checked by ``mypy --strict`` (``nox -s typecheck``)
with no ``assert x.id is not None``: what the inventory returns is stored, so its
``id`` is ``str`` (``ek.StoredOffering``, ``ek.StoredProduct``). It runs as a test too."""

from __future__ import annotations

import etomkit as ek


def launch(inv: ek.ProductOfferingInventory, name: str) -> ek.StoredOffering:
    offering = inv.create_offering(ek.ProductOffering(name=name))
    for state in ["In design", "In test", "Active", "Launched"]:
        offering = inv.transition_offering(offering.id, state)
    return offering


def product_ids(inv: ek.ProductOfferingInventory, customer_id: str) -> list[str | None]:
    return [p.id for p in inv.products_of_customer(customer_id)]


def test_readme_shaped_code_type_checks_without_asserts_on_ids() -> None:
    inv = ek.ProductOfferingInventory(ek.InMemoryStore())
    fibre = launch(inv, "Fibre Broadband 1G")
    product = inv.record_purchase(
        customer=ek.PartyRef(id="cust-42", name="Ada Lovelace"),
        offering_id=fibre.id,
        order_item=ek.OrderItemRef(order_id="ord-7", item_id="1"),
    )
    product = inv.transition_product(product.id, "active")
    same: str = inv.get_product(product.id).id
    listed: list[str] = [o.id for o in inv.list_offerings().items]
    streamed: list[str] = [p.id for p in inv.iter_products(customer_id="cust-42")]
    assert same == product.id and listed == [fibre.id] and streamed == [product.id]
    assert product_ids(inv, "cust-42") == [product.id]
    assert isinstance(fibre, ek.ProductOffering)  # at run time a stored offering is one


def test_a_client_session_returns_stored_entities_too() -> None:
    store = ek.InMemoryStore()
    access = ek.AccessControl(store.clients)
    guarded = ek.ProductOfferingInventory(store, access=access, usage=ek.UsageMeter())
    admin = guarded.as_client(access.bootstrap().secret)
    with admin as session:
        offering = session.create_offering(ek.ProductOffering(name="5G Home"))
        moved: str = session.transition_offering(offering.id, "In design").id
    assert moved == offering.id
