"""The durable keyed-record layer under FileStore: snapshot + append-only journal.

One directory holds ``snapshot-<gen>.dat`` (all live records, written
atomically) and ``journal-<gen>.log`` (every commit since), in the frame
format of :mod:`etomkit.adapters.file.format`. Reopening maps the files,
reads the snapshot's column-wise blocks and the journal's operations (values
stay in the mapped files until first read) and cuts a torn tail. The layer
knows nothing of entities: records are ``(namespace, key, revision, terms, value bytes)``.
"""

from __future__ import annotations

import gc
import mmap
import os
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Literal

import attrs

from etomkit.adapters.file.format import (
    DELETE,
    HEADER,
    OP,
    PUT,
    TERM_SEP,
    Block,
    TornTailError,
    blocks_of,
    decode_block,
    decode_header,
    encode_block,
    encode_header,
    encode_ops_frame,
    frame_head,
    scan_frames,
)
from etomkit.adapters.file.lazy import Pending
from etomkit.errors import StorageCorruptedError, StorageError

__all__ = ["Durability", "FileJournal", "RecordWrite", "RecoveryReport", "Source", "TornTailCut"]

Durability = Literal["always", "batch", "none"]
DURABILITIES: tuple[str, ...] = ("always", "batch", "none")
RecordWrite = tuple[str, str, int, tuple[str, ...], bytes | None]
"""``(namespace, key, revision, terms, value)``; value None removes the key."""

_FILE = re.compile(r"^(snapshot|journal)-(\d+)\.(dat|log)$")
_SNAPSHOT_BLOCK_BYTES = 256 << 20  # values per snapshot block (one frame each)
_PREALLOCATE = 4 << 20  # journal space reserved at a time, so commits need only fdatasync
_ZEROS = memoryview(bytes(_PREALLOCATE))

# Indirections so tests can inject disk faults (ENOSPC, EIO) without mocking os.
_write = os.pwrite
_fsync = os.fsync
_fdatasync = os.fdatasync


@attrs.frozen
class TornTailCut:
    """A torn tail found on open: where, how many bytes, and why."""

    path: str
    offset: int
    bytes_cut: int
    reason: str


@attrs.frozen
class RecoveryReport:
    """What opening a store found: frames replayed and any torn tail cut off."""

    frames: int = 0
    records: int = 0
    torn_tails: tuple[TornTailCut, ...] = ()
    removed_files: tuple[str, ...] = ()
    truncated: bool = True  # False for read-only opens: the tail was ignored, not cut

    @property
    def clean(self) -> bool:
        """True if nothing had to be cut or ignored."""
        return not self.torn_tails

    def __str__(self) -> str:
        lines = [f"replayed {self.frames} frames, {self.records} live records"]
        verb = "cut" if self.truncated else "ignored (read-only)"
        lines += [
            f"torn tail {verb}: {t.path} at byte {t.offset} ({t.bytes_cut} bytes: {t.reason})"
            for t in self.torn_tails
        ]
        return "\n".join(lines)


class Source:
    """A read-only memory map of one store file; values are sliced out of it."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            self.data: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def value(self, offset: int, length: int) -> bytes:
        """The ``length`` bytes at ``offset``."""
        return bytes(self.data[offset : offset + length])

    def close(self) -> None:
        if isinstance(self.data, mmap.mmap):
            self.data.close()


LoaderFactory = Callable[[str, Source], Any]
"""``(namespace, source) -> loader`` for the Pending records replay creates."""


def _source_as_loader(_namespace: str, source: Source) -> Source:
    return source


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        _fsync(fd)
    finally:
        os.close(fd)


class FileJournal:
    """Opens (recovering) a store directory and appends committed transactions."""

    def __init__(
        self,
        directory: str,
        *,
        durability: Durability,
        read_only: bool,
        make_loader: LoaderFactory | None = None,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be one of {DURABILITIES}, not {durability!r}")
        self.directory = directory
        self.durability = durability
        self.read_only = read_only
        self._make_loader = make_loader or _source_as_loader
        self._fd: int | None = None
        self._size = 0  # end of the last frame
        self._allocated = 0  # file size (zeros past _size)
        self._snapshot_size = 0
        self._unsynced = False
        # Set by a failed fsync: the kernel may have dropped the unsynced pages and a
        # later fsync would report success for them ("fsyncgate"). Only reopening,
        # which reads the journal back from disk, clears it.
        self._sync_failure: str | None = None
        self.generation = 0
        self.sources: list[Source] = []
        self.snapshot: Source | None = None
        self.blocks: list[Block] = []  # the snapshot's records, column-wise
        self.ops: list[tuple[str, str, Pending | None]] = []  # the journal's, in order
        # namespace -> key -> where the files hold its last committed value:
        # offset << 65 | in_snapshot << 64 | length << 32 | revision (committed_value)
        self._written: dict[str, dict[str, int]] = {}
        self.report = RecoveryReport()
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening

    def _open(self) -> None:
        try:
            names = os.listdir(self.directory)
        except OSError as exc:
            raise StorageError(f"cannot list {self.directory}: {exc}") from exc
        found: dict[tuple[str, int], str] = {}
        for name in names:
            m = _FILE.match(name)
            if m:
                found[(m[1], int(m[2]))] = name
        generation = self.generation = max((g for _, g in found), default=0)
        snapshot = found.get(("snapshot", generation))
        journal = found.get(("journal", generation))
        if generation and snapshot is None:
            path = os.path.join(self.directory, journal or "")
            raise StorageCorruptedError(path, 0, f"snapshot-{generation}.dat is missing")
        frames = 0
        torn: list[TornTailCut] = []
        if snapshot is not None:
            path = os.path.join(self.directory, snapshot)
            frames += self._replay(path, b"S", torn)
            self._snapshot_size = os.path.getsize(path)
        journal_path = os.path.join(self.directory, f"journal-{generation}.log")
        if journal is not None:
            frames += self._replay(journal_path, b"J", torn)
        removed: list[str] = []
        if not self.read_only:
            removed = self._remove_stale(names, generation)
            self._open_for_append(journal_path, exists=journal is not None, torn=bool(torn))
        records = self._live_records()
        self.report = RecoveryReport(
            frames, records, tuple(torn), tuple(removed), not self.read_only
        )

    def _live_records(self) -> int:
        if not self.ops:
            return sum(len(b.keys) for b in self.blocks)
        live = {(b.namespace, key) for b in self.blocks for key in b.keys}
        for namespace, key, record in self.ops:
            if record is None:
                live.discard((namespace, key))
            else:
                live.add((namespace, key))
        return len(live)

    def _replay(self, path: str, kind: bytes, torn: list[TornTailCut]) -> int:
        try:
            source = Source(path)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc
        self.sources.append(source)
        if kind == b"S":
            self.snapshot = source
        data = source.data
        if kind == b"J" and len(data) < HEADER.size:  # crashed while creating it
            if len(data):
                torn.append(TornTailCut(path, 0, len(data), "incomplete header"))
            return 0
        try:
            found_kind, generation = decode_header(data, path)
        except ValueError as exc:
            raise StorageCorruptedError(path, 0, str(exc)) from None
        if found_kind != kind or generation != self.generation:
            raise StorageCorruptedError(
                path, 0, f"header says {found_kind!r} generation {generation}"
            )
        frames = 0
        log_end = HEADER.size
        gc_was_enabled = gc.isenabled()
        gc.disable()  # replay makes millions of acyclic objects; collecting them is waste
        try:
            for offset, length in scan_frames(data, HEADER.size):
                frames += 1
                if kind == b"S":
                    self.blocks.append(decode_block(data, offset, length))
                else:
                    self._apply_frame(source, offset, length)
                log_end = offset + length
        except TornTailError as tail:
            if kind == b"S":
                raise StorageCorruptedError(
                    path, tail.offset, f"snapshot ends early: {tail.reason}"
                ) from None
            torn.append(TornTailCut(path, tail.offset, len(data) - tail.offset, tail.reason))
            self._size = tail.offset
            return frames
        except (ValueError, UnicodeDecodeError, KeyError, IndexError) as exc:
            raise StorageCorruptedError(path, _offset_in(str(exc)), str(exc)) from None
        finally:
            if gc_was_enabled:
                gc.enable()
        self._size = log_end  # preallocated zeros may follow
        return frames

    def _apply_frame(self, source: Source, offset: int, length: int) -> None:
        data, ops = source.data, self.ops
        loaders: dict[str, Any] = {}
        unpack, size, sep, new = OP.unpack_from, OP.size, TERM_SEP, tuple.__new__
        pos, end = offset, offset + length
        while pos < end:
            kind, meta_len, revision, value_len = unpack(data, pos)
            pos += size
            namespace, key, *terms = data[pos : pos + meta_len].decode().split(sep)
            pos += meta_len
            if kind == PUT:
                loader = loaders.get(namespace)
                if loader is None:
                    loader = loaders[namespace] = self._make_loader(namespace, source)
                record = new(Pending, (revision, tuple(terms), loader, pos, value_len))
                ops.append((namespace, key, record))
                self._note(namespace, key, pos, value_len, revision)
            elif kind == DELETE:
                ops.append((namespace, key, None))
                self._written.get(namespace, {}).pop(key, None)
            else:
                raise ValueError(f"unknown operation {kind} in frame at byte {offset}")
            pos += value_len
        if pos != end:
            raise ValueError(f"operation overruns its frame at byte {offset}")

    def _remove_stale(self, names: Iterable[str], generation: int) -> list[str]:
        removed = []
        for name in names:
            m = _FILE.match(name)
            if name.endswith(".tmp") or (m and int(m[2]) < generation):
                try:
                    os.remove(os.path.join(self.directory, name))
                except OSError as exc:
                    raise StorageError(f"cannot remove stale {name}: {exc}") from exc
                removed.append(name)
        if removed:
            _fsync_dir(self.directory)
        return removed

    def _open_for_append(self, path: str, *, exists: bool, torn: bool) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            self._fd = fd
            if not exists or os.fstat(fd).st_size < HEADER.size:
                os.ftruncate(fd, 0)
                os.pwrite(fd, encode_header(b"J", self.generation), 0)
                _fsync(fd)
                _fsync_dir(self.directory)
                self._size = HEADER.size
            elif torn:  # zero the torn tail, keep the space
                tail = os.fstat(fd).st_size - self._size
                os.pwrite(fd, bytes(tail), self._size)
                _fsync(fd)
            self._allocated = os.fstat(fd).st_size
        except OSError as exc:
            raise StorageError(f"cannot open {path} for writing: {exc}") from exc

    # ------------------------------------------------------------------ writing

    @property
    def _state_word(self) -> str:
        return "read-only" if self.read_only else "closed"

    @property
    def journal_bytes(self) -> int:
        """Bytes of frames in the current journal."""
        return self._size

    @property
    def snapshot_bytes(self) -> int:
        """Size of the current snapshot file (0 if none)."""
        return self._snapshot_size

    def commit(self, writes: Sequence[RecordWrite], *, explicit: bool = True) -> None:
        """Append one transaction as one frame; fsync per the durability mode.

        ``explicit`` is False for a single write outside a transaction block
        (which "batch" durability does not fsync). Raises StorageError and
        leaves the journal as before if the disk refuses.
        """
        if self._fd is None:
            raise StorageError(f"{self.directory} is {self._state_word}; nothing was written")
        self._check_not_failed("nothing was written")
        if not writes:
            return
        frame, ends = encode_ops_frame(writes)
        durability = self.durability
        at = self._size  # where the frame lands
        self._append(frame, sync=durability == "always" or (explicit and durability == "batch"))
        written, namespace = self._written, None
        where: dict[str, int] = {}
        for end, (ns, key, rev, _, value) in zip(ends, writes, strict=True):
            if ns is not namespace:  # a frame's writes run namespace by namespace
                namespace, where = ns, written.setdefault(ns, {})
            if value is None:
                where.pop(key, None)
                continue
            length = len(value)  # what _note packs, without a call per record
            if 0 <= rev < 1 << 32 and length < 1 << 32:
                where[key] = (at + end - length) << 65 | length << 32 | rev
            else:
                where.pop(key, None)

    def _note(
        self,
        namespace: str,
        key: str,
        offset: int,
        length: int,
        revision: int,
        in_snapshot: bool = False,
    ) -> None:
        where = self._written.get(namespace)
        if where is None:
            where = self._written[namespace] = {}
        if 0 <= revision < 1 << 32 and length < 1 << 32:
            where[key] = (offset << 1 | in_snapshot) << 64 | length << 32 | revision
        else:
            where.pop(key, None)

    def note_snapshot_values(self, block: Block, wanted: Collection[str]) -> None:
        """Remember where the current snapshot's ``block`` holds the values of the
        keys in ``wanted`` (entities the store keeps decoded: the next compaction
        copies them from here instead of encoding them again)."""
        if not wanted:
            return
        at = block.values_at
        where = self._written.setdefault(block.namespace, {})
        for key, revision, length in zip(block.keys, block.revisions, block.lengths, strict=True):
            if key in wanted:  # what _note(..., in_snapshot=True) does, one call less
                if 0 <= revision < 1 << 32 and length < 1 << 32:
                    where[key] = (at << 1 | 1) << 64 | length << 32 | revision
                else:
                    where.pop(key, None)
            at += length

    def committed_value(
        self, namespace: str, key: str, revision: int, journal: Any = None
    ) -> bytes | None:
        """The bytes the store's files hold as the last committed value of ``key``
        if it is at ``revision`` (the current journal's, or the current
        snapshot's for a record noted by :meth:`note_snapshot_values`): a
        compaction copies them instead of encoding the entity again. Else None.
        ``journal``: the journal's bytes read so far (:meth:`mapped`), else one pread."""
        packed = self._written.get(namespace, {}).get(key)
        if packed is None or packed & 0xFFFFFFFF != revision or self._fd is None:
            return None
        length, where = packed >> 32 & 0xFFFFFFFF, packed >> 64
        if where & 1:
            snapshot = self.snapshot
            return None if snapshot is None else snapshot.value(where >> 1, length)
        at = where >> 1
        if journal is not None and at + length <= len(journal):
            return journal[at : at + length]  # type: ignore[no-any-return]
        value = os.pread(self._fd, length, at)
        return value if len(value) == length else None

    def mapped(self) -> mmap.mmap | None:
        """The journal's frames as a read-only map (the caller closes it; None if
        empty or closed): a compaction reads its values from it, not one pread each."""
        if self._fd is None or self._size <= HEADER.size:
            return None
        return mmap.mmap(self._fd, self._size, access=mmap.ACCESS_READ)

    def _append(self, frame: bytes | bytearray, *, sync: bool) -> None:
        fd = self._fd
        assert fd is not None
        good = self._size
        end = good + len(frame)
        try:
            grew = end > self._allocated
            if grew:
                self._preallocate(fd, end)
            view = memoryview(frame)
            at = good
            while view:
                written = _write(fd, view, at)
                view, at = view[written:], at + written
            if sync:  # fsync covers earlier unsynced commits too: it is per file
                try:
                    (_fsync if grew else _fdatasync)(fd)
                except OSError as exc:
                    self._sync_failed(exc)
                    raise
                self._unsynced = False
            elif self.durability != "none":
                self._unsynced = True
        except OSError as exc:
            self._undo_append(good, end)
            raise StorageError(
                f"write to {self.directory} failed, nothing was stored: {exc}"
            ) from exc
        self._size = end

    def _preallocate(self, fd: int, needed: int) -> None:
        size = max(needed, self._allocated + _PREALLOCATE)
        at = self._allocated
        while at < size:  # from one buffer of zeros, not a new one each time (faulted in)
            at += _write(fd, _ZEROS[: min(size - at, _PREALLOCATE)], at)
        self._allocated = size

    def _undo_append(self, good: int, end: int) -> None:
        fd = self._fd
        assert fd is not None
        try:  # zero whatever part of the frame reached the file
            span = min(end, os.fstat(fd).st_size) - good
            if span > 0:
                os.pwrite(fd, bytes(span), good)
        except OSError:
            # The file may end in a partial frame; reopening cuts it as a torn
            # tail. Refuse further writes so that none lands after it.
            os.close(fd)
            self._fd = None

    def flush(self) -> None:
        """fsync the journal now (commits in "batch" mode outside transactions).

        After a failed fsync every later flush and commit raises StorageError
        until the store is reopened: a retried fsync may report success for
        pages the kernel already dropped.
        """
        if self._fd is None:
            return
        self._check_not_failed("nothing was synced")
        if self._unsynced:
            try:
                _fsync(self._fd)
            except OSError as exc:
                self._sync_failed(exc)
                raise StorageError(
                    f"fsync of {self.directory} failed: {exc}; writes since the last "
                    "successful sync may be lost: reopen the store"
                ) from exc
            self._unsynced = False

    def _sync_failed(self, exc: OSError) -> None:
        self._sync_failure = str(exc)

    def _check_not_failed(self, what: str) -> None:
        if self._sync_failure is not None:
            raise StorageError(
                f"{self.directory}: an earlier fsync failed ({self._sync_failure}), so writes "
                f"since the last successful sync may not be on disk; {what}. Reopen the "
                "store: opening reads back what the journal holds"
            )

    # ------------------------------------------------------------------ compaction

    def write_snapshot(
        self, records: Iterable[tuple[str, str, int, tuple[str, ...], bytes]]
    ) -> list[Block]:
        """Write every live record as ``snapshot-<gen+1>`` and start ``journal-<gen+1>``.

        ``records`` are ``(namespace, key, revision, terms, value)``, grouped by
        namespace, in insertion order. Atomic: temp file, fsync, rename,
        directory fsync. Returns the new snapshot's blocks (values now in it).
        """
        if self._fd is None:
            raise StorageError(f"{self.directory} is {self._state_word}")
        self._check_not_failed("no snapshot was written")
        generation = self.generation + 1
        final = os.path.join(self.directory, f"snapshot-{generation}.dat")
        temp = final + ".tmp"
        journal = os.path.join(self.directory, f"journal-{generation}.log")
        replaced = False
        try:
            with open(temp, "wb") as f:
                f.write(encode_header(b"S", generation))
                for namespace, rows in blocks_of(records, _SNAPSHOT_BLOCK_BYTES):
                    payload = encode_block(namespace, rows)
                    f.write(frame_head(payload))  # not joined: a block holds 256 MB
                    f.write(payload)
                f.flush()
                _fsync(f.fileno())
            os.replace(temp, final)
            replaced = True
            _fsync_dir(self.directory)
            fd = os.open(journal, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.pwrite(fd, encode_header(b"J", generation), 0)
                _fsync(fd)
            except OSError:
                os.close(fd)
                raise
            _fsync_dir(self.directory)
        except OSError as exc:
            if replaced:  # the new snapshot is in place: what is on disk is unknown
                self._sync_failed(exc)
                raise StorageError(
                    f"snapshot of {self.directory} failed after it was renamed into place: "
                    f"{exc}; reopen the store"
                ) from exc
            if os.path.exists(temp):
                os.remove(temp)
            raise StorageError(
                f"snapshot of {self.directory} failed, the store is unchanged: {exc}"
            ) from exc
        old_fd, old_generation = self._fd, self.generation
        self._fd, self.generation = fd, generation
        self._written = {}  # the new journal holds nothing yet
        self._size = self._allocated = HEADER.size
        self._unsynced = False
        os.close(old_fd)
        for name in (f"snapshot-{old_generation}.dat", f"journal-{old_generation}.log"):
            path = os.path.join(self.directory, name)
            if os.path.exists(path):
                os.remove(path)
        _fsync_dir(self.directory)
        source = self.snapshot = Source(final)
        self.sources.append(source)
        self._snapshot_size = len(source.data)
        return [
            decode_block(source.data, offset, length)
            for offset, length in scan_frames(source.data, HEADER.size)
        ]

    def close(self) -> None:
        """fsync (unless durability is "none"), close the journal and unmap the files."""
        try:
            if self._fd is not None and self.durability != "none" and self._sync_failure is None:
                _fsync(self._fd)  # after a failed fsync another proves nothing: just close
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            for source in self.sources:
                source.close()
            self.sources.clear()


def _offset_in(message: str) -> int:
    m = re.search(r"byte (\d+)", message)
    return int(m[1]) if m else 0
