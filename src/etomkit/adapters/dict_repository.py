"""The dict-backed repository every in-memory and file repository builds on: entities
by id, an index of terms, the write path (checks, undo, batched writes) and the read path."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from etomkit.adapters.unit import Journal as Journal  # re-exported: durable stores use them
from etomkit.adapters.unit import Write as Write
from etomkit.adapters.unit import _UnitOfWork as _UnitOfWork
from etomkit.errors import ConflictError, DuplicateKeyError, NotFoundError, ValidationError
from etomkit.model._copy import replace
from etomkit.model.canonical import storable_problems, storable_test
from etomkit.model.queries import (
    TERM_SEP,
    Page,
    _t,
    check_page_bounds,
)

__all__ = ["_DictRepository"]


class _Entity(Protocol):
    """What a repository needs of what it stores."""

    @property
    def id(self) -> str | None: ...

    @property
    def revision(self) -> int: ...


class _Filter(Protocol):
    """What a repository needs of a query filter."""

    def matches(self, entity: Any, /) -> bool: ...

    def term_sets(self) -> list[list[str]]: ...


T = TypeVar("T", bound=_Entity)
F = TypeVar("F", bound=_Filter)


class _Entities(dict[str, Any]):
    """The entities of a repository by id; a missing id is a NotFoundError."""

    __slots__ = ("entity_name",)

    def __init__(self, entity_name: str) -> None:
        super().__init__()
        self.entity_name = entity_name

    def __missing__(self, entity_id: str) -> Any:
        raise NotFoundError(self.entity_name, entity_id)


class _DictRepository(Generic[T, F]):
    """Shared mechanics: entities keyed by id, an index of terms, insertion order."""

    entity_name: ClassVar[str]
    entity_class: ClassVar[type]
    namespace: ClassVar[str]
    unique_terms: ClassVar[tuple[tuple[str, str], ...]] = ()
    """The port's unique keys as index terms: ``(term prefix, key name)`` pairs.
    A term with such a prefix is carried by one entity at most."""

    def _terms_of_entity(self, entity: T) -> tuple[str, ...]:
        raise NotImplementedError

    def __init__(self, unit: _UnitOfWork | None = None) -> None:
        self._unit = unit or _UnitOfWork()
        # a durable subclass may hold undecoded records too
        self._data: dict[str, T] = _Entities(self.entity_name)
        # term -> the id carrying it, or an ordered set (dict) of ids if several do
        self._by_term: dict[str, str | dict[str, None]] = {}
        self._seq: dict[str, int] = {}  # insertion order, survives rollback
        # terms whose posting may be out of insertion order (an entity re-indexed or
        # restored after a later one): queries put them back in order once
        self._unordered: set[str] = set()
        self._next_seq = 0
        self._storable = storable_test(self.entity_class)
        self._unique_prefixes = tuple(prefix for prefix, _ in self.unique_terms)

    # ------------------------------------------------------------------ reads

    def get(self, entity_id: str) -> T:
        try:
            return self._data[entity_id]  # a miss raises NotFoundError (_Entities)
        except TypeError:
            raise NotFoundError(self.entity_name, entity_id) from None

    def reader(self) -> Callable[[str], T]:
        """The dict's own lookup: no Python frame on the read path."""
        return self._data.__getitem__

    def find(self, entity_id: str) -> T | None:
        try:
            return self._data.get(entity_id)
        except TypeError:
            return None

    def query(
        self, where: F | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Page[T]:
        check_page_bounds(offset, limit)
        with self._unit.lock:
            ids = self._matching_ids(where)
            end = None if limit is None else offset + limit
            items = tuple(self._entities(ids[offset:end]))
        return Page(items, len(ids), offset, limit)

    def iterate(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[T]:
        if type(page_size) is not int or page_size < 1:
            raise ValidationError("iterate", [("page_size", "must be a positive integer")])
        return self._iterate(where, page_size)

    def stream(self, where: F | None = None, *, page_size: int = 1000) -> Iterator[T]:
        """What :meth:`iterate` gives, for a full pass (an audit, a download): a durable
        store's repository decodes its records on the way without keeping them, so
        the pass holds one page at a time. Here, with nothing to decode, it is iterate."""
        return self.iterate(where, page_size=page_size)

    def _iterate(self, where: F | None, page_size: int) -> Iterator[T]:
        with self._unit.lock:
            ids = self._matching_ids(where)
            if len(ids) <= page_size:  # one page (a customer's products): one pass
                items = self._entities(ids)
        if len(ids) <= page_size:
            yield from items
            return
        for start in range(0, len(ids), page_size):
            with self._unit.lock:
                chunk = [i for i in ids[start : start + page_size] if i in self._data]
                items = self._entities(chunk)
            yield from items

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and entity_id in self._data

    # ------------------------------------------------------------------ writes

    def add(self, entity: T) -> T:
        if type(entity) is not self.entity_class or not self._storable(entity):
            self._refuse_unstorable(entity)
        return self._add_one(entity)

    def _add_one(self, entity: T) -> T:
        """:meth:`add` for an entity that passed the storable check."""
        stored = self._stored_new(entity)
        return self._insert(stored, self._terms_of_entity(stored), None)

    def _insert(self, stored: T, terms: tuple[str, ...], unique: str | None) -> T:
        """Store ``stored`` (checked, as :meth:`_stored_new` gives it) under its index
        ``terms``; ``unique``: the one of them under a unique key, if the caller
        knows it (else all are looked at)."""
        entity_id = stored.id
        if type(entity_id) is not str or not entity_id or "\x1e" in entity_id:
            entity_id = self._check_id(entity_id)  # refused, or a str subclass
        unit, data, by_term = self._unit, self._data, self._by_term
        with unit.lock:  # the checks and the write are one step
            if entity_id in data:
                raise DuplicateKeyError(self.entity_name, "id", entity_id, entity_id)
            if self._unique_prefixes and (unique is None or unique in by_term):
                self._check_unique(entity_id, terms)
            data[entity_id] = stored
            self._seq[entity_id] = self._next_seq
            self._next_seq += 1
            for term in terms:  # _index for the newest entity: every posting stays in order
                ids = by_term.get(term)
                if ids is None:
                    by_term[term] = entity_id
                elif type(ids) is str:
                    if ids != entity_id:
                        by_term[term] = {ids: None, entity_id: None}
                else:
                    ids[entity_id] = None  # type: ignore[index]
            if unit.depth or unit.journal is not None:
                unit.written(
                    (self.namespace, entity_id, stored, terms), partial(self._drop, entity_id)
                )
            else:
                unit.committed(1)
        return stored

    def _stored_new(self, entity: T) -> T:
        """What :meth:`add` stores for a checked ``entity``: it at revision 1 (a
        repository may also share its equal parts with stored entities)."""
        return entity if entity.revision == 1 else replace(entity, revision=1)

    def _check_id(self, entity_id: object) -> str:
        """``entity_id`` if it can be stored, else ValidationError."""
        if type(entity_id) is str and entity_id and "\x1e" not in entity_id:
            return entity_id
        if not isinstance(entity_id, str) or not entity_id:
            raise ValidationError(self.entity_name, [("id", "must be set before storing")])
        if "\x1e" in entity_id:
            raise ValidationError(
                self.entity_name, [("id", "must not contain the control character U+001E")]
            )
        return entity_id

    def _refuse_unstorable(self, entity: T) -> None:
        """ValidationError unless every store reads ``entity`` back equal (model/canonical.py);
        called when the fast test (``self._storable``) is not sure."""
        if type(entity) is not self.entity_class:
            raise ValidationError(
                self.entity_name,
                [("$", f"must be a {self.entity_name}, got {type(entity).__name__}")],
            )
        problems = storable_problems(entity)
        if problems:
            raise ValidationError(f"{self.entity_name} {entity.id!r}", problems)

    def add_all(self, entities: Sequence[T], *, checked: bool = False) -> list[T]:
        """``add`` each entity in order, all or none, as one write: one lock, one undo
        entry, index terms computed once per distinct entity shape. ``checked``: the
        caller vouches that the entities pass the storable check (it is skipped)."""
        unit = self._unit
        if type(self).add is not _DictRepository.add:  # a subclass's own add: one at a time
            with unit.transaction():
                return [self.add(entity) for entity in entities]
        if len(entities) == 1:  # one entity (a purchase): what add does, without the batch
            (entity,) = entities
            if not checked and (
                type(entity) is not self.entity_class or not self._storable(entity)
            ):
                self._refuse_unstorable(entity)
            return [self._add_one(entity)]
        with unit.lock:
            if not unit.depth:  # a write of its own: committed as one block
                with unit.transaction():
                    return self._add_all(entities, checked)
            return self._add_all(entities, checked)  # checks first: a refusal writes nothing

    def _add_all(self, entities: Sequence[T], checked: bool) -> list[T]:
        """:meth:`add_all` under the lock: every check, then every write (nothing fails)."""
        cls, storable, check_id = self.entity_class, self._storable, self._check_id
        data = self._data
        stored: list[T] = []
        ids: list[str] = []
        seen: set[str] = set()
        unique = self.unique_terms
        all_terms: list[tuple[str, ...]] = []
        claimed: dict[str, str] = {}  # unique term: the entity of the batch holding it
        for entity in entities:
            if not checked and (type(entity) is not cls or not storable(entity)):
                self._refuse_unstorable(entity)
            entity_id = check_id(entity.id)
            if entity_id in seen or entity_id in data:
                raise DuplicateKeyError(self.entity_name, "id", entity_id, entity_id)
            seen.add(entity_id)
            ids.append(entity_id)
            new = self._stored_new(entity)
            stored.append(new)
            if unique:  # checked entity by entity, as adding them one by one would
                terms = self._terms_of_entity(new)
                self._check_unique(entity_id, terms, claimed)
                all_terms.append(terms)
        if not stored:
            return stored
        if not unique:
            all_terms = self._terms_many(stored)
        data.update(zip(ids, stored, strict=True))
        start = self._next_seq
        self._seq.update(zip(ids, range(start, start + len(ids)), strict=True))
        self._next_seq = start + len(ids)
        self._index_many(ids, all_terms)
        ns = self.namespace
        writes = [(ns, i, e, t) for i, e, t in zip(ids, stored, all_terms, strict=True)]
        self._unit.written_many(writes, partial(self._drop_many, ids))
        return stored

    def find_many(self, ids: Iterable[str]) -> dict[str, T]:
        """The entities found among ``ids``, by id (missing ids absent)."""
        if type(self).find is not _DictRepository.find:  # a subclass holding undecoded records
            return {i: e for i in ids if (e := self.find(i)) is not None}
        get = self._data.get
        return {i: e for i in ids if type(i) is str and (e := get(i)) is not None}

    def replace(self, entity: T, *, expected_revision: int | None = None) -> T:
        if type(entity) is not self.entity_class or not self._storable(entity):
            self._refuse_unstorable(entity)
        return self._replace(entity, expected_revision)

    def checked_replacer(self) -> Callable[[T, int], T] | None:
        """``replace(entity, expected_revision)`` for an entity of this repository's class
        the caller vouches passes the storable check (the inventory's status moves,
        whose new values it checked): :meth:`replace` without that check. None
        when a subclass replaces its own way."""
        if type(self).replace is not _DictRepository.replace:
            return None
        return self._replace

    def _replace(self, entity: T, expected_revision: int | None) -> T:
        entity_id: str = entity.id  # type: ignore[assignment]
        expected = entity.revision if expected_revision is None else expected_revision
        unit = self._unit
        with unit.lock:
            old = self._data.get(entity_id) if isinstance(entity_id, str) else None
            if old is None:
                raise NotFoundError(self.entity_name, str(entity_id))
            stored_revision = self._revision(old)
            if stored_revision != expected:
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is at revision {stored_revision}, "
                    f"the change was based on revision {expected}"
                )
            revision = expected + 1
            stored = entity if entity.revision == revision else replace(entity, revision=revision)
            terms = self._terms_of_entity(stored)
            if self.unique_terms:
                self._check_unique(entity_id, terms)
            self._put(entity_id, old, stored, terms)
            if unit.depth or unit.journal is not None:

                def undo() -> None:
                    self._put(entity_id, stored, old)

                unit.written((self.namespace, entity_id, stored, terms), undo)
        return stored

    def remove(self, entity_id: str, expected_revision: int | None = None) -> T:
        unit = self._unit
        with unit.lock:
            old = self.get(entity_id)
            if expected_revision is not None and old.revision != expected_revision:
                raise ConflictError(
                    f"{self.entity_name} {entity_id!r} is at revision {old.revision}, "
                    f"not {expected_revision}"
                )
            seq = self._seq[entity_id]
            self._drop(entity_id)
            if unit.depth or unit.journal is not None:
                unit.written((self.namespace, entity_id, None, ()), lambda: self._restore(old, seq))
        return old

    def _check_unique(
        self, entity_id: str, terms: tuple[str, ...], claimed: dict[str, str] | None = None
    ) -> None:
        """DuplicateKeyError if another entity carries one of the unique ``terms``
        (stored, or in ``claimed``: the unique terms of a batch's earlier entities,
        to which ``entity_id``'s are then added). Called under the lock, just
        before the write."""
        by_term = self._by_term
        if claimed is None:  # only a unique term another entity holds needs a closer look
            prefixes = self._unique_prefixes
            for term in terms:
                held = by_term.get(term)
                if held is not None and held != entity_id and term.startswith(prefixes):
                    break
            else:
                return
        for prefix, key in self.unique_terms:
            for term in terms:
                if not term.startswith(prefix):
                    continue
                holder = None if claimed is None else claimed.get(term)
                if holder is None:
                    holders = by_term.get(term)
                    if holders is not None:
                        holder = holders if type(holders) is str else next(iter(holders))
                if holder is not None and holder != entity_id:
                    value = term[len(prefix) :].replace(TERM_SEP, "/")
                    raise DuplicateKeyError(self.entity_name, key, value, holder)
                if claimed is not None:
                    claimed[term] = entity_id

    # ------------------------------------------------------------------ loading (durable stores)

    def stored_items(self) -> Iterator[tuple[str, Any]]:
        """Every ``(id, stored value)`` in insertion order (a snapshot of the moment)."""
        return iter(list(self._data.items()))

    def _entities(self, ids: Iterable[str]) -> list[T]:
        return list(map(self._data.__getitem__, ids))

    def _terms(self, value: Any) -> tuple[str, ...]:
        return self._terms_of_entity(value)

    def _revision(self, value: Any) -> int:
        revision: int = value.revision
        return revision

    def _index(self, entity_id: str, terms: tuple[str, ...], newest: bool = False) -> None:
        by_term = self._by_term
        # the newest entity goes at the end of every posting: order kept; any other may not
        late = not newest and self._seq.get(entity_id) != self._next_seq - 1
        for term in terms:
            ids = by_term.get(term)
            if ids is None:
                by_term[term] = entity_id  # most terms (customer, order item) have one id
            elif type(ids) is str:
                if ids != entity_id:
                    by_term[term] = {ids: None, entity_id: None}
                    if late:
                        self._unordered.add(term)
            else:
                ids[entity_id] = None  # type: ignore[index]
                if late:
                    self._unordered.add(term)

    def _unindex(self, entity_id: str, terms: tuple[str, ...]) -> None:
        by_term = self._by_term
        for term in terms:
            ids = by_term.get(term)
            if ids is None:
                continue
            if type(ids) is str:
                if ids == entity_id:
                    del by_term[term]
            else:
                ids.pop(entity_id, None)  # type: ignore[union-attr]
                if not ids:
                    del by_term[term]

    def term_reader(self, prefix: str) -> Callable[[str], list[T]]:
        """What ``list(iterate(where))`` gives for a filter of one exact criterion whose
        index term is ``prefix`` + the value, without a filter: ``read(value)`` is the
        entities carrying that term, in insertion order (``customer_reader`` uses it)."""
        by_term, unordered, lock, get = (
            self._by_term,
            self._unordered,
            self._unit.lock,
            self.reader(),
        )
        # the dict's own lookup runs in C: a posting is read whole without a thread switch
        atomic = get == self._data.__getitem__

        def locked(term: str) -> list[T]:
            with lock:
                return list(map(get, self._posting(term)))

        def read(value: str) -> list[T]:
            term = prefix + value  # the term itself unless value needs escaping (rare)
            ids = by_term.get(term)
            if type(ids) is str and "\\" not in value:  # the usual case: one entity
                try:
                    return [get(ids)]
                except NotFoundError:  # removed this very moment
                    return []
            if ids is None:
                if "\\" not in value and "\x1e" not in value and "\x1f" not in value:
                    return []
            elif atomic and "\\" not in value and term not in unordered:
                try:
                    return list(map(get, ids))
                except (NotFoundError, RuntimeError):  # caught mid-change: read it locked
                    pass
            return locked(prefix + _t(value))

        return read

    def _posting(self, term: str) -> Collection[str]:
        """The ids carrying ``term`` in insertion order (called under the lock); a
        posting out of order is put back in order, once."""
        ids = self._by_term.get(term)
        if ids is None or type(ids) is str:
            return () if ids is None else (ids,)
        if term in self._unordered:
            self._unordered.discard(term)
            ids = self._by_term[term] = dict.fromkeys(sorted(ids, key=self._seq.__getitem__))
        return ids

    def _terms_many(self, entities: Sequence[T]) -> list[tuple[str, ...]]:
        """The index terms of each entity (a repository may share equal ones)."""
        return list(map(self._terms_of_entity, entities))

    def _index_many(self, ids: Sequence[str], all_terms: Sequence[tuple[str, ...]]) -> None:
        """:meth:`_index` each new id: a run of ids with the same terms (object) at once."""
        by_term = self._by_term
        n, count = 0, len(ids)
        while n < count:
            terms = all_terms[n]
            end = n + 1
            while end < count and all_terms[end] is terms:
                end += 1
            if end == n + 1:
                self._index(ids[n], terms, newest=True)  # ids come in insertion order
            else:
                run = ids[n:end]
                for term in terms:
                    held = by_term.get(term)
                    if held is None:
                        by_term[term] = dict.fromkeys(run)
                    elif type(held) is str:
                        by_term[term] = {held: None, **dict.fromkeys(run)}
                    else:
                        held.update(dict.fromkeys(run))  # type: ignore[union-attr]
            n = end

    def _drop_many(self, ids: Sequence[str]) -> None:
        for entity_id in reversed(ids):
            self._drop(entity_id)

    def _matching_ids(self, where: F | None) -> list[str]:
        if where is None:
            return list(self._data)
        term_sets = where.term_sets()
        if len(term_sets) == 1 and len(term_sets[0]) == 1 and getattr(where, "exact_terms", True):
            return list(self._posting(term_sets[0][0]))  # one term: its posting, in order
        if not term_sets:
            if getattr(where, "exact_terms", True):
                return list(self._data)
            ids = list(self._data)
            return [i for i, e in zip(ids, self._entities(ids), strict=True) if where.matches(e)]
        groups = [self._ids_with_any(terms) for terms in term_sets]
        groups.sort(key=len)
        first, rest = groups[0], groups[1:]
        hits = [i for i in first if all(i in g for g in rest)]
        seq = self._seq
        hits.sort(key=seq.__getitem__)
        if not getattr(where, "exact_terms", True):  # criteria terms cannot express
            hits = [i for i, e in zip(hits, self._entities(hits), strict=True) if where.matches(e)]
        return hits

    def _ids_with(self, term: str) -> Collection[str]:
        ids = self._by_term.get(term)
        if ids is None:
            return ()
        return (ids,) if type(ids) is str else ids

    def _ids_with_any(self, terms: list[str]) -> Collection[str]:
        if len(terms) == 1:
            return self._ids_with(terms[0])
        merged: dict[str, None] = {}
        for term in terms:
            merged.update(dict.fromkeys(self._ids_with(term)))
        return merged

    def _put(
        self, entity_id: str, old: Any, new: Any, new_terms: tuple[str, ...] | None = None
    ) -> tuple[str, ...]:
        """Store ``new`` in the place of ``old`` (re-indexed under ``new_terms``, its
        terms, computed here if not given); its terms."""
        old_terms = self._terms(old)
        if new_terms is None:
            new_terms = self._terms(new)
        if old_terms != new_terms:  # only the terms that changed: the others keep their place
            self._unindex(entity_id, tuple(t for t in old_terms if t not in new_terms))
            self._index(entity_id, tuple(t for t in new_terms if t not in old_terms))
        self._data[entity_id] = new
        return new_terms

    def _drop(self, entity_id: str) -> None:
        del self._seq[entity_id]
        self._unindex(entity_id, self._terms(self._data.pop(entity_id)))

    def _restore(self, entity: T, seq: int) -> None:
        entity_id: str = entity.id  # type: ignore[assignment]
        self._data[entity_id] = entity
        self._seq[entity_id] = seq
        self._index(entity_id, self._terms_of_entity(entity))
        if seq < self._next_seq - 1:  # put it back where it was
            ordered = sorted(self._data.items(), key=lambda kv: self._seq[kv[0]])
            self._data.clear()  # in place: readers hold the dict's bound lookup
            self._data.update(ordered)
