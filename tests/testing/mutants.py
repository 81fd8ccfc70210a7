"""Deliberately broken variants of the in-memory adapter: the kit must catch each one.

Each mutant is a store factory (an ``InMemoryStore`` with one repository or the
unit of work swapped for a subtly wrong one) and the nested class of
``StoreContract`` expected to catch it. ``test_mutants.py`` runs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from etomkit.adapters.memory import (
    InMemoryClientRepository,
    InMemoryFeasibilityAssessmentRepository,
    InMemoryIssuanceRecordRepository,
    InMemoryOfferingRepository,
    InMemoryProductRepository,
    InMemoryResourceOrderRepository,
    InMemoryStore,
    _UnitOfWork,
)
from etomkit.model.queries import Page

Mutant = tuple[Callable[[], InMemoryStore], str]


def _with(attribute: str, cls: type) -> Callable[[], InMemoryStore]:
    def make() -> InMemoryStore:
        store = InMemoryStore()
        setattr(store, attribute, cls(store._unit))
        return store

    return make


# ---------------------------------------------------------------- revisions


class _SkipVersionCheck(InMemoryOfferingRepository):
    def replace(self, entity: Any, *, expected_revision: int | None = None) -> Any:
        return super().replace(entity, expected_revision=self.get(entity.id).revision)


class _StaleRevisionReturned(InMemoryOfferingRepository):
    def replace(self, entity: Any, *, expected_revision: int | None = None) -> Any:
        stored = super().replace(entity, expected_revision=expected_revision)
        return attrs.evolve(stored, revision=stored.revision - 1)


class _KeepsCallersRevision(InMemoryOfferingRepository):
    def add(self, entity: Any) -> Any:
        stored = super().add(entity)
        if entity.revision:
            self._data[entity.id] = attrs.evolve(stored, revision=entity.revision)
            return self._data[entity.id]
        return stored


class _RemoveIgnoresRevision(InMemoryOfferingRepository):
    def remove(self, entity_id: str, expected_revision: int | None = None) -> Any:
        return super().remove(entity_id)


# ---------------------------------------------------------------- ids, reads, lengths


class _DuplicateIdOverwrites(InMemoryOfferingRepository):
    def add(self, entity: Any) -> Any:
        if entity.id in self._data:
            return self.replace(entity, expected_revision=self.get(entity.id).revision)
        return super().add(entity)


class _AssignsMissingIds(InMemoryOfferingRepository):
    def add(self, entity: Any) -> Any:
        if not entity.id:
            entity = attrs.evolve(entity, id=f"auto-{len(self)}")
        return super().add(entity)


class _MissingIsPlainKeyError(InMemoryOfferingRepository):
    def get(self, entity_id: str) -> Any:
        if entity_id not in self._data:
            raise KeyError(entity_id)
        return super().get(entity_id)


class _LenCountsRemoved(InMemoryOfferingRepository):
    def __len__(self) -> int:
        return self._next_seq


class _LosesExtras(InMemoryOfferingRepository):
    def add(self, entity: Any) -> Any:
        return super().add(attrs.evolve(entity, extras={}))


# ---------------------------------------------------------------- paging


class _AcceptsNegativeOffset(InMemoryOfferingRepository):
    def query(self, where: Any = None, *, offset: int = 0, limit: int | None = None) -> Any:
        page = super().query(where, offset=max(offset, 0), limit=limit)
        return Page(page.items, page.total, offset, limit)


class _ReordersIteration(InMemoryOfferingRepository):
    def query(self, where: Any = None, *, offset: int = 0, limit: int | None = None) -> Any:
        page = super().query(where, offset=offset, limit=limit)
        return Page(tuple(sorted(page.items, key=lambda e: str(e.id))), page.total, offset, limit)

    def iterate(self, where: Any = None, *, page_size: int = 1000) -> Iterator[Any]:
        return iter(sorted(super().iterate(where, page_size=page_size), key=lambda e: str(e.id)))


class _WrongTotal(InMemoryOfferingRepository):
    def query(self, where: Any = None, *, offset: int = 0, limit: int | None = None) -> Any:
        page = super().query(where, offset=offset, limit=limit)
        return Page(page.items, len(page.items), offset, limit)


class _IgnoresLimitZero(InMemoryOfferingRepository):
    def query(self, where: Any = None, *, offset: int = 0, limit: int | None = None) -> Any:
        return super().query(where, offset=offset, limit=limit or None)


class _IgnoresStatusFilter(InMemoryOfferingRepository):
    def query(self, where: Any = None, *, offset: int = 0, limit: int | None = None) -> Any:
        if where is not None and where.lifecycle_status is not None:
            where = attrs.evolve(where, lifecycle_status=None)
        return super().query(where, offset=offset, limit=limit)


# ---------------------------------------------------------------- unique keys, lookups


class _RacyOrderItemKey(InMemoryProductRepository):
    """Looks, then adds: two threads both see the key free."""

    unique_terms = ()  # type: ignore[assignment]

    def add(self, entity: Any) -> Any:
        for ref in entity.product_order_item:
            holder = self.find_by_order_item(ref.order_id, ref.item_id)
            if holder is not None and holder.id != entity.id:
                from etomkit.errors import DuplicateKeyError

                raise DuplicateKeyError(
                    "Product", "product_order_item", ref.order_id, str(holder.id)
                )
        time.sleep(0.002)
        return super().add(entity)


class _NoBootstrapKey(InMemoryClientRepository):
    unique_terms = ()  # type: ignore[assignment]


class _StaleOrderItemLookup(InMemoryProductRepository):
    def find_by_order_item(self, order_id: str, item_id: str) -> Any:
        for product in self._data.values():
            found = product
            if any(
                (r.order_id, r.item_id) == (order_id, item_id) for r in found.product_order_item
            ):
                return found
        return None

    def replace(self, entity: Any, *, expected_revision: int | None = None) -> Any:
        old = self.get(entity.id)
        stored = super().replace(entity, expected_revision=expected_revision)
        self._data[entity.id] = attrs.evolve(stored, product_order_item=old.product_order_item)
        return stored


class _NewestRecordFirst(InMemoryIssuanceRecordRepository):
    def records_for_service(self, service_id: str) -> list[Any]:
        return super().records_for_service(service_id)[::-1]


class _FirstAssessmentWins(InMemoryFeasibilityAssessmentRepository):
    def find_for(self, request_key: str, item_id: str) -> Any:
        from etomkit.model.issuance import FeasibilityAssessmentFilter

        found = list(self.iterate(FeasibilityAssessmentFilter(request_key=request_key)))
        mine = [a for a in found if a.item_id == item_id] or [a for a in found if not a.item_id]
        return mine[0] if mine else None


class _SpecialFalseMatchesAll(InMemoryResourceOrderRepository):
    def query(self, where: Any = None, *, offset: int = 0, limit: int | None = None) -> Any:
        if where is not None and where.special_handling is False:
            where = attrs.evolve(where, special_handling=None)
        return super().query(where, offset=offset, limit=limit)


# ---------------------------------------------------------------- the unit of work


class _KeepsInnerWrites(_UnitOfWork):
    """A failed nested block keeps its writes when the outer block catches the failure."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.depth:
            yield  # no savepoint: the inner failure undoes nothing
            return
        with super().transaction():
            yield


def _keeps_inner_writes() -> InMemoryStore:
    store = InMemoryStore()
    unit = _KeepsInnerWrites()
    for name in ("offerings", "products", "clients", "audit_runs", "manual_audits"):
        getattr(store, name)._unit = unit
    for name in (
        "resource_orders",
        "issuance_records",
        "feasibility_assessments",
        "resource_specifications",
    ):
        getattr(store, name)._unit = unit
    store._unit = unit
    return store


def _products_outside_the_unit() -> InMemoryStore:
    store = InMemoryStore()
    store.products = InMemoryProductRepository()  # its own unit: never rolled back with the rest
    return store


MUTANTS: dict[str, Mutant] = {
    "skip the version check": (_with("offerings", _SkipVersionCheck), "TestOfferings"),
    "return stale revisions": (_with("offerings", _StaleRevisionReturned), "TestOfferings"),
    "keep the caller's revision on add": (
        _with("offerings", _KeepsCallersRevision),
        "TestOfferings",
    ),
    "remove ignores the revision": (_with("offerings", _RemoveIgnoresRevision), "TestOfferings"),
    "a taken id overwrites": (_with("offerings", _DuplicateIdOverwrites), "TestOfferings"),
    "assign missing ids": (_with("offerings", _AssignsMissingIds), "TestOfferings"),
    "missing is a plain KeyError": (_with("offerings", _MissingIsPlainKeyError), "TestOfferings"),
    "len counts removed entities": (_with("offerings", _LenCountsRemoved), "TestOfferings"),
    "lose extras": (_with("offerings", _LosesExtras), "TestOfferings"),
    "accept negative offsets": (_with("offerings", _AcceptsNegativeOffset), "TestOfferings"),
    "reorder iteration": (_with("offerings", _ReordersIteration), "TestOfferings"),
    "wrong page total": (_with("offerings", _WrongTotal), "TestOfferings"),
    "limit 0 means everything": (_with("offerings", _IgnoresLimitZero), "TestOfferings"),
    "ignore the status filter": (_with("offerings", _IgnoresStatusFilter), "TestOfferings"),
    "break uniqueness under a race": (_with("products", _RacyOrderItemKey), "TestUniqueKeys"),
    "no bootstrap administrator key": (_with("clients", _NoBootstrapKey), "TestUniqueKeys"),
    "stale order item lookup": (_with("products", _StaleOrderItemLookup), "TestProducts"),
    "newest issuance record first": (
        _with("issuance_records", _NewestRecordFirst),
        "TestIssuanceRecords",
    ),
    "first assessment wins": (
        _with("feasibility_assessments", _FirstAssessmentWins),
        "TestFeasibilityAssessments",
    ),
    "special_handling=False matches all": (
        _with("resource_orders", _SpecialFalseMatchesAll),
        "TestResourceOrders",
    ),
    "keep writes of a failed inner unit of work": (_keeps_inner_writes, "TestUnitOfWork"),
    "one repository outside the unit of work": (_products_outside_the_unit, "TestUnitOfWork"),
}
