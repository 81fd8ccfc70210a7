"""ProductOfferingInventory: create, read, modify, update, delete, transition, list offerings."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

import etomkit as ek

Launch = Callable[..., ek.ProductOffering]
Unchanged = Callable[[], AbstractContextManager[None]]

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _id(entity: ek.ProductOffering | ek.Product) -> str:
    assert entity.id is not None
    return entity.id


def _paths(error: ek.ValidationError) -> list[str]:
    return [path for path, _ in error.problems]


def _new(inventory: ek.ProductOfferingInventory, name: str = "Fibre 1G", **fields: Any) -> str:
    return _id(inventory.create_offering(ek.ProductOffering(name=name, **fields)))


def _buy(
    inventory: ek.ProductOfferingInventory, offering_id: str, customer: str, item: str
) -> ek.Product:
    return inventory.record_purchase(
        customer=ek.PartyRef(id=customer),
        offering_id=offering_id,
        order_item=ek.OrderItemRef(order_id=f"o-{item}", item_id="1"),
    )


# ---------------------------------------------------------------- create


def test_a_new_offering_is_stored_in_study_with_an_id_revision_and_timestamp(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    stored = inventory.create_offering(ek.ProductOffering(name="Fibre 1G", description="fast"))
    assert stored.id == "ProductOffering-1"
    assert stored.revision == 1
    assert stored.lifecycle_status == "In study"
    assert stored.last_update == NOW
    assert stored.description == "fast"
    assert inventory.get_offering("ProductOffering-1") == stored
    assert [(e.event_type, e.entity, e.event_time) for e in events.events] == [
        ("ProductOfferingCreateEvent", stored, NOW)
    ]


def test_a_host_chosen_id_is_kept(inventory: ek.ProductOfferingInventory) -> None:
    stored = inventory.create_offering(ek.ProductOffering(name="Fibre 1G", id="fibre-1g"))
    assert stored.id == "fibre-1g"
    assert inventory.find_offering("fibre-1g") == stored


def test_a_taken_id_is_a_conflict_and_stores_nothing(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    _new(inventory, id="fibre-1g")
    with unchanged(), pytest.raises(ek.ConflictError):
        inventory.create_offering(ek.ProductOffering(name="Another", id="fibre-1g"))
    assert inventory.get_offering("fibre-1g").name == "Fibre 1G"


def test_the_initial_state_may_be_spelled_leniently(inventory: ek.ProductOfferingInventory) -> None:
    stored = inventory.create_offering(ek.ProductOffering(name="F", lifecycle_status="in_study"))
    assert stored.lifecycle_status == "In study"


@pytest.mark.parametrize("state", ["Launched", "In design", "Retired", "Bogus"])
def test_a_new_offering_cannot_start_in_another_state(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged, state: str
) -> None:
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(ek.ProductOffering(name="Fibre 1G", lifecycle_status=state))
    assert _paths(caught.value) == ["lifecycle_status"]
    assert "In study" in str(caught.value)


def test_a_bad_offering_is_refused_with_every_problem_and_stores_nothing(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    bad = ek.ProductOffering(
        name="  ",
        valid_for=ek.TimePeriod(start_date_time=NOW, end_date_time=NOW - timedelta(days=1)),
        category=(ek.EntityRef(id=""),),
    )
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(bad)
    assert set(_paths(caught.value)) == {"name", "valid_for.end_date_time", "category[0].id"}


@pytest.mark.parametrize(
    "fields",
    [
        {"lifecycle_status": []},
        {"lifecycle_status": None},
        {"name": 42},
        {"category": "cat-1"},
        {"valid_for": {"startDateTime": "2025-01-01T00:00:00Z"}},
    ],
)
def test_wrong_types_are_a_validation_error_and_store_nothing(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged, fields: dict[str, Any]
) -> None:
    values: dict[str, Any] = {"name": "Fibre 1G", **fields}
    with unchanged(), pytest.raises(ek.ValidationError):
        inventory.create_offering(ek.ProductOffering(**values))


def test_a_bundle_of_known_offerings_is_stored(inventory: ek.ProductOfferingInventory) -> None:
    fibre = _new(inventory, "Fibre 1G")
    tv = _new(inventory, "TV")
    bundle = inventory.create_offering(
        ek.ProductOffering(
            name="Fibre + TV",
            is_bundle=True,
            bundled_product_offering=(ek.EntityRef(id=fibre), ek.EntityRef(id=tv)),
        )
    )
    assert [m.id for m in bundle.bundled_product_offering] == [fibre, tv]


def test_a_bundle_of_an_unknown_offering_is_refused(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    fibre = _new(inventory)
    bundle = ek.ProductOffering(
        name="Fibre + TV",
        is_bundle=True,
        bundled_product_offering=(ek.EntityRef(id=fibre), ek.EntityRef(id="po-missing")),
    )
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(bundle)
    assert _paths(caught.value) == ["bundled_product_offering[1].id"]
    assert "po-missing" in str(caught.value)


def test_an_offering_cannot_bundle_itself(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    selfish = ek.ProductOffering(
        name="Loop",
        id="po-loop",
        is_bundle=True,
        bundled_product_offering=(ek.EntityRef(id="po-loop"),),
    )
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(selfish)
    assert _paths(caught.value) == ["bundled_product_offering[0].id"]


# ---------------------------------------------------------------- read


def test_reading_an_unknown_offering_is_not_found(inventory: ek.ProductOfferingInventory) -> None:
    with pytest.raises(ek.NotFoundError) as caught:
        inventory.get_offering("po-missing")
    assert isinstance(caught.value, KeyError)
    assert "po-missing" in str(caught.value)
    assert inventory.find_offering("po-missing") is None


# ---------------------------------------------------------------- modify (partial change)


def test_modify_changes_only_the_named_attributes(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink, clock: ek.ManualClock
) -> None:
    original = inventory.create_offering(
        ek.ProductOffering(name="Fibre 1G", description="fast", version="1.0")
    )
    clock.advance(timedelta(hours=1))
    changed = inventory.modify_offering(
        _id(original), {"description": "faster", "is_sellable": True}
    )
    assert changed.description == "faster"
    assert changed.is_sellable is True
    assert changed.revision == original.revision + 1
    assert changed.last_update == NOW + timedelta(hours=1)
    assert (
        attrs.evolve(changed, description="fast", is_sellable=None, revision=1, last_update=NOW)
        == original
    )
    assert inventory.get_offering(_id(original)) == changed
    assert events.events[-1].event_type == "ProductOfferingAttributeValueChangeEvent"
    assert events.events[-1].entity == changed


def test_modify_may_move_the_lifecycle_along_the_table(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering_id = _new(inventory)
    changed = inventory.modify_offering(offering_id, {"lifecycle_status": "in design"})
    assert changed.lifecycle_status == "In design"
    assert [e.event_type for e in events.events[1:]] == [
        "ProductOfferingAttributeValueChangeEvent",
        "ProductOfferingStateChangeEvent",
    ]


def test_modify_refuses_an_illegal_lifecycle_change(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    offering_id = _new(inventory)
    with unchanged(), pytest.raises(ek.TransitionError) as caught:
        inventory.modify_offering(offering_id, {"lifecycle_status": "Launched", "description": "x"})
    assert set(caught.value.allowed) == {"In design", "Rejected"}


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "po-other"},
        {"revision": 9},
        {"last_update": NOW},
        {"colour": "blue"},
        {"name": ""},
        {"valid_for": ek.TimePeriod(start_date_time=datetime(2025, 1, 1))},
        {"bundled_product_offering": (ek.EntityRef(id="po-missing"),)},
    ],
)
def test_modify_refuses_bad_changes_and_stores_nothing(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged, changes: dict[str, Any]
) -> None:
    offering_id = _new(inventory)
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.modify_offering(offering_id, changes)
    assert caught.value.problems


def test_modify_based_on_a_stale_revision_is_a_conflict(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    offering_id = _new(inventory)
    inventory.modify_offering(offering_id, {"description": "first"})
    with unchanged(), pytest.raises(ek.ConflictError):
        inventory.modify_offering(offering_id, {"description": "second"}, expected_revision=1)
    assert inventory.get_offering(offering_id).description == "first"


def test_modify_of_an_unknown_offering_is_not_found(inventory: ek.ProductOfferingInventory) -> None:
    with pytest.raises(ek.NotFoundError):
        inventory.modify_offering("po-missing", {"description": "x"})


# ---------------------------------------------------------------- update (full replacement)


def test_update_replaces_the_whole_offering(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    current = inventory.create_offering(
        ek.ProductOffering(name="Fibre 1G", description="fast", category=(ek.EntityRef(id="c"),))
    )
    replacement = ek.ProductOffering(
        id=current.id, name="Fibre 1G v2", version="2", revision=current.revision
    )
    stored = inventory.update_offering(replacement)
    assert stored.name == "Fibre 1G v2"
    assert stored.version == "2"
    assert stored.description is None
    assert stored.category == ()
    assert stored.revision == current.revision + 1
    assert inventory.get_offering(_id(current)) == stored
    assert events.events[-1].event_type == "ProductOfferingAttributeValueChangeEvent"


def test_update_from_a_stale_copy_is_a_conflict(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    stale = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    fresh = inventory.update_offering(attrs.evolve(stale, description="first writer"))
    with unchanged(), pytest.raises(ek.ConflictError) as caught:
        inventory.update_offering(attrs.evolve(stale, description="second writer"))
    assert "revision" in str(caught.value)
    assert inventory.get_offering(_id(stale)) == fresh


def test_update_without_an_id_is_a_validation_error(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.update_offering(ek.ProductOffering(name="Fibre 1G"))
    assert _paths(caught.value) == ["id"]


def test_update_of_an_unknown_offering_is_not_found(inventory: ek.ProductOfferingInventory) -> None:
    with pytest.raises(ek.NotFoundError):
        inventory.update_offering(ek.ProductOffering(name="Fibre 1G", id="po-missing", revision=1))


def test_update_refuses_an_illegal_lifecycle_change(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    current = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    with unchanged(), pytest.raises(ek.TransitionError):
        inventory.update_offering(attrs.evolve(current, lifecycle_status="Obsolete"))


def test_update_refuses_invalid_content(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    current = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    bad: dict[str, Any] = {"name": "", "is_bundle": "yes"}
    with unchanged(), pytest.raises(ek.ValidationError) as caught:
        inventory.update_offering(attrs.evolve(current, **bad))
    assert set(_paths(caught.value)) == {"name", "is_bundle"}


# ---------------------------------------------------------------- transitions


def test_a_transition_stores_the_new_state_and_its_reason(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering_id = _new(inventory)
    moved = inventory.transition_offering(offering_id, "Rejected", reason="no business case")
    assert moved.lifecycle_status == "Rejected"
    assert moved.status_reason == "no business case"
    assert moved.revision == 2
    event = events.events[-1]
    assert (event.event_type, event.field_path, event.entity) == (
        "ProductOfferingStateChangeEvent",
        "lifecycleStatus",
        moved,
    )


def test_an_illegal_transition_names_the_allowed_targets_and_changes_nothing(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    offering_id = _new(inventory)
    with unchanged(), pytest.raises(ek.TransitionError) as caught:
        inventory.transition_offering(offering_id, "Launched")
    assert set(caught.value.allowed) == {"In design", "Rejected"}
    assert "'In design'" in str(caught.value)
    assert offering_id in str(caught.value)


def test_transition_of_an_unknown_offering_is_not_found(
    inventory: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.NotFoundError):
        inventory.transition_offering("po-missing", "In design")


def test_a_launched_offering_can_be_retired_and_made_obsolete(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    assert launched.lifecycle_status == "Launched"
    inventory.transition_offering(_id(launched), "Retired")
    obsolete = inventory.transition_offering(_id(launched), "Obsolete")
    assert inventory.offering_lifecycle.is_terminal(obsolete.lifecycle_status)


# ---------------------------------------------------------------- delete


def test_delete_removes_the_offering_and_announces_it(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering_id = _new(inventory)
    before = inventory.get_offering(offering_id)
    removed = inventory.delete_offering(offering_id)
    assert removed == before
    assert inventory.find_offering(offering_id) is None
    with pytest.raises(ek.NotFoundError):
        inventory.get_offering(offering_id)
    assert (events.events[-1].event_type, events.events[-1].entity) == (
        "ProductOfferingDeleteEvent",
        before,
    )


def test_delete_of_an_unknown_offering_is_not_found(inventory: ek.ProductOfferingInventory) -> None:
    with pytest.raises(ek.NotFoundError):
        inventory.delete_offering("po-missing")


def test_delete_based_on_a_stale_revision_is_a_conflict(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    offering_id = _new(inventory)
    inventory.modify_offering(offering_id, {"description": "changed"})
    with unchanged(), pytest.raises(ek.ConflictError):
        inventory.delete_offering(offering_id, expected_revision=1)


@pytest.mark.parametrize("status", ["created", "pendingActive", "active", "suspended"])
def test_an_offering_with_a_live_product_cannot_be_deleted(
    inventory: ek.ProductOfferingInventory,
    launched: ek.ProductOffering,
    unchanged: Unchanged,
    status: str,
) -> None:
    product = _buy(inventory, _id(launched), "c-42", "1")
    path = {"created": [], "pendingActive": ["pendingActive"], "active": ["active"]}
    for step in path.get(status, ["active", "suspended"]):
        inventory.transition_product(_id(product), step)
    with unchanged(), pytest.raises(ek.ConflictError) as caught:
        inventory.delete_offering(_id(launched))
    assert _id(product) in str(caught.value)


def test_an_offering_whose_products_are_all_terminated_can_be_deleted(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    first = _buy(inventory, _id(launched), "c-1", "1")
    second = _buy(inventory, _id(launched), "c-2", "2")
    inventory.transition_product(_id(first), "active")
    inventory.transition_product(_id(first), "terminated")
    inventory.transition_product(_id(second), "pendingActive")
    inventory.transition_product(_id(second), "cancelled")
    inventory.delete_offering(_id(launched))
    assert inventory.find_offering(_id(launched)) is None


def test_an_offering_in_a_live_bundle_cannot_be_deleted(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    fibre = _new(inventory, "Fibre 1G")
    bundle = _new(
        inventory, "Fibre + TV", is_bundle=True, bundled_product_offering=(ek.EntityRef(id=fibre),)
    )
    with unchanged(), pytest.raises(ek.ConflictError) as caught:
        inventory.delete_offering(fibre)
    assert bundle in str(caught.value)


def test_an_offering_in_a_rejected_bundle_can_be_deleted(
    inventory: ek.ProductOfferingInventory,
) -> None:
    fibre = _new(inventory, "Fibre 1G")
    bundle = _new(
        inventory, "Fibre + TV", is_bundle=True, bundled_product_offering=(ek.EntityRef(id=fibre),)
    )
    inventory.transition_offering(bundle, "Rejected")
    inventory.delete_offering(fibre)
    assert inventory.find_offering(fibre) is None


# ---------------------------------------------------------------- list, filter, paginate


def test_offerings_are_listed_in_insertion_order_a_page_at_a_time(
    inventory: ek.ProductOfferingInventory,
) -> None:
    ids = [_new(inventory, f"Offer {n}") for n in range(7)]
    first = inventory.list_offerings(limit=3)
    assert [o.id for o in first.items] == ids[:3]
    assert (first.total, first.offset, first.limit, first.next_offset) == (7, 0, 3, 3)
    second = inventory.list_offerings(offset=first.next_offset or 0, limit=3)
    assert [o.id for o in second.items] == ids[3:6]
    assert second.next_offset == 6
    last = inventory.list_offerings(offset=6, limit=3)
    assert [o.id for o in last.items] == ids[6:]
    assert last.next_offset is None
    assert inventory.list_offerings(offset=10, limit=3).items == ()
    assert [o.id for o in inventory.list_offerings(limit=None).items] == ids


def test_walking_every_page_visits_every_offering_once(
    inventory: ek.ProductOfferingInventory,
) -> None:
    ids = [_new(inventory, f"Offer {n}") for n in range(10)]
    seen: list[str | None] = []
    offset: int | None = 0
    while offset is not None:
        page = inventory.list_offerings(offset=offset, limit=4)
        seen.extend(o.id for o in page.items)
        offset = page.next_offset
    assert seen == ids


def test_offerings_are_filtered_by_status_category_and_name(
    inventory: ek.ProductOfferingInventory, launch: Launch
) -> None:
    fibre = _id(launch("Fibre 1G", category=(ek.EntityRef(id="broadband"),)))
    tv = _id(launch("TV", category=(ek.EntityRef(id="tv"),)))
    draft = _new(inventory, "Draft", category=(ek.EntityRef(id="broadband"),))
    inventory.transition_offering(tv, "Retired")

    def ids(page: ek.Page[ek.ProductOffering]) -> list[str | None]:
        return [o.id for o in page.items]

    assert ids(inventory.list_offerings(lifecycle_status="Launched")) == [fibre]
    assert ids(inventory.list_offerings(lifecycle_status=["Launched", "Retired"])) == [fibre, tv]
    assert ids(inventory.list_offerings(category_id="broadband")) == [fibre, draft]
    assert ids(inventory.list_offerings(name="TV")) == [tv]
    assert ids(inventory.list_offerings(ek.OfferingFilter(lifecycle_status="In study"))) == [draft]
    where = ek.OfferingFilter(category_id="broadband", lifecycle_status="Launched")
    assert [o.id for o in inventory.iter_offerings(where)] == [fibre]
    assert inventory.list_offerings(category_id="broadband", limit=1).total == 2


def test_filter_by_status_reads_the_status_leniently(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    assert [o.id for o in inventory.list_offerings(lifecycle_status="launched").items] == [
        launched.id
    ]


def test_unknown_criteria_or_both_styles_of_filter_are_validation_errors(
    inventory: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        inventory.list_offerings(colour="blue")
    assert _paths(caught.value) == ["colour"]
    with pytest.raises(ek.ValidationError):
        inventory.list_offerings(ek.OfferingFilter(name="TV"), name="TV")


def test_a_negative_offset_or_limit_is_a_validation_error(
    inventory: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.ValidationError):
        inventory.list_offerings(offset=-1)
    with pytest.raises(ek.ValidationError):
        inventory.list_offerings(limit=-5)
