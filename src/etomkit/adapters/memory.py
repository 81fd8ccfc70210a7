"""In-memory repositories: the reference adapter, thread-safe, with rollback.

The durable FileStore builds on these classes: it gives the unit of work a
journal to commit to, and its repositories (adapters/file/lazy.py) also hold
records that are decoded on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from etomkit.adapters.dict_repository import F as F  # re-exported: file/ and tests use them
from etomkit.adapters.dict_repository import T as T
from etomkit.adapters.dict_repository import _DictRepository as _DictRepository
from etomkit.adapters.dict_repository import _Entities as _Entities
from etomkit.adapters.dict_repository import _Entity as _Entity
from etomkit.adapters.dict_repository import _Filter as _Filter
from etomkit.adapters.memory_sharing import ProductParts
from etomkit.adapters.unit import Journal as Journal  # re-exported: durable stores use them
from etomkit.adapters.unit import Write as Write
from etomkit.adapters.unit import _UnitOfWork as _UnitOfWork
from etomkit.model.audit import (
    AuditRun,
    AuditRunFilter,
    ManualAudit,
    ManualAuditFilter,
    audit_run_terms,
    manual_audit_terms,
)
from etomkit.model.client import BOOTSTRAP_TERM, ClientFilter, ClientRegistration, client_terms
from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    IssuanceRecord,
    IssuanceRecordFilter,
    ResourceSpecificationFilter,
    feasibility_assessment_terms,
    issuance_record_terms,
    latest_assessment,
    resource_specification_terms,
)
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.queries import (
    ORDER_ITEM_PREFIX,
    TERM_SEP,
    OfferingFilter,
    ProductFilter,
    offering_terms,
    order_item_term,
    product_terms,
)
from etomkit.model.resource_order import ResourceOrder, ResourceOrderFilter, resource_order_terms
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.model.values import RelatedParty
from etomkit.ports import (
    AuditRunRepository,
    ClientRepository,
    FeasibilityAssessmentRepository,
    IssuanceRecordRepository,
    ManualAuditRepository,
    OfferingRepository,
    OrderingStore,
    ProductRepository,
    PurchaseWriter,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
    Store,
)

__all__ = [
    "InMemoryAuditRunRepository",
    "InMemoryClientRepository",
    "InMemoryFeasibilityAssessmentRepository",
    "InMemoryIssuanceRecordRepository",
    "InMemoryManualAuditRepository",
    "InMemoryOfferingRepository",
    "InMemoryOrderingStore",
    "InMemoryProductRepository",
    "InMemoryResourceOrderRepository",
    "InMemoryResourceSpecificationRepository",
    "InMemoryStore",
]


class InMemoryOfferingRepository(
    _DictRepository[ProductOffering, OfferingFilter], OfferingRepository
):
    """Offerings in a dict, indexed by status, category and name."""

    entity_name = "ProductOffering"
    entity_class = ProductOffering
    namespace = "productOffering"

    def _terms_of_entity(self, entity: ProductOffering) -> tuple[str, ...]:
        return offering_terms(entity)


class InMemoryProductRepository(_DictRepository[Product, ProductFilter], ProductRepository):
    """Products in a dict, indexed by status, customer, offering and order item."""

    entity_name = "Product"
    entity_class = Product
    namespace = "product"
    unique_terms = ((ORDER_ITEM_PREFIX, "product_order_item"),)

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        super().__init__(unit)
        self._parts = ProductParts(self._data.__len__)

    def _terms_of_entity(self, entity: Product) -> tuple[str, ...]:
        return product_terms(entity)

    def _stored_new(self, entity: Product) -> Product:
        # equal offering refs, parties and plain characteristics: one copy in the store
        return self._parts.stored(entity, len(self._data))

    def party_sharer(self) -> Callable[[RelatedParty], tuple[RelatedParty, ...]]:
        """``share(party)``: the ``related_party`` tuple to build a product with, the one
        stored products of an equal customer hold if there is one (the inventory's
        purchases use it, so that storing the product copies nothing)."""
        return self._parts.parties_of

    def purchase_writer(self) -> PurchaseWriter | None:
        """``(held, parties, add)`` for the inventory's purchases: ``held(item_term)``
        is True if a stored product holds that order item's index term;
        ``parties(customer_id, kind)`` the ``related_party`` to build the product
        of a customer of only an id and a kind with (shared, as
        :meth:`party_sharer`'s); ``add(product, terms, item_term)`` is
        ``add_all((product,), checked=True)[0]`` for a purchase's product
        (revision 1, its parties from one of those two, its offering reference one
        object per offering) whose index terms the caller spelled as
        ``product_terms`` does, ``item_term`` among them. None when a subclass
        writes its own way."""
        if type(self).add is not _DictRepository.add:
            return None
        return self._by_term.__contains__, self._parts.customer_parties, self._insert

    def customer_reader(self) -> Callable[[str], list[Product]]:
        """``read(customer_id)``: the customer's products in insertion order, as
        ``list(iterate(ProductFilter(customer_id=...)))`` gives them."""
        return self.term_reader("customer=")

    def find_by_order_item(self, order_id: str, item_id: str) -> Product | None:
        if type(order_id) is str and type(item_id) is str:
            both = order_id + item_id
            # the term as order_item_term spells it when nothing needs escaping
            if "\\" not in both and "\x1e" not in both and TERM_SEP not in both:
                held = self._by_term.get(f"{ORDER_ITEM_PREFIX}{order_id}{TERM_SEP}{item_id}")
                if held is None:  # the usual case: a new order item
                    return None
        ids = self._ids_with(order_item_term(order_id, item_id))
        return None if not ids else self.find(next(iter(ids)))


class InMemoryResourceOrderRepository(
    _DictRepository[ResourceOrder, ResourceOrderFilter], ResourceOrderRepository
):
    """Resource orders, indexed by state, special handling, request and superseded order."""

    entity_name = "ResourceOrder"
    entity_class = ResourceOrder
    namespace = "resourceOrder"

    def _terms_of_entity(self, entity: ResourceOrder) -> tuple[str, ...]:
        return resource_order_terms(entity)

    def _terms_many(self, entities: Sequence[ResourceOrder]) -> list[tuple[str, ...]]:
        # The orders of one request share their request reference (one object) and
        # mostly their state: compute their terms once (the fields the terms read).
        memo: dict[tuple[Any, ...], tuple[str, ...]] = {}
        out: list[tuple[str, ...]] = []
        for order in entities:
            ext, sup = order.external_reference, order.supersedes
            shape = (order.state, order.special_handling, id(ext), id(sup))
            terms = memo.get(shape)
            if terms is None:
                terms = memo[shape] = resource_order_terms(order)
            out.append(terms)
        return out


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
    _of_request: Callable[[str], list[FeasibilityAssessment]] | None = None  # on first use

    def _terms_of_entity(self, entity: FeasibilityAssessment) -> tuple[str, ...]:
        return feasibility_assessment_terms(entity)

    def find_for(self, request_key: str, item_id: str) -> FeasibilityAssessment | None:
        if type(request_key) is str and type(item_id) is str:  # the request's, read once
            reader = self._of_request
            if reader is None:
                reader = self._of_request = self.term_reader("request=")
            return latest_assessment(reader(request_key), item_id)
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


class InMemoryAuditRunRepository(_DictRepository[AuditRun, AuditRunFilter], AuditRunRepository):
    """Audit runs (issue #6), indexed by scope."""

    entity_name = "AuditRun"
    entity_class = AuditRun
    namespace = "auditRun"

    def _terms_of_entity(self, entity: AuditRun) -> tuple[str, ...]:
        return audit_run_terms(entity)


class InMemoryManualAuditRepository(
    _DictRepository[ManualAudit, ManualAuditFilter], ManualAuditRepository
):
    """Manual audits (issue #6), indexed by entity, auditor and outcome."""

    entity_name = "ManualAudit"
    entity_class = ManualAudit
    namespace = "manualAudit"

    def _terms_of_entity(self, entity: ManualAudit) -> tuple[str, ...]:
        return manual_audit_terms(entity)


class InMemoryClientRepository(_DictRepository[ClientRegistration, ClientFilter], ClientRepository):
    """Client registrations, indexed by status and name."""

    entity_name = "ClientRegistration"
    entity_class = ClientRegistration
    namespace = "client"
    unique_terms = ((BOOTSTRAP_TERM, "bootstrap_administrator"),)

    def _terms_of_entity(self, entity: ClientRegistration) -> tuple[str, ...]:
        return client_terms(entity)


class InMemoryOrderingStore(OrderingStore):
    """The four ordering repositories in memory; ``transaction()`` rolls back on error.

    Pass ``unit`` to share one unit of work with other in-memory repositories
    (e.g. an ``InMemoryStore``'s), so one transaction spans them all.
    ``freeze_gc`` (for a store's own unit): see :class:`InMemoryStore`.
    """

    def __init__(self, unit: _UnitOfWork | None = None, *, freeze_gc: bool = True) -> None:
        self._unit = unit or _UnitOfWork(freeze_gc=freeze_gc)
        self.resource_orders = InMemoryResourceOrderRepository(self._unit)
        self.issuance_records = InMemoryIssuanceRecordRepository(self._unit)
        self.feasibility_assessments = InMemoryFeasibilityAssessmentRepository(self._unit)
        self.resource_specifications = InMemoryResourceSpecificationRepository(self._unit)

    def transaction(self) -> AbstractContextManager[None]:
        return self._unit.transaction()


class InMemoryStore(Store, OrderingStore):
    """Every repository in memory: the inventory's (a ``Store``) and the issuer's
    (an ``OrderingStore``); ``transaction()`` spans them all and rolls back on error.

    ``freeze_gc`` (default True): after committed writes of every 2,000 or so
    entities, call :func:`gc.freeze`, so that the cyclic garbage collector
    stops walking the stored entities on every full collection (they are
    acyclic; reference counting still frees them). A host relying on the
    collector to free reference cycles of its own promptly, or managing
    ``gc.freeze`` itself, passes False (see :mod:`etomkit.adapters.unit`).
    """

    def __init__(self, *, freeze_gc: bool = True) -> None:
        self._unit = _UnitOfWork(freeze_gc=freeze_gc)
        self.offerings = InMemoryOfferingRepository(self._unit)
        self.products = InMemoryProductRepository(self._unit)
        self.audit_runs = InMemoryAuditRunRepository(self._unit)
        self.manual_audits = InMemoryManualAuditRepository(self._unit)
        self.resource_orders = InMemoryResourceOrderRepository(self._unit)
        self.issuance_records = InMemoryIssuanceRecordRepository(self._unit)
        self.feasibility_assessments = InMemoryFeasibilityAssessmentRepository(self._unit)
        self.resource_specifications = InMemoryResourceSpecificationRepository(self._unit)
        self.clients = InMemoryClientRepository(self._unit)

    def transaction(self) -> AbstractContextManager[None]:
        return self._unit.transaction()
