"""Customer association: purchases from Order Handling items, product status, who holds what."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import etomkit as ek
from etomkit import tmf

Launch = Callable[..., ek.ProductOffering]
Unchanged = Callable[[], AbstractContextManager[None]]

NOW = datetime(2025, 1, 1, tzinfo=UTC)
JANE = ek.PartyRef(id="c-42", name="Jane")
ITEM = ek.OrderItemRef(order_id="po-7", item_id="1", action="add")


def _id(entity: ek.ProductOffering | ek.Product) -> str:
    assert entity.id is not None
    return entity.id


def _paths(error: ek.ValidationError) -> list[str]:
    return [path for path, _ in error.problems]


def _buy(
    inventory: ek.ProductOfferingInventory,
    offering: ek.ProductOffering | str,
    customer: str = "c-42",
    order: str = "po-7",
    item: str = "1",
    **options: Any,
) -> ek.Product:
    offering_id = offering if isinstance(offering, str) else _id(offering)
    return inventory.record_purchase(
        customer=ek.PartyRef(id=customer),
        offering_id=offering_id,
        order_item=ek.OrderItemRef(order_id=order, item_id=item),
        **options,
    )


# ---------------------------------------------------------------- record_purchase


def test_a_purchase_creates_a_product_for_the_customer_from_the_order_item(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
) -> None:
    seen = len(events.events)
    product = inventory.record_purchase(customer=JANE, offering_id=_id(launched), order_item=ITEM)
    assert product.id is not None
    assert product.id.startswith("Product-")
    assert product.revision == 1
    assert product.status == "created"
    assert product.name == "Fibre 1G"
    assert product.product_offering.id == launched.id
    assert product.product_offering.name == "Fibre 1G"
    assert product.product_offering.referred_type == "ProductOffering"
    assert product.customer_id == "c-42"
    assert product.customer is not None
    assert (product.customer.role, product.customer.name) == ("customer", "Jane")
    assert product.product_order_item == (ITEM,)
    assert product.order_date == NOW
    assert product.start_date is None
    assert inventory.get_product(_id(product)) == product
    assert [(e.event_type, e.entity) for e in events.events[seen:]] == [
        ("ProductCreateEvent", product)
    ]


def test_a_purchase_keeps_characteristics_name_and_billing_account(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    speed = ek.Characteristic(name="speed", value=1000, value_type="number")
    product = _buy(
        inventory,
        launched,
        characteristics=[speed],
        name="Jane's line",
        billing_account=ek.EntityRef(id="ba-1"),
    )
    assert product.product_characteristic == (speed,)
    assert product.characteristic("speed") == 1000
    assert product.characteristic("colour") is None
    assert product.name == "Jane's line"
    assert product.billing_account == ek.EntityRef(id="ba-1")


def test_a_customer_given_as_a_related_party_is_kept(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    party = ek.RelatedParty(id="c-42", role="customer", referred_type="Customer", extras={"x": 1})
    product = inventory.record_purchase(customer=party, offering_id=_id(launched), order_item=ITEM)
    assert product.related_party == (party,)


def test_a_purchase_without_a_customer_role_is_refused(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    reseller = ek.RelatedParty(id="r-1", role="reseller")
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.record_purchase(customer=reseller, offering_id=_id(launched), order_item=ITEM)
    assert "related_party" in _paths(caught.value)


def test_a_purchase_can_start_the_product_active(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
) -> None:
    seen = len(events.events)
    product = _buy(inventory, launched, status="Active")
    assert product.status == "active"
    assert product.start_date == NOW
    assert inventory.get_product(_id(product)) == product
    assert [e.event_type for e in events.events[seen:]] == [
        "ProductCreateEvent",
        "ProductStateChangeEvent",
    ]


@pytest.mark.parametrize(
    ("status", "error"), [("terminated", ek.TransitionError), ("bogus", ek.ValidationError)]
)
def test_a_purchase_with_an_unreachable_status_stores_nothing(
    inventory: ek.ProductOfferingInventory,
    launched: ek.ProductOffering,
    unchanged: Unchanged,
    status: str,
    error: type[Exception],
) -> None:
    with unchanged(), pytest.raises(error):
        _buy(inventory, launched, status=status)
    assert inventory.store.products.find_by_order_item("po-7", "1") is None


def test_the_same_order_item_again_returns_the_stored_product(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    first = _buy(inventory, launched)
    with unchanged():
        again = _buy(inventory, launched)
    assert again == first
    assert inventory.list_products().total == 1


def test_a_repeated_order_item_is_idempotent_even_after_the_product_moved_on(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    first = _buy(inventory, launched)
    active = inventory.transition_product(_id(first), "active")
    with unchanged():
        assert _buy(inventory, launched) == active


def test_the_same_order_item_for_another_customer_is_a_conflict(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    first = _buy(inventory, launched, customer="c-42")
    with unchanged(), pytest.raises(ek.ConflictError) as caught:
        _buy(inventory, launched, customer="c-99")
    assert _id(first) in str(caught.value)


def test_the_same_order_item_for_another_offering_is_a_conflict(
    inventory: ek.ProductOfferingInventory, launch: Launch, unchanged: Unchanged
) -> None:
    fibre = launch("Fibre 1G")
    tv = launch("TV")
    _buy(inventory, fibre)
    with unchanged(), pytest.raises(ek.ConflictError):
        _buy(inventory, tv)


def test_another_item_of_the_same_order_is_another_product(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    first = _buy(inventory, launched, item="1")
    second = _buy(inventory, launched, item="2")
    assert first.id != second.id
    assert inventory.list_products().total == 2


def test_an_active_offering_can_be_purchased(inventory: ek.ProductOfferingInventory) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    for state in ("In design", "In test", "Active"):
        inventory.transition_offering(_id(offering), state)
    assert _buy(inventory, offering).status == "created"


@pytest.mark.parametrize(
    "path",
    [
        [],
        ["In design"],
        ["In design", "In test"],
        ["Rejected"],
        ["In design", "In test", "Active", "Retired"],
        ["In design", "In test", "Active", "Launched", "Retired"],
        ["In design", "In test", "Active", "Retired", "Obsolete"],
    ],
    ids=lambda path: path[-1] if path else "In study",
)
def test_an_offering_that_is_not_launched_or_active_cannot_be_purchased(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged, path: list[str]
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    for state in path:
        offering = inventory.transition_offering(_id(offering), state)
    with unchanged(), pytest.raises(ek.ConflictError) as caught:
        _buy(inventory, offering)
    assert repr(offering.lifecycle_status) in str(caught.value)


def test_retired_offering_cannot_be_purchased(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    _buy(inventory, launched, item="1")
    inventory.transition_offering(_id(launched), "Retired")
    with unchanged(), pytest.raises(ek.ConflictError):
        _buy(inventory, launched, item="2")


def test_an_offering_cannot_be_purchased_before_its_validity_starts(
    inventory: ek.ProductOfferingInventory,
    launch: Launch,
    clock: ek.ManualClock,
    unchanged: Unchanged,
) -> None:
    offering = launch(valid_for=ek.TimePeriod(start_date_time=NOW + timedelta(days=30)))
    with unchanged(), pytest.raises(ek.ConflictError):
        _buy(inventory, offering)
    clock.advance(timedelta(days=31))
    assert _buy(inventory, offering).order_date == NOW + timedelta(days=31)


def test_an_offering_cannot_be_purchased_after_its_validity_ends(
    inventory: ek.ProductOfferingInventory,
    launch: Launch,
    clock: ek.ManualClock,
    unchanged: Unchanged,
) -> None:
    offering = launch(
        valid_for=ek.TimePeriod(start_date_time=NOW, end_date_time=NOW + timedelta(days=30))
    )
    clock.advance(timedelta(days=10))
    _buy(inventory, offering, item="1")
    clock.advance(timedelta(days=21))
    with unchanged(), pytest.raises(ek.ConflictError):
        _buy(inventory, offering, item="2")


def test_a_purchase_of_an_unknown_offering_is_not_found(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ek.NotFoundError):
        _buy(inventory, "po-missing")


# ---------------------------------------------------------------- product status


def test_activation_sets_the_start_date(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
    clock: ek.ManualClock,
) -> None:
    product = _buy(inventory, launched)
    clock.advance(timedelta(days=2))
    active = inventory.transition_product(_id(product), "active")
    assert active.status == "active"
    assert active.start_date == NOW + timedelta(days=2)
    assert active.termination_date is None
    assert active.revision == product.revision + 1
    event = events.events[-1]
    assert (event.event_type, event.field_path, event.entity) == (
        "ProductStateChangeEvent",
        "status",
        active,
    )


def test_reactivation_after_suspension_keeps_the_first_start_date(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, clock: ek.ManualClock
) -> None:
    product_id = _id(_buy(inventory, launched))
    inventory.transition_product(product_id, "active")
    clock.advance(timedelta(days=5))
    inventory.transition_product(product_id, "suspended")
    clock.advance(timedelta(days=5))
    again = inventory.transition_product(product_id, "active")
    assert again.start_date == NOW


def test_termination_sets_the_termination_date(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, clock: ek.ManualClock
) -> None:
    product_id = _id(_buy(inventory, launched))
    inventory.transition_product(product_id, "active")
    clock.advance(timedelta(days=30))
    inventory.transition_product(product_id, "pendingTerminate")
    clock.advance(timedelta(days=1))
    ended = inventory.transition_product(product_id, "terminated")
    assert ended.termination_date == NOW + timedelta(days=31)
    assert ended.start_date == NOW


def test_an_explicit_moment_dates_the_activation_and_termination(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    product_id = _id(_buy(inventory, launched))
    started = datetime(2024, 12, 24, 9, 0, tzinfo=UTC)
    ended = datetime(2025, 6, 30, 23, 59, tzinfo=UTC)
    assert inventory.transition_product(product_id, "active", when=started).start_date == started
    terminated = inventory.transition_product(product_id, "terminated", when=ended)
    assert (terminated.start_date, terminated.termination_date) == (started, ended)
    assert terminated.last_update == NOW


def test_an_illegal_product_transition_names_the_allowed_targets(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    product_id = _id(_buy(inventory, launched))
    with unchanged(), pytest.raises(ek.TransitionError) as caught:
        inventory.transition_product(product_id, "suspended")
    assert set(caught.value.allowed) == {"pendingActive", "active"}
    assert "'pendingActive'" in str(caught.value)


def test_a_terminated_product_cannot_come_back(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    product_id = _id(_buy(inventory, launched, status="active"))
    inventory.transition_product(product_id, "terminated")
    with unchanged(), pytest.raises(ek.TransitionError) as caught:
        inventory.transition_product(product_id, "active")
    assert caught.value.allowed == ()


def test_an_aborted_product_is_stored_as_aborted_and_written_with_the_tmf_space(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    product_id = _id(_buy(inventory, launched, status="pending_active"))
    aborted = inventory.transition_product(product_id, "aborted ")
    assert aborted.status == "aborted"
    assert tmf.to_json(aborted)["status"] == "aborted "


def test_transition_of_an_unknown_product_is_not_found(
    inventory: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.NotFoundError):
        inventory.transition_product("p-missing", "active")


# ---------------------------------------------------------------- modify_product


def test_modify_product_changes_the_named_attributes_and_announces_it(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
) -> None:
    product = _buy(inventory, launched)
    speed = ek.Characteristic(name="speed", value=500)
    changed = inventory.modify_product(_id(product), {"product_characteristic": (speed,)})
    assert changed.characteristic("speed") == 500
    assert changed.revision == product.revision + 1
    assert changed.status == product.status
    assert inventory.get_product(_id(product)) == changed
    assert [(e.event_type, e.entity) for e in events.events[-1:]] == [
        ("ProductAttributeValueChangeEvent", changed)
    ]


def test_modify_product_moves_the_status_along_the_table_and_dates_it(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
    clock: ek.ManualClock,
) -> None:
    product = _buy(inventory, launched)
    seen = len(events.events)
    clock.advance(timedelta(days=1))
    active = inventory.modify_product(_id(product), {"status": "Active"})
    assert active.status == "active"
    assert [e.event_type for e in events.events[seen:]] == [
        "ProductAttributeValueChangeEvent",
        "ProductStateChangeEvent",
    ]
    assert active.start_date == NOW + timedelta(days=1)


def test_modify_product_refuses_an_illegal_status(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    product_id = _id(_buy(inventory, launched))
    with unchanged(), pytest.raises(ek.TransitionError):
        inventory.modify_product(product_id, {"status": "terminated"})


@pytest.mark.parametrize(
    "changes",
    [
        {"product_offering": ek.EntityRef(id="po-other")},
        {"related_party": (ek.RelatedParty(id="r-1", role="reseller"),)},
        {"start_date": datetime(2025, 1, 1)},
        {"status": "bogus"},
        {"id": "p-other"},
        {"revision": 5},
        {"colour": "blue"},
    ],
)
def test_modify_product_refuses_bad_changes(
    inventory: ek.ProductOfferingInventory,
    launched: ek.ProductOffering,
    unchanged: Unchanged,
    changes: dict[str, Any],
) -> None:
    product_id = _id(_buy(inventory, launched))
    with unchanged(), pytest.raises(ek.ValidationError):
        inventory.modify_product(product_id, changes)


def test_modify_product_based_on_a_stale_revision_is_a_conflict(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering, unchanged: Unchanged
) -> None:
    product_id = _id(_buy(inventory, launched))
    inventory.modify_product(product_id, {"description": "first"})
    with unchanged(), pytest.raises(ek.ConflictError):
        inventory.modify_product(product_id, {"description": "second"}, expected_revision=1)


def test_reading_an_unknown_product_is_not_found(inventory: ek.ProductOfferingInventory) -> None:
    with pytest.raises(ek.NotFoundError):
        inventory.get_product("p-missing")
    assert inventory.find_product("p-missing") is None


# ---------------------------------------------------------------- who holds what


def test_products_of_a_customer_are_theirs_only_oldest_first(
    inventory: ek.ProductOfferingInventory, launch: Launch
) -> None:
    fibre = launch("Fibre 1G")
    tv = launch("TV")
    first = _buy(inventory, fibre, customer="c-42", order="o-1")
    _buy(inventory, fibre, customer="c-99", order="o-2")
    second = _buy(inventory, tv, customer="c-42", order="o-3")
    assert inventory.products_of_customer("c-42") == [first, second]
    assert inventory.products_of_customer("c-unknown") == []


def test_products_of_a_customer_can_be_narrowed_by_status(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    created = _buy(inventory, launched, order="o-1")
    active = _buy(inventory, launched, order="o-2", status="active")
    assert inventory.products_of_customer("c-42", status="active") == [active]
    assert inventory.products_of_customer("c-42", status=["created", "active"]) == [created, active]


def test_products_of_a_customer_follow_status_changes(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    product = _buy(inventory, launched)
    inventory.transition_product(_id(product), "active")
    assert inventory.products_of_customer("c-42", status="created") == []
    assert [p.id for p in inventory.products_of_customer("c-42", status="active")] == [product.id]


def test_customers_of_an_offering_are_distinct_and_live_by_default(
    inventory: ek.ProductOfferingInventory, launch: Launch
) -> None:
    fibre = launch("Fibre 1G")
    tv = launch("TV")
    _buy(inventory, fibre, customer="c-1", order="o-1")
    _buy(inventory, fibre, customer="c-1", order="o-2")
    gone = _buy(inventory, fibre, customer="c-2", order="o-3", status="active")
    _buy(inventory, tv, customer="c-3", order="o-4")
    inventory.transition_product(_id(gone), "terminated")
    assert [p.id for p in inventory.customers_of_offering(_id(fibre))] == ["c-1"]
    everyone = inventory.customers_of_offering(_id(fibre), include_terminal=True)
    assert [p.id for p in everyone] == ["c-1", "c-2"]
    assert all(p.role == "customer" for p in everyone)
    assert inventory.customers_of_offering("po-nobody") == []


def test_products_are_listed_filtered_and_paginated(
    inventory: ek.ProductOfferingInventory, launch: Launch
) -> None:
    fibre = launch("Fibre 1G")
    tv = launch("TV")
    made = [
        _buy(inventory, fibre if n % 2 else tv, customer=f"c-{n % 3}", order=f"o-{n}")
        for n in range(9)
    ]
    page = inventory.list_products(limit=4)
    assert [p.id for p in page.items] == [p.id for p in made[:4]]
    assert (page.total, page.next_offset) == (9, 4)
    tail = inventory.list_products(offset=8, limit=4)
    assert ([p.id for p in tail.items], tail.next_offset) == ([made[8].id], None)
    of_fibre = inventory.list_products(offering_id=_id(fibre))
    assert [p.id for p in of_fibre.items] == [
        p.id for p in made if p.product_offering.id == fibre.id
    ]
    of_c1 = inventory.list_products(ek.ProductFilter(customer_id="c-1"), limit=2)
    assert [p.id for p in of_c1.items] == [made[1].id, made[4].id]
    assert (of_c1.total, of_c1.next_offset) == (3, 2)
    both = inventory.list_products(customer_id="c-1", offering_id=_id(fibre))
    assert [p.id for p in both.items] == [made[1].id, made[7].id]


def test_filter_by_product_status_accepts_the_tmf_spelling(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    product = _buy(inventory, launched, status="pendingActive")
    inventory.transition_product(_id(product), "aborted")
    assert [p.id for p in inventory.list_products(status="aborted ").items] == [product.id]
