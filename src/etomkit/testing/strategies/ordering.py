"""Strategies for resource order issuing (1.5.6.7): TMF641 service orders, initiating
requests, TMF652 resource orders, TMF634 resource specifications, feasibility
assessments and issuance records."""

from __future__ import annotations

import string

import attrs
import hypothesis.strategies as st

from etomkit.model.issuance import (
    OUTCOMES,
    FeasibilityAssessment,
    InitiatingRequest,
    IssuanceRecord,
    IssuedItem,
    RuleRef,
)
from etomkit.model.orders import (
    ORDER_ITEM_ACTIONS,
    REQUEST_KINDS,
    SERVICE_ORDER_STATES,
    ExternalReference,
    ServiceOrder,
    ServiceOrderItem,
    ServiceRefOrValue,
)
from etomkit.model.resource_order import (
    RESOURCE_ORDER_LIFECYCLE,
    ExternalEntityId,
    ResourceOrder,
    ResourceOrderItem,
    ResourceRefOrValue,
)
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.model.values import RelatedParty
from etomkit.testing.strategies.values import (
    _entity_types,
    _fixed_or,
    _hrefs,
    _optional,
    _optional_types,
    _texts,
    _tuples,
    characteristics,
    entity_ids,
    entity_refs,
    extras,
    names,
    notes,
    related_parties,
    time_periods,
    utc_datetimes,
)

__all__ = [
    "service_order_items",
    "service_orders",
    "initiating_requests",
    "resource_order_items",
    "resource_orders",
    "resource_specifications",
    "feasibility_assessments",
    "issuance_records",
]

_ITEM_IDS = st.integers(1, 9).map(str)
_SPECS = st.sampled_from(("fibre-access", "ont", "vlan", "ip-address"))
_ORDER_STATES = RESOURCE_ORDER_LIFECYCLE.states
_TOKENS = st.text(string.ascii_letters + string.digits, min_size=1, max_size=10)


def _typed_parties() -> st.SearchStrategy[RelatedParty]:
    """Related parties with ``@type`` (TMF641 requires it)."""
    return related_parties().map(lambda p: p if p.type else attrs.evolve(p, type="RelatedParty"))


def _unique_ids(items: list[ServiceOrderItem]) -> tuple[ServiceOrderItem, ...]:
    seen: dict[str, ServiceOrderItem] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return tuple(seen.values())


def _service(action: str) -> st.SearchStrategy[ServiceRefOrValue]:
    """``add`` acts on a new service (no id); the other actions on an existing one."""
    return st.builds(
        ServiceRefOrValue,
        id=st.none() if action == "add" else entity_ids(),
        href=_optional(_hrefs()),
        name=_optional(names()),
        service_type=_optional(st.sampled_from(("CFS", "RFS"))),
        service_specification=entity_refs(ids=_SPECS),
        service_characteristic=_tuples(characteristics(names=_TOKENS)),
        type=_optional_types(),
        extras=extras(for_type=ServiceRefOrValue),
    )


def service_order_items(
    *,
    action: str | st.SearchStrategy[str] | None = None,
    ids: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ServiceOrderItem]:
    """TMF641 service order items that pass ``service_order_item_problems``."""

    def build(chosen: str) -> st.SearchStrategy[ServiceOrderItem]:
        return st.builds(
            ServiceOrderItem,
            id=ids if ids is not None else _ITEM_IDS,
            action=st.just(chosen),
            service=_service(chosen),
            quantity=_optional(st.integers(1, 3)),
            state=_optional(st.sampled_from(SERVICE_ORDER_STATES)),
            type=_optional_types(),
            extras=extras(for_type=ServiceOrderItem),
        )

    return _fixed_or(action, st.sampled_from(ORDER_ITEM_ACTIONS)).flatmap(build)


def service_orders(
    *, with_id: bool = True, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ServiceOrder]:
    """TMF641 service orders with one to three items of distinct ids."""
    return st.builds(
        ServiceOrder,
        service_order_item=st.lists(service_order_items(), min_size=1, max_size=3).map(_unique_ids),
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        href=_optional(_hrefs()),
        category=_optional(st.sampled_from(("broadband", "mobile"))),
        description=_optional(_texts()),
        external_id=_optional(entity_ids()),
        priority=_optional(st.integers(0, 4).map(str)),
        state=_optional(st.sampled_from(SERVICE_ORDER_STATES)),
        order_date=_optional(utc_datetimes()),
        requested_start_date=_optional(utc_datetimes()),
        external_reference=_tuples(
            st.builds(ExternalReference, name=names(), id=_optional(entity_ids()))
        ),
        related_party=_tuples(_typed_parties()),
        note=_tuples(notes()),
        type=_entity_types("ServiceOrder"),
        extras=extras(for_type=ServiceOrder),
    )


def initiating_requests(
    *,
    kind: str | st.SearchStrategy[str] | None = None,
    ids: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[InitiatingRequest]:
    """Initiating requests of ``kind`` (default: any of ``REQUEST_KINDS``), distinct item ids."""
    return st.builds(
        InitiatingRequest,
        kind=_fixed_or(kind, st.sampled_from(REQUEST_KINDS)),
        id=ids if ids is not None else entity_ids(),
        items=st.lists(service_order_items(), min_size=1, max_size=3).map(_unique_ids),
        source=st.sampled_from(("serviceOrdering", "troubleTicketing", "partner")),
        special=st.booleans(),
        special_reason=_optional(_texts()),
        priority=_optional(st.integers(0, 4)),
        requested_start_date=_optional(utc_datetimes()),
        related_party=_tuples(_typed_parties()),
    )


def resource_order_items(
    *, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ResourceOrderItem]:
    """TMF652 resource order items, each on one resource specification."""
    return st.builds(
        ResourceOrderItem,
        id=ids if ids is not None else _ITEM_IDS,
        action=st.sampled_from(ORDER_ITEM_ACTIONS),
        quantity=st.integers(1, 3),
        state=st.sampled_from(_ORDER_STATES),
        resource_specification=_optional(entity_refs(ids=_SPECS)),
        # TMF652 v4.0 requires id and href on ResourceRefOrValue, and etomkit writes
        # the item's characteristics inside ``resource``: so there always is one
        resource=st.builds(
            ResourceRefOrValue,
            id=entity_ids(),
            href=_hrefs(),
            name=_optional(names()),
            extras=extras(for_type=ResourceRefOrValue),
        ),
        characteristic=_tuples(characteristics(names=_TOKENS)),
        type=_optional_types(),
        extras=extras(for_type=ResourceOrderItem),
    )


def _distinct_items(items: list[ResourceOrderItem]) -> tuple[ResourceOrderItem, ...]:
    seen: dict[str, ResourceOrderItem] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return tuple(seen.values())


def resource_orders(
    *,
    state: str | st.SearchStrategy[str] | None = None,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    request_kind: str | st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ResourceOrder]:
    """TMF652 resource orders referring to an initiating request of ``request_kind``."""
    reference = st.builds(
        ExternalEntityId,
        id=entity_ids(),
        owner=st.sampled_from(("serviceOrdering", "partner")),
        entity_type=_fixed_or(request_kind, st.sampled_from(REQUEST_KINDS)),
        extras=extras(for_type=ExternalEntityId),
    )
    return st.builds(
        ResourceOrder,
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        href=_optional(_hrefs()),
        name=_optional(names()),
        description=_optional(_texts()),
        category=_optional(st.sampled_from(("access", "core"))),
        order_type=_optional(st.sampled_from(("standard", "recovery"))),
        priority=_optional(st.integers(0, 4)),
        state=_fixed_or(state, st.sampled_from(_ORDER_STATES)),
        order_date=_optional(utc_datetimes()),
        requested_completion_date=_optional(utc_datetimes()),
        order_item=st.lists(resource_order_items(), min_size=1, max_size=3).map(_distinct_items),
        external_reference=_tuples(reference),
        note=_tuples(notes()),
        related_party=_tuples(_typed_parties()),
        special_handling=st.booleans(),
        special_handling_reason=_optional(_texts()),
        feasibility_assessment=_optional(entity_refs()),
        supersedes=_tuples(entity_refs()),
        type=_entity_types("ResourceOrder"),
        extras=extras(for_type=ResourceOrder),
    )


def service_refs() -> st.SearchStrategy[ServiceRefOrValue]:
    """TMF641 services an order item acts on: a new one (no id) or an existing one."""
    return st.sampled_from(("add", "modify")).flatmap(_service)


def characteristic_value_specifications() -> st.SearchStrategy[CharacteristicValueSpecification]:
    """TMF634 allowed values of a resource specification characteristic."""
    return st.builds(
        CharacteristicValueSpecification,
        value=_optional(st.integers(0, 100) | _TOKENS),
        value_type=_optional(st.sampled_from(("string", "integer"))),
        is_default=_optional(st.booleans()),
        extras=extras(for_type=CharacteristicValueSpecification),
    )


def resource_spec_characteristics() -> st.SearchStrategy[ResourceSpecificationCharacteristic]:
    """TMF634 characteristics a resource specification lists."""
    return _characteristic_specs()


def _characteristic_specs() -> st.SearchStrategy[ResourceSpecificationCharacteristic]:
    values = characteristic_value_specifications()
    return st.builds(
        ResourceSpecificationCharacteristic,
        name=_TOKENS,
        value_type=_optional(st.sampled_from(("string", "integer", "number", "boolean"))),
        description=_optional(_texts()),
        configurable=_optional(st.booleans()),
        extensible=_optional(st.booleans()),
        min_cardinality=_optional(st.integers(0, 1)),
        max_cardinality=_optional(st.integers(1, 3)),
        resource_spec_characteristic_value=_tuples(values),
        extras=extras(for_type=ResourceSpecificationCharacteristic),
    )


def resource_specifications(
    *,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    names: st.SearchStrategy[str] | None = None,
    categories: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ResourceSpecification]:
    """TMF634 resource specifications (Logical or Physical), with characteristic specs."""
    from etomkit.testing.strategies.values import names as _names

    return st.builds(
        ResourceSpecification,
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        href=_optional(_hrefs()),
        name=names if names is not None else _names(),
        version=_optional(st.sampled_from(("1.0", "2"))),
        description=_optional(_texts()),
        category=categories if categories is not None else _optional(st.sampled_from(("access",))),
        lifecycle_status=_optional(st.sampled_from(("Active", "In design"))),
        is_bundle=_optional(st.booleans()),
        last_update=_optional(utc_datetimes()),
        valid_for=_optional(time_periods()),
        resource_spec_characteristic=_tuples(_characteristic_specs()),
        related_party=_tuples(_typed_parties()),
        type=st.sampled_from(("LogicalResourceSpecification", "PhysicalResourceSpecification")),
        extras=extras(for_type=ResourceSpecification),
    )


def feasibility_assessments(
    *,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    request_ids: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[FeasibilityAssessment]:
    """Feasibility assessments for a request (or one of its items)."""
    return st.builds(
        FeasibilityAssessment,
        request_id=request_ids if request_ids is not None else entity_ids(),
        request_kind=st.sampled_from(REQUEST_KINDS),
        item_id=_optional(_ITEM_IDS),
        feasible=st.booleans(),
        reason=_optional(_texts()),
        order_item=_tuples(resource_order_items()).map(lambda t: _distinct_items(list(t))),
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        assessed_at=_optional(utc_datetimes()),
        assessed_by=_optional(names()),
    )


def _issued_item(item: ServiceOrderItem) -> st.SearchStrategy[IssuedItem]:
    return st.builds(
        IssuedItem,
        item_id=st.just(item.id),
        action=st.just(item.action),
        outcome=st.sampled_from(OUTCOMES),
        service_id=st.just(item.service.id),
        service_specification=st.just(
            item.service.service_specification.id if item.service.service_specification else None
        ),
        rules=_tuples(st.builds(RuleRef, _TOKENS, st.sampled_from(("1", "2")))),
        feasibility_assessment=_optional(entity_ids()),
        resource_orders=_tuples(entity_ids()),
        supersedes=_tuples(entity_ids()),
        reason=_optional(_texts()),
    )


def issuance_records(
    *, requests: st.SearchStrategy[InitiatingRequest] | None = None
) -> st.SearchStrategy[IssuanceRecord]:
    """Issuance records of a request (id = its key), one entry per request item in order."""

    def build(request: InitiatingRequest) -> st.SearchStrategy[IssuanceRecord]:
        return st.builds(
            IssuanceRecord,
            id=st.just(request.key),
            request=st.just(request),
            items=st.tuples(*(_issued_item(i) for i in request.items)),
            issued_at=_optional(utc_datetimes()),
        )

    return (requests if requests is not None else initiating_requests()).flatmap(build)
