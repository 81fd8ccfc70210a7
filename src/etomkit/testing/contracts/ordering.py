"""Contracts of the issuer's repositories (``OrderingStore``): resource orders
(TMF652), issuance records, feasibility assessments and resource specifications
(TMF634)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest

from etomkit.errors import DuplicateKeyError
from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    InitiatingRequest,
    IssuanceRecord,
    IssuanceRecordFilter,
    IssuedItem,
    ResourceSpecificationFilter,
)
from etomkit.model.resource_order import (
    ExternalEntityId,
    ResourceOrder,
    ResourceOrderFilter,
    ResourceOrderItem,
)
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.model.values import EntityRef
from etomkit.ports import (
    FeasibilityAssessmentRepository,
    IssuanceRecordRepository,
    Repository,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
)
from etomkit.testing import strategies as ets
from etomkit.testing.contracts._base import RepositoryContract

__all__ = [
    "ResourceOrderRepositoryContract",
    "IssuanceRecordRepositoryContract",
    "FeasibilityAssessmentRepositoryContract",
    "ResourceSpecificationRepositoryContract",
    "resource_order",
    "issuance_record",
    "feasibility_assessment",
    "resource_specification",
]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_RICH_ORDERS = ets.resource_orders()
_RICH_RECORDS = ets.issuance_records()
_RICH_ASSESSMENTS = ets.feasibility_assessments()
_RICH_SPECIFICATIONS = ets.resource_specifications()


def resource_order(
    order_id: str | None,
    *,
    state: str = "acknowledged",
    request: str = "serviceOrder:so-1",
    special: bool = False,
    supersedes: tuple[str, ...] = (),
    **changes: Any,
) -> ResourceOrder:
    """A minimal resource order issued for ``request`` (``"<kind>:<id>"``)."""
    kind, request_id = request.split(":", 1)
    return ResourceOrder(
        id=order_id,
        state=state,
        order_item=(ResourceOrderItem(id="1", resource_specification=EntityRef(id="ont")),),
        external_reference=(ExternalEntityId(id=request_id, owner="som", entity_type=kind),),
        special_handling=special,
        supersedes=tuple(EntityRef(id=s) for s in supersedes),
        **changes,
    )


def issuance_record(
    record_id: str | None, *, services: tuple[tuple[str, str], ...] = ()
) -> IssuanceRecord:
    """A minimal record with id ``record_id``; ``services``: ``(service id, outcome)`` per item."""
    request = InitiatingRequest(kind="serviceOrder", id=str(record_id), items=())
    items = tuple(
        IssuedItem(item_id=str(n), action="modify", outcome=outcome, service_id=service)
        for n, (service, outcome) in enumerate(services, 1)
    )
    return IssuanceRecord(id=record_id, request=request, items=items, issued_at=_T0)  # type: ignore[arg-type]


def feasibility_assessment(
    assessment_id: str | None,
    *,
    request_id: str = "so-1",
    item_id: str | None = None,
    **changes: Any,
) -> FeasibilityAssessment:
    """A minimal feasible assessment of a service order (or one of its items)."""
    return FeasibilityAssessment(
        id=assessment_id, request_id=request_id, item_id=item_id, assessed_at=_T0, **changes
    )


def resource_specification(
    spec_id: str | None, *, name: str | None = None, category: str | None = None
) -> ResourceSpecification:
    """A minimal resource specification."""
    return ResourceSpecification(id=spec_id, name=name or f"spec {spec_id}", category=category)


class ResourceOrderRepositoryContract(RepositoryContract[ResourceOrder, ResourceOrderFilter]):
    """The contract of :class:`~etomkit.ports.ResourceOrderRepository`
    (``store.resource_orders``)."""

    port = ResourceOrderRepository

    def repository(self, store: Any) -> Repository[ResourceOrder, ResourceOrderFilter]:
        return store.resource_orders  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> ResourceOrder:
        return resource_order(entity_id)

    def rich_entities(self) -> st.SearchStrategy[ResourceOrder]:
        return _RICH_ORDERS

    def test_query_by_state(self, repo: Repository[ResourceOrder, ResourceOrderFilter]) -> None:
        a = repo.add(resource_order("a", state="inProgress"))
        repo.add(resource_order("b", state="completed"))
        c = repo.add(resource_order("c", state="acknowledged"))
        assert repo.query(ResourceOrderFilter(state="inProgress")).items == (a,)
        assert repo.query(ResourceOrderFilter(state=("acknowledged", "inProgress"))).items == (a, c)

    def test_query_by_special_handling_either_way(
        self, repo: Repository[ResourceOrder, ResourceOrderFilter]
    ) -> None:
        a = repo.add(resource_order("a", special=True))
        b = repo.add(resource_order("b"))
        assert repo.query(ResourceOrderFilter(special_handling=True)).items == (a,)
        assert repo.query(ResourceOrderFilter(special_handling=False)).items == (b,)

    def test_query_by_request_and_superseded_order(
        self, repo: Repository[ResourceOrder, ResourceOrderFilter]
    ) -> None:
        a = repo.add(resource_order("a", request="serviceOrder:so-1"))
        b = repo.add(resource_order("b", request="troubleRecovery:tr-1", supersedes=("a",)))
        assert repo.query(ResourceOrderFilter(request_key="serviceOrder:so-1")).items == (a,)
        assert repo.query(ResourceOrderFilter(request_key="troubleRecovery:tr-1")).items == (b,)
        assert repo.query(ResourceOrderFilter(supersedes="a")).items == (b,)
        assert repo.query(ResourceOrderFilter(supersedes="b")).total == 0

    def test_query_follows_a_change_of_state(
        self, repo: Repository[ResourceOrder, ResourceOrderFilter]
    ) -> None:
        stored = repo.add(resource_order("a"))
        moved = repo.replace(attrs.evolve(stored, state="inProgress"))
        assert repo.query(ResourceOrderFilter(state="acknowledged")).total == 0
        assert repo.query(ResourceOrderFilter(state="inProgress")).items == (moved,)


class IssuanceRecordRepositoryContract(RepositoryContract[IssuanceRecord, IssuanceRecordFilter]):
    """The contract of :class:`~etomkit.ports.IssuanceRecordRepository`
    (``store.issuance_records``)."""

    port = IssuanceRecordRepository

    def repository(self, store: Any) -> Repository[IssuanceRecord, IssuanceRecordFilter]:
        return store.issuance_records  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> IssuanceRecord:
        return issuance_record(entity_id)

    def changed(self, entity: IssuanceRecord, label: str) -> IssuanceRecord:
        return attrs.evolve(entity, request=attrs.evolve(entity.request, source=label))

    def rich_entities(self) -> st.SearchStrategy[IssuanceRecord]:
        return _RICH_RECORDS

    def test_records_for_a_service_oldest_first(self, store: Any) -> None:
        repo = store.issuance_records
        a = repo.add(issuance_record("so:1", services=(("svc-1", "standard"),)))
        repo.add(issuance_record("so:2", services=(("svc-2", "special"),)))
        c = repo.add(
            issuance_record("so:3", services=(("svc-2", "noChange"), ("svc-1", "special")))
        )
        assert repo.records_for_service("svc-1") == [a, c]
        assert repo.records_for_service("svc-9") == []

    def test_issued_orders_and_records_are_added_all_or_none(self, store: Any) -> None:
        orders, records = store.resource_orders, store.issuance_records
        first = [resource_order("ro-1"), resource_order("ro-2")]
        stored = store.add_issued(first, [issuance_record("so:1")])
        assert stored == [attrs.evolve(o, revision=1) for o in first]
        assert [orders.get(o.id) for o in first] == stored
        assert records.get("so:1").revision == 1
        with store.transaction():
            taken_record = ([resource_order("ro-3")], [issuance_record("so:1")])
            with pytest.raises(DuplicateKeyError) as refused:
                store.add_issued(*taken_record)
            assert refused.value.key == "id" and refused.value.value == "so:1"
            taken_order = (
                [resource_order("ro-4"), resource_order("ro-1")],
                [issuance_record("so:4")],
            )
            with pytest.raises(DuplicateKeyError) as refused:
                store.add_issued(*taken_order)
            assert refused.value.value == "ro-1"
            store.add_issued(
                [resource_order("ro-5")], [issuance_record("so:5")]
            )  # the unit goes on
        assert orders.find_many(["ro-3", "ro-4"]) == {} and records.find("so:4") is None
        assert orders.find("ro-5") is not None and records.find("so:5") is not None
        assert store.add_issued([], [issuance_record("so:6")]) == []

    def test_a_last_write_announced_commits_with_its_unit_or_leaves_it_going(
        self, store: Any
    ) -> None:
        orders, records = store.resource_orders, store.issuance_records
        store.add_issued([resource_order("ro-1")], [issuance_record("so:1")])
        with store.transaction():
            assert records.find_many(["so:1", "so:2"]).keys() == {"so:1"}  # reads first
            store.expect_last_write()
            with pytest.raises(DuplicateKeyError):  # refused: nothing of it, the unit goes on
                store.add_issued([resource_order("ro-2")], [issuance_record("so:1")])
            store.expect_last_write()
            store.add_issued([resource_order("ro-3")], [issuance_record("so:3")])
        assert orders.find("ro-2") is None and orders.get("ro-3").revision == 1
        assert records.get("so:3").revision == 1
        with contextlib.suppress(_RollbackError), store.transaction():
            with store.transaction():  # announced in a nested unit: the outer one decides
                store.expect_last_write()
                store.add_issued([resource_order("ro-4")], [issuance_record("so:4")])
            raise _RollbackError
        with contextlib.suppress(_RollbackError), store.transaction():
            store.add_issued([resource_order("ro-5")], [issuance_record("so:5")])
            store.expect_last_write()  # after a write: the unit still commits as one
            store.add_issued([resource_order("ro-6")], [issuance_record("so:6")])
            raise _RollbackError
        assert orders.find_many(["ro-4", "ro-5", "ro-6"]) == {}
        assert records.find_many(["so:4", "so:5", "so:6"]) == {}

    def test_query_by_service_and_outcome(
        self, repo: Repository[IssuanceRecord, IssuanceRecordFilter]
    ) -> None:
        a = repo.add(issuance_record("so:1", services=(("svc-1", "standard"),)))
        b = repo.add(issuance_record("so:2", services=(("svc-1", "special"),)))
        assert repo.query(IssuanceRecordFilter(service_id="svc-1")).items == (a, b)
        assert repo.query(IssuanceRecordFilter(outcome="special")).items == (b,)
        assert repo.query(IssuanceRecordFilter(service_id="svc-1", outcome="standard")).items == (
            a,
        )


class _RollbackError(Exception):
    """Raised inside a nested unit of work to roll it back."""


class FeasibilityAssessmentRepositoryContract(
    RepositoryContract[FeasibilityAssessment, FeasibilityAssessmentFilter]
):
    """The contract of :class:`~etomkit.ports.FeasibilityAssessmentRepository`
    (``store.feasibility_assessments``)."""

    port = FeasibilityAssessmentRepository

    def repository(
        self, store: Any
    ) -> Repository[FeasibilityAssessment, FeasibilityAssessmentFilter]:
        return store.feasibility_assessments  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> FeasibilityAssessment:
        return feasibility_assessment(entity_id)

    def changed(self, entity: FeasibilityAssessment, label: str) -> FeasibilityAssessment:
        return attrs.evolve(entity, reason=label)

    def rich_entities(self) -> st.SearchStrategy[FeasibilityAssessment]:
        return _RICH_ASSESSMENTS

    def test_the_latest_assessment_of_the_item_wins_else_the_whole_requests(
        self, store: Any
    ) -> None:
        repo = store.feasibility_assessments
        whole = repo.add(feasibility_assessment("fa-1"))
        repo.add(feasibility_assessment("fa-2", item_id="1", feasible=False))
        latest = repo.add(feasibility_assessment("fa-3", item_id="1"))
        repo.add(feasibility_assessment("fa-4", request_id="so-2", item_id="2"))
        assert repo.find_for("serviceOrder:so-1", "1") == latest
        assert repo.find_for("serviceOrder:so-1", "2") == whole
        assert repo.find_for("serviceOrder:so-2", "1") is None
        assert repo.find_for("serviceOrder:so-9", "1") is None

    def test_expected_requests_change_no_answer_and_never_hide_a_write(self, store: Any) -> None:
        repo = store.feasibility_assessments
        whole = repo.add(feasibility_assessment("fa-1"))
        latest = repo.add(feasibility_assessment("fa-2", item_id="1"))
        keys = ["serviceOrder:so-1", "serviceOrder:so-2", "serviceOrder:so-3"]
        with store.transaction():
            repo.expect_requests(keys)
            assert repo.find_for(keys[0], "1") == latest
            assert repo.find_for(keys[0], "2") == whole
            assert repo.find_for(keys[1], "1") is None
            added = repo.add(feasibility_assessment("fa-3", request_id="so-2"))
            assert repo.find_for(keys[1], "1") == added  # written after the batch read
            try:
                with store.transaction():
                    repo.add(feasibility_assessment("fa-4", request_id="so-3"))
                    raise _RollbackError
            except _RollbackError:
                pass
            assert repo.find_for(keys[2], "1") is None  # its unit rolled back
        assert repo.find_for(keys[1], "2") == added

    def test_query_by_request_and_item(
        self, repo: Repository[FeasibilityAssessment, FeasibilityAssessmentFilter]
    ) -> None:
        a = repo.add(feasibility_assessment("a", item_id="1"))
        b = repo.add(feasibility_assessment("b", item_id="2"))
        repo.add(feasibility_assessment("c", request_id="so-2", item_id="1"))
        where = FeasibilityAssessmentFilter(request_key="serviceOrder:so-1")
        assert repo.query(where).items == (a, b)
        both = FeasibilityAssessmentFilter(request_key="serviceOrder:so-1", item_id="2")
        assert repo.query(both).items == (b,)


class ResourceSpecificationRepositoryContract(
    RepositoryContract[ResourceSpecification, ResourceSpecificationFilter]
):
    """The contract of :class:`~etomkit.ports.ResourceSpecificationRepository`
    (``store.resource_specifications``)."""

    port = ResourceSpecificationRepository

    def repository(
        self, store: Any
    ) -> Repository[ResourceSpecification, ResourceSpecificationFilter]:
        return store.resource_specifications  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> ResourceSpecification:
        return resource_specification(entity_id)

    def rich_entities(self) -> st.SearchStrategy[ResourceSpecification]:
        return _RICH_SPECIFICATIONS

    def test_expected_lookups_change_no_answer_and_never_hide_a_write(self, store: Any) -> None:
        repo = store.resource_specifications
        first = repo.add(resource_specification("rs-1"))
        with store.transaction():
            repo.expect_lookups()
            assert repo.find("rs-1") == first
            assert repo.find("rs-2") is None
            added = repo.add(resource_specification("rs-2", name="VLAN"))
            assert repo.find("rs-2") == added  # written after the catalogue was read
            try:
                with store.transaction():
                    repo.expect_lookups()
                    repo.add(resource_specification("rs-3"))
                    assert repo.find("rs-3") is not None
                    raise _RollbackError
            except _RollbackError:
                pass
            repo.expect_lookups()
            assert repo.find("rs-3") is None  # its unit rolled back
            assert repo.find("rs-1") == first
        with store.transaction():
            repo.expect_lookups()
            repo.add(resource_specification("rs-4"))  # a write before the catalogue is read
            assert repo.find("rs-4") is not None
            assert repo.find("rs-2") == added
        repo.expect_lookups()  # outside a unit of work: nothing to do
        assert repo.find("rs-4") is not None

    def test_query_by_name_and_category(
        self, repo: Repository[ResourceSpecification, ResourceSpecificationFilter]
    ) -> None:
        a = repo.add(resource_specification("a", name="ONT", category="access"))
        b = repo.add(resource_specification("b", name="VLAN", category="access"))
        repo.add(resource_specification("c", name="ONT"))
        assert repo.query(ResourceSpecificationFilter(category="access")).items == (a, b)
        both = ResourceSpecificationFilter(name="ONT", category="access")
        assert repo.query(both).items == (a,)
