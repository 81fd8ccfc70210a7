"""The durable keyed-record layer under FileStore: snapshot + append-only journal.

One directory holds ``snapshot-<gen>.dat`` (all live records, written
atomically) and ``journal-<gen>.log`` (every commit since), in the frame
format of :mod:`etomkit.adapters.file.format`. Reopening loads the snapshot
and replays the journal; values stay on disk (memory-mapped) until first read.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import attrs

from etomkit.adapters.file.format import (
    DELETE,
    HEADER,
    PUT,
    TornTailError,
    decode_header,
    encode_frame,
    encode_header,
    encode_op,
    iter_ops,
    scan_frames,
)
from etomkit.errors import StorageCorruptedError, StorageError

__all__ = ["Durability", "FileJournal", "Record", "RecoveryReport", "TornTailCut"]

Durability = Literal["always", "batch", "none"]
DURABILITIES: tuple[str, ...] = ("always", "batch", "none")
_FILE = re.compile(r"^(snapshot|journal)-(\d+)\.(dat|log)$")
_SNAPSHOT_FRAME_BYTES = 1 << 20

# Indirections so tests can inject disk faults (ENOSPC, EIO) without mocks of os.
_write = os.write
_fsync = os.fsync


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

    def close(self) -> None:
        if isinstance(self.data, mmap.mmap):
            self.data.close()

    def value(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset : offset + length])


@attrs.define(slots=True)
class Record:
    """A live record as replayed: revision, index terms and where its value lies."""

    revision: int
    terms: tuple[str, ...]
    source: Source | None
    offset: int
    length: int
    value: bytes | None = None  # set instead of source for records written this session

    def raw(self) -> bytes:
        if self.value is not None:
            return self.value
        assert self.source is not None
        return self.source.value(self.offset, self.length)


Encoder = Callable[[str, Any], tuple[bytes, tuple[str, ...]]]
"""``(namespace, entity) -> (value bytes, index terms)``."""


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
        encode: Encoder,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be one of {DURABILITIES}, not {durability!r}")
        self.directory = directory
        self.durability = durability
        self.read_only = read_only
        self._encode = encode
        self._fd: int | None = None
        self._size = 0
        self._snapshot_size = 0
        self._unsynced = False
        self.generation = 0
        self.sources: list[Source] = []
        self.state: dict[str, dict[str, Record]] = {}
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
        generation = max((g for _, g in found), default=0)
        self.generation = generation
        snapshot = found.get(("snapshot", generation))
        journal = found.get(("journal", generation))
        if generation and snapshot is None:
            path = os.path.join(self.directory, journal or "")
            raise StorageCorruptedError(path, 0, f"snapshot-{generation}.dat is missing")
        frames = 0
        torn: list[TornTailCut] = []
        if snapshot is not None:
            frames += self._replay(os.path.join(self.directory, snapshot), b"S", torn)
            self._snapshot_size = os.path.getsize(os.path.join(self.directory, snapshot))
        journal_path = os.path.join(self.directory, f"journal-{generation}.log")
        if journal is not None:
            frames += self._replay(journal_path, b"J", torn)
        removed: list[str] = []
        if not self.read_only:
            removed = self._remove_stale(names, generation)
            self._open_for_append(journal_path, exists=journal is not None, torn=torn)
        records = sum(len(v) for v in self.state.values())
        self.report = RecoveryReport(
            frames, records, tuple(torn), tuple(removed), not self.read_only
        )

    def _replay(self, path: str, kind: bytes, torn: list[TornTailCut]) -> int:
        try:
            source = Source(path)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc
        self.sources.append(source)
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
        state = self.state
        try:
            for offset, length in scan_frames(data, HEADER.size):
                frames += 1
                for op, namespace, key, revision, terms, at, size in iter_ops(data, offset, length):
                    records = state.get(namespace)
                    if records is None:
                        records = state[namespace] = {}
                    if op == PUT:
                        records[key] = Record(revision, terms, source, at, size)
                    elif op == DELETE:
                        records.pop(key, None)
                    else:
                        raise ValueError(f"unknown operation {op} in frame at byte {offset}")
        except TornTailError as tail:
            if kind == b"S":
                raise StorageCorruptedError(
                    path, tail.offset, f"snapshot ends early: {tail.reason}"
                ) from None
            torn.append(TornTailCut(path, tail.offset, len(data) - tail.offset, tail.reason))
            self._size = tail.offset
            return frames
        except (ValueError, UnicodeDecodeError) as exc:
            raise StorageCorruptedError(path, _offset_in(str(exc)), str(exc)) from None
        self._size = len(data)
        return frames

    def _remove_stale(self, names: Iterable[str], generation: int) -> list[str]:
        removed = []
        for name in names:
            m = _FILE.match(name)
            if name.endswith(".tmp") or (m and int(m[2]) < generation):
                try:
                    os.remove(os.path.join(self.directory, name))
                    removed.append(name)
                except OSError as exc:
                    raise StorageError(f"cannot remove stale {name}: {exc}") from exc
        if removed:
            _fsync_dir(self.directory)
        return removed

    def _open_for_append(self, path: str, *, exists: bool, torn: list[TornTailCut]) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if not exists or os.fstat(fd).st_size < HEADER.size:
                os.ftruncate(fd, 0)
                os.write(fd, encode_header(b"J", self.generation))
                _fsync(fd)
                _fsync_dir(self.directory)
                self._size = HEADER.size
            elif torn:
                os.ftruncate(fd, self._size)  # cut the torn tail off
                _fsync(fd)
            os.lseek(fd, self._size, os.SEEK_SET)
        except OSError as exc:
            raise StorageError(f"cannot open {path} for writing: {exc}") from exc
        self._fd = fd

    # ------------------------------------------------------------------ writing

    @property
    def _state_word(self) -> str:
        return "read-only" if self.read_only else "closed"

    @property
    def journal_bytes(self) -> int:
        """Size of the current journal file."""
        return self._size

    @property
    def snapshot_bytes(self) -> int:
        """Size of the current snapshot file (0 if none)."""
        return self._snapshot_size

    def commit(self, writes: Sequence[tuple[str, str, Any]], *, explicit: bool = True) -> None:
        """Append one transaction as one frame; fsync per the durability mode.

        Raises StorageError and leaves the file as before if the disk refuses.
        """
        if self._fd is None:
            raise StorageError(f"{self.directory} is {self._state_word}; nothing was written")
        parts = []
        encode = self._encode
        for namespace, key, entity in writes:
            if entity is None:
                parts.append(encode_op(DELETE, namespace, key, 0, (), b""))
            else:
                value, terms = encode(namespace, entity)
                parts.append(encode_op(PUT, namespace, key, entity.revision, terms, value))
        frame = encode_frame(b"".join(parts))
        self._append(
            frame, sync=self.durability == "always" or (explicit and self.durability == "batch")
        )

    def _append(self, frame: bytes, *, sync: bool) -> None:
        fd = self._fd
        assert fd is not None
        good = self._size
        try:
            view = memoryview(frame)
            while view:
                written = _write(fd, view)
                view = view[written:]
            if sync:  # also covers earlier unsynced commits: fsync is per file
                _fsync(fd)
                self._unsynced = False
            elif self.durability != "none":
                self._unsynced = True
        except OSError as exc:
            self._undo_append(good)
            raise StorageError(
                f"write to {self.directory} failed, nothing was stored: {exc}"
            ) from exc
        self._size = good + len(frame)

    def _undo_append(self, good: int) -> None:
        fd = self._fd
        assert fd is not None
        try:
            os.ftruncate(fd, good)
            os.lseek(fd, good, os.SEEK_SET)
        except OSError:
            # The file may now end in a partial frame; reopening cuts it as a
            # torn tail. Refuse further writes so none lands after it.
            os.close(fd)
            self._fd = None

    def flush(self) -> None:
        """fsync the journal now (commits in "batch" mode outside transactions)."""
        if self._fd is not None and self._unsynced:
            try:
                _fsync(self._fd)
            except OSError as exc:
                raise StorageError(f"fsync of {self.directory} failed: {exc}") from exc
            self._unsynced = False

    # ------------------------------------------------------------------ compaction

    def write_snapshot(
        self, records: Iterable[tuple[str, str, int, tuple[str, ...], bytes]]
    ) -> list[tuple[int, int]]:
        """Write every live record as ``snapshot-<gen+1>`` and start ``journal-<gen+1>``.

        ``records`` are ``(namespace, key, revision, terms, value)`` in insertion
        order. Atomic: temp file, fsync, rename, directory fsync. Returns each
        record's ``(offset, length)`` of its value in the new snapshot.
        """
        if self._fd is None:
            raise StorageError(f"{self.directory} is {self._state_word}")
        generation = self.generation + 1
        final = os.path.join(self.directory, f"snapshot-{generation}.dat")
        temp = final + ".tmp"
        locations: list[tuple[int, int]] = []
        try:
            with open(temp, "wb") as f:
                f.write(encode_header(b"S", generation))
                pos = HEADER.size
                parts: list[bytes] = []
                size = 0
                frame_start_locations: list[tuple[int, int]] = []
                for namespace, key, revision, terms, value in records:
                    op = encode_op(PUT, namespace, key, revision, terms, value)
                    frame_start_locations.append((size + len(op) - len(value), len(value)))
                    parts.append(op)
                    size += len(op)
                    if size >= _SNAPSHOT_FRAME_BYTES:
                        pos = self._snapshot_frame(f, parts, pos, frame_start_locations, locations)
                        parts, size, frame_start_locations = [], 0, []
                if parts:
                    pos = self._snapshot_frame(f, parts, pos, frame_start_locations, locations)
                f.flush()
                _fsync(f.fileno())
            os.replace(temp, final)
            _fsync_dir(self.directory)
            journal = os.path.join(self.directory, f"journal-{generation}.log")
            fd = os.open(journal, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, encode_header(b"J", generation))
            _fsync(fd)
            _fsync_dir(self.directory)
        except OSError as exc:
            for path in (temp,):
                if os.path.exists(path):
                    os.remove(path)
            raise StorageError(
                f"snapshot of {self.directory} failed, the store is unchanged: {exc}"
            ) from exc
        old_fd, old_generation = self._fd, self.generation
        self._fd, self.generation = fd, generation
        self._size, self._snapshot_size, self._unsynced = HEADER.size, pos, False
        os.close(old_fd)
        for name in (f"snapshot-{old_generation}.dat", f"journal-{old_generation}.log"):
            path = os.path.join(self.directory, name)
            if os.path.exists(path):
                os.remove(path)
        _fsync_dir(self.directory)
        self.sources.append(Source(final))
        return locations

    @staticmethod
    def _snapshot_frame(
        f: Any,
        parts: list[bytes],
        pos: int,
        starts: list[tuple[int, int]],
        locations: list[tuple[int, int]],
    ) -> int:
        frame = encode_frame(b"".join(parts))
        f.write(frame)
        body = pos + 8
        locations.extend((body + start, length) for start, length in starts)
        return pos + len(frame)

    def close(self) -> None:
        """fsync (unless durability is "none"), close the journal and unmap the files."""
        try:
            if self._fd is not None and self.durability != "none":
                _fsync(self._fd)
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
