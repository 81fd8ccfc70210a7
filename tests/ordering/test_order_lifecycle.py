"""The TMF652 resource order state machine, as data and through the issuer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.ordering.helpers import request

import etomkit as ek
from etomkit.model.orders import service_order_state_problem
from etomkit.model.resource_order import (
    RESOURCE_ORDER_LIFECYCLE,
    ResourceOrder,
    check_resource_order_transition,
)
from etomkit.ordering import ResourceOrderIssuer

TABLE = {
    "acknowledged": {"inProgress", "rejected", "assessingCancellation"},
    "inProgress": {"pending", "held", "completed", "failed", "partial", "assessingCancellation"},
    "pending": {"inProgress", "cancelled", "assessingCancellation"},
    "held": {"inProgress", "cancelled", "assessingCancellation"},
    "pendingCancellation": {"cancelled"},
}
TERMINAL = {"rejected", "completed", "failed", "partial", "cancelled"}
STATES = sorted({*TABLE, *TERMINAL, "assessingCancellation"})


def test_the_table_is_the_one_in_the_design() -> None:
    for state, targets in TABLE.items():
        assert set(RESOURCE_ORDER_LIFECYCLE.allowed_from(state)) == targets
    assert RESOURCE_ORDER_LIFECYCLE.terminal_states == TERMINAL
    assert RESOURCE_ORDER_LIFECYCLE.initial == "acknowledged"


@given(current=st.sampled_from(STATES), target=st.sampled_from(STATES))
def test_a_transition_is_allowed_exactly_when_the_table_says_so(current: str, target: str) -> None:
    origin = "held" if current == "assessingCancellation" else None
    order = ResourceOrder(id="ro-1", state=current, state_before_cancellation=origin)
    if current == "assessingCancellation":
        allowed = {"held", "pendingCancellation"}
    else:
        allowed = TABLE.get(current, set())
    if target in allowed:
        assert check_resource_order_transition(order, target) == target
    else:
        with pytest.raises(ek.TransitionError) as caught:
            check_resource_order_transition(order, target)
        assert set(caught.value.allowed) == allowed


@pytest.mark.parametrize("origin", ["acknowledged", "inProgress", "pending", "held"])
def test_assessing_cancellation_returns_only_to_the_state_it_came_from(origin: str) -> None:
    order = ResourceOrder(
        id="ro-1", state="assessingCancellation", state_before_cancellation=origin
    )
    assert check_resource_order_transition(order, origin) == origin
    for other in {"acknowledged", "inProgress", "pending", "held"} - {origin}:
        with pytest.raises(ek.TransitionError, match=f"allowed: '{origin}', 'pendingCancellation'"):
            check_resource_order_transition(order, other)


def test_states_are_read_in_any_spelling_and_kept_in_tmf_spelling() -> None:
    order = ResourceOrder(id="ro-1", state="in_progress")
    assert check_resource_order_transition(order, "ASSESSING-CANCELLATION") == (
        "assessingCancellation"
    )


def test_an_unknown_state_names_the_allowed_ones() -> None:
    with pytest.raises(
        ek.ValidationError, match="unknown state 'shipped'; allowed: 'acknowledged'"
    ):
        check_resource_order_transition(ResourceOrder(id="ro-1"), "shipped")


def test_cancelling_goes_through_assessment_and_back_to_where_it_was(
    issuer: ResourceOrderIssuer, events: ek.InMemoryEventSink, clock: ek.ManualClock
) -> None:
    order_id = issuer.issue(request()).orders[0].id or ""
    issuer.transition(order_id, "inProgress")
    assessing = issuer.cancel(order_id, reason="customer changed their mind")
    assert (assessing.state, assessing.state_before_cancellation) == (
        "assessingCancellation",
        "inProgress",
    )
    assert assessing.note[-1].text == "assessingCancellation: customer changed their mind"
    with pytest.raises(ek.TransitionError):
        issuer.transition(order_id, "pending")
    back = issuer.transition(order_id, "inProgress")
    assert (back.state, back.state_before_cancellation) == ("inProgress", None)
    assert [e.event_type for e in events.events].count("ResourceOrderStateChangeEvent") == 3
    assert events.events[-1].field_path == "state"


def test_a_cancelled_order_and_its_items_end_cancelled_with_a_completion_date(
    issuer: ResourceOrderIssuer, clock: ek.ManualClock
) -> None:
    order_id = issuer.issue(request()).orders[0].id or ""
    for state in ("assessingCancellation", "pendingCancellation", "cancelled"):
        order = issuer.transition(order_id, state)
    assert order.state == "cancelled"
    assert {item.state for item in order.order_item} == {"cancelled"}
    assert order.completion_date == clock.now()
    with pytest.raises(ek.TransitionError, match="none \\(terminal state\\)"):
        issuer.transition(order_id, "inProgress")


def test_starting_work_sets_the_start_date_once(issuer: ResourceOrderIssuer) -> None:
    order_id = issuer.issue(request()).orders[0].id or ""
    started = issuer.transition(order_id, "inProgress")
    issuer.transition(order_id, "held")
    again = issuer.transition(order_id, "inProgress")
    assert started.start_date is not None
    assert again.start_date == started.start_date


def test_a_transition_based_on_a_stale_revision_is_a_conflict(
    issuer: ResourceOrderIssuer,
) -> None:
    order = issuer.issue(request()).orders[0]
    issuer.transition(order.id or "", "inProgress")
    with pytest.raises(ek.ConflictError, match="revision"):
        issuer.transition(order.id or "", "held", expected_revision=order.revision)


def test_transitioning_an_unknown_order_is_not_found(issuer: ResourceOrderIssuer) -> None:
    with pytest.raises(ek.NotFoundError):
        issuer.transition("ro-404", "inProgress")


class _NoRepr:
    def __repr__(self) -> str:
        raise TypeError("no repr")


def _deep_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("state", "shown"),
    [(_deep_list(3000), "<list>"), (_NoRepr(), "<_NoRepr>"), ("shipped", "'shipped'")],
)
def test_a_service_order_state_that_cannot_be_shown_is_named_by_its_type(
    state: object, shown: str
) -> None:
    """A 3000-deep list's repr raised RecursionError out of the library (found by the
    fuzz test of service orders built in Python)."""
    problem = service_order_state_problem(state)
    assert problem is not None and problem.startswith(f"unknown state {shown}; allowed: ")
