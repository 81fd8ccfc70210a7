"""In-memory ordering repositories and store (the reference adapter), with rollback.

They are the inventory's in-memory repositories (:mod:`etomkit.adapters.memory`)
for the ordering entities: same unit of work, same index of terms, so one
transaction can span an ``InMemoryStore`` and these, and the ``FileStore``
keeps them durable the same way it keeps offerings and products.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from etomkit.adapters.memory import _DictRepository, _UnitOfWork
from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    IssuanceRecord,
    IssuanceRecordFilter,
    ResourceSpecificationFilter,
    feasibility_assessment_terms,
    issuance_record_terms,
    resource_specification_terms,
)
from etomkit.model.resource_order import ResourceOrder, ResourceOrderFilter, resource_order_terms
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.ordering.ports import (
    FeasibilityAssessmentRepository,
    IssuanceRecordRepository,
    OrderingStore,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
)

__all__ = [
    "InMemoryFeasibilityAssessmentRepository",
    "InMemoryIssuanceRecordRepository",
    "InMemoryOrderingStore",
    "InMemoryResourceOrderRepository",
    "InMemoryResourceSpecificationRepository",
]


class InMemoryResourceOrderRepository(
    _DictRepository[ResourceOrder, ResourceOrderFilter], ResourceOrderRepository
):
    """Resource orders, indexed by state, special handling, request and superseded order."""

    entity_name = "ResourceOrder"
    entity_class = ResourceOrder
    namespace = "resourceOrder"

    def _terms_of_entity(self, entity: ResourceOrder) -> tuple[str, ...]:
        return resource_order_terms(entity)


class InMemoryIssuanceRecordRepository(
    _DictRepository[IssuanceRecord, IssuanceRecordFilter], IssuanceRecordRepository
):
    """Issuance records, indexed by the services and outcomes of their items."""

    entity_name = "IssuanceRecord"
    entity_class = IssuanceRecord
    namespace = "issuanceRecord"

    def _terms_of_entity(self, entity: IssuanceRecord) -> tuple[str, ...]:
        return issuance_record_terms(entity)

    def records_for_service(self, service_id: str) -> list[IssuanceRecord]:
        return list(self.iterate(IssuanceRecordFilter(service_id=service_id)))


class InMemoryFeasibilityAssessmentRepository(
    _DictRepository[FeasibilityAssessment, FeasibilityAssessmentFilter],
    FeasibilityAssessmentRepository,
):
    """Feasibility assessments, indexed by request and item."""

    entity_name = "FeasibilityAssessment"
    entity_class = FeasibilityAssessment
    namespace = "feasibilityAssessment"

    def _terms_of_entity(self, entity: FeasibilityAssessment) -> tuple[str, ...]:
        return feasibility_assessment_terms(entity)

    def find_for(self, request_key: str, item_id: str) -> FeasibilityAssessment | None:
        for_item = list(
            self.iterate(FeasibilityAssessmentFilter(request_key=request_key, item_id=item_id))
        )
        if for_item:
            return for_item[-1]
        whole = [
            a
            for a in self.iterate(FeasibilityAssessmentFilter(request_key=request_key))
            if a.item_id is None
        ]
        return whole[-1] if whole else None


class InMemoryResourceSpecificationRepository(
    _DictRepository[ResourceSpecification, ResourceSpecificationFilter],
    ResourceSpecificationRepository,
):
    """Resource specifications, indexed by name and category."""

    entity_name = "ResourceSpecification"
    entity_class = ResourceSpecification
    namespace = "resourceSpecification"

    def _terms_of_entity(self, entity: ResourceSpecification) -> tuple[str, ...]:
        return resource_specification_terms(entity)


class InMemoryOrderingStore(OrderingStore):
    """The four ordering repositories in memory; ``transaction()`` rolls back on error.

    Pass ``unit`` to share one unit of work with other in-memory repositories
    (e.g. an ``InMemoryStore``'s), so one transaction spans them all.
    """

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        self._unit = unit or _UnitOfWork()
        self.resource_orders = InMemoryResourceOrderRepository(self._unit)
        self.issuance_records = InMemoryIssuanceRecordRepository(self._unit)
        self.feasibility_assessments = InMemoryFeasibilityAssessmentRepository(self._unit)
        self.resource_specifications = InMemoryResourceSpecificationRepository(self._unit)

    def transaction(self) -> AbstractContextManager[None]:
        return self._unit.transaction()
