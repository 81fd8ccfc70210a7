"""Repositories of the FileStore: the in-memory ones, plus records decoded on first use.

Reopening a store does not decode its records. A repository holds, in place of
an entity, either a :class:`Pending` record (from the journal) or the row
number of a :class:`SnapshotRows` (from the snapshot), and decodes it the first
time it is read. Index terms come with the records, so queries work at once.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import itertools
import mmap
import operator
import sys
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from etomkit.adapters.memory import (
    InMemoryAuditRunRepository,
    InMemoryClientRepository,
    InMemoryFeasibilityAssessmentRepository,
    InMemoryIssuanceRecordRepository,
    InMemoryManualAuditRepository,
    InMemoryOfferingRepository,
    InMemoryProductRepository,
    InMemoryResourceOrderRepository,
    InMemoryResourceSpecificationRepository,
    _DictRepository,
)
from etomkit.errors import ValidationError

__all__ = [
    "FILE_REPOSITORIES",
    "FileOfferingRepository",
    "FileProductRepository",
    "Pending",
    "SnapshotRows",
    "intern_strings",
]


def intern_strings(doc: Any) -> Any:
    """``doc`` (parsed JSON) with each string value replaced by the interpreter's one
    copy of it (``sys.intern``): decoded entities kept in memory then share their
    repeated values (statuses, names, offering ids, roles, types) instead of each
    holding its own. Interned strings are freed with their last user."""
    stack = [doc]
    pop, push, intern = stack.pop, stack.append, sys.intern
    while stack:
        node = pop()
        pairs = node.items() if type(node) is dict else enumerate(node)
        for key, value in pairs:
            kind = type(value)
            if kind is str:
                node[key] = intern(value)
            elif kind is dict or kind is list:
                push(value)
    return doc


class Pending(NamedTuple):
    """A stored record not decoded yet: its revision, index terms and where it lies."""

    revision: int
    terms: tuple[str, ...]
    loader: Any  # loader(offset, length, revision) -> entity
    offset: int
    length: int

    def load(self) -> Any:
        """Decode the entity."""
        return self.loader(self.offset, self.length, self.revision)


class SnapshotRows:
    """Undecoded records of a durable store's snapshot, kept as its blocks' arrays.

    A repository holds the row number (an ``int``) in place of such a record;
    this turns it into its revision, index terms or a Pending record on demand.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader  # loader(offset, length, revision) -> entity
        self.blocks: list[Any] = []
        self.offsets: list[array.array[int]] = []
        self.bases: list[int] = []
        self.rows = 0

    def add_block(self, block: Any) -> int:
        """Take a snapshot block's rows on (C-level array work); return its first row."""
        base = self.rows
        self.blocks.append(block)
        self.offsets.append(
            array.array("Q", itertools.accumulate(block.lengths, initial=block.values_at))
        )
        self.bases.append(base)
        self.rows += len(block.keys)
        return base

    def _locate(self, row: int) -> tuple[Any, int, int]:
        b = bisect.bisect_right(self.bases, row) - 1
        return self.blocks[b], b, row - self.bases[b]

    def revision(self, row: int) -> int:
        block, _, r = self._locate(row)
        revision: int = block.revisions[r]
        return revision

    def row_terms(self, row: int) -> tuple[str, ...]:
        block, _, r = self._locate(row)
        ids = block.term_ids[block.term_starts[r] : block.term_starts[r + 1]]
        return tuple(map(block.terms.__getitem__, ids))

    def pending(self, row: int) -> Pending:
        block, b, r = self._locate(row)
        ids = block.term_ids[block.term_starts[r] : block.term_starts[r + 1]]
        terms = tuple(map(block.terms.__getitem__, ids))
        return Pending(block.revisions[r], terms, self.loader, self.offsets[b][r], block.lengths[r])


_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)
_RELEASE_EVERY = 16_384
"""Records a stream reads between two releases of the snapshot pages it mapped."""

_LAZY = frozenset({Pending, int})
"""Types of the values a repository holds for records not decoded yet."""


class _LazyRecords(_DictRepository[Any, Any]):
    """What a repository adds to hold undecoded records (mixed in before the memory one)."""

    _rows: SnapshotRows | None = None

    def reader(self) -> Any:
        """:meth:`get` itself: records may need decoding."""
        return self.get

    def get(self, entity_id: str) -> Any:
        value = super().get(entity_id)
        if type(value) in _LAZY:
            return self._decode(entity_id, value)
        return value

    def find(self, entity_id: str) -> Any:
        value: Any = super().find(entity_id)
        if type(value) in _LAZY:
            return self._decode(entity_id, value)
        return value

    def load_block(self, block: Any, rows: SnapshotRows) -> None:
        """Load a snapshot block into an empty repository (C-level: no loop per record)."""
        if self._rows is None:
            self._rows = rows
            self._release_pages()  # opening read (verified) the file: not needed resident
        base = rows.add_block(block)
        keys = block.keys
        n = len(keys)
        self._data.update(zip(keys, range(base, base + n), strict=True))
        self._seq.update(zip(keys, range(self._next_seq, self._next_seq + n), strict=True))
        self._next_seq += n
        # Index postings: terms carried by one record go in with one dict.update
        # (most of them: customers, order items); the others one dict each.
        by_term, terms = self._by_term, block.terms
        starts, postings = block.posting_starts, block.postings
        counts = list(map(operator.sub, starts[1:], starts[:-1]))
        single = [t for t, count in enumerate(counts) if count == 1]
        single_terms = list(map(terms.__getitem__, single))
        single_ids = list(
            map(keys.__getitem__, map(postings.__getitem__, map(starts.__getitem__, single)))
        )
        if by_term.keys().isdisjoint(single_terms):
            by_term.update(zip(single_terms, single_ids, strict=True))
        else:
            for term, entity_id in zip(single_terms, single_ids, strict=True):
                self._index(entity_id, (term,))
        for t, count in enumerate(counts):
            if count > 1:
                ids = dict.fromkeys(map(keys.__getitem__, postings[starts[t] : starts[t + 1]]))
                known = by_term.get(terms[t])
                if known is None:
                    by_term[terms[t]] = ids
                elif type(known) is str:
                    by_term[terms[t]] = {known: None, **ids}
                else:
                    known.update(ids)  # type: ignore[union-attr]

    def replay(self, entity_id: str, record: Pending | None) -> None:
        """Apply one journalled put (a Pending record) or removal (None), unjournalled."""
        data = self._data
        old = data.get(entity_id)
        if old is not None:
            self._unindex(entity_id, self._terms(old))
            if record is None:
                del data[entity_id]
                del self._seq[entity_id]
                return
        elif record is None:
            return
        else:
            self._seq[entity_id] = self._next_seq
            self._next_seq += 1
        data[entity_id] = record
        self._index(entity_id, record.terms)

    def adopt_rows(self, rows: SnapshotRows, key_rows: Iterable[tuple[str, int]]) -> None:
        """After compaction: undecoded records now live at these rows of a new snapshot."""
        data = self._data
        for entity_id, row in key_rows:
            if type(data.get(entity_id)) in _LAZY:
                data[entity_id] = row
        self._rows = rows

    def _decode(self, entity_id: str, value: Pending | int) -> Any:
        pending = self._pending(value)
        entity = pending.load()
        with self._unit.lock:
            if self._data.get(entity_id) is value:
                self._data[entity_id] = entity
        return entity

    def _pending(self, value: Pending | int) -> Pending:
        if isinstance(value, Pending):
            return value
        assert self._rows is not None
        return self._rows.pending(value)

    def raw_record(self, value: Pending | int) -> tuple[int, tuple[str, ...], bytes]:
        """``(revision, terms, stored value bytes)`` of an undecoded record."""
        pending = self._pending(value)
        return (
            pending.revision,
            pending.terms,
            pending.loader.source.value(pending.offset, pending.length),
        )

    def stream(self, where: Any = None, *, page_size: int = 1000) -> Iterator[Any]:
        """Every matching entity, as :meth:`iterate` gives them, decoding each record
        not decoded yet without keeping it: a full pass (audit, download) holds one
        page of decoded entities at a time; a later :meth:`get` decodes and keeps."""
        if type(page_size) is not int or page_size < 1:
            raise ValidationError("stream", [("page_size", "must be a positive integer")])
        return self._stream(where, page_size)

    def _stream(self, where: Any, page_size: int) -> Iterator[Any]:
        lock, data, lazy = self._unit.lock, self._data, _LAZY
        with lock:
            ids = self._matching_ids(where)
        release = _RELEASE_EVERY  # records read between two releases of the mapped pages
        for start in range(0, len(ids), page_size):
            with lock:  # decoded under the lock, as iterate does: compaction moves rows
                if release >= _RELEASE_EVERY:
                    release = 0
                    self._release_pages()
                values = [data.get(i) for i in ids[start : start + page_size]]
                page = [
                    self._pending(v).load() if type(v) in lazy else v
                    for v in values
                    if v is not None
                ]
            release += len(page)
            yield from page

    def _release_pages(self) -> None:
        """Unmap the snapshot pages read so far from this process (Linux): the OS page
        cache keeps them and a later read maps them again, but a full pass no longer
        holds the whole file resident in the process."""
        source = getattr(getattr(self._rows, "loader", None), "source", None)
        mapped = getattr(source, "data", None)
        if isinstance(mapped, mmap.mmap) and _DONTNEED is not None:
            with contextlib.suppress(OSError, ValueError):  # closed, or not supported here
                mapped.madvise(_DONTNEED)

    def _entities(self, ids: Iterable[str]) -> list[Any]:
        data = self._data
        out: list[Any] = []
        for i in ids:
            value = data[i]
            out.append(self._decode(i, value) if type(value) in _LAZY else value)
        return out

    def _terms(self, value: Any) -> tuple[str, ...]:
        if type(value) is int:
            assert self._rows is not None
            return self._rows.row_terms(value)
        if isinstance(value, Pending):
            return value.terms
        return self._terms_of_entity(value)

    def _revision(self, value: Any) -> int:
        if type(value) is int:
            assert self._rows is not None
            return self._rows.revision(value)
        revision: int = value.revision
        return revision


class FileOfferingRepository(_LazyRecords, InMemoryOfferingRepository):
    """Offerings of a FileStore."""


class FileProductRepository(_LazyRecords, InMemoryProductRepository):
    """Products of a FileStore."""


class FileResourceOrderRepository(_LazyRecords, InMemoryResourceOrderRepository):
    """Resource orders of a FileStore."""


class FileIssuanceRecordRepository(_LazyRecords, InMemoryIssuanceRecordRepository):
    """Issuance records of a FileStore."""


class FileFeasibilityAssessmentRepository(_LazyRecords, InMemoryFeasibilityAssessmentRepository):
    """Feasibility assessments of a FileStore."""


class FileResourceSpecificationRepository(_LazyRecords, InMemoryResourceSpecificationRepository):
    """Resource specifications of a FileStore."""


class FileAuditRunRepository(_LazyRecords, InMemoryAuditRunRepository):
    """Audit runs of a FileStore (issue #6)."""


class FileManualAuditRepository(_LazyRecords, InMemoryManualAuditRepository):
    """Manual audits of a FileStore (issue #6)."""


class FileClientRepository(_LazyRecords, InMemoryClientRepository):
    """Client registrations of a FileStore."""


#: Every repository a FileStore holds, by journal namespace (the store's attribute
#: names are the values' ``store_attribute``).
FILE_REPOSITORIES: dict[str, tuple[str, type[_LazyRecords]]] = {
    cls.namespace: (attribute, cls)
    for attribute, cls in (
        ("offerings", FileOfferingRepository),
        ("products", FileProductRepository),
        ("resource_orders", FileResourceOrderRepository),
        ("issuance_records", FileIssuanceRecordRepository),
        ("feasibility_assessments", FileFeasibilityAssessmentRepository),
        ("resource_specifications", FileResourceSpecificationRepository),
        ("clients", FileClientRepository),
        ("audit_runs", FileAuditRunRepository),
        ("manual_audits", FileManualAuditRepository),
    )
}
