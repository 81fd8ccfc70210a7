"""In-memory ordering repositories and store (the reference adapter), with rollback.

The repositories share a unit of work from :mod:`etomkit.adapters.memory`
(its ``lock``, ``depth``, ``undo`` log and ``transaction()``), so a host can
build them on the same unit as an ``InMemoryStore`` and span both with one
transaction. They keep entities as objects; they do not journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import ClassVar, Generic, TypeVar

from etomkit.adapters.memory import _UnitOfWork
from etomkit.errors import ConflictError, NotFoundError, ValidationError
from etomkit.model._copy import replace
from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    IssuanceRecord,
    IssuanceRecordFilter,
    ResourceSpecificationFilter,
)
from etomkit.model.queries import Page
from etomkit.model.resource_order import ResourceOrder, ResourceOrderFilter
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

E = TypeVar("E", ResourceOrder, IssuanceRecord, FeasibilityAssessment, ResourceSpecification)
F = TypeVar(
    "F",
    ResourceOrderFilter,
    IssuanceRecordFilter,
    FeasibilityAssessmentFilter,
    ResourceSpecificationFilter,
)


class _Dict(Generic[E, F]):
    """Entities in a dict keyed by id, in insertion order, with index hooks."""

    entity_name: ClassVar[str]

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        self._unit = unit or _UnitOfWork()
        self._data: dict[str, E] = {}
        self._seq: dict[str, int] = {}  # insertion order, survives rollback
        self._next_seq = 0

    # index hooks (called under the lock)
    def _indexed(self, entity: E) -> None:
        pass

    def _unindexed(self, entity: E) -> None:
        pass

    def _candidates(self, where: F) -> Iterable[E]:
        return self._data.values()

    def _undo(self, undo: Callable[[], None]) -> None:
        unit = self._unit
        if unit.depth:
            unit.undo.append(undo)

    # ------------------------------------------------------------------ reads

    def get(self, entity_id: str) -> E:
        try:
            return self._data[entity_id]
        except (KeyError, TypeError):
            raise NotFoundError(self.entity_name, entity_id) from None

    def find(self, entity_id: str) -> E | None:
        try:
            return self._data.get(entity_id)
        except TypeError:
            return None

    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[E]:
        if offset < 0 or (limit is not None and limit < 0):
            raise ValidationError("query", [("offset/limit", "must not be negative")])
        with self._unit.lock:
            hits = self._matching(where)
        end = None if limit is None else offset + limit
        return Page(tuple(hits[offset:end]), len(hits), offset, limit)

    def iterate(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[E]:
        with self._unit.lock:
            hits = self._matching(where)
        return iter(hits)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and entity_id in self._data

    def _matching(self, where: F | None) -> list[E]:
        if where is None:
            return list(self._data.values())
        return [e for e in self._candidates(where) if where.matches(e)]  # type: ignore[arg-type]

    def _in_order(self, ids: Iterable[str]) -> list[E]:
        seq, data = self._seq, self._data
        return [data[i] for i in sorted(ids, key=seq.__getitem__)]

    # ------------------------------------------------------------------ writes

    def add(self, entity: E) -> E:
        return self.add_all((entity,))[0]

    def add_all(self, entities: Sequence[E]) -> list[E]:
        """Every entity under one lock, checked first: all or none are stored."""
        data = self._data
        with self._unit.lock:
            ids: set[str] = set()
            for entity in entities:
                entity_id = entity.id
                if not isinstance(entity_id, str) or not entity_id:
                    raise ValidationError(self.entity_name, [("id", "must be set before storing")])
                if entity_id in data or entity_id in ids:
                    raise ConflictError(f"{self.entity_name} {entity_id!r} already exists")
                ids.add(entity_id)
            stored: list[E] = []
            seq, n, indexed = self._seq, self._next_seq, self._indexed
            for entity in entities:
                if entity.revision != 1:
                    entity = replace(entity, revision=1)
                key: str = entity.id  # type: ignore[assignment]
                data[key] = entity
                seq[key] = n
                n += 1
                indexed(entity)
                stored.append(entity)
            self._next_seq = n
            self._undo(lambda: self._drop_all(stored))
        return stored

    def replace(self, entity: E, *, expected_revision: int | None = None) -> E:
        entity_id = entity.id
        expected = entity.revision if expected_revision is None else expected_revision
        with self._unit.lock:
            old = self._data.get(entity_id) if isinstance(entity_id, str) else None
            if old is None:
                raise NotFoundError(self.entity_name, str(entity_id))
            if old.revision != expected:
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is at revision {old.revision}, "
                    f"the change was based on revision {expected}"
                )
            revision = expected + 1
            stored = entity if entity.revision == revision else replace(entity, revision=revision)
            self._put(old, stored)
            self._undo(lambda: self._put(stored, old))
        return stored

    def remove(self, entity_id: str, expected_revision: int | None = None) -> E:
        with self._unit.lock:
            old = self.get(entity_id)
            if expected_revision is not None and old.revision != expected_revision:
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is at revision {old.revision}, "
                    f"not {expected_revision}"
                )
            seq = self._seq[entity_id]
            self._drop(entity_id)
            self._undo(lambda: self._restore(old, seq))
        return old

    def _put(self, old: E, new: E) -> None:
        self._unindexed(old)
        self._data[new.id] = new  # type: ignore[index]
        self._indexed(new)

    def _drop(self, entity_id: str) -> None:
        del self._seq[entity_id]
        self._unindexed(self._data.pop(entity_id))

    def _drop_all(self, entities: list[E]) -> None:
        for entity in reversed(entities):
            self._drop(entity.id)  # type: ignore[arg-type]

    def _restore(self, entity: E, seq: int) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        self._data[entity_id] = entity
        self._seq[entity_id] = seq
        self._indexed(entity)
        if seq < self._next_seq - 1:  # put it back where it was
            self._data = dict(sorted(self._data.items(), key=lambda kv: self._seq[kv[0]]))


class InMemoryResourceOrderRepository(
    _Dict[ResourceOrder, ResourceOrderFilter], ResourceOrderRepository
):
    """Resource orders in a dict, indexed by special handling and request key."""

    entity_name = "ResourceOrder"

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        super().__init__(unit)
        self._special: dict[str, None] = {}
        self._by_request: dict[str, dict[str, None]] = {}
        # The orders of one request share their external_reference tuple.
        self._last_refs: object = None
        self._last_ids: dict[str, None] | None = None

    def _indexed(self, entity: ResourceOrder) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        if entity.special_handling:
            self._special[entity_id] = None
        refs = entity.external_reference
        if refs is self._last_refs and self._last_ids is not None:
            self._last_ids[entity_id] = None
            return
        key = entity.request_key
        if key is not None:
            ids = self._by_request.get(key)
            if ids is None:
                ids = self._by_request[key] = {}
            ids[entity_id] = None
            self._last_refs, self._last_ids = refs, ids

    def _unindexed(self, entity: ResourceOrder) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        self._special.pop(entity_id, None)
        key = entity.request_key
        if key is not None:
            self._by_request.get(key, {}).pop(entity_id, None)
            self._last_refs = self._last_ids = None

    def _candidates(self, where: ResourceOrderFilter) -> Iterable[ResourceOrder]:
        if where.request_key is not None:
            return self._in_order(self._by_request.get(where.request_key, {}))
        if where.special_handling:
            return self._in_order(self._special)
        return self._data.values()


class InMemoryIssuanceRecordRepository(
    _Dict[IssuanceRecord, IssuanceRecordFilter], IssuanceRecordRepository
):
    """Issuance records in a dict, indexed by the services their items name."""

    entity_name = "IssuanceRecord"

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        super().__init__(unit)
        self._by_service: dict[str, dict[str, None]] = {}

    def _indexed(self, entity: IssuanceRecord) -> None:
        for item in entity.items:
            if item.service_id is not None:
                self._by_service.setdefault(item.service_id, {})[entity.id] = None

    def _unindexed(self, entity: IssuanceRecord) -> None:
        for item in entity.items:
            if item.service_id is not None:
                self._by_service.get(item.service_id, {}).pop(entity.id, None)

    def _candidates(self, where: IssuanceRecordFilter) -> Iterable[IssuanceRecord]:
        if where.service_id is not None:
            return self._in_order(self._by_service.get(where.service_id, {}))
        return self._data.values()

    def records_for_service(self, service_id: str) -> list[IssuanceRecord]:
        with self._unit.lock:
            return self._in_order(self._by_service.get(service_id, {}))


class InMemoryFeasibilityAssessmentRepository(
    _Dict[FeasibilityAssessment, FeasibilityAssessmentFilter], FeasibilityAssessmentRepository
):
    """Feasibility assessments in a dict, indexed by (request key, item id)."""

    entity_name = "FeasibilityAssessment"

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        super().__init__(unit)
        self._by_item: dict[tuple[str, str | None], dict[str, None]] = {}

    def _indexed(self, entity: FeasibilityAssessment) -> None:
        key = (entity.request_key, entity.item_id)
        self._by_item.setdefault(key, {})[entity.id or ""] = None

    def _unindexed(self, entity: FeasibilityAssessment) -> None:
        self._by_item.get((entity.request_key, entity.item_id), {}).pop(entity.id or "", None)

    def find_for(self, request_key: str, item_id: str) -> FeasibilityAssessment | None:
        with self._unit.lock:
            for key in ((request_key, item_id), (request_key, None)):
                ids = self._by_item.get(key)
                if ids:
                    return self._in_order(ids)[-1]
        return None


class InMemoryResourceSpecificationRepository(
    _Dict[ResourceSpecification, ResourceSpecificationFilter], ResourceSpecificationRepository
):
    """Resource specifications in a dict."""

    entity_name = "ResourceSpecification"


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
