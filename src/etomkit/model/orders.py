"""ServiceOrder (TMF641 v4.1): the service order items a resource order is issued for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import Problem
from etomkit.model.lifecycle import _normalise
from etomkit.model.values import Characteristic, EntityRef, Note, RelatedParty, _extras

__all__ = [
    "ORDER_ITEM_ACTIONS",
    "REQUEST_KINDS",
    "SERVICE_ORDER_STATES",
    "ExternalReference",
    "RelatedServiceOrderItem",
    "ServiceOrder",
    "ServiceOrderItem",
    "ServiceRefOrValue",
    "canonical_action",
    "canonical_service_order_state",
    "service_order_item_problems",
    "service_order_problems",
    "service_order_state_problem",
]

ORDER_ITEM_ACTIONS = ("add", "modify", "delete", "noChange")
"""TMF641 OrderItemActionType, in TMF spelling."""

REQUEST_KINDS = (
    "serviceOrder",
    "resourceOrderRequest",
    "troubleRecovery",
    "performanceIssue",
    "partnerRequest",
)
"""The kinds of initiating request eTOM 1.5.6.7 issues resource orders for."""

SERVICE_ORDER_STATES = (
    "acknowledged",
    "rejected",
    "pending",
    "held",
    "inProgress",
    "cancelled",
    "completed",
    "failed",
    "partial",
    "assessingCancellation",
    "pendingCancellation",
)
"""TMF641 ServiceOrderStateType (also the item states), in TMF spelling."""


def _spellings(values: tuple[str, ...]) -> dict[str, str]:
    found = {_normalise(v): v for v in values}
    found.update({v: v for v in values})
    return found


_ACTION_SPELLINGS = _spellings(ORDER_ITEM_ACTIONS)
_STATE_SPELLINGS = _spellings(SERVICE_ORDER_STATES)


def canonical_action(text: object) -> str | None:
    """The TMF spelling of an order item action (``"no_change"`` -> ``"noChange"``), or None."""
    if not isinstance(text, str):
        return None
    return _ACTION_SPELLINGS.get(text) or _ACTION_SPELLINGS.get(_normalise(text))


def canonical_service_order_state(text: object) -> str | None:
    """The TMF spelling of a TMF641 order or item state, or None if it names none."""
    if not isinstance(text, str):
        return None
    return _STATE_SPELLINGS.get(text) or _STATE_SPELLINGS.get(_normalise(text))


_ALLOWED_STATES = ", ".join(repr(s) for s in SERVICE_ORDER_STATES)


def service_order_state_problem(state: object) -> str | None:
    """What is wrong with a TMF641 order or item ``state`` (None: absent or a state
    in any spelling)."""
    if state is None or canonical_service_order_state(state) is not None:
        return None
    try:
        shown = repr(state)
    except Exception:  # showing it must not fail: a huge integer, a deep list, a bad __repr__
        shown = f"<{type(state).__name__}>"
    shown = shown if len(shown) <= 80 else shown[:80] + "…"
    return f"unknown state {shown}; allowed: {_ALLOWED_STATES}"


@attrs.frozen(kw_only=True)
class ExternalReference:
    """TMF641 ExternalReference: the order as another system names it."""

    name: str
    id: str | None = None
    href: str | None = None
    external_reference_type: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class RelatedServiceOrderItem:
    """TMF641 RelatedServiceOrderItem: an earlier order item this service came from."""

    item_id: str
    service_order_id: str | None = None
    service_order_href: str | None = None
    item_action: str | None = None
    role: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    referred_type: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ServiceRefOrValue:
    """TMF641 ServiceRefOrValue: the service an order item acts on.

    ``id`` names an existing service (modify, delete); a new one (add) has
    none. Rules match on ``service_specification`` and ``service_characteristic``.
    """

    id: str | None = None
    href: str | None = None
    name: str | None = None
    description: str | None = None
    category: str | None = None
    service_type: str | None = None
    state: str | None = None
    service_specification: EntityRef | None = None
    service_characteristic: tuple[Characteristic, ...] = ()
    service_order_item: tuple[RelatedServiceOrderItem, ...] = ()
    supporting_resource: tuple[EntityRef, ...] = ()
    related_party: tuple[RelatedParty, ...] = ()
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    referred_type: str | None = None
    extras: Mapping[str, Any] = _extras()

    def characteristic(self, name: str) -> Any:
        """The value of the named service characteristic, or None if absent."""
        for char in self.service_characteristic:
            if char.name == name:
                return char.value
        return None


@attrs.frozen(kw_only=True)
class ServiceOrderItem:
    """TMF641 ServiceOrderItem: one action on one service.

    ``add`` must not carry ``service.id``; ``modify`` and ``delete`` must.
    Nested ``serviceOrderItem`` lists are kept in ``extras`` (not issued).
    """

    id: str
    action: str
    service: ServiceRefOrValue
    quantity: int | None = None
    state: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ServiceOrder:
    """A TMF641 ServiceOrder: the most common initiating request for 1.5.6.7."""

    service_order_item: tuple[ServiceOrderItem, ...]
    id: str | None = None
    href: str | None = None
    category: str | None = None
    description: str | None = None
    external_id: str | None = None
    priority: str | None = None
    notification_contact: str | None = None
    state: str | None = None
    order_date: datetime | None = None
    requested_start_date: datetime | None = None
    requested_completion_date: datetime | None = None
    expected_completion_date: datetime | None = None
    start_date: datetime | None = None
    completion_date: datetime | None = None
    cancellation_date: datetime | None = None
    cancellation_reason: str | None = None
    external_reference: tuple[ExternalReference, ...] = ()
    related_party: tuple[RelatedParty, ...] = ()
    note: tuple[Note, ...] = ()
    type: str | None = "ServiceOrder"
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


_ALLOWED_ACTIONS = ", ".join(repr(a) for a in ORDER_ITEM_ACTIONS)


def service_order_item_problems(item: object, path: str = "") -> list[Problem]:
    """Every problem of one service order item, paths prefixed with ``path``.

    Checks the id, the action and the state (any TMF spelling), the service,
    the rule that ``add`` carries no ``service.id`` and ``modify``/``delete``
    do, and that ``add``/``modify`` name a service specification.
    """
    if not isinstance(item, ServiceOrderItem):
        return [(path or "item", f"must be a ServiceOrderItem, got {type(item).__name__}")]
    problems: list[Problem] = []
    dot = f"{path}." if path else ""
    if not isinstance(item.id, str) or not item.id.strip():
        problems.append((f"{dot}id", "is required (a non-blank string)"))
    action = canonical_action(item.action)
    if action is None:
        problems.append(
            (f"{dot}action", f"unknown action {item.action!r}; allowed: {_ALLOWED_ACTIONS}")
        )
    state = service_order_state_problem(item.state)
    if state is not None:
        problems.append((f"{dot}state", state))
    service = item.service
    if not isinstance(service, ServiceRefOrValue):
        problems.append(
            (f"{dot}service", f"must be a ServiceRefOrValue, got {type(service).__name__}")
        )
        return problems
    has_id = isinstance(service.id, str) and bool(service.id)
    if action == "add" and service.id is not None:
        problems.append(
            (f"{dot}service.id", "must not be set on an 'add' item (the service is new)")
        )
    elif action in ("modify", "delete") and not has_id:
        problems.append(
            (f"{dot}service.id", f"is required on a {action!r} item (names the service to change)")
        )
    spec = service.service_specification
    if spec is None:
        if action in ("add", "modify"):
            problems.append(
                (f"{dot}service.service_specification", f"is required on an {action!r} item")
            )
    elif not isinstance(spec, EntityRef) or not isinstance(spec.id, str) or not spec.id:
        problems.append((f"{dot}service.service_specification.id", "is required"))
    chars = service.service_characteristic
    if not isinstance(chars, tuple):
        problems.append(
            (f"{dot}service.service_characteristic", "must be a tuple of Characteristic")
        )
    else:
        for i, char in enumerate(chars):
            if not isinstance(char, Characteristic):
                problems.append(
                    (f"{dot}service.service_characteristic[{i}]", "must be a Characteristic")
                )
    return problems


def service_order_problems(order: ServiceOrder) -> list[Problem]:
    """Every problem of ``order``: at least one item, unique item ids, each item well formed."""
    problems: list[Problem] = []
    items = order.service_order_item
    if not isinstance(items, tuple) or not items:
        return [("service_order_item", "needs at least one item")]
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"service_order_item[{i}]"
        problems.extend(service_order_item_problems(item, path))
        item_id = getattr(item, "id", None)
        if isinstance(item_id, str):
            if item_id in seen:
                problems.append((f"{path}.id", f"{item_id!r} is used by another item"))
            seen.add(item_id)
    state = service_order_state_problem(order.state)
    if state is not None:
        problems.append(("state", state))
    return problems
