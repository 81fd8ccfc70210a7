"""The PostgresStore's repositories: one class per port over the ``entity`` and
``term`` tables (see schema.py).

Each repository takes its namespace, entity class, index terms and unique keys
from the in-memory reference adapter, so the three adapters index alike and
store the same TMF JSON as the FileStore.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import psycopg
from psycopg import sql

from etomkit import tmf
from etomkit.adapters import memory
from etomkit.adapters.file.store import _encode as _file_encode
from etomkit.adapters.postgres.batch import COPY_FROM, Prepared, Statements, insert, replace_terms
from etomkit.adapters.postgres.batch import text as _text
from etomkit.adapters.postgres.batch import untext as _untext
from etomkit.adapters.postgres.packing import TEXTS, texts
from etomkit.adapters.postgres.schema import TALLIED
from etomkit.adapters.postgres.tally import Tally
from etomkit.adapters.postgres.tally import query as _query
from etomkit.adapters.postgres.tally import query_statement as _query_statement
from etomkit.errors import (
    ConflictError,
    DuplicateKeyError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from etomkit.model._copy import replace
from etomkit.model.canonical import storable_problems, storable_test
from etomkit.model.issuance import FeasibilityAssessmentFilter, latest_assessment
from etomkit.model.queries import TERM_SEP, Page, order_item_term
from etomkit.ports import (
    AuditRunRepository,
    ClientRepository,
    FeasibilityAssessmentRepository,
    IssuanceRecordRepository,
    ManualAuditRepository,
    OfferingRepository,
    ProductRepository,
    Repository,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
)

if TYPE_CHECKING:
    from etomkit.adapters.postgres.store import PostgresStore

__all__ = ["REPOSITORIES", "PostgresRepository", "decode", "encode"]

T = TypeVar("T")
F = TypeVar("F")
Conn = psycopg.Connection[Any]


def encode(entity: Any) -> bytes:
    """The entity's TMF JSON as stored: the FileStore's bytes, by its encoder."""
    return _file_encode(entity)


def decode(cls: type, raw: bytes, revision: int, where: str) -> Any:
    """The entity of ``cls`` a stored document holds, at ``revision``."""
    try:
        entity: Any = tmf.from_json(cls, json.loads(raw))
    except (ValueError, ValidationError) as e:
        raise StorageError(f"{where}: stored document does not decode: {e}") from e
    return replace(entity, revision=revision)


class _RefusedKeyError(Exception):
    """Carries a DuplicateKeyError out of a savepoint (so the savepoint rolls back)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class PostgresRepository(Repository[T, F], Generic[T, F]):
    """Shared mechanics of every PostgresStore repository."""

    reference: ClassVar[type[memory._DictRepository[Any, Any]]]
    #: The tallied kinds (``schema.TALLIED``) of which an entity holds one term at
    #: most: the tally then also totals a filter on several of them (tally.py).
    single_valued: ClassVar[frozenset[str]] = frozenset({"status=", "state="})

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        ref = self.reference
        self._ns = ref.namespace
        self._cls = ref.entity_class
        self._terms_of = ref._terms_of_entity
        self._unique = ref.unique_terms
        self._unique_prefixes = tuple(p for p, _ in self._unique)
        self._storable = storable_test(self._cls)
        self._entity = store.qualified("entity")
        self._term = store.qualified("term")
        kinds = {p: p in self.single_valued for n, p in TALLIED if n == self._ns}
        self._tally = Tally(self._ns, store.qualified("term_tally"), kinds)
        self._batch = Statements(self._entity, self._term, self._tally)
        reads = "SELECT revision, doc, id FROM {} WHERE ns = %s AND id = "
        self._select_one = sql.SQL(reads + "%s").format(self._entity).as_bytes(None)
        self._select_many = (
            sql.SQL(reads + "ANY(" + TEXTS + ")").format(self._entity).as_bytes(None)
        )

    # ------------------------------------------------------------------ helpers

    def _terms(self, entity: T) -> list[tuple[str, bool]]:
        terms = dict.fromkeys(self._terms_of(self, entity))  # type: ignore[arg-type]
        prefixes = self._unique_prefixes
        if not prefixes:
            return [(t, False) for t in terms]
        return [(t, t.startswith(prefixes)) for t in terms]

    def _decode(self, row: tuple[Any, ...]) -> T:
        entity: T = decode(self._cls, bytes(row[1]), row[0], f"{self.entity_name} {row[2]!r}")
        return entity

    def _select(self, conn: Conn, entity_id: str) -> tuple[Any, ...] | None:
        return conn.execute(self._select_one, (self._ns, _text(entity_id))).fetchone()

    def _duplicate(self, conn: Conn, terms: list[tuple[str, bool]], entity_id: str) -> Exception:
        """The DuplicateKeyError for the first unique term another entity holds."""
        for term, unique in terms:
            if not unique:
                continue
            row = conn.execute(
                sql.SQL("SELECT id FROM {} WHERE ns = %s AND term = %s AND uniq").format(
                    self._term
                ),
                (self._ns, _text(term)),
            ).fetchone()
            if row is not None and row[0] != _text(entity_id):
                for prefix, key in self._unique:
                    if term.startswith(prefix):
                        value = term[len(prefix) :].replace(TERM_SEP, "/")
                        holder = _untext(row[0])
                        return DuplicateKeyError(self.entity_name, key, value, holder)
        return ConflictError(f"{self.entity_name} {entity_id!r}: a unique key is taken")

    def _check_storable(self, entity: T) -> None:
        """ValidationError unless every store reads ``entity`` back equal (the same
        model-boundary rule as the other stores: ``etomkit.model.canonical``)."""
        if type(entity) is self._cls and self._storable(entity):
            return
        if type(entity) is not self._cls:
            raise ValidationError(
                self.entity_name,
                [("$", f"must be a {self.entity_name}, got {type(entity).__name__}")],
            )
        problems = storable_problems(entity)
        if problems:
            raise ValidationError(f"{self.entity_name} {entity.id!r}", problems)  # type: ignore[attr-defined]

    @staticmethod
    def _checked_id(entity_id: object) -> str | None:
        return entity_id if type(entity_id) is str else None

    # ------------------------------------------------------------------ reads

    def get(self, entity_id: str) -> T:
        found = self.find(entity_id)
        if found is None:
            raise NotFoundError(self.entity_name, str(entity_id))
        return found

    def find(self, entity_id: str) -> T | None:
        key = self._checked_id(entity_id)
        if key is None:
            return None
        row = self._store.run(
            f"read {self.entity_name}", lambda c: self._select(c, key), read=True, single=True
        )
        return None if row is None else self._decode(row)

    def find_many(self, ids: Iterable[str]) -> dict[str, T]:
        """The entities of ``ids`` that are stored, keyed by id: one query."""
        keys = [i for i in dict.fromkeys(ids) if type(i) is str]
        if not keys:
            return {}
        select = self._select_many
        packed = texts([_text(k) for k in keys])
        rows = self._store.run(
            f"read {self.entity_name}",
            lambda c: c.execute(select, (self._ns, *packed)).fetchall(),
            read=True,
            single=True,
        )
        found = {_untext(r[2]): r for r in rows}
        return {k: self._decode(found[k]) for k in keys if k in found}

    def __len__(self) -> int:
        row = self._store.run(
            f"count {self.entity_name}",
            lambda c: c.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE ns = %s").format(self._entity), (self._ns,)
            ).fetchone(),
            read=True,
            single=True,
        )
        return int(row[0]) if row else 0

    def __contains__(self, entity_id: object) -> bool:
        key = self._checked_id(entity_id)
        if key is None:
            return False
        row = self._store.run(
            f"read {self.entity_name}",
            lambda c: c.execute(
                sql.SQL("SELECT 1 FROM {} WHERE ns = %s AND id = %s").format(self._entity),
                (self._ns, _text(key)),
            ).fetchone(),
            read=True,
            single=True,
        )
        return row is not None

    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[T]:
        """One statement: the page and its total (see tally.py)."""
        page: Page[T] = _query(self, where, offset, limit)
        return page

    def query_statement(
        self, where: F | None, offset: int = 0, limit: int | None = None
    ) -> tuple[sql.Composed, list[Any]]:
        """The statement :meth:`query` sends (``bench/postgres.py`` EXPLAINs it)."""
        return _query_statement(self, where, offset, limit)

    # ------------------------------------------------------------------ writes

    def _prepared(self, entity: T, checked: bool = False, encoded: bool = True) -> Prepared:
        """``(stored entity, id, TMF JSON, terms)`` of a new entity, or ValidationError
        (``checked``: the caller vouches that it passes the storable checks;
        ``encoded=False``: the JSON is None, for ``insert`` to encode as it streams)."""
        if not checked or type(entity) is not self._cls:
            self._check_storable(entity)
        entity_id = entity.id  # type: ignore[attr-defined]
        if not isinstance(entity_id, str) or not entity_id:
            raise ValidationError(self.entity_name, [("id", "must be set before storing")])
        if "\x1e" in entity_id:
            raise ValidationError(
                self.entity_name, [("id", "must not contain the control character U+001E")]
            )
        stored: T = entity if entity.revision == 1 else replace(entity, revision=1)  # type: ignore[attr-defined]
        return stored, entity_id, encode(stored) if encoded else None, self._terms(stored)

    def add(self, entity: T) -> T:
        """One statement: the row and its terms (see batch.py)."""
        prepared = self._prepared(entity)
        insert(self, [prepared])
        stored: T = prepared[0]
        return stored

    def add_all(self, entities: Sequence[T], *, checked: bool = False) -> list[T]:
        """All or none: one statement for a few entities, two COPY streams for many
        (see batch.py); ``checked`` skips the storable check (INTERFACE §2)."""
        streamed = len(entities) >= COPY_FROM  # encoded while the server takes the rows
        prepared = [self._prepared(e, checked, not streamed) for e in entities]
        insert(self, prepared)
        return [p[0] for p in prepared]

    def replace(self, entity: T, *, expected_revision: int | None = None) -> T:
        self._check_storable(entity)
        entity_id = self._checked_id(entity.id)  # type: ignore[attr-defined]
        expected = entity.revision if expected_revision is None else expected_revision  # type: ignore[attr-defined]
        if entity_id is None:
            raise NotFoundError(self.entity_name, str(entity.id))  # type: ignore[attr-defined]
        revision = expected + 1
        stored: T = entity if entity.revision == revision else replace(entity, revision=revision)  # type: ignore[attr-defined]
        doc, terms = encode(stored), self._terms(stored)
        unique = sum(1 for _, u in terms if u)

        def write(conn: Conn) -> None:  # the entity keeps its seq, so its place in order
            row = conn.execute(
                self._batch.update_b, (doc, self._ns, _text(entity_id), expected, self._ns)
            ).fetchone()
            if row is None:
                current = conn.execute(
                    sql.SQL("SELECT revision FROM {} WHERE ns = %s AND id = %s").format(
                        self._entity
                    ),
                    (self._ns, _text(entity_id)),
                ).fetchone()
                if current is None:
                    raise NotFoundError(self.entity_name, entity_id)
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is at revision {current[0]}, "
                    f"the change was based on revision {expected}"
                )
            old = [_untext(t) for t in row[1]]
            if replace_terms(self, conn, entity_id, row[0], terms, old) < unique:
                raise _RefusedKeyError(self._duplicate(conn, terms, entity_id))

        def guarded(conn: Conn) -> None:
            if not unique:
                write(conn)
                return
            try:  # a savepoint, so that a refused key undoes the update
                with conn.transaction():
                    write(conn)
            except _RefusedKeyError as refused:
                raise refused.error from None

        self._store.run(f"replace {self.entity_name}", guarded)
        return stored

    def remove(self, entity_id: str, expected_revision: int | None = None) -> T:
        """One statement: the row and its terms, if at ``expected_revision``."""
        key = self._checked_id(entity_id)
        if key is None:
            raise NotFoundError(self.entity_name, str(entity_id))
        tallied = (self._ns, self._tally.patterns) if self._tally.kinds else ()

        def write(conn: Conn) -> tuple[Any, ...]:
            stored = _text(key)
            row = conn.execute(
                self._batch.remove_b,
                (self._ns, stored, expected_revision, expected_revision, self._ns, *tallied),
            ).fetchone()
            if row is not None:
                return tuple(row)
            current = self._select(conn, key)
            if current is None:
                raise NotFoundError(self.entity_name, key)
            raise ConflictError(
                f"{self.entity_name} {key!r} is at revision {current[0]}, not {expected_revision}"
            )

        return self._decode(self._store.run(f"remove {self.entity_name}", write, single=True))

    # ------------------------------------------------------------------ by term

    def _ids_with_term(self, term: str) -> list[str]:
        rows = self._store.run(
            f"read {self.entity_name}",
            lambda c: c.execute(
                sql.SQL("SELECT id FROM {} WHERE ns = %s AND term = %s").format(self._term),
                (self._ns, _text(term)),
            ).fetchall(),
            read=True,
            single=True,
        )
        return [_untext(r[0]) for r in rows]


class _Row:
    """A stored row not decoded yet (see PostgresResourceSpecificationRepository)."""

    __slots__ = ("row",)

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.row = row


class PostgresOfferingRepository(PostgresRepository[Any, Any], OfferingRepository):
    """Offerings of a PostgresStore."""

    reference = memory.InMemoryOfferingRepository


class PostgresProductRepository(PostgresRepository[Any, Any], ProductRepository):
    """Products of a PostgresStore (order items unique by a partial UNIQUE index)."""

    reference = memory.InMemoryProductRepository
    single_valued = frozenset({"status=", "offering="})

    def find_by_order_item(self, order_id: str, item_id: str) -> Any:
        ids = self._ids_with_term(order_item_term(order_id, item_id))
        return self.find(ids[0]) if ids else None


class PostgresResourceOrderRepository(PostgresRepository[Any, Any], ResourceOrderRepository):
    """Resource orders of a PostgresStore."""

    reference = memory.InMemoryResourceOrderRepository


class PostgresIssuanceRecordRepository(PostgresRepository[Any, Any], IssuanceRecordRepository):
    """Issuance records of a PostgresStore (the id is the request key)."""

    reference = memory.InMemoryIssuanceRecordRepository
    records_for_service = memory.InMemoryIssuanceRecordRepository.records_for_service


class _ForgetsOnWrite(PostgresRepository[Any, Any]):
    """A repository whose reads the unit of work remembers: any write of it
    empties the unit's read cache (what was remembered may be stale)."""

    def add(self, entity: Any) -> Any:
        self._store.forget()
        return super().add(entity)

    def add_all(self, entities: Sequence[Any], *, checked: bool = False) -> list[Any]:
        self._store.forget()
        return super().add_all(entities, checked=checked)

    def replace(self, entity: Any, *, expected_revision: int | None = None) -> Any:
        self._store.forget()
        return super().replace(entity, expected_revision=expected_revision)

    def remove(self, entity_id: str, expected_revision: int | None = None) -> Any:
        self._store.forget()
        return super().remove(entity_id, expected_revision)


class PostgresFeasibilityAssessmentRepository(_ForgetsOnWrite, FeasibilityAssessmentRepository):
    """Feasibility assessments of a PostgresStore. Inside a unit of work the
    assessments of a request are read once; the requests a batch announced
    (:meth:`expect_requests`) are read together, by the first lookup of one of
    them. A write of one, or a nested unit that fails, forgets them."""

    reference = memory.InMemoryFeasibilityAssessmentRepository

    def __init__(self, store: PostgresStore) -> None:
        super().__init__(store)
        self._of_requests = sql.SQL(
            "SELECT e.revision, e.doc, e.id, t.term FROM {} e"
            " JOIN {} t ON t.ns = e.ns AND t.id = e.id"
            " WHERE t.ns = %s AND t.term = ANY(" + TEXTS + ") ORDER BY e.seq"
        ).format(self._entity, self._term)

    @staticmethod
    def _request_term(request_key: str) -> str:
        (term,) = FeasibilityAssessmentFilter(request_key=request_key).term_sets()[0]
        return str(term)

    def expect_requests(self, request_keys: Iterable[str]) -> None:
        cache = self._store.unit_cache
        if cache is not None:
            expected = cache.setdefault(("", self._ns), set())
            expected.update(k for k in request_keys if type(k) is str)

    def _of(self, request_key: str) -> list[Any]:
        """The request's assessments, oldest first (remembered in a unit)."""
        cache = self._store.unit_cache
        key = (self._ns, request_key)
        if cache is not None and key in cache:
            return cast(list[Any], cache[key])
        wanted = [request_key]
        if cache is not None:
            expected = cache.pop(("", self._ns), set())
            wanted += [k for k in expected if k != request_key and (self._ns, k) not in cache]
        terms = {_text(self._request_term(k)): k for k in wanted}
        rows = self._store.run(
            "read feasibility assessments",
            lambda c: c.execute(self._of_requests, (self._ns, *texts(list(terms)))).fetchall(),
            read=True,
            single=True,
        )
        found: dict[str, list[Any]] = {k: [] for k in wanted}
        for row in rows:
            found[terms[row[3]]].append(self._decode(row))
        if cache is not None:
            cache.update({(self._ns, k): v for k, v in found.items()})
        return found[request_key]

    def find_for(self, request_key: str, item_id: str) -> Any:
        """The latest assessment of the item, else of the whole request (the
        in-memory adapter's rule)."""
        if type(request_key) is not str or type(item_id) is not str:
            return memory.InMemoryFeasibilityAssessmentRepository.find_for(
                self,  # type: ignore[arg-type]
                request_key,
                item_id,
            )
        return latest_assessment(self._of(request_key), item_id)


class PostgresResourceSpecificationRepository(_ForgetsOnWrite, ResourceSpecificationRepository):
    """Resource specifications of a PostgresStore. Inside a unit of work a read is
    remembered until the unit ends (the issuer looks the same few specifications
    up for every order item); a small catalogue (up to ``PREFETCH``) is read
    whole by the unit's first lookup, one round trip, each decoded when asked
    for. A write of one, or a nested unit that fails, forgets them all.

    Across units a stored row whose revision and bytes are those of one decoded
    before yields that same object (up to ``DECODED`` of them): the issuer keeps
    the checks and generated code it bound to a specification while the
    specification is unchanged, as with the other stores."""

    reference = memory.InMemoryResourceSpecificationRepository
    PREFETCH: ClassVar[int] = 64
    DECODED: ClassVar[int] = 4096

    def __init__(self, store: PostgresStore) -> None:
        super().__init__(store)
        self._prefetch = True  # until a catalogue larger than PREFETCH is seen
        self._decoded: dict[str, tuple[int, bytes, Any]] = {}  # id: (revision, doc, entity)
        self._whole = (
            sql.SQL("SELECT revision, doc, id FROM {} WHERE ns = %s ORDER BY seq LIMIT %s")
            .format(self._entity)
            .as_bytes(None)
        )
        self._whole_params = (self._ns, self.PREFETCH + 1)  # one row more: is it all?

    def _decode(self, row: tuple[Any, ...]) -> Any:
        revision, doc, raw_id = row[0], bytes(row[1]), row[2]
        hit = self._decoded.get(raw_id)
        if hit is not None and hit[0] == revision and hit[1] == doc:
            return hit[2]
        entity = super()._decode(row)
        if len(self._decoded) >= self.DECODED:
            self._decoded.clear()
        self._decoded[raw_id] = (revision, doc, entity)
        return entity

    def expect_lookups(self) -> None:
        """A small catalogue is read with the unit's next read, in its round trip."""
        cache = self._store.unit_cache
        if cache is None or not self._prefetch or "" in cache:
            return
        if self._store.prefetch(self._whole, self._whole_params, self._whole_read):
            cache[""] = False  # asked for in this unit (True: read)

    def _whole_read(self, rows: list[Any]) -> None:
        """Remember the rows of the catalogue (all of it, if it is small) in the unit."""
        cache = self._store.unit_cache
        if cache is None:
            return
        cache[""] = True
        for row in rows:
            cache.setdefault((self._ns, _untext(row[2])), _Row(row))
        if len(rows) <= self.PREFETCH:
            cache[("", self._ns)] = None  # every stored one is in the cache
        else:
            self._prefetch = False

    def find(self, entity_id: str) -> Any:
        cache = self._store.unit_cache
        if cache is None or type(entity_id) is not str:
            return super().find(entity_id)
        key = (self._ns, entity_id)
        complete = ("", self._ns)  # set: every stored one is in the cache
        if key not in cache and self._prefetch and complete not in cache:
            if cache.get("") is False:  # asked for and not read yet: read it now
                self._store.send_prefetched("read resource specifications")
            if "" not in cache:
                self._whole_read(
                    self._store.run(
                        "read resource specifications",
                        lambda c: c.execute(self._whole, self._whole_params).fetchall(),
                        read=True,
                    )
                )
        if key not in cache:
            cache[key] = None if complete in cache else super().find(entity_id)
        found = cache[key]
        if isinstance(found, _Row):
            found = cache[key] = self._decode(found.row)
        return found


class PostgresClientRepository(PostgresRepository[Any, Any], ClientRepository):
    """Client registrations of a PostgresStore (one bootstrap administrator)."""

    reference = memory.InMemoryClientRepository


class PostgresAuditRunRepository(PostgresRepository[Any, Any], AuditRunRepository):
    """Audit runs of a PostgresStore."""

    reference = memory.InMemoryAuditRunRepository


class PostgresManualAuditRepository(PostgresRepository[Any, Any], ManualAuditRepository):
    """Manual audits of a PostgresStore."""

    reference = memory.InMemoryManualAuditRepository
    single_valued = frozenset({"outcome=", "type="})


#: ``(store attribute, repository class)`` for every repository a PostgresStore holds.
REPOSITORIES: tuple[tuple[str, type[PostgresRepository[Any, Any]]], ...] = (
    ("offerings", PostgresOfferingRepository),
    ("products", PostgresProductRepository),
    ("resource_orders", PostgresResourceOrderRepository),
    ("issuance_records", PostgresIssuanceRecordRepository),
    ("feasibility_assessments", PostgresFeasibilityAssessmentRepository),
    ("resource_specifications", PostgresResourceSpecificationRepository),
    ("clients", PostgresClientRepository),
    ("audit_runs", PostgresAuditRunRepository),
    ("manual_audits", PostgresManualAuditRepository),
)
