"""Ports: the repository ABCs and small injectables the services depend on.

Contracts are stated here once; adapters document only what they add.
Every adapter passes ``etomkit.testing.contracts``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import ClassVar, Generic, Protocol, TypeVar

from etomkit.errors import ValidationError
from etomkit.model.audit import AuditRun, AuditRunFilter, ManualAudit, ManualAuditFilter
from etomkit.model.client import ClientFilter, ClientRegistration
from etomkit.model.events import Event
from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    InitiatingRequest,
    IssuanceRecord,
    IssuanceRecordFilter,
    ResourceSpecificationFilter,
)
from etomkit.model.offering import ProductOffering
from etomkit.model.orders import ServiceOrderItem
from etomkit.model.product import Product
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.model.resource_order import ResourceOrder, ResourceOrderFilter, ResourceOrderItem
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.model.usage import TechnicalShortcoming, UsageRecord, UsageRow, usage_record
from etomkit.model.values import RelatedParty

__all__ = [
    "AuditRunRepository",
    "ClientRepository",
    "Clock",
    "EventSink",
    "FeasibilityAssessmentRepository",
    "FeasibilityChecker",
    "IdFactory",
    "IssuanceRecordRepository",
    "ManualAuditRepository",
    "OfferingRepository",
    "OrderingStore",
    "ProductRepository",
    "ProvisioningTracker",
    "Repository",
    "ResourceOrderRepository",
    "ResourceDevelopmentSink",
    "ResourceSpecificationRepository",
    "Store",
    "UsageLog",
]

T = TypeVar("T")
F = TypeVar("F")


class Repository(ABC, Generic[T, F]):
    """Keyed storage of one entity type with optimistic concurrency.

    Entities carry a ``revision``: 0 means never stored; each successful
    ``add``/``replace`` returns the entity with the revision the store gave it.
    Iteration order is insertion order and is stable across pages.

    **Unique keys are the store's job.** The id is unique, and so is every key
    in :attr:`unique_keys`. ``add`` and ``replace`` refuse an entity that
    holds an id or a key value another stored entity holds, with
    :class:`~etomkit.errors.DuplicateKeyError` (a ConflictError naming the key,
    the value and the existing entity's id). The check and the write are one
    atomic step: under the store's lock in memory and on file, a ``UNIQUE``
    constraint in a database, inside the caller's unit of work. Services never
    look-then-add: they add and, on DuplicateKeyError, read the existing
    entity (that is how ``record_purchase``, ``issue`` and ``bootstrap`` stay
    idempotent under any concurrency).
    """

    entity_name: ClassVar[str]
    unique_keys: ClassVar[tuple[str, ...]] = ()
    """Names of the unique keys beside the id (each port says what they hold)."""

    @abstractmethod
    def get(self, entity_id: str) -> T:
        """The entity with ``entity_id``. Raises NotFoundError."""

    def reader(self) -> Callable[[str], T]:
        """A callable doing :meth:`get` for string ids, as cheaply as the adapter can.

        Services bind it once for their read path. The default is :meth:`get`.
        """
        return self.get

    @abstractmethod
    def find(self, entity_id: str) -> T | None:
        """The entity with ``entity_id``, or None."""

    @abstractmethod
    def add(self, entity: T) -> T:
        """Store a new entity (its id set) at revision 1 and return what was stored.

        Raises DuplicateKeyError (a ConflictError) if the id or a unique key is
        taken, ValidationError if the id is unset. ValidationError too, before
        storing anything, if a store could not return the entity as it is
        (``etomkit.model.canonical.storable_problems``).
        """

    def add_all(self, entities: Sequence[T], *, checked: bool = False) -> list[T]:
        """``add`` each entity, in order; inside a transaction, all or none are stored.

        Raises what ``add`` raises. ``checked=True``: the caller guarantees the
        entities pass ``storable_problems`` (its own objects, built from validated
        input), so an adapter may skip that check. Adapters may do this faster.
        """
        return [self.add(entity) for entity in entities]

    def find_many(self, ids: Iterable[str]) -> dict[str, T]:
        """The entities found among ``ids``, keyed by id; missing ids are absent.

        The default calls :meth:`find` per id; adapters may do it in one step.
        """
        found: dict[str, T] = {}
        for entity_id in ids:
            entity = self.find(entity_id)
            if entity is not None:
                found[entity_id] = entity
        return found

    @abstractmethod
    def replace(self, entity: T, *, expected_revision: int | None = None) -> T:
        """Overwrite the stored entity; return what was stored, at revision expected + 1.

        The stored revision must equal ``expected_revision`` (default:
        ``entity.revision``, i.e. the revision the caller read), else
        ConflictError: someone else changed it first. Raises NotFoundError if
        absent, DuplicateKeyError if the new value takes another entity's unique
        key, ValidationError as ``add`` does for an entity a store could not
        return as it is.
        """

    @abstractmethod
    def remove(self, entity_id: str, expected_revision: int | None = None) -> T:
        """Delete and return the entity. Raises NotFoundError; ConflictError if stale."""

    @abstractmethod
    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[T]:
        """One page of the entities matching ``where`` (all if None), in insertion order."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of stored entities."""

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and self.find(entity_id) is not None

    def iterate(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[T]:
        """Every matching entity, fetched ``page_size`` at a time.

        Raises ValidationError at once for a ``page_size`` that is not a positive integer.
        """
        if type(page_size) is not int or page_size < 1:
            raise ValidationError("iterate", [("page_size", "must be a positive integer")])
        return self._pages(where, page_size)

    def _pages(self, where: F | None, page_size: int) -> Iterator[T]:
        offset: int | None = 0
        while offset is not None:
            page = self.query(where, offset=offset, limit=page_size)
            yield from page.items
            offset = page.next_offset


class OfferingRepository(Repository[ProductOffering, OfferingFilter]):
    """Product offerings (TMF620)."""

    entity_name = "ProductOffering"


class ProductRepository(Repository[Product, ProductFilter]):
    """Product instances (TMF637), queryable by customer and offering.

    Unique key ``product_order_item``: an Order Handling order item
    (``order_id``, ``item_id`` of each ``product_order_item``) creates at most
    one product.
    """

    entity_name = "Product"
    unique_keys = ("product_order_item",)

    @abstractmethod
    def find_by_order_item(self, order_id: str, item_id: str) -> Product | None:
        """The product created by that Order Handling order item, or None."""


PurchaseWriter = tuple[
    Callable[[str], bool],
    Callable[[str, str], tuple[RelatedParty, ...]],
    Callable[[Product, tuple[str, ...], str], Product],
]
"""An optional hint of a product repository: what its ``purchase_writer()`` gives the
inventory's purchases, to write the usual purchase with the index terms its
offering's mold spells (``InMemoryProductRepository.purchase_writer``)."""


class Store(ABC):
    """A set of repositories that share one unit of work."""

    offerings: OfferingRepository
    products: ProductRepository
    clients: ClientRepository  # the client processes allowed in (access control)

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: every write inside commits together or not at all.

        Nested blocks join the outer one. An exception inside rolls back.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release resources; the store is unusable afterwards."""


class ResourceOrderRepository(Repository[ResourceOrder, ResourceOrderFilter]):
    """Resource orders (TMF652), queryable by state, special handling and request."""

    entity_name = "ResourceOrder"


class IssuanceRecordRepository(Repository[IssuanceRecord, IssuanceRecordFilter]):
    """Issuance records, keyed by the initiating request's key.

    The id *is* the request key (``InitiatingRequest.key``), so one request
    has at most one record: a second ``add`` raises DuplicateKeyError (key ``id``).
    """

    entity_name = "IssuanceRecord"

    @abstractmethod
    def records_for_service(self, service_id: str) -> list[IssuanceRecord]:
        """The records with an item for service ``service_id``, oldest first."""


class FeasibilityAssessmentRepository(
    Repository[FeasibilityAssessment, FeasibilityAssessmentFilter]
):
    """Feasibility assessments made before issuing."""

    entity_name = "FeasibilityAssessment"

    @abstractmethod
    def find_for(self, request_key: str, item_id: str) -> FeasibilityAssessment | None:
        """The latest assessment for that request item, else the latest for the whole
        request (``item_id`` None), else None."""

    def expect_requests(self, request_keys: Iterable[str]) -> None:
        """A hint from a batch: :meth:`find_for` may be asked about these requests
        in the caller's unit of work. An adapter may then read all their
        assessments in one step at the first such call; the default ignores it."""


class ResourceSpecificationRepository(
    Repository[ResourceSpecification, ResourceSpecificationFilter]
):
    """Resource specifications (TMF634) that issued items are checked against."""

    entity_name = "ResourceSpecification"

    def expect_lookups(self) -> None:
        """A hint from the issuer: the caller's unit of work is about to look
        specifications up. An adapter may then read them with the unit's next
        read, in the same round trip; the default ignores it."""


class AuditRunRepository(Repository[AuditRun, AuditRunFilter]):
    """Stored data-quality audit runs (issue #6), oldest first."""

    entity_name = "AuditRun"


class ManualAuditRepository(Repository[ManualAudit, ManualAuditFilter]):
    """Recorded manual audits of inventory entities (issue #6), queryable by entity."""

    entity_name = "ManualAudit"


class ClientRepository(Repository[ClientRegistration, ClientFilter]):
    """Client processes registered to use the inventory (secrets only as salted hashes).

    Unique key ``bootstrap_administrator``: at most one registration has
    ``bootstrap=True`` (the first administrator, made by ``AccessControl.bootstrap``).
    """

    entity_name = "ClientRegistration"
    unique_keys = ("bootstrap_administrator",)


class UsageLog(ABC):
    """Append-only log of every access to the inventory (usage records).

    Records are never changed or removed; ``records`` streams them in the order
    they were appended. Write failures raise StorageError.
    """

    @abstractmethod
    def append(self, records: Sequence[UsageRecord]) -> None:
        """Append ``records`` (one write for the batch)."""

    def append_rows(self, rows: Sequence[UsageRow]) -> None:
        """Append records given as rows (``etomkit.model.usage.UsageRow``): what
        meters call; adapters that can keep rows as they are override it."""
        self.append([usage_record(row) for row in rows])

    @abstractmethod
    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[UsageRecord]:
        """Every record, in append order; with ``since``/``until``, only those with
        ``since <= at < until``."""

    @abstractmethod
    def __len__(self) -> int:
        """Records held."""

    def flush(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Make appended records durable (adapters that buffer or defer fsync)."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release resources; the log is unusable afterwards."""


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

    def add_issued(
        self, orders: Sequence[ResourceOrder], records: Sequence[IssuanceRecord]
    ) -> list[ResourceOrder]:
        """Add issued resource orders and their issuance records, all or none: if an
        id or unique key is taken, the DuplicateKeyError (or ConflictError) adding
        them in order would raise, and nothing of them stored (the caller's unit of
        work goes on). The caller vouches that they pass the storable checks (the
        issuer's own objects). Returns the stored orders. The default is a nested
        unit of work of two ``add_all``; an adapter may write them in one step."""
        with self.transaction():
            stored = self.resource_orders.add_all(orders, checked=True)
            self.issuance_records.add_all(records, checked=True)
        return stored

    def expect_last_write(self) -> None:  # noqa: B027 - optional hint, ignored by default
        """A hint from the issuer: the caller's unit of work writes nothing after
        its next write. An adapter may then commit the unit with that write, in
        its round trip (a write after it may be refused with StorageError); if
        that write is refused, nothing of it is stored and the unit goes on. The
        default ignores it."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release resources; the store is unusable afterwards."""


class Clock(Protocol):
    """Where services read the time (timezone-aware UTC)."""

    def now(self) -> datetime: ...


class IdFactory(Protocol):
    """Where services get new entity ids."""

    def new_id(self, entity: str) -> str: ...


class EventSink(Protocol):
    """Where services publish TMF notification events."""

    def publish(self, event: Event) -> None: ...


class ResourceDevelopmentSink(Protocol):
    """Resource Development & Management: receives the repository's technical
    shortcomings (eTOM 1.2.4.2 hands them on for planning)."""

    def submit(self, shortcoming: TechnicalShortcoming) -> None: ...


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
