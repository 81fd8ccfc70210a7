"""Initiating requests, feasibility assessments and the issuance record (eTOM 1.5.6.7)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.inputs import value_limit_problems
from etomkit.model._copy import replace
from etomkit.model.orders import (
    REQUEST_KINDS,
    SERVICE_ORDER_STATES,
    ServiceOrder,
    ServiceOrderItem,
    ServiceRefOrValue,
    canonical_action,
    service_order_item_problems,
    service_order_problems,
    service_order_state_problem,
)
from etomkit.model.queries import _t
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.model.values import Characteristic, EntityRef, RelatedParty
from etomkit.notebook.display import Tabular

__all__ = [
    "OUTCOMES",
    "FeasibilityAssessment",
    "FeasibilityAssessmentFilter",
    "InitiatingRequest",
    "IssuanceRecord",
    "IssuanceRecordFilter",
    "IssuedItem",
    "ResourceSpecificationFilter",
    "RuleRef",
    "request_item",
    "request_problems",
]

OUTCOMES = ("standard", "preassessed", "special", "noChange", "infeasible")
"""What happened to one request item: the standard set by rules, the set a prior
feasibility assessment determined, an order marked special handling, nothing to
do, or nothing issued because the request is not feasible."""

_KINDS = frozenset(REQUEST_KINDS)
_FAST_ACTIONS = frozenset({"add", "modify", "delete", "noChange"})
_STATES = frozenset(SERVICE_ORDER_STATES)


@attrs.frozen(kw_only=True)
class InitiatingRequest:
    """What 1.5.6.7 issues resource orders for: a service order, a resource order
    request, a trouble-recovery or performance request, or a partner request.

    ``items`` use the TMF641 ServiceOrderItem shape whatever the kind (an
    action on a service of some specification, with characteristics).
    ``key`` (``"<kind>:<id>"``) makes issuing idempotent. ``special`` flags the
    whole request as having special or unusual requirements; ``source`` is the
    system it came from (written as the ``owner`` of the orders' external reference).
    """

    kind: str
    id: str
    items: tuple[ServiceOrderItem, ...]
    source: str = "unknown"
    href: str | None = None
    special: bool = False
    special_reason: str | None = None
    priority: int | None = None
    requested_start_date: datetime | None = None
    requested_completion_date: datetime | None = None
    related_party: tuple[RelatedParty, ...] = ()

    @property
    def key(self) -> str:
        """``"<kind>:<id>"``: the request's identity for idempotent issuing."""
        return f"{self.kind}:{self.id}"

    @staticmethod
    def key_of(kind: str, request_id: str) -> str:
        """The key of the request of that kind and id."""
        return f"{kind}:{request_id}"

    def item(self, item_id: str) -> ServiceOrderItem:
        """The item with ``item_id``. Raises KeyError."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @classmethod
    def from_service_order(
        cls,
        order: ServiceOrder,
        *,
        source: str = "serviceOrdering",
        special: bool = False,
        special_reason: str | None = None,
    ) -> InitiatingRequest:
        """The request a TMF641 ServiceOrder makes (actions in TMF spelling).

        Raises ValidationError listing every problem of the order (no id,
        no items, unknown actions, ``add`` with ``service.id``, ``modify`` or
        ``delete`` without, …).
        """
        if not isinstance(order, ServiceOrder):
            raise ValidationError(
                "ServiceOrder", [("$", f"must be a ServiceOrder, got {type(order).__name__}")]
            )
        items = order.service_order_item
        if _items_look_well_formed(items):
            state = service_order_state_problem(order.state)
            problems = [] if state is None else [("state", state)]
        else:
            problems = service_order_problems(order)
        if not isinstance(order.id, str) or not order.id.strip():
            problems.insert(0, ("id", "is required to issue resource orders for the order"))
        problems.extend(value_limit_problems(order))  # nothing a record could not hold
        if problems:
            name = order.id if isinstance(order.id, str) and order.id else "(no id)"
            raise ValidationError(f"ServiceOrder {name}", problems)
        return cls(
            kind="serviceOrder",
            id=order.id,  # type: ignore[arg-type]
            items=_canonical_items(order.service_order_item),
            source=source,
            href=order.href,
            special=special,
            special_reason=special_reason,
            priority=_priority(order.priority),
            requested_start_date=order.requested_start_date,
            requested_completion_date=order.requested_completion_date,
            related_party=order.related_party,
        )


def _priority(value: object) -> int | None:
    """TMF641 ``priority`` ("0" highest … "4" lowest) as a number; None if it is not one.

    Only ASCII digits count ("²" is a digit to str.isdigit() but no number), and
    only as many as an int64 holds.
    """
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _canonical_items(items: tuple[ServiceOrderItem, ...]) -> tuple[ServiceOrderItem, ...]:
    if all(item.action in _FAST_ACTIONS for item in items):
        return items
    return tuple(
        item
        if item.action in _FAST_ACTIONS
        else replace(item, action=canonical_action(item.action) or item.action)
        for item in items
    )


def request_item(
    item_id: str,
    action: str,
    specification: str | EntityRef | None = None,
    characteristics: Mapping[str, Any] | None = None,
    *,
    service_id: str | None = None,
) -> ServiceOrderItem:
    """A request item built directly (for requests that are not TMF641 orders).

    >>> item = request_item("1", "add", "fibre-broadband", {"bandwidth": "1G"})
    >>> item.service.characteristic("bandwidth")
    '1G'
    """
    spec = EntityRef(id=specification) if isinstance(specification, str) else specification
    chars = tuple(Characteristic(name=k, value=v) for k, v in (characteristics or {}).items())
    return ServiceOrderItem(
        id=item_id,
        action=action,
        service=ServiceRefOrValue(
            id=service_id, service_specification=spec, service_characteristic=chars
        ),
    )


def _items_look_well_formed(items: object) -> bool:
    """A quick pass over the common case; False means: look closely."""
    if type(items) is not tuple or not items:
        return False
    seen: set[str] = set()
    for item in items:
        if type(item) is not ServiceOrderItem:
            return False
        service = item.service
        action = item.action
        if type(service) is not ServiceRefOrValue or action not in _FAST_ACTIONS:
            return False
        if item.state is not None and item.state not in _STATES:
            return False
        item_id = item.id
        if type(item_id) is not str or not item_id or item_id in seen:
            return False
        seen.add(item_id)
        spec = service.service_specification
        if action == "add":
            if service.id is not None or spec is None:
                return False
        elif action != "noChange":
            if type(service.id) is not str or not service.id:
                return False
            if spec is None and action == "modify":
                return False
        if spec is not None and (type(spec) is not EntityRef or type(spec.id) is not str):
            return False
        if type(service.service_characteristic) is not tuple:
            return False
    return True


def request_problems(request: InitiatingRequest, *, items: bool = True) -> list[Problem]:
    """Every problem of ``request`` (empty if it can be issued).

    ``items=False`` checks only the request itself and that it has items
    (the issuer checks each item as it goes).
    """
    problems: list[Problem] = []
    if request.kind not in _KINDS:
        allowed = ", ".join(repr(k) for k in REQUEST_KINDS)
        problems.append(("kind", f"unknown request kind {request.kind!r}; allowed: {allowed}"))
    if not isinstance(request.id, str) or not request.id.strip():
        problems.append(("id", "is required (a non-blank string)"))
    if not isinstance(request.source, str) or not request.source:
        problems.append(("source", "must be a non-blank string"))
    entries = request.items
    if not isinstance(entries, tuple) or not entries:
        problems.append(("items", "needs at least one item (a tuple of ServiceOrderItem)"))
        return problems
    if not items or _items_look_well_formed(entries):
        return problems
    seen: set[str] = set()
    for i, item in enumerate(entries):
        problems.extend(service_order_item_problems(item, f"items[{i}]"))
        item_id = getattr(item, "id", None)
        if isinstance(item_id, str):
            if item_id in seen:
                problems.append((f"items[{i}].id", f"{item_id!r} is used by another item"))
            seen.add(item_id)
    return problems


@attrs.frozen(kw_only=True)
class FeasibilityAssessment:
    """A feasibility assessment made for a request (or one of its items) before issuing.

    ``order_item`` are the resource order items it determined; issuing a
    special item with a feasible assessment issues exactly those.
    ``item_id=None`` covers every item of the request.
    """

    request_id: str
    request_kind: str = "serviceOrder"
    item_id: str | None = None
    feasible: bool = True
    reason: str | None = None
    order_item: tuple[ResourceOrderItem, ...] = ()
    id: str | None = None
    assessed_at: datetime | None = None
    assessed_by: str | None = None
    revision: int = 0

    @property
    def request_key(self) -> str:
        """The key of the request the assessment is for."""
        return f"{self.request_kind}:{self.request_id}"


@attrs.frozen
class RuleRef:
    """A rule as the record remembers it: id and version."""

    id: str
    version: str

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"


@attrs.frozen(kw_only=True)
class IssuedItem:
    """What was issued for one request item, and why."""

    item_id: str
    action: str
    outcome: str
    service_id: str | None = None
    service_specification: str | None = None
    rules: tuple[RuleRef, ...] = ()
    feasibility_assessment: str | None = None
    resource_orders: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    reason: str | None = None


@attrs.frozen(kw_only=True)
class IssuanceRecord(Tabular):
    """The record linking an initiating request to the resource orders issued for it.

    ``id`` is the request's key; ``items`` has exactly one entry per request item, in order.
    """

    id: str
    request: InitiatingRequest
    items: tuple[IssuedItem, ...]
    issued_at: datetime | None = None
    revision: int = 0

    @property
    def resource_order_ids(self) -> tuple[str, ...]:
        """Every order issued for the request, in item order."""
        return tuple(o for item in self.items for o in item.resource_orders)

    def item(self, item_id: str) -> IssuedItem:
        """The entry for request item ``item_id``. Raises KeyError."""
        for entry in self.items:
            if entry.item_id == item_id:
                return entry
        raise KeyError(item_id)

    def outcomes(self) -> dict[str, str]:
        """``{item_id: outcome}``."""
        return {entry.item_id: entry.outcome for entry in self.items}

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per request item: what it became, by which rules, which orders."""
        return [
            {
                "request": self.id,
                "item_id": e.item_id,
                "action": e.action,
                "service_specification": e.service_specification,
                "outcome": e.outcome,
                "rules": ", ".join(str(r) for r in e.rules),
                "resource_orders": ", ".join(e.resource_orders),
                "supersedes": ", ".join(e.supersedes),
                "feasibility_assessment": e.feasibility_assessment,
                "reason": e.reason,
            }
            for e in self.items
        ]

    def _display_title(self) -> str:
        return f"IssuanceRecord {self.id}: {len(self.items)} item(s)"


def _as_set(value: str | Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


@attrs.frozen(kw_only=True)
class IssuanceRecordFilter:
    """Select records by a service they issued for, or an outcome one of their items had."""

    service_id: str | None = None
    outcome: frozenset[str] | None = attrs.field(default=None, converter=_as_set)

    def matches(self, record: IssuanceRecord) -> bool:
        """True if ``record`` passes every set criterion."""
        if self.service_id is not None and not any(
            i.service_id == self.service_id for i in record.items
        ):
            return False
        return self.outcome is None or any(i.outcome in self.outcome for i in record.items)

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.service_id is not None:
            sets.append([f"service={_t(self.service_id)}"])
        if self.outcome is not None:
            sets.append([f"outcome={_t(o)}" for o in sorted(self.outcome)])
        return sets


@attrs.frozen(kw_only=True)
class FeasibilityAssessmentFilter:
    """Select assessments by request key and item id."""

    request_key: str | None = None
    item_id: str | None = None

    def matches(self, assessment: FeasibilityAssessment) -> bool:
        """True if ``assessment`` passes every set criterion."""
        if self.request_key is not None and assessment.request_key != self.request_key:
            return False
        return self.item_id is None or assessment.item_id == self.item_id

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.request_key is not None:
            sets.append([f"request={_t(self.request_key)}"])
        if self.item_id is not None:
            sets.append([f"item={_t(self.item_id)}"])
        return sets


@attrs.frozen(kw_only=True)
class ResourceSpecificationFilter:
    """Select resource specifications by name or category."""

    name: str | None = None
    category: str | None = None

    def matches(self, spec: ResourceSpecification) -> bool:
        """True if ``spec`` passes every set criterion."""
        if self.name is not None and spec.name != self.name:
            return False
        return self.category is None or spec.category == self.category

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.name is not None:
            sets.append([f"name={_t(self.name)}"])
        if self.category is not None:
            sets.append([f"category={_t(self.category)}"])
        return sets


def issuance_record_terms(record: IssuanceRecord) -> tuple[str, ...]:
    """Index terms of a record: the services and outcomes of its items."""
    terms = dict.fromkeys(f"service={_t(i.service_id)}" for i in record.items if i.service_id)
    terms.update(dict.fromkeys(f"outcome={_t(i.outcome)}" for i in record.items))
    return tuple(terms)


def latest_assessment(
    assessments: Sequence[FeasibilityAssessment], item_id: str
) -> FeasibilityAssessment | None:
    """Of one request's ``assessments`` (oldest first): the latest for ``item_id``,
    else the latest for the whole request (no item), else None."""
    for_item = [a for a in assessments if a.item_id == item_id]
    if for_item:
        return for_item[-1]
    whole = [a for a in assessments if a.item_id is None]
    return whole[-1] if whole else None


def feasibility_assessment_terms(assessment: FeasibilityAssessment) -> tuple[str, ...]:
    """Index terms of an assessment: its request and (if any) its item."""
    terms = [f"request={_t(assessment.request_key)}"]
    if assessment.item_id is not None:
        terms.append(f"item={_t(assessment.item_id)}")
    return tuple(terms)


def resource_specification_terms(spec: ResourceSpecification) -> tuple[str, ...]:
    """Index terms of a resource specification: name and category."""
    terms = [f"name={_t(spec.name)}"]
    if spec.category is not None:
        terms.append(f"category={_t(spec.category)}")
    return tuple(terms)
