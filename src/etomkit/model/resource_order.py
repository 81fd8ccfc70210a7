"""ResourceOrder (TMF652 v4): what 1.5.6.7 issues, with its state machine."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import TransitionError
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.orders import REQUEST_KINDS
from etomkit.model.queries import _t
from etomkit.model.values import Characteristic, EntityRef, Note, RelatedParty, _extras

__all__ = [
    "ASSESSING_CANCELLATION",
    "CLOSED_ORDER_STATES",
    "RESOURCE_ORDER_LIFECYCLE",
    "ExternalEntityId",
    "ResourceOrder",
    "ResourceOrderFilter",
    "ResourceOrderItem",
    "ResourceOrderItemRef",
    "ResourceOrderItemRelationship",
    "ResourceRefOrValue",
    "check_resource_order_transition",
]

ASSESSING_CANCELLATION = "assessingCancellation"

RESOURCE_ORDER_LIFECYCLE = Lifecycle.from_table(
    "ResourceOrder",
    "state",
    "acknowledged",
    {
        "acknowledged": ["inProgress", "rejected", ASSESSING_CANCELLATION],
        "inProgress": ["pending", "held", "completed", "failed", "partial", ASSESSING_CANCELLATION],
        "pending": ["inProgress", "cancelled", ASSESSING_CANCELLATION],
        "held": ["inProgress", "cancelled", ASSESSING_CANCELLATION],
        # "back" is only the state the order came from; check_resource_order_transition
        # narrows this row to that one state plus pendingCancellation.
        ASSESSING_CANCELLATION: [
            "acknowledged",
            "inProgress",
            "pending",
            "held",
            "pendingCancellation",
        ],
        "pendingCancellation": ["cancelled"],
        "rejected": [],
        "completed": [],
        "failed": [],
        "partial": [],
        "cancelled": [],
    },
)
"""TMF652 resource order states (DESIGN.md table)."""

CLOSED_ORDER_STATES = frozenset({"rejected", "cancelled", "failed"})
"""States in which an order delivered nothing (it does not count as the service's resources)."""


@attrs.frozen(kw_only=True)
class ExternalEntityId:
    """TMF652 ExternalId: an entity in another system, e.g. the initiating request."""

    id: str
    owner: str
    entity_type: str
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ResourceRefOrValue:
    """TMF652 ResourceRefOrValue, less its characteristics (those are on the item).

    With an ``id`` it names an existing (delivered) resource; without one it
    stands for a resource to be created. Other TMF attributes go to ``extras``.
    """

    id: str | None = None
    href: str | None = None
    name: str | None = None
    description: str | None = None
    category: str | None = None
    resource_version: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    referred_type: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ResourceOrderItemRef:
    """TMF652 ResourceOrderItemRef: an item of some (usually earlier) resource order."""

    item_id: str
    resource_order_id: str | None = None
    resource_order_href: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    referred_type: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ResourceOrderItemRelationship:
    """TMF652 ResourceOrderItemRelationship, e.g. ``modifies``/``recovers`` an earlier item."""

    relationship_type: str
    order_item: ResourceOrderItemRef
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ResourceOrderItem:
    """A TMF652 ResourceOrderItem: one action on one resource.

    ``characteristic`` holds the resource's characteristics (TMF JSON nests
    them as ``resource.resourceCharacteristic``); ``resource`` names an
    existing resource for modify/delete. ``action`` is written ``no_change``
    for noChange, as TMF652 documents it.
    """

    id: str
    action: str = "add"
    quantity: int = 1
    state: str = "acknowledged"
    resource_specification: EntityRef | None = None
    resource: ResourceRefOrValue | None = None
    characteristic: tuple[Characteristic, ...] = ()
    order_item_relationship: tuple[ResourceOrderItemRelationship, ...] = ()
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()

    def characteristic_value(self, name: str) -> Any:
        """The value of the named characteristic, or None if absent."""
        for char in self.characteristic:
            if char.name == name:
                return char.value
        return None

    @property
    def characteristics(self) -> dict[str, Any]:
        """``{name: value}`` of the item's characteristics."""
        return {c.name: c.value for c in self.characteristic}


@attrs.frozen(kw_only=True)
class ResourceOrder:
    """A TMF652 ResourceOrder, with what eTOM 1.5.6.7 adds to it.

    * ``special_handling`` / ``special_handling_reason``: passed to Track &
      Manage Resource Provisioning because no standard set applies;
    * ``feasibility_assessment``: the assessment whose items were issued;
    * ``supersedes``: the earlier orders this change or recovery order replaces;
    * ``external_reference``: the initiating request (``entity_type`` is its kind);
    * ``state_before_cancellation``: where ``assessingCancellation`` may return to.

    ``revision`` and ``extras`` work as on ProductOffering.
    """

    id: str | None = None
    href: str | None = None
    name: str | None = None
    description: str | None = None
    category: str | None = None
    order_type: str | None = None
    priority: int | None = None
    state: str = "acknowledged"
    order_date: datetime | None = None
    start_date: datetime | None = None
    completion_date: datetime | None = None
    expected_completion_date: datetime | None = None
    requested_start_date: datetime | None = None
    requested_completion_date: datetime | None = None
    order_item: tuple[ResourceOrderItem, ...] = ()
    external_reference: tuple[ExternalEntityId, ...] = ()
    note: tuple[Note, ...] = ()
    related_party: tuple[RelatedParty, ...] = ()
    special_handling: bool = False
    special_handling_reason: str | None = None
    feasibility_assessment: EntityRef | None = None
    supersedes: tuple[EntityRef, ...] = ()
    state_before_cancellation: str | None = None
    type: str | None = "ResourceOrder"
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()
    revision: int = 0

    @property
    def request_key(self) -> str | None:
        """``"<kind>:<id>"`` of the initiating request, from ``external_reference``."""
        for ref in self.external_reference:
            if ref.entity_type in REQUEST_KINDS:
                return f"{ref.entity_type}:{ref.id}"
        return None

    @property
    def superseded_ids(self) -> tuple[str, ...]:
        """Ids of the orders this one supersedes."""
        return tuple(ref.id for ref in self.supersedes)


def check_resource_order_transition(
    order: ResourceOrder, target: str, lifecycle: Lifecycle = RESOURCE_ORDER_LIFECYCLE
) -> str:
    """The canonical ``target`` if ``order`` may move there, else TransitionError.

    From ``assessingCancellation`` the order may only go on to
    ``pendingCancellation`` or back to ``state_before_cancellation``.
    """
    current = lifecycle.canonical(order.state, order.id)
    if current == ASSESSING_CANCELLATION:
        dst = lifecycle.canonical(target, order.id)
        back = order.state_before_cancellation
        allowed: Sequence[str] = [
            s for s in lifecycle.allowed_from(current) if s == back or s == "pendingCancellation"
        ]
        if dst not in allowed:
            raise TransitionError("ResourceOrder", order.id, current, dst, allowed)
        return dst
    return lifecycle.check(current, target, order.id)


def _as_set(value: str | Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


@attrs.frozen(kw_only=True)
class ResourceOrderFilter:
    """Select resource orders by state (one or several), special handling, request key,
    or an order they supersede."""

    state: frozenset[str] | None = attrs.field(default=None, converter=_as_set)
    special_handling: bool | None = None
    request_key: str | None = None
    supersedes: str | None = None

    def matches(self, order: ResourceOrder) -> bool:
        """True if ``order`` passes every set criterion."""
        if self.state is not None and order.state not in self.state:
            return False
        if self.special_handling is not None and order.special_handling != self.special_handling:
            return False
        if self.request_key is not None and order.request_key != self.request_key:
            return False
        return self.supersedes is None or self.supersedes in order.superseded_ids

    #: ``special_handling=False`` has no index term: repositories check ``matches``.
    @property
    def exact_terms(self) -> bool:
        """True if :meth:`term_sets` expresses every criterion."""
        return self.special_handling is not False

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.request_key is not None:
            sets.append([f"request={_t(self.request_key)}"])
        if self.supersedes is not None:
            sets.append([f"supersedes={_t(self.supersedes)}"])
        if self.special_handling:
            sets.append(["special"])
        if self.state is not None:
            sets.append([f"state={_t(s)}" for s in sorted(self.state)])
        return sets


_STATE_TERMS: dict[str, str] = {}
#: The request term of the last external_reference tuple seen (the orders of one
#: request share that tuple): (tuple, term).
_last_request: tuple[object, str | None] = ((), None)


def resource_order_terms(order: ResourceOrder) -> tuple[str, ...]:
    """Index terms of a resource order: state, special handling, request, superseded orders."""
    global _last_request
    state = order.state
    term = _STATE_TERMS.get(state) if type(state) is str else None
    if term is None:
        term = f"state={_t(state)}"
        if type(state) is str and len(_STATE_TERMS) < 1024:
            _STATE_TERMS[state] = term
    terms = [term]
    if order.special_handling:
        terms.append("special")
    external = order.external_reference
    last = _last_request
    if last[0] is external:
        request = last[1]
    else:
        key = order.request_key
        request = None if key is None else f"request={_t(key)}"
        if type(external) is tuple:  # immutable (its ExternalEntityIds are frozen)
            _last_request = (external, request)
    if request is not None:
        terms.append(request)
    for ref in order.supersedes:
        terms.append(f"supersedes={_t(ref.id)}")
    return tuple(terms)
