"""In-memory repositories: the reference adapter, thread-safe, with rollback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import ClassVar, Generic, TypeVar

from etomkit.errors import ConflictError, NotFoundError, ValidationError
from etomkit.model._copy import replace
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.ports import OfferingRepository, ProductRepository, Store

__all__ = ["InMemoryOfferingRepository", "InMemoryProductRepository", "InMemoryStore"]

T = TypeVar("T", ProductOffering, Product)
F = TypeVar("F", OfferingFilter, ProductFilter)


class _UnitOfWork:
    """A re-entrant lock plus an undo log, shared by the repositories of one store."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.undo: list[Callable[[], None]] = []

    def record(self, undo: Callable[[], None]) -> None:
        if self.depth:
            self.undo.append(undo)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self.depth += 1
            mark = len(self.undo)
            try:
                yield
            except BaseException:
                while len(self.undo) > mark:
                    self.undo.pop()()
                raise
            finally:
                self.depth -= 1
                if not self.depth:
                    self.undo.clear()


class _DictRepository(Generic[T, F]):
    """Shared mechanics: a dict of entities keyed by id, plus index hooks."""

    entity_name: ClassVar[str]
    _has_indexes: ClassVar[bool] = False

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        self._unit = unit or _UnitOfWork()
        self._data: dict[str, T] = {}
        self._seq: dict[str, int] = {}  # insertion order, survives rollback
        self._next_seq = 0

    # hooks for secondary indexes
    def _indexed(self, entity: T) -> None:
        pass

    def _unindexed(self, entity: T) -> None:
        pass

    def _candidates(self, where: F | None) -> Iterable[T]:
        return self._data.values()

    def get(self, entity_id: str) -> T:
        try:
            return self._data[entity_id]
        except (KeyError, TypeError):
            raise NotFoundError(self.entity_name, entity_id) from None

    def find(self, entity_id: str) -> T | None:
        try:
            return self._data.get(entity_id)
        except TypeError:
            return None

    def add(self, entity: T) -> T:
        entity_id = entity.id
        if not isinstance(entity_id, str) or not entity_id:
            raise ValidationError(self.entity_name, [("id", "must be set before storing")])
        stored = entity if entity.revision == 1 else replace(entity, revision=1)
        unit = self._unit
        with unit.lock:
            if entity_id in self._data:
                raise ConflictError(f"{self.entity_name} {entity_id!r} already exists")
            self._data[entity_id] = stored
            self._seq[entity_id] = self._next_seq
            self._next_seq += 1
            if self._has_indexes:
                self._indexed(stored)
            if unit.depth:
                unit.undo.append(lambda: self._drop(entity_id))
        return stored

    def replace(self, entity: T, *, expected_revision: int | None = None) -> T:
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
            self._unit.record(lambda: self._put(stored, old))
        return stored

    def remove(self, entity_id: str, expected_revision: int | None = None) -> T:
        with self._unit.lock:
            old = self.get(entity_id)
            if expected_revision is not None and old.revision != expected_revision:
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is at revision {old.revision}, "
                    f"not {expected_revision}"
                )
            seq = self._seq[entity_id]
            self._drop(entity_id)
            self._unit.record(lambda: self._restore(old, seq))
        return old

    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[T]:
        if offset < 0 or (limit is not None and limit < 0):
            raise ValidationError("query", [("offset/limit", "must not be negative")])
        with self._unit.lock:
            hits = self._matching(where)
        end = None if limit is None else offset + limit
        return Page(tuple(hits[offset:end]), len(hits), offset, limit)

    def iterate(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[T]:
        with self._unit.lock:
            hits = self._matching(where)
        return iter(hits)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and entity_id in self._data

    def _matching(self, where: F | None) -> list[T]:
        if where is None:
            return list(self._data.values())
        return [e for e in self._candidates(where) if where.matches(e)]  # type: ignore[arg-type]

    def _put(self, old: T, new: T) -> None:
        self._unindexed(old)
        self._data[new.id] = new  # type: ignore[index]
        self._indexed(new)

    def _drop(self, entity_id: str) -> None:
        del self._seq[entity_id]
        self._unindexed(self._data.pop(entity_id))

    def _restore(self, entity: T, seq: int) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        self._data[entity_id] = entity
        self._seq[entity_id] = seq
        self._indexed(entity)
        if seq < self._next_seq - 1:  # put it back where it was
            self._data = dict(sorted(self._data.items(), key=lambda kv: self._seq[kv[0]]))

    def _in_order(self, ids: Iterable[str]) -> list[T]:
        seq, data = self._seq, self._data
        return [data[i] for i in sorted(ids, key=seq.__getitem__)]


class InMemoryOfferingRepository(
    _DictRepository[ProductOffering, OfferingFilter], OfferingRepository
):
    """Offerings in a dict."""

    entity_name = "ProductOffering"


class InMemoryProductRepository(_DictRepository[Product, ProductFilter], ProductRepository):
    """Products in a dict, indexed by customer, offering and order item."""

    entity_name = "Product"
    _has_indexes = True

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        super().__init__(unit)
        self._by_customer: dict[str, dict[str, None]] = {}
        self._by_offering: dict[str, dict[str, None]] = {}
        self._by_order_item: dict[tuple[str, str], str] = {}

    def _indexed(self, entity: Product) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        customer = entity.customer_id
        if customer is not None:
            self._by_customer.setdefault(customer, {})[entity_id] = None
        self._by_offering.setdefault(entity.product_offering.id, {})[entity_id] = None
        for item in entity.product_order_item:
            self._by_order_item[item.key] = entity_id

    def _unindexed(self, entity: Product) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        customer = entity.customer_id
        if customer is not None:
            self._by_customer.get(customer, {}).pop(entity_id, None)
        self._by_offering.get(entity.product_offering.id, {}).pop(entity_id, None)
        for item in entity.product_order_item:
            if self._by_order_item.get(item.key) == entity_id:
                del self._by_order_item[item.key]

    def _candidates(self, where: ProductFilter | None) -> Iterable[Product]:
        if where is not None and where.customer_id is not None:
            ids: Iterable[str] = self._by_customer.get(where.customer_id, {})
        elif where is not None and where.offering_id is not None:
            ids = self._by_offering.get(where.offering_id, {})
        else:
            return self._data.values()
        return self._in_order(ids)

    def find_by_order_item(self, order_id: str, item_id: str) -> Product | None:
        entity_id = self._by_order_item.get((order_id, item_id))
        return None if entity_id is None else self._data.get(entity_id)


class InMemoryStore(Store):
    """Offerings and products in memory; ``transaction()`` rolls back on error."""

    def __init__(self) -> None:
        self._unit = _UnitOfWork()
        self.offerings = InMemoryOfferingRepository(self._unit)
        self.products = InMemoryProductRepository(self._unit)

    def transaction(self) -> contextmanager[None]:  # type: ignore[valid-type]
        return self._unit.transaction()
