"""The product repository stores one copy of equal offering refs, parties and plain
characteristics (issue #13: memory), and every product reads back as it was given."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given

import etomkit as ek
from etomkit import tmf
from etomkit.adapters import memory_sharing
from etomkit.adapters.memory import InMemoryProductRepository
from etomkit.adapters.memory_sharing import ProductParts
from etomkit.model._copy import replace
from etomkit.testing.strategies import products


def _product(n: int, customer: str = "c-1", value: object = 100, **changes: object) -> ek.Product:
    return ek.Product(
        id=f"p-{n}",
        status="active",
        product_offering=ek.EntityRef(id="po-1", name="Fibre", referred_type="ProductOffering"),
        related_party=(ek.RelatedParty(id=customer, role="customer", referred_type="Customer"),),
        product_order_item=(ek.OrderItemRef(order_id=f"o-{n}", item_id="1"),),
        product_characteristic=(ek.Characteristic(name="speed", value=value),),
        **changes,  # type: ignore[arg-type]
    )


def test_equal_parts_are_stored_once() -> None:
    repo = ek.InMemoryStore().products
    first, second = repo.add(_product(1)), repo.add(_product(2))
    assert second.product_offering is first.product_offering
    assert second.related_party is first.related_party
    assert second.product_characteristic is first.product_characteristic
    assert second == replace(_product(2), revision=1)
    other = repo.add(_product(3, customer="c-2"))
    assert other.related_party is not first.related_party
    assert other.customer_id == "c-2"


def test_values_equal_in_python_but_not_in_json_are_not_shared() -> None:
    repo = ek.InMemoryStore().products
    repo.add(_product(1, value=1))
    for n, value in enumerate([True, 1.0, 1, 0.0, -0.0, "1"], start=2):
        stored = repo.add(_product(n, value=value))
        assert type(stored.characteristic("speed")) is type(value)
        assert repr(stored) == repr(replace(_product(n, value=value), revision=1))
        assert tmf.to_json(stored) == tmf.to_json(_product(n, value=value, revision=1))


def test_parts_with_extras_or_other_fields_keep_their_own() -> None:
    repo = ek.InMemoryStore().products
    first = repo.add(_product(1))
    named = _product(2)
    named = replace(
        named,
        related_party=(replace(named.related_party[0], name="Ada"),),
        product_offering=replace(named.product_offering, extras={"x-tag": "a"}),
    )
    stored = repo.add(named)
    assert stored.related_party[0].name == "Ada"
    assert stored.related_party is not first.related_party
    assert stored.product_offering.extras == {"x-tag": "a"}
    assert stored == replace(named, revision=1)
    third = repo.add(_product(3))  # unequal to the memo's (Ada): the latest is kept
    assert third.related_party is not stored.related_party
    assert repo.add(_product(4)).related_party is third.related_party


def test_memos_are_cleared_when_they_outgrow_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = ProductParts()
    monkeypatch.setattr(memory_sharing, "_MIN_LIMIT", 2)
    sizes = []
    for n in range(10):
        parts.stored(_product(n, customer=f"c-{n}"), 0)
        sizes.append(len(parts._parties))
    assert max(sizes) == 3 and sizes[-1] < 3


@given(
    st.lists(
        products(offering_id=st.sampled_from(("po-1", "po-2")), customer_id="c-1"),
        max_size=6,
        unique_by=lambda p: p.id,
    )
)
def test_every_product_reads_back_as_given(given_products: list[ek.Product]) -> None:
    store = ek.InMemoryStore()
    for n, p in enumerate(given_products):
        p = replace(p, product_order_item=(ek.OrderItemRef(order_id=f"o-{n}", item_id="1"),))
        expected = replace(p, revision=1)
        stored = store.products.add(p)
        assert stored == expected
        assert repr(stored) == repr(expected)
        assert tmf.to_json(stored) == tmf.to_json(expected)
        assert repr(store.products.get(stored.id or "")) == repr(expected)


class _Text(str):
    """A str subclass: equal to its text, but no store keeps it."""


def test_purchases_reuse_the_stored_party_and_offering_ref() -> None:
    store = ek.InMemoryStore()
    inv = ek.ProductOfferingInventory(store)
    offer = inv.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active"):
        offer = inv.transition_offering(offer.id, status)
    first = inv.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=offer.id,
        order_item=ek.OrderItemRef(order_id="o-1", item_id="1"),
    )
    second = inv.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=offer.id,
        order_item=ek.OrderItemRef(order_id="o-2", item_id="1"),
    )
    assert second.related_party is first.related_party
    assert second.product_offering is first.product_offering
    assert inv.get_product(second.id) == second


def test_the_party_sharer_never_makes_a_refused_party_storable() -> None:
    repo = InMemoryProductRepository()
    stored = repo.add(_product(1))
    share = repo.party_sharer()
    party = stored.related_party[0]
    assert share(replace(party)) is stored.related_party
    odd = replace(party, name=None, role=_Text("customer"))
    assert share(odd) == (odd,) and share(odd)[0] is odd
    assert share(replace(party, extras={"x-tag": 1})) != stored.related_party
