"""Ports of the resource order issuer: repositories, store, and the two collaborators.

Contracts are stated here once; adapters document only what they add. The
repositories have the same contract as :class:`etomkit.ports.Repository`
(optimistic concurrency through ``revision``; insertion order).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import ClassVar, Generic, Protocol, TypeVar

from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    InitiatingRequest,
    IssuanceRecord,
    IssuanceRecordFilter,
    ResourceSpecificationFilter,
)
from etomkit.model.orders import ServiceOrderItem
from etomkit.model.queries import Page
from etomkit.model.resource_order import ResourceOrder, ResourceOrderFilter, ResourceOrderItem
from etomkit.model.resource_spec import ResourceSpecification

__all__ = [
    "FeasibilityAssessmentRepository",
    "FeasibilityChecker",
    "IssuanceRecordRepository",
    "OrderingRepository",
    "OrderingStore",
    "ProvisioningTracker",
    "ResourceOrderRepository",
    "ResourceSpecificationRepository",
]

E = TypeVar("E", ResourceOrder, IssuanceRecord, FeasibilityAssessment, ResourceSpecification)
F = TypeVar(
    "F",
    ResourceOrderFilter,
    IssuanceRecordFilter,
    FeasibilityAssessmentFilter,
    ResourceSpecificationFilter,
)


class OrderingRepository(ABC, Generic[E, F]):
    """Keyed storage of one ordering entity type with optimistic concurrency.

    Entities carry a ``revision``: 0 means never stored; each successful
    ``add``/``replace`` returns the entity with the revision the store gave it.
    Iteration order is insertion order and is stable across pages.
    """

    entity_name: ClassVar[str]

    @abstractmethod
    def get(self, entity_id: str) -> E:
        """The entity with ``entity_id``. Raises NotFoundError."""

    @abstractmethod
    def find(self, entity_id: str) -> E | None:
        """The entity with ``entity_id``, or None."""

    @abstractmethod
    def add(self, entity: E) -> E:
        """Store a new entity (its id set) at revision 1 and return what was stored.

        Raises ConflictError if the id is taken, ValidationError if the id is unset.
        """

    def add_all(self, entities: Sequence[E]) -> list[E]:
        """``add`` each entity, in order; inside a transaction, all or none are stored.

        Raises what ``add`` raises. Adapters may do this faster.
        """
        return [self.add(entity) for entity in entities]

    @abstractmethod
    def replace(self, entity: E, *, expected_revision: int | None = None) -> E:
        """Overwrite the stored entity; return what was stored, at revision expected + 1.

        The stored revision must equal ``expected_revision`` (default:
        ``entity.revision``), else ConflictError. Raises NotFoundError if absent.
        """

    @abstractmethod
    def remove(self, entity_id: str, expected_revision: int | None = None) -> E:
        """Delete and return the entity. Raises NotFoundError; ConflictError if stale."""

    @abstractmethod
    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[E]:
        """One page of the entities matching ``where`` (all if None), in insertion order."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of stored entities."""

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and self.find(entity_id) is not None

    def iterate(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[E]:
        """Every matching entity, fetched ``page_size`` at a time."""
        offset: int | None = 0
        while offset is not None:
            page = self.query(where, offset=offset, limit=page_size)
            yield from page.items
            offset = page.next_offset


class ResourceOrderRepository(OrderingRepository[ResourceOrder, ResourceOrderFilter]):
    """Resource orders (TMF652), queryable by state, special handling and request."""

    entity_name = "ResourceOrder"


class IssuanceRecordRepository(OrderingRepository[IssuanceRecord, IssuanceRecordFilter]):
    """Issuance records, keyed by the initiating request's key."""

    entity_name = "IssuanceRecord"

    @abstractmethod
    def records_for_service(self, service_id: str) -> list[IssuanceRecord]:
        """The records with an item for service ``service_id``, oldest first."""


class FeasibilityAssessmentRepository(
    OrderingRepository[FeasibilityAssessment, FeasibilityAssessmentFilter]
):
    """Feasibility assessments made before issuing."""

    entity_name = "FeasibilityAssessment"

    @abstractmethod
    def find_for(self, request_key: str, item_id: str) -> FeasibilityAssessment | None:
        """The latest assessment for that request item, else the latest for the whole
        request (``item_id`` None), else None."""


class ResourceSpecificationRepository(
    OrderingRepository[ResourceSpecification, ResourceSpecificationFilter]
):
    """Resource specifications (TMF634) that issued items are checked against."""

    entity_name = "ResourceSpecification"


class OrderingStore(ABC):
    """The repositories the issuer uses, sharing one unit of work."""

    resource_orders: ResourceOrderRepository
    issuance_records: IssuanceRecordRepository
    feasibility_assessments: FeasibilityAssessmentRepository
    resource_specifications: ResourceSpecificationRepository

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: every write inside commits together or not at all.

        Nested blocks join the outer one. An exception inside rolls back.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release resources; the store is unusable afterwards."""


class ProvisioningTracker(Protocol):
    """Track & Manage Resource Provisioning (eTOM 1.5.6.x): receives special-handling orders.

    Called after the orders are stored; an exception leaves them issued (they
    stay listed by ``ResourceOrderIssuer.open_special_orders``).
    """

    def hand_off(self, order: ResourceOrder, reason: str) -> None: ...


class FeasibilityChecker(Protocol):
    """Assesses whether an item can be provisioned, before its orders are issued.

    Gets the request, the item and the items the rules would issue; returns
    an assessment (``feasible``, ``reason``, and optionally the items to
    issue instead). The issuer stores it with the orders.
    """

    def assess(
        self,
        request: InitiatingRequest,
        item: ServiceOrderItem,
        proposed: Sequence[ResourceOrderItem],
    ) -> FeasibilityAssessment: ...
