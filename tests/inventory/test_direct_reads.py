"""The direct read paths (issue #13): a customer's products without a filter, one-term
queries, and full passes that do not keep what a FileStore decodes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

import etomkit as ek
from etomkit.adapters.file.lazy import _LAZY
from etomkit.inputs import value_limit_problems
from etomkit.inventory.purchases import plainly_valid
from etomkit.model.product import product_problems

NOW = datetime(2025, 1, 1, tzinfo=UTC)
# ids a term must escape, next to plain ones
CUSTOMERS = ["c-1", "c-2", "c\\1e", "c\x1e", "c\x1f2", "c\\"]


def _inventory(store: Any) -> ek.ProductOfferingInventory:
    return ek.ProductOfferingInventory(
        store, clock=ek.ManualClock(NOW), ids=ek.SequentialIdFactory()
    )


def _launch(inv: ek.ProductOfferingInventory) -> str:
    o = inv.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active", "Launched"):
        o = inv.transition_offering(o.id or "", status)
    return o.id or ""


def _fill(inv: ek.ProductOfferingInventory, store: Any) -> None:
    """Purchases for several customers, with the moves that put postings out of order:
    transitions, a customer changed, a removal rolled back."""
    offering = _launch(inv)
    ids = []
    for n in range(24):
        p = inv.record_purchase(
            customer=ek.PartyRef(id=CUSTOMERS[n % len(CUSTOMERS)]),
            offering_id=offering,
            order_item=ek.OrderItemRef(order_id=f"po-{n}", item_id="1"),
        )
        ids.append(p.id or "")
    for n in range(0, 24, 3):
        inv.transition_product(ids[n], "active")
    moved = inv.get_product(ids[1])
    party = ek.RelatedParty(id="c-1", role="customer")
    inv.modify_product(ids[1], {"related_party": (party,)}, expected_revision=moved.revision)

    def rolled_back() -> None:
        with store.transaction():
            store.products.remove(ids[0])
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        rolled_back()


def _generic(inv: ek.ProductOfferingInventory, customer: str) -> list[ek.Product]:
    """The customer's products by the filter, the way every store answers it."""
    return [p for p in inv.iter_products() if p.customer_id == customer]


def test_products_of_customer_is_the_filtered_list_in_insertion_order(store: Any) -> None:
    inv = _inventory(store)
    _fill(inv, store)
    for customer in [*CUSTOMERS, "nobody"]:
        expected = _generic(inv, customer)
        assert inv.products_of_customer(customer) == expected
        assert list(inv.iter_products(customer_id=customer)) == expected
        assert inv.list_products(customer_id=customer, limit=None).items == tuple(expected)
    order: list[str | None] = [p.id for p in inv.iter_products()]
    got = [p.id for p in inv.products_of_customer("c-1")]
    assert len(got) > 2
    assert got == sorted(got, key=order.index)


def test_products_of_customer_agrees_after_reopening_a_file_store(tmp_path: Path) -> None:
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        inv = _inventory(store)
        _fill(inv, store)
        before = {c: inv.products_of_customer(c) for c in CUSTOMERS}
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        inv = _inventory(store)
        assert {c: inv.products_of_customer(c) for c in CUSTOMERS} == before
        store.compact()
        assert {c: inv.products_of_customer(c) for c in CUSTOMERS} == before


def test_status_queries_keep_insertion_order_after_moves(store: Any) -> None:
    inv = _inventory(store)
    _fill(inv, store)
    order = [p.id for p in inv.iter_products()]
    for status in ("created", "active"):
        got = [p.id for p in inv.iter_products(status=status)]
        assert got == [i for i in order if inv.get_product(i or "").status == status]
        assert got == sorted(got, key=order.index)


def test_stream_gives_what_iterate_gives_and_keeps_nothing_decoded(tmp_path: Path) -> None:
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        inv = _inventory(store)
        _fill(inv, store)
        store.compact()
        expected = list(store.products.iterate())
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        products: Any = store.products
        assert list(products.stream(page_size=5)) == expected
        assert list(products.stream(ek.ProductFilter(customer_id="c-2"))) == [
            p for p in expected if p.customer_id == "c-2"
        ]
        assert all(type(v) in _LAZY for v in products._data.values())  # nothing kept
        first = expected[0].id or ""
        assert products.get(first) == expected[0]  # get still decodes, and keeps it
        assert type(products._data[first]) not in _LAZY
        assert products.get(first) is products.get(first)
        with pytest.raises(ek.ValidationError):
            products.stream(page_size=0)


def test_audits_and_downloads_of_a_file_store_keep_nothing_decoded(tmp_path: Path) -> None:
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        _fill(_inventory(store), store)
        text = _inventory(store).download_products(format="jsonl")
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        inv = _inventory(store)
        assert inv.download_products(format="jsonl") == text
        run = ek.InventoryAuditor(store, clock=ek.ManualClock(NOW)).run()
        assert run.products_checked == len(store.products) == 24
        repositories: list[Any] = [store.products, store.offerings]
        for repository in repositories:
            assert all(type(v) in _LAZY for v in repository._data.values())


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"product_characteristic": (ek.Characteristic(name="speed", value=1000),)},
        {"product_characteristic": (ek.Characteristic(name="s", value=1.5),) * 2},
        {"product_characteristic": (ek.Characteristic(name="s", value=float("nan")),)},
        {"product_characteristic": (ek.Characteristic(name="s", value=2**2000),)},
        {"product_characteristic": (ek.Characteristic(name="s", value=[[1]]),)},
        {"related_party": (ek.RelatedParty(id="c-1", role="owner"),)},
        {"related_party": (ek.RelatedParty(id=" ", role="customer"),)},
        {"related_party": (ek.RelatedParty(id="c", role="Customer", extras={"x": 1}),)},
        {"name": 5},
        {"status": " "},
        {"billing_account": ek.EntityRef(id="")},
        {"order_date": datetime(2025, 1, 1)},
        {"product_offering": ek.EntityRef(id=" ")},
    ],
)
def test_plainly_valid_only_when_the_full_checks_find_nothing(changes: dict[str, Any]) -> None:
    product = ek.Product(
        id="p-1",
        name="Fibre",
        product_offering=ek.EntityRef(id="o-1", referred_type="ProductOffering"),
        related_party=(ek.RelatedParty(id="c-1", role="customer"),),
        product_order_item=(ek.OrderItemRef(order_id="po-1", item_id="1"),),
        status="created",
        order_date=NOW,
        last_update=NOW,
    )
    product = attrs.evolve(product, **changes)
    clean = not product_problems(product) and not value_limit_problems(product)
    if plainly_valid(product):
        assert clean
    assert plainly_valid(product) is (len(changes) == 0 or "speed" in repr(changes))


def test_a_purchase_with_a_defect_is_refused_as_before(store: Any) -> None:
    inv = _inventory(store)
    offering = _launch(inv)
    with pytest.raises(ek.ValidationError) as caught:
        inv.record_purchase(
            customer=ek.RelatedParty(id="c-1", role="owner"),
            offering_id=offering,
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
            characteristics=(
                ek.Characteristic(name="s", value=1),
                ek.Characteristic(name="s", value=2),
            ),
        )
    assert [path for path, _ in caught.value.problems] == [
        "related_party",
        "product_characteristic[1].name",
    ]
    with pytest.raises(ek.ValidationError) as caught:
        inv.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id=offering,
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
            characteristics=(ek.Characteristic(name="s", value=float("inf")),),
        )
    assert [path for path, _ in caught.value.problems] == ["product_characteristic[0].value"]
    assert len(store.products) == 0


def test_decoded_products_share_their_repeated_strings(tmp_path: Path) -> None:
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        _fill(_inventory(store), store)
        store.compact()
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        repository: Any = store.products
        products = [repository.get(key) for key, _ in repository.stored_items()]
        a, b = [p for p in products if p.status == "created"][:2]
        assert a.id != b.id
        assert a.status is b.status
        assert a.product_offering.id is b.product_offering.id
        assert a.related_party[0].role is b.related_party[0].role
