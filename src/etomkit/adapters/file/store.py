"""FileStore: every repository of the library on one crash-safe journal directory."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from etomkit import tmf
from etomkit._tmf_text import Unusual, stored_text
from etomkit.adapters.file import codec
from etomkit.adapters.file.journal import (
    DURABILITIES,
    Durability,
    FileJournal,
    RecordWrite,
    RecoveryReport,
    Source,
)
from etomkit.adapters.file.lazy import (
    _LAZY,
    FILE_REPOSITORIES,
    FileAuditRunRepository,
    FileClientRepository,
    FileFeasibilityAssessmentRepository,
    FileIssuanceRecordRepository,
    FileManualAuditRepository,
    FileOfferingRepository,
    FileProductRepository,
    FileResourceOrderRepository,
    FileResourceSpecificationRepository,
    SnapshotRows,
    _LazyRecords,
    intern_strings,
)
from etomkit.adapters.file.lock import WriterLock
from etomkit.adapters.memory import Write, _UnitOfWork
from etomkit.errors import StorageCorruptedError, StorageError, ValidationError
from etomkit.model._copy import replace
from etomkit.model.issuance import IssuanceRecord
from etomkit.ports import OrderingStore, Store

__all__ = ["FileStore", "verify"]

_REPOSITORIES: dict[str, type[_LazyRecords]] = {
    ns: cls for ns, (_, cls) in FILE_REPOSITORIES.items()
}


class _Decoder:
    """Turns a stored value (TMF JSON) back into an entity of one class."""

    __slots__ = ("cls", "source")

    def __init__(self, cls: type, source: Source) -> None:
        self.cls = cls
        self.source = source

    def __call__(self, offset: int, length: int, revision: int) -> Any:
        raw = self.source.value(offset, length)
        try:
            doc = intern_strings(json.loads(raw))  # repeated values shared, not copied
            entity: Any = tmf.from_json(self.cls, doc, limits=False)  # its own data
        except (ValueError, ValidationError) as exc:
            raise StorageError(
                f"{self.source.path}: value at byte {offset} does not decode: {exc}"
            ) from exc
        return replace(entity, revision=revision)


def _make_decoder(namespace: str, source: Source) -> _Decoder:
    repo = _REPOSITORIES.get(namespace)
    if repo is None:
        raise KeyError(f"unknown namespace {namespace!r}")
    return _Decoder(repo.entity_class, source)


def _encode(entity: Any) -> bytes:
    """An entity's stored value: its TMF JSON bytes (see :mod:`.codec`)."""
    record = type(entity) is IssuanceRecord
    # the same bytes, written without a document: faster than the standard library's
    # encoder always, and than orjson's but for a record (whose request orjson
    # encodes once and splices in)
    if not record or codec.dumps is codec.stdlib_dumps:
        value = stored_text(entity)
        if value is not None:
            return value
    if record:
        return _encode_record(entity)
    doc, floats = tmf._stored_doc(entity)
    return codec.dumps(doc, floats)


# An issuance record embeds its request (~4.5 kB of JSON), and a record rewritten
# (link_service) keeps the same request object: its bytes are encoded once and
# spliced into the record's, which are the same bytes as encoding it whole (JSON
# without whitespace nests by concatenation). Remembered by identity, pinned.
_REQUESTS: dict[int, tuple[Any, bytes]] = {}
_REQUESTS_KEPT = 256
_SPLICE = "\x00etomkit:request\x00"  # a placeholder no record of ours holds ...
_SPLICE_JSON = codec.stdlib_dumps(_SPLICE)


def _request_bytes(request: Any) -> bytes:
    hit = _REQUESTS.get(id(request))
    if hit is not None and hit[0] is request:
        return hit[1]
    doc, floats = tmf._stored_doc(request)
    value = codec.dumps(doc, floats)
    if len(_REQUESTS) >= _REQUESTS_KEPT:
        _REQUESTS.clear()
    _REQUESTS[id(request)] = (request, value)
    return value


def _encode_record(record: IssuanceRecord) -> bytes:
    request = _request_bytes(record.request)
    doc, floats = tmf._stored_doc(record)
    doc["request"] = _SPLICE  # a fresh dict: the record's own, not remembered
    value = codec.dumps(doc, floats)
    head, found, tail = value.partition(_SPLICE_JSON)
    if not found or _SPLICE_JSON in tail:  # ... unless one does: encode it whole
        doc["request"] = tmf._stored_doc(record.request)[0]
        return codec.dumps(doc, True)
    return b"".join((head, request, tail))


def _records(writes: Sequence[Write]) -> list[RecordWrite]:
    """The journal's records of ``writes``: what :func:`_encode` gives, with the text
    functions called here directly (no frames per value between them and the loop)."""
    functions = stored_text.functions or stored_text.build()
    records = codec.dumps is codec.stdlib_dumps  # else orjson's path for a record
    out: list[RecordWrite] = []
    add = out.append
    for ns, key, entity, terms in writes:
        if entity is None:
            add((ns, key, 0, (), None))
            continue
        cls = entity.__class__
        text = functions.get(cls)
        if text is not None and (records or cls is not IssuanceRecord):
            try:
                add((ns, key, entity.revision, terms, text(entity).encode()))
                continue
            except Unusual:
                pass
        add((ns, key, entity.revision, terms, _encode(entity)))
    return out


class _JournalUnit(_UnitOfWork):
    """A unit of work whose commits go to the journal as TMF JSON records."""

    def __init__(self, journal: FileJournal, after_commit: Callable[[], None]) -> None:
        super().__init__(self)
        self.file_journal = journal
        self.after_commit = after_commit

    def commit(self, writes: Sequence[Write]) -> None:
        """The end of a transaction block: one frame, fsynced in "batch" mode."""
        self.file_journal.commit(_records(writes), explicit=True)

    def written(self, write: Write, undo: Callable[[], None]) -> None:
        if self.depth:  # what the base class does in a transaction, without its frame
            self.undo.append(undo)
            self.pending.append(write)
            self.fresh += 1
            return
        try:
            self.file_journal.commit(_records((write,)), explicit=False)
        except BaseException:
            undo()
            raise
        self.committed(1)
        self.after_commit()

    def written_many(self, writes: Sequence[Write], undo: Callable[[], None]) -> None:
        if self.depth:
            super().written_many(writes, undo)
            return
        try:
            self.file_journal.commit(_records(writes), explicit=False)
        except BaseException:
            undo()
            raise
        self.committed(len(writes))
        self.after_commit()


class FileStore(Store, OrderingStore):
    """Every repository of the library in a directory: offerings and products
    (a ``Store``) and the resource order issuer's (an ``OrderingStore``).

    ``durability``: ``"always"`` fsyncs every commit before returning;
    ``"batch"`` fsyncs at the end of each ``transaction()`` block (group commit)
    and leaves single writes outside one in the OS until the next block,
    :meth:`flush` or :meth:`close` — they survive a process crash, not a power
    cut; ``"none"`` never fsyncs (tests, notebooks). One writer per directory
    (StoreLockedError for a second); ``read_only=True`` opens may share it.
    Compaction writes a snapshot when the journal outgrows ``compact_ratio``
    times the last snapshot (and ``compact_min_bytes``), or on :meth:`compact`.
    ``freeze_gc``: the garbage-collection policy of :class:`~etomkit.InMemoryStore`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability = "batch",
        read_only: bool = False,
        compact_ratio: float = 2.0,
        compact_min_bytes: int = 16 << 20,
        freeze_gc: bool = True,
    ) -> None:
        if durability not in DURABILITIES:
            allowed = ", ".join(DURABILITIES)
            raise ValidationError(
                "FileStore", [("durability", f"must be one of {allowed}, not {durability!r}")]
            )
        self.path = Path(path)
        if not read_only:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create store directory {self.path}: {exc}") from exc
        elif not self.path.is_dir():
            raise StorageError(f"{self.path} is not a store directory")
        self.read_only = read_only
        self.compact_ratio = compact_ratio
        self.compact_min_bytes = compact_min_bytes
        self.last_compaction_error: StorageError | None = None
        self._lock = None if read_only else WriterLock(str(self.path))
        try:
            self._journal = FileJournal(
                str(self.path),
                durability=durability,
                read_only=read_only,
                make_loader=_make_decoder,
            )
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self._unit = _JournalUnit(self._journal, self._maybe_compact)
        self._unit.freeze_gc = freeze_gc
        self.offerings = FileOfferingRepository(self._unit)
        self.products = FileProductRepository(self._unit)
        self.audit_runs = FileAuditRunRepository(self._unit)
        self.manual_audits = FileManualAuditRepository(self._unit)
        self.resource_orders = FileResourceOrderRepository(self._unit)
        self.issuance_records = FileIssuanceRecordRepository(self._unit)
        self.feasibility_assessments = FileFeasibilityAssessmentRepository(self._unit)
        self.resource_specifications = FileResourceSpecificationRepository(self._unit)
        self.clients = FileClientRepository(self._unit)
        self._repositories: dict[str, _LazyRecords] = {
            namespace: getattr(self, attribute)
            for namespace, (attribute, _) in FILE_REPOSITORIES.items()
        }
        gc_was_enabled = gc.isenabled()
        gc.disable()  # millions of acyclic objects: collecting them now is waste
        try:
            self._load_snapshot(self._journal.blocks)
            repositories = self._repositories
            for namespace, key, record in self._journal.ops:
                repositories[namespace].replay(key, record)
        except KeyError as exc:
            raise StorageCorruptedError(str(self.path), 0, f"unknown namespace {exc}") from None
        finally:
            if gc_was_enabled:
                gc.enable()
        self._journal.blocks, self._journal.ops = [], []  # the repositories own them now

    # ------------------------------------------------------------------ Store

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._unit.transaction():
            yield
        if not self._unit.depth:
            self._maybe_compact()

    def close(self) -> None:
        """fsync, close the journal and release the writer lock (idempotent)."""
        try:
            self._journal.close()
        except OSError as exc:
            raise StorageError(f"closing {self.path} failed: {exc}") from exc
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> FileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ upkeep

    @property
    def recovery_report(self) -> RecoveryReport:
        """What opening found: frames replayed, torn tails cut (see ``.clean``)."""
        return self._journal.report

    @property
    def durability(self) -> Durability:
        """The durability mode the store was opened with."""
        return self._journal.durability

    @property
    def journal_bytes(self) -> int:
        """Bytes of committed frames in the current journal (compaction empties it)."""
        return self._journal.journal_bytes

    @property
    def snapshot_bytes(self) -> int:
        """Size of the current snapshot (0 if none yet)."""
        return self._journal.snapshot_bytes

    def flush(self) -> None:
        """fsync now: makes single writes of a "batch" store power-safe.

        After any failed fsync this, and every commit, raises StorageError
        until the store is reopened (reopening reads back what is on disk).
        """
        self._journal.flush()

    def compact(self) -> None:
        """Write a snapshot of every live record and start a fresh journal."""
        with self._unit.lock:
            records: list[tuple[str, str, int, tuple[str, ...], bytes]] = []
            journal = self._journal
            committed = journal.committed_value
            decoded: dict[str, set[str]] = {}  # kept decoded: note where the snapshot has them
            mapped = journal.mapped()  # the values written since the last snapshot
            try:
                for namespace, repo in self._repositories.items():
                    kept = decoded[namespace] = set()
                    for key, value in repo.stored_items():
                        if type(value) in _LAZY:  # copied as stored, never decoded
                            revision, terms, raw = repo.raw_record(value)
                            records.append((namespace, key, revision, terms, raw))
                        else:  # the bytes the files hold of it, where they do, else encoded
                            terms = repo._terms_of_entity(value)
                            revision = value.revision
                            raw = committed(namespace, key, revision, mapped) or _encode(value)
                            records.append((namespace, key, revision, terms, raw))
                            kept.add(key)
            finally:
                if mapped is not None:
                    mapped.close()
            blocks = journal.write_snapshot(records)
            for block in blocks:
                journal.note_snapshot_values(block, decoded.get(block.namespace, set()))
            self._load_snapshot(blocks, compacted=True)

    def _load_snapshot(
        self, blocks: list[Any], *, compacted: bool = False
    ) -> list[tuple[_LazyRecords, SnapshotRows, list[tuple[str, int]]]]:
        """Give each repository the snapshot rows of its namespace."""
        source = self._journal.snapshot
        loaded: dict[str, tuple[_LazyRecords, SnapshotRows, list[tuple[str, int]]]] = {}
        for block in blocks:
            if block.namespace not in loaded:
                repo = self._repositories[block.namespace]
                rows = SnapshotRows(_Decoder(repo.entity_class, source))  # type: ignore[arg-type]
                loaded[block.namespace] = (repo, rows, [])
            repo, rows, key_rows = loaded[block.namespace]
            if compacted:  # re-point the repository's undecoded records at the new file
                base = rows.add_block(block)
                key_rows.extend(zip(block.keys, range(base, base + len(block.keys)), strict=True))
            else:  # opening: load the block whole
                repo.load_block(block, rows)
        for repo, rows, key_rows in loaded.values():
            if key_rows:
                repo.adopt_rows(rows, key_rows)
        return list(loaded.values())

    def _maybe_compact(self) -> None:
        journal = self._journal
        size = journal.journal_bytes
        if size > self.compact_min_bytes and size > self.compact_ratio * journal.snapshot_bytes:
            try:
                self.compact()
            except StorageError as exc:  # the commit itself succeeded; keep going
                self.last_compaction_error = exc


def verify(path: str | os.PathLike[str]) -> RecoveryReport:
    """Check a store's files (checksums, framing) without opening it for writing.

    Returns the report (``.clean`` is False if a torn tail would be cut on the
    next writable open); raises StorageCorruptedError for real corruption.
    """
    journal = FileJournal(str(path), durability="none", read_only=True)
    journal.close()
    return journal.report
