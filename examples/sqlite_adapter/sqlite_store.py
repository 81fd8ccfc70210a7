"""A Store on the standard library's sqlite3: the worked example of docs/howto-write-an-adapter.md.

Every repository the services use, in one table of TMF JSON documents, with
one unit of work (nested blocks are SAVEPOINTs) and the ports' unique keys
as a ``UNIQUE`` table. It passes the whole kit (``test_sqlite_store.py``)::

    from sqlite_store import SQLiteStore
    from etomkit import ProductOfferingInventory

    inventory = ProductOfferingInventory(SQLiteStore("inventory.db"))

Queries decode and filter in Python (``where.matches``): simple, not fast.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from etomkit import (
    AuditRun,
    ClientRegistration,
    ConflictError,
    DuplicateKeyError,
    FeasibilityAssessment,
    IssuanceRecord,
    ManualAudit,
    NotFoundError,
    Page,
    Product,
    ProductOffering,
    ResourceOrder,
    ResourceSpecification,
    ValidationError,
    tmf,
)
from etomkit.model.canonical import check_storable
from etomkit.ordering import FeasibilityAssessmentFilter, IssuanceRecordFilter
from etomkit.ports import (
    AuditRunRepository,
    ClientRepository,
    FeasibilityAssessmentRepository,
    IssuanceRecordRepository,
    ManualAuditRepository,
    OfferingRepository,
    OrderingStore,
    ProductRepository,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
    Store,
)

__all__ = ["SQLiteStore"]

T = TypeVar("T")
F = TypeVar("F")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entity (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS unique_key (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (kind, key, value)
);
"""


class _Unit:
    """One connection, a re-entrant lock held for a whole unit of work, savepoints."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.executescript(_SCHEMA)
        self.lock = threading.RLock()
        self.depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            savepoint = f"sp{self.depth}"
            self.db.execute("BEGIN IMMEDIATE" if self.depth == 0 else f"SAVEPOINT {savepoint}")
            self.depth += 1
            try:
                yield
            except BaseException:
                self.depth -= 1
                if self.depth == 0:
                    self.db.execute("ROLLBACK")
                else:  # drop exactly the nested block's writes
                    self.db.execute(f"ROLLBACK TO {savepoint}")
                    self.db.execute(f"RELEASE {savepoint}")
                raise
            self.depth -= 1
            self.db.execute("COMMIT" if self.depth == 0 else f"RELEASE {savepoint}")


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


class _Repository(Generic[T, F]):
    """add/get/find/replace/remove/query for one entity class, stored as TMF JSON."""

    entity_name: ClassVar[str]
    entity_class: ClassVar[type]

    def __init__(self, unit: _Unit) -> None:
        self._unit = unit
        self._kind = self.entity_name

    def unique_values(self, entity: Any) -> list[tuple[str, str]]:
        """``(key, value)`` of each unique key ``entity`` holds (beside its id)."""
        return []

    def _decode(self, doc: str, revision: int) -> T:
        entity: Any = tmf.from_json(self.entity_class, json.loads(doc))
        return attrs.evolve(entity, revision=revision)  # type: ignore[no-any-return]

    def _write(self, entity: Any, revision: int, *, new: bool) -> T:
        stored = attrs.evolve(entity, revision=revision)
        doc = json.dumps(tmf.to_json(stored), ensure_ascii=False)
        db, entity_id = self._unit.db, entity.id
        with self._unit.transaction():  # the checks and the write are one step
            if new:
                try:
                    db.execute(
                        "INSERT INTO entity (kind, id, revision, doc) VALUES (?, ?, ?, ?)",
                        (self._kind, entity_id, revision, doc),
                    )
                except sqlite3.IntegrityError:
                    raise DuplicateKeyError(self.entity_name, "id", entity_id, entity_id) from None
            else:
                db.execute(
                    "UPDATE entity SET revision = ?, doc = ? WHERE kind = ? AND id = ?",
                    (revision, doc, self._kind, entity_id),
                )
            db.execute("DELETE FROM unique_key WHERE kind = ? AND id = ?", (self._kind, entity_id))
            for key, value in dict.fromkeys(self.unique_values(stored)):  # once each
                try:
                    db.execute(
                        "INSERT INTO unique_key VALUES (?, ?, ?, ?)",
                        (self._kind, key, value, entity_id),
                    )
                except sqlite3.IntegrityError:
                    holder = self._holder(key, value)
                    raise DuplicateKeyError(self.entity_name, key, value, holder) from None
        return stored  # type: ignore[no-any-return]

    def _holder(self, key: str, value: str) -> str:
        row = self._unit.db.execute(
            "SELECT id FROM unique_key WHERE kind = ? AND key = ? AND value = ?",
            (self._kind, key, value),
        ).fetchone()
        return str(row[0]) if row else ""

    def get(self, entity_id: str) -> T:
        found = self.find(entity_id)
        if found is None:
            raise NotFoundError(self.entity_name, str(entity_id))
        return found

    def find(self, entity_id: str) -> T | None:
        with self._unit.lock:
            row = self._unit.db.execute(
                "SELECT doc, revision FROM entity WHERE kind = ? AND id = ?",
                (self._kind, entity_id if isinstance(entity_id, str) else None),
            ).fetchone()
        return None if row is None else self._decode(row[0], row[1])

    def add(self, entity: T) -> T:
        check_storable(entity, self.entity_name)  # accept exactly what every store accepts
        entity_id = getattr(entity, "id", None)
        if not isinstance(entity_id, str) or not entity_id:
            raise ValidationError(self.entity_name, [("id", "must be set before storing")])
        return self._write(entity, 1, new=True)

    def replace(self, entity: T, *, expected_revision: int | None = None) -> T:
        check_storable(entity, self.entity_name)
        entity_id = getattr(entity, "id", None)
        expected = (
            getattr(entity, "revision", 0) if expected_revision is None else expected_revision
        )
        with self._unit.transaction():
            current = self.find(entity_id)  # type: ignore[arg-type]
            if current is None:
                raise NotFoundError(self.entity_name, str(entity_id))
            if getattr(current, "revision", None) != expected:
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} changed since revision {expected}"
                )
            return self._write(entity, expected + 1, new=False)

    def remove(self, entity_id: str, expected_revision: int | None = None) -> T:
        with self._unit.transaction():
            current = self.get(entity_id)
            if (
                expected_revision is not None
                and getattr(current, "revision", None) != expected_revision
            ):
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is not at {expected_revision}"
                )
            db = self._unit.db
            db.execute("DELETE FROM entity WHERE kind = ? AND id = ?", (self._kind, entity_id))
            db.execute("DELETE FROM unique_key WHERE kind = ? AND id = ?", (self._kind, entity_id))
        return current

    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[T]:
        if not _is_count(offset) or (limit is not None and not _is_count(limit)):
            raise ValidationError("query", [("offset/limit", "must be non-negative integers")])
        with self._unit.lock:
            rows = self._unit.db.execute(
                "SELECT doc, revision FROM entity WHERE kind = ? ORDER BY seq", (self._kind,)
            ).fetchall()
        matching = [self._decode(doc, revision) for doc, revision in rows]
        if where is not None:
            matching = [e for e in matching if where.matches(e)]  # type: ignore[attr-defined]
        end = None if limit is None else offset + limit
        return Page(tuple(matching[offset:end]), len(matching), offset, limit)

    def iterate(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[T]:
        if type(page_size) is not int or page_size < 1:
            raise ValidationError("iterate", [("page_size", "must be a positive integer")])
        return super().iterate(where, page_size=page_size)  # type: ignore[misc, no-any-return]

    def __len__(self) -> int:
        with self._unit.lock:
            row = self._unit.db.execute(
                "SELECT COUNT(*) FROM entity WHERE kind = ?", (self._kind,)
            ).fetchone()
        return int(row[0])


class _Offerings(_Repository[ProductOffering, Any], OfferingRepository):
    entity_class = ProductOffering


class _Products(_Repository[Product, Any], ProductRepository):
    entity_class = Product

    def unique_values(self, entity: Any) -> list[tuple[str, str]]:
        return [
            ("product_order_item", f"{ref.order_id}/{ref.item_id}")
            for ref in entity.product_order_item
        ]

    def find_by_order_item(self, order_id: str, item_id: str) -> Product | None:
        holder = self._holder("product_order_item", f"{order_id}/{item_id}")
        return self.find(holder) if holder else None


class _Clients(_Repository[ClientRegistration, Any], ClientRepository):
    entity_class = ClientRegistration

    def unique_values(self, entity: Any) -> list[tuple[str, str]]:
        return [("bootstrap_administrator", "yes")] if entity.bootstrap else []


class _ResourceOrders(_Repository[ResourceOrder, Any], ResourceOrderRepository):
    entity_class = ResourceOrder


class _IssuanceRecords(_Repository[IssuanceRecord, Any], IssuanceRecordRepository):
    entity_class = IssuanceRecord

    def records_for_service(self, service_id: str) -> list[IssuanceRecord]:
        return list(self.iterate(IssuanceRecordFilter(service_id=service_id)))


class _Assessments(_Repository[FeasibilityAssessment, Any], FeasibilityAssessmentRepository):
    entity_class = FeasibilityAssessment

    def find_for(self, request_key: str, item_id: str) -> FeasibilityAssessment | None:
        mine = list(self.iterate(FeasibilityAssessmentFilter(request_key=request_key)))
        for_item = [a for a in mine if a.item_id == item_id]
        whole = [a for a in mine if a.item_id is None]
        found = for_item or whole
        return found[-1] if found else None


class _Specifications(_Repository[ResourceSpecification, Any], ResourceSpecificationRepository):
    entity_class = ResourceSpecification


class _AuditRuns(_Repository[AuditRun, Any], AuditRunRepository):
    entity_class = AuditRun


class _ManualAudits(_Repository[ManualAudit, Any], ManualAuditRepository):
    entity_class = ManualAudit


class SQLiteStore(Store, OrderingStore):
    """Every repository of etomkit in one SQLite database (``":memory:"`` or a file)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._unit = _Unit(path)
        self.offerings = _Offerings(self._unit)
        self.products = _Products(self._unit)
        self.clients = _Clients(self._unit)
        self.resource_orders = _ResourceOrders(self._unit)
        self.issuance_records = _IssuanceRecords(self._unit)
        self.feasibility_assessments = _Assessments(self._unit)
        self.resource_specifications = _Specifications(self._unit)
        self.audit_runs = _AuditRuns(self._unit)
        self.manual_audits = _ManualAudits(self._unit)

    def transaction(self) -> Any:
        return self._unit.transaction()

    def close(self) -> None:
        with self._unit.lock:
            self._unit.db.close()


_: Callable[[], Store] = SQLiteStore  # a store factory, as the contracts want
