"""The purchase mold's check (issue #13): it vouches for a product only when the full
checks and every store's storable test would find nothing, so the fast path of
``record_purchase`` refuses exactly what the full path refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit.inputs import value_limit_problems
from etomkit.inventory.purchase_checks import PurchaseMold, plainly_valid, storable_move
from etomkit.model.canonical import storable_problems, storable_test
from etomkit.model.product import product_problems
from etomkit.model.values import NO_EXTRAS
from etomkit.testing.strategies import products

NOW = datetime(2025, 1, 1, tzinfo=UTC)
REF = ek.EntityRef(id="o-1", name="Fibre", referred_type="ProductOffering")
storable = storable_test(ek.Product)


class _Text(str):
    """A str subclass: no store gives it back as it is."""


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def _full(product: ek.Product) -> bool:
    """What the full path accepts: nothing found by any check."""
    return (
        not product_problems(product)
        and not value_limit_problems(product)
        and not storable_problems(product)
    )


def _product(mold: PurchaseMold, **changes: Any) -> ek.Product:
    fields: dict[str, Any] = {
        "product_id": "p-1",
        "name": "Fibre",
        "parties": (ek.RelatedParty(id="c-1", role="customer"),),
        "items": (ek.OrderItemRef(order_id="po-1", item_id="1"),),
        "characteristics": (),
        "billing_account": None,
        "now": NOW,
    }
    fields.update(changes)
    f = fields
    return mold.build(
        f["product_id"], f["name"], f["parties"], f["items"], f["characteristics"],
        f["billing_account"], f["now"], f["now"],
    )  # fmt: skip


def test_a_mold_builds_what_the_product_constructor_builds() -> None:
    mold = PurchaseMold(REF, ek.EntityRef(id="ps-1"), "created")
    assert mold.usable
    product = _product(mold)
    assert product == ek.Product(
        id="p-1",
        name="Fibre",
        product_offering=REF,
        product_specification=ek.EntityRef(id="ps-1"),
        related_party=(ek.RelatedParty(id="c-1", role="customer"),),
        product_order_item=(ek.OrderItemRef(order_id="po-1", item_id="1"),),
        status="created",
        order_date=NOW,
        last_update=NOW,
        revision=1,
    )
    assert PurchaseMold.plain(product)


@pytest.mark.parametrize(
    ("offering", "status"),
    [(ek.EntityRef(id=" "), "created"), (REF, " "), (REF, "\ud800"), (REF, _Text("created"))],
)
def test_a_mold_whose_own_parts_fail_is_not_usable(offering: ek.EntityRef, status: str) -> None:
    assert not PurchaseMold(offering, None, status).usable


_DEFECTS: list[dict[str, Any]] = [
    {"product_id": _Text("p-1")},
    {"product_id": "p-\ud800"},
    {"product_id": 7},
    {"name": _Text("Fibre")},
    {"name": "\udfff"},
    {"name": 5},
    {"now": datetime(2025, 1, 1)},
    {"now": datetime(2025, 1, 1, tzinfo=_NoOffset())},
    {"parties": ()},
    {"parties": [ek.RelatedParty(id="c-1", role="customer")]},
    {"parties": (ek.RelatedParty(id="c-1", role="customer"),) * 2},
    {"parties": (ek.RelatedParty(id=" ", role="customer"),)},
    {"parties": (ek.RelatedParty(id="c-1", role="owner"),)},
    {"parties": (ek.RelatedParty(id="c-1", role=None),)},
    {"parties": (ek.RelatedParty(id="c-1", role="customer", name=_Text("Ada")),)},
    {"parties": (ek.RelatedParty(id="c-\ud800", role="customer"),)},
    {"parties": (ek.RelatedParty(id="c-1", role="customer", href=3),)},  # type: ignore[arg-type]
    {"parties": (ek.RelatedParty(id="c-1", role="customer", extras={"x": 1}),)},
    {"parties": (ek.PartyRef(id="c-1"),)},
    {"items": ()},
    {"items": (ek.OrderItemRef(order_id=_Text("po-1"), item_id="1"),)},
    {"items": (ek.OrderItemRef(order_id="po-1", item_id=1),)},  # type: ignore[arg-type]
    {"items": (ek.OrderItemRef(order_id="po-1", item_id="1", role="\ud800"),)},
    {"items": (ek.OrderItemRef(order_id="po-1", item_id="1", extras={"x": 1}),)},
    {"characteristics": (ek.Characteristic(name="s", value=float("nan")),)},
    {"characteristics": (ek.Characteristic(name="s", value=1),) * 2},
    {"characteristics": (ek.Characteristic(name="s", value=2**2000),)},
    {"billing_account": ek.EntityRef(id="")},
    {"billing_account": ek.EntityRef(id="b", name="\ud800")},
]


@pytest.mark.parametrize("changes", _DEFECTS)
def test_the_mold_leaves_anything_unusual_to_the_full_checks(changes: dict[str, Any]) -> None:
    # some of these the full checks accept (a str subclass, a second party), most not
    product = _product(PurchaseMold(REF, None, "created"), **changes)
    assert not PurchaseMold.plain(product)


@pytest.mark.parametrize(
    "changes",
    [
        {"name": None},
        {"name": "Fibre é"},
        {"now": datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))},
        {"parties": (ek.RelatedParty(id="c-1", role="Customer", name="Ada"),)},
        {"parties": (ek.PartyRef(id="c-1", name="Zoë").as_related_party("customer"),)},
        {"items": (ek.OrderItemRef(order_id="po-1", item_id="1", action="add"),)},
        {"characteristics": (ek.Characteristic(name="speed", value=1000),)},
        {"billing_account": ek.EntityRef(id="b-1")},
    ],
)
def test_the_mold_vouches_for_plain_products(changes: dict[str, Any]) -> None:
    product = _product(PurchaseMold(REF, None, "created"), **changes)
    assert _full(product)
    assert PurchaseMold.plain(product)


_TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["customer", "Customer", "c-1"]),  # plain values, often
    st.sampled_from(["", " ", "customer", "Customer", "c-1", "\ud800", "é", "a\x1eb"]),
    st.builds(_Text, st.sampled_from(["c", ""])),
    st.integers(0, 1),
    st.text(max_size=3),
)


@given(
    party=st.builds(
        ek.RelatedParty,
        id=_TEXTS,
        role=_TEXTS,
        name=_TEXTS,
        href=_TEXTS,
        referred_type=_TEXTS,
        type=_TEXTS,
        base_type=_TEXTS,
        schema_location=_TEXTS,
        extras=st.sampled_from([{}, {"x": 1}, NO_EXTRAS]),
    ),
    item=st.builds(
        ek.OrderItemRef,
        order_id=_TEXTS,
        item_id=_TEXTS,
        action=_TEXTS,
        order_href=_TEXTS,
        role=_TEXTS,
        type=_TEXTS,
        base_type=_TEXTS,
        schema_location=_TEXTS,
        referred_type=_TEXTS,
    ),
    product_id=_TEXTS,
    name=_TEXTS,
)
def test_whatever_the_mold_vouches_for_passes_every_check(
    party: ek.RelatedParty, item: ek.OrderItemRef, product_id: Any, name: Any
) -> None:
    product = _product(
        PurchaseMold(REF, None, "created"),
        product_id=product_id,
        name=name,
        parties=(party,),
        items=(item,),
    )
    if PurchaseMold.plain(product):
        assert plainly_valid(product)
        assert storable(product)
        assert _full(product)


def _launched(store: Any, clock: Any = None) -> tuple[ek.ProductOfferingInventory, str]:
    inv = ek.ProductOfferingInventory(store, clock=clock or ek.ManualClock(NOW))
    o = inv.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active", "Launched"):
        o = inv.transition_offering(o.id or "", status)
    return inv, o.id or ""


@pytest.mark.parametrize(
    ("customer", "item", "path"),
    [
        (ek.PartyRef(id="c-1", name="\ud800"), ek.OrderItemRef(order_id="po", item_id="1"),
         "related_party[0].name"),
        (ek.PartyRef(id="c-1"), ek.OrderItemRef(order_id="po\udfff", item_id="1"),
         "product_order_item[0].order_id"),
        (ek.RelatedParty(id="c-1", role="owner"), ek.OrderItemRef(order_id="po", item_id="1"),
         "related_party"),
    ],
)  # fmt: skip
def test_a_purchase_the_fast_path_cannot_vouch_for_is_refused_by_name(
    store: Any, customer: Any, item: ek.OrderItemRef, path: str
) -> None:
    inv, offering = _launched(store)
    with pytest.raises(ek.ValidationError) as caught:
        inv.record_purchase(customer=customer, offering_id=offering, order_item=item)
    assert path in [p for p, _ in caught.value.problems]
    assert "Product" in str(caught.value)
    assert len(store.products) == 0


class _NaiveClock:
    def now(self) -> datetime:
        return datetime(2025, 1, 1)


def test_a_clock_without_a_time_zone_is_refused_before_anything_is_stored(store: Any) -> None:
    inv, offering = _launched(store)
    inv._clock = _NaiveClock()  # the purchase's own moment comes from the host's clock
    with pytest.raises(ek.EtomkitError):
        inv.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id=offering,
            order_item=ek.OrderItemRef(order_id="po", item_id="1"),
        )
    assert len(store.products) == 0


def test_plain_purchases_of_every_store_read_back_equal(store: Any) -> None:
    inv, offering = _launched(store)
    bought = [
        inv.record_purchase(
            customer=ek.PartyRef(id=f"c-{n % 2}", name="Zoë"),
            offering_id=offering,
            order_item=ek.OrderItemRef(order_id=f"po-{n}", item_id="1"),
        )
        for n in range(4)
    ]
    assert [inv.get_product(p.id or "") for p in bought] == bought
    assert inv.products_of_customer("c-1") == [bought[1], bought[3]]
    again = inv.record_purchase(
        customer=ek.PartyRef(id="c-0", name="Zoë"),
        offering_id=offering,
        order_item=ek.OrderItemRef(order_id="po-0", item_id="1"),
    )
    assert again == bought[0]
    assert len(store.products) == 4


_aware = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3))]))
_moments = st.one_of(
    _aware,
    _aware,
    _aware,
    st.datetimes(),  # naive: no moment, refused
    st.datetimes(timezones=st.just(_NoOffset())),
    st.sampled_from(["2025-01-01T00:00:00Z", 0, None]),
)


@given(
    stored=products().filter(storable),
    status=st.one_of(st.sampled_from(["active", "\ud800", "a\ud800", ""]), st.text(max_size=3)),
    when=_moments,
    start=st.none() | _moments,
    end=st.none() | _moments,
    revision=st.sampled_from([2, 3, 4, 2.0, True]),
)
@settings(max_examples=300)
def test_a_move_vouched_storable_is_storable(
    stored: ek.Product, status: Any, when: Any, start: Any, end: Any, revision: Any
) -> None:
    """``storable_move`` (the inventory's transitions skip the storable check on it)
    never vouches for a product the store's own check would refuse."""
    moved = attrs.evolve(
        stored,
        status=status,
        last_update=when,
        revision=revision,
        start_date=stored.start_date if start is None else start,
        termination_date=stored.termination_date if end is None else end,
    )
    if storable_move(moved, stored):
        assert storable(moved)
        assert not storable_problems(moved)


def test_a_transition_with_a_naive_moment_is_refused_and_stores_nothing() -> None:
    inv = ek.ProductOfferingInventory(ek.InMemoryStore())
    offering = inv.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active", "Launched"):
        inv.transition_offering(offering.id or "", status)
    product = inv.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=offering.id or "",
        order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
    )
    with pytest.raises(ek.ValidationError, match="timezone-aware"):
        inv.transition_product(product.id or "", "active", when=datetime(2025, 1, 2))
    assert inv.get_product(product.id or "") == product
    moved = inv.transition_product(product.id or "", "active", when=NOW)
    assert moved.start_date == NOW and moved.revision == 2
