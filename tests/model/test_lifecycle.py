"""Lifecycles as transition tables: the DESIGN.md defaults, lenient reading, host overrides."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

import pytest

import etomkit as ek
from etomkit import tmf

Unchanged = Callable[[], AbstractContextManager[None]]

# The tables as DESIGN.md states them, transcribed independently of the source.
OFFERING_TABLE: Mapping[str, frozenset[str]] = {
    "In study": frozenset({"In design", "Rejected"}),
    "In design": frozenset({"In test", "In study", "Rejected"}),
    "In test": frozenset({"Active", "In design", "Rejected"}),
    "Active": frozenset({"Launched", "Retired"}),
    "Launched": frozenset({"Retired"}),
    "Retired": frozenset({"Obsolete"}),
    "Rejected": frozenset(),
    "Obsolete": frozenset(),
}
PRODUCT_TABLE: Mapping[str, frozenset[str]] = {
    "created": frozenset({"pendingActive", "active"}),
    "pendingActive": frozenset({"active", "cancelled", "aborted"}),
    "active": frozenset({"suspended", "pendingTerminate", "terminated"}),
    "suspended": frozenset({"active"}),
    "pendingTerminate": frozenset({"terminated"}),
    "cancelled": frozenset(),
    "aborted": frozenset(),
    "terminated": frozenset(),
}

OFFERING_PAIRS = list(itertools.product(OFFERING_TABLE, repeat=2))
PRODUCT_PAIRS = list(itertools.product(PRODUCT_TABLE, repeat=2))
OFFERING_ILLEGAL = [(a, b) for a, b in OFFERING_PAIRS if b not in OFFERING_TABLE[a]]
PRODUCT_ILLEGAL = [(a, b) for a, b in PRODUCT_PAIRS if b not in PRODUCT_TABLE[a]]
OFFERING_LEGAL = [(a, b) for a, b in OFFERING_PAIRS if b in OFFERING_TABLE[a]]
PRODUCT_LEGAL = [(a, b) for a, b in PRODUCT_PAIRS if b in PRODUCT_TABLE[a]]


def _pair_id(pair: object) -> str:
    return "->".join(pair) if isinstance(pair, tuple) else str(pair)


def _fresh_inventory(
    events: ek.InMemoryEventSink | None = None,
    *,
    product_lifecycle: ek.Lifecycle = ek.PRODUCT_LIFECYCLE,
) -> ek.ProductOfferingInventory:
    return ek.ProductOfferingInventory(
        ek.InMemoryStore(),
        clock=ek.ManualClock(),
        ids=ek.SequentialIdFactory(),
        events=events,
        product_lifecycle=product_lifecycle,
    )


def _offering_in(inventory: ek.ProductOfferingInventory, state: str) -> str:
    """Store an offering directly in ``state`` (import keeps states as given)."""
    doc = {"id": "po-1", "name": "Fibre 1G", "lifecycleStatus": state}
    inventory.import_offerings([doc])
    return "po-1"


def _product_in(inventory: ek.ProductOfferingInventory, state: str) -> str:
    """Store a product directly in ``state``, on a stored offering."""
    inventory.import_offerings([{"id": "po-1", "name": "Fibre 1G", "lifecycleStatus": "Launched"}])
    doc = {
        "id": "p-1",
        "status": state,
        "productOffering": {"id": "po-1"},
        "relatedParty": [{"id": "c-42", "role": "customer", "@referredType": "Customer"}],
    }
    inventory.import_products([doc])
    return "p-1"


# ---------------------------------------------------------------- the default tables


def test_offering_lifecycle_is_the_design_table() -> None:
    lifecycle = ek.OFFERING_LIFECYCLE
    assert set(lifecycle.states) == set(OFFERING_TABLE)
    assert {s: frozenset(lifecycle.allowed_from(s)) for s in OFFERING_TABLE} == OFFERING_TABLE
    assert lifecycle.initial == "In study"


def test_product_lifecycle_is_the_design_table() -> None:
    lifecycle = ek.PRODUCT_LIFECYCLE
    assert set(lifecycle.states) == set(PRODUCT_TABLE)
    assert {s: frozenset(lifecycle.allowed_from(s)) for s in PRODUCT_TABLE} == PRODUCT_TABLE
    assert lifecycle.initial == "created"


def test_rejected_and_obsolete_are_the_terminal_offering_states() -> None:
    assert ek.OFFERING_LIFECYCLE.terminal_states == {"Rejected", "Obsolete"}
    for state in OFFERING_TABLE:
        assert ek.OFFERING_LIFECYCLE.is_terminal(state) is (state in {"Rejected", "Obsolete"})


def test_cancelled_aborted_and_terminated_are_the_terminal_product_states() -> None:
    terminal = {"cancelled", "aborted", "terminated"}
    assert ek.PRODUCT_LIFECYCLE.terminal_states == terminal
    for state in PRODUCT_TABLE:
        assert ek.PRODUCT_LIFECYCLE.is_terminal(state) is (state in terminal)


@pytest.mark.parametrize(("current", "target"), OFFERING_LEGAL, ids=_pair_id)
def test_every_legal_offering_transition_is_allowed(current: str, target: str) -> None:
    assert ek.OFFERING_LIFECYCLE.check(current, target) == target


@pytest.mark.parametrize(("current", "target"), PRODUCT_LEGAL, ids=_pair_id)
def test_every_legal_product_transition_is_allowed(current: str, target: str) -> None:
    assert ek.PRODUCT_LIFECYCLE.check(current, target) == target


@pytest.mark.parametrize(("current", "target"), OFFERING_ILLEGAL, ids=_pair_id)
def test_every_other_offering_transition_names_the_allowed_targets(
    current: str, target: str
) -> None:
    with pytest.raises(ek.TransitionError) as caught:
        ek.OFFERING_LIFECYCLE.check(current, target, "po-1")
    error = caught.value
    assert set(error.allowed) == OFFERING_TABLE[current]
    assert (error.current, error.target, error.entity_id) == (current, target, "po-1")
    message = str(error)
    for allowed in OFFERING_TABLE[current]:
        assert repr(allowed) in message
    assert repr(current) in message
    assert repr(target) in message
    if not OFFERING_TABLE[current]:
        assert "terminal" in message


@pytest.mark.parametrize(("current", "target"), PRODUCT_ILLEGAL, ids=_pair_id)
def test_every_other_product_transition_names_the_allowed_targets(
    current: str, target: str
) -> None:
    with pytest.raises(ek.TransitionError) as caught:
        ek.PRODUCT_LIFECYCLE.check(current, target, "p-1")
    error = caught.value
    assert set(error.allowed) == PRODUCT_TABLE[current]
    assert (error.current, error.target) == (current, target)
    for allowed in PRODUCT_TABLE[current]:
        assert repr(allowed) in str(error)
    assert isinstance(error, ek.EtomkitError)


# ------------------------------------------------ the inventory enforces the same tables


@pytest.mark.parametrize(("current", "target"), OFFERING_PAIRS, ids=_pair_id)
def test_inventory_moves_an_offering_only_along_the_table(current: str, target: str) -> None:
    events = ek.InMemoryEventSink()
    inventory = _fresh_inventory(events)
    offering_id = _offering_in(inventory, current)
    before = inventory.get_offering(offering_id)
    seen = len(events.events)
    if target in OFFERING_TABLE[current]:
        moved = inventory.transition_offering(offering_id, target)
        assert moved.lifecycle_status == target
        assert inventory.get_offering(offering_id) == moved
        assert moved.revision == before.revision + 1
        assert [e.event_type for e in events.events[seen:]] == ["ProductOfferingStateChangeEvent"]
    else:
        with pytest.raises(ek.TransitionError) as caught:
            inventory.transition_offering(offering_id, target)
        assert set(caught.value.allowed) == OFFERING_TABLE[current]
        assert inventory.get_offering(offering_id) == before
        assert events.events[seen:] == []


@pytest.mark.parametrize(("current", "target"), PRODUCT_PAIRS, ids=_pair_id)
def test_inventory_moves_a_product_only_along_the_table(current: str, target: str) -> None:
    events = ek.InMemoryEventSink()
    inventory = _fresh_inventory(events)
    product_id = _product_in(inventory, current)
    before = inventory.get_product(product_id)
    seen = len(events.events)
    if target in PRODUCT_TABLE[current]:
        moved = inventory.transition_product(product_id, target)
        assert moved.status == target
        assert inventory.get_product(product_id) == moved
        assert [e.event_type for e in events.events[seen:]] == ["ProductStateChangeEvent"]
    else:
        with pytest.raises(ek.TransitionError) as caught:
            inventory.transition_product(product_id, target)
        assert set(caught.value.allowed) == PRODUCT_TABLE[current]
        assert inventory.get_product(product_id) == before
        assert events.events[seen:] == []


# ---------------------------------------------------------------- lenient reading


@pytest.mark.parametrize(
    ("spelling", "state"),
    [
        ("In study", "In study"),
        ("In_Study", "In study"),
        ("in study", "In study"),
        ("IN STUDY", "In study"),
        ("in-design", "In design"),
        ("InDesign", "In design"),
        ("  launched ", "Launched"),
        ("RETIRED", "Retired"),
    ],
)
def test_offering_states_are_read_in_any_case_and_separator(spelling: str, state: str) -> None:
    assert ek.OFFERING_LIFECYCLE.canonical(spelling) == state
    assert ek.OFFERING_LIFECYCLE.find(spelling) == state


@pytest.mark.parametrize(
    ("spelling", "state"),
    [
        ("aborted ", "aborted"),
        ("ABORTED", "aborted"),
        ("pending_active", "pendingActive"),
        ("Pending Active", "pendingActive"),
        ("pending-terminate", "pendingTerminate"),
        ("PENDINGTERMINATE", "pendingTerminate"),
        ("Active", "active"),
    ],
)
def test_product_states_are_read_leniently_including_tmf_aborted_with_a_space(
    spelling: str, state: str
) -> None:
    assert ek.PRODUCT_LIFECYCLE.canonical(spelling) == state


def test_lenient_spellings_work_for_both_ends_of_a_transition() -> None:
    assert ek.OFFERING_LIFECYCLE.check("in_study", "IN DESIGN") == "In design"
    assert ek.PRODUCT_LIFECYCLE.check("pending_active", "aborted ") == "aborted"


def test_inventory_transition_accepts_a_lenient_target_and_stores_the_tmf_spelling(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    assert offering.id is not None
    moved = inventory.transition_offering(offering.id, "in_design")
    assert moved.lifecycle_status == "In design"


def test_aborted_is_written_with_the_tmf637_trailing_space() -> None:
    product = ek.Product(
        product_offering=ek.EntityRef(id="po-1"),
        related_party=(ek.RelatedParty(id="c-42", role="customer"),),
        status=ek.PRODUCT_LIFECYCLE.canonical("ABORTED"),
    )
    assert tmf.to_json(product)["status"] == "aborted "


@pytest.mark.parametrize("text", ["Launchd", "paused", "", "in  sturdy"])
def test_unknown_offering_state_is_a_validation_error_listing_the_states(text: str) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        ek.OFFERING_LIFECYCLE.canonical(text)
    error = caught.value
    assert [path for path, _ in error.problems] == ["lifecycle_status"]
    for state in OFFERING_TABLE:
        assert repr(state) in str(error)
    assert ek.OFFERING_LIFECYCLE.find(text) is None


def test_unknown_product_state_is_a_validation_error_listing_the_states() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        ek.PRODUCT_LIFECYCLE.check("active", "paused")
    assert [path for path, _ in caught.value.problems] == ["status"]
    for state in PRODUCT_TABLE:
        assert repr(state) in str(caught.value)


def test_unknown_target_through_the_inventory_changes_nothing(
    inventory: ek.ProductOfferingInventory, unchanged: Unchanged
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    assert offering.id is not None
    with unchanged(), pytest.raises(ek.ValidationError):
        inventory.transition_offering(offering.id, "Paused")


# ---------------------------------------------------------------- host overrides


def test_with_transitions_replaces_the_targets_of_the_given_states_only() -> None:
    custom = ek.OFFERING_LIFECYCLE.with_transitions({"Launched": ["Retired", "Active"]})
    assert custom.check("Launched", "Active") == "Active"
    assert custom.allowed_from("In study") == ek.OFFERING_LIFECYCLE.allowed_from("In study")
    with pytest.raises(ek.TransitionError):
        ek.OFFERING_LIFECYCLE.check("Launched", "Active")  # the default is untouched


def test_with_transitions_can_add_a_state_that_is_then_read_leniently() -> None:
    custom = ek.OFFERING_LIFECYCLE.with_transitions(
        {"Launched": ["Retired", "On hold"], "On hold": ["Launched", "Retired"]}
    )
    assert custom.canonical("on_hold") == "On hold"
    assert custom.check("launched", "ON HOLD") == "On hold"
    assert "On hold" in custom.states
    assert ek.OFFERING_LIFECYCLE.find("On hold") is None


def test_with_transitions_can_make_a_state_terminal() -> None:
    custom = ek.PRODUCT_LIFECYCLE.with_transitions({"suspended": []})
    assert custom.is_terminal("suspended")
    with pytest.raises(ek.TransitionError) as caught:
        custom.check("suspended", "active")
    assert caught.value.allowed == ()
    assert "terminal" in str(caught.value)


def test_from_table_builds_a_host_lifecycle() -> None:
    lifecycle = ek.Lifecycle.from_table(
        "ProductOffering",
        "lifecycle_status",
        "Draft",
        {"Draft": ["Published"], "Published": ["Withdrawn"], "Withdrawn": []},
    )
    assert set(lifecycle.states) == {"Draft", "Published", "Withdrawn"}
    assert lifecycle.terminal_states == {"Withdrawn"}
    assert lifecycle.check("draft", "published") == "Published"
    with pytest.raises(ek.TransitionError) as caught:
        lifecycle.check("Draft", "Withdrawn")
    assert caught.value.allowed == ("Published",)


def test_a_table_whose_initial_state_is_missing_is_refused_with_an_etomkit_error() -> None:
    with pytest.raises(ek.EtomkitError):
        ek.Lifecycle.from_table("ProductOffering", "lifecycle_status", "Draft", {"Live": []})


def test_inventory_with_a_host_offering_table_creates_transitions_and_sells_by_it() -> None:
    lifecycle = ek.Lifecycle.from_table(
        "ProductOffering",
        "lifecycle_status",
        "Draft",
        {"Draft": ["Published"], "Published": ["Withdrawn"], "Withdrawn": []},
    )
    events = ek.InMemoryEventSink()
    inventory = ek.ProductOfferingInventory(
        ek.InMemoryStore(),
        clock=ek.ManualClock(),
        ids=ek.SequentialIdFactory(),
        events=events,
        offering_lifecycle=lifecycle,
        purchasable=["published"],
    )
    offering = inventory.create_offering(
        ek.ProductOffering(name="Fibre 1G", lifecycle_status="draft")
    )
    assert offering.id is not None
    assert offering.lifecycle_status == "Draft"
    with pytest.raises(ek.ValidationError):
        inventory.transition_offering(offering.id, "Launched")  # not a state of the host's table
    with pytest.raises(ek.TransitionError) as caught:
        inventory.transition_offering(offering.id, "Withdrawn")
    assert caught.value.allowed == ("Published",)
    item = ek.OrderItemRef(order_id="po-7", item_id="1")
    with pytest.raises(ek.ConflictError):
        inventory.record_purchase(
            customer=ek.PartyRef(id="c-42"), offering_id=offering.id, order_item=item
        )
    inventory.transition_offering(offering.id, "Published")
    product = inventory.record_purchase(
        customer=ek.PartyRef(id="c-42"), offering_id=offering.id, order_item=item
    )
    assert product.product_offering.id == offering.id
    inventory.transition_offering(offering.id, "Withdrawn")
    with pytest.raises(ek.TransitionError):
        inventory.transition_offering(offering.id, "Published")


def test_inventory_with_a_host_product_table_allows_what_the_default_refuses() -> None:
    custom = ek.PRODUCT_LIFECYCLE.with_transitions({"suspended": ["active", "terminated"]})
    default_inventory = _fresh_inventory()
    custom_inventory = _fresh_inventory(product_lifecycle=custom)
    for inventory in (default_inventory, custom_inventory):
        _product_in(inventory, "suspended")
    with pytest.raises(ek.TransitionError):
        default_inventory.transition_product("p-1", "terminated")
    terminated = custom_inventory.transition_product("p-1", "terminated")
    assert terminated.status == "terminated"
    assert terminated.termination_date is not None


def test_inventory_refuses_a_new_offering_outside_the_host_initial_state() -> None:
    lifecycle = ek.Lifecycle.from_table(
        "ProductOffering", "lifecycle_status", "Draft", {"Draft": ["Published"], "Published": []}
    )
    inventory = ek.ProductOfferingInventory(
        ek.InMemoryStore(), offering_lifecycle=lifecycle, purchasable=["Published"]
    )
    with pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))  # default "In study"
    assert [path for path, _ in caught.value.problems] == ["lifecycle_status"]
    assert len(inventory.store.offerings) == 0
