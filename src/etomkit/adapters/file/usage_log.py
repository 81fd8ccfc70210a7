"""FileUsageLog: the usage log as an append-only, checksummed file.

The file has the FileStore's header (kind ``U``) and frames (length, CRC-32s,
payload); each frame is one appended batch, its payload one JSON array per
record (a :data:`~etomkit.model.usage.UsageRow`), one per line. Reopening cuts
a torn tail (a crash mid-append) and reports other damage as
StorageCorruptedError. One writer per file (an OS lock in ``<file>.lock.d/``).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from etomkit.adapters.file.format import (
    FRAME,
    HEADER,
    TornTailError,
    decode_header,
    encode_frame,
    encode_header,
    scan_frames,
)
from etomkit.adapters.file.journal import DURABILITIES, Durability
from etomkit.adapters.file.lock import WriterLock
from etomkit.errors import StorageCorruptedError, StorageError, ValidationError
from etomkit.model.usage import UsageRecord, UsageRow, entity_text, usage_record, usage_row
from etomkit.ports import UsageLog

__all__ = ["FileUsageLog"]


def _encode_row(row: UsageRow) -> list[Any]:
    at = row[0]
    return [at.isoformat() if isinstance(at, datetime) else at, *row[1:6], list(row[6]), *row[7:]]


def _encode_line(row: UsageRow, *, safe: bool = False) -> str:
    """One record as a JSON line; ``safe``: non-ASCII as escapes, so any text
    (lone surrogates included) is written and reads back the same."""
    return (
        json.dumps(_encode_row(row), ensure_ascii=safe, separators=(",", ":"), default=entity_text)
        + "\n"
    )


def _decode_row(values: list[Any]) -> UsageRow:
    at = values[0]
    return (datetime.fromisoformat(at) if isinstance(at, str) else at, *values[1:6],
            tuple(values[6]), *values[7:])  # fmt: skip


class FileUsageLog(UsageLog):
    """Usage records appended to one file (e.g. ``<store dir>/usage.log``).

    ``durability``: ``"always"`` fsyncs every append; ``"batch"`` fsyncs on
    :meth:`flush` (the meter flushes after each batch it writes) and close;
    ``"none"`` never fsyncs.
    """

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "batch") -> None:
        if durability not in DURABILITIES:
            allowed = ", ".join(DURABILITIES)
            raise ValidationError(
                "FileUsageLog", [("durability", f"must be one of {allowed}, not {durability!r}")]
            )
        self.path = Path(path)
        self.durability = durability
        self.torn_tail_cut: int | None = None  #: byte offset of a cut torn tail, if any
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.path.parent}: {exc}") from exc
        lock_dir = self.path.parent / f"{self.path.name}.lock.d"
        try:
            lock_dir.mkdir(exist_ok=True)
            self._lock = WriterLock(str(lock_dir))
        except OSError as exc:
            raise StorageError(f"cannot lock {self.path}: {exc}") from exc
        try:
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._size, self._count = self._recover()
        except OSError as exc:
            self._lock.release()
            raise StorageError(f"cannot open {self.path}: {exc}") from exc
        except BaseException:
            self._lock.release()
            raise
        self._unsynced = False

    def _recover(self) -> tuple[int, int]:
        fd = self._fd
        assert fd is not None
        size = os.fstat(fd).st_size
        if size < HEADER.size:
            os.ftruncate(fd, 0)
            os.pwrite(fd, encode_header(b"U", 0), 0)
            os.fsync(fd)
            return HEADER.size, 0
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
            try:
                kind, _ = decode_header(data, str(self.path))
            except ValueError as exc:
                raise StorageCorruptedError(str(self.path), 0, str(exc)) from None
            if kind != b"U":
                raise StorageCorruptedError(str(self.path), 0, "not a usage log")
            end, count = HEADER.size, 0
            try:
                for offset, length in scan_frames(data, HEADER.size):
                    count += data[offset : offset + length].count(b"\n")
                    end = offset + length
            except TornTailError as torn:
                self.torn_tail_cut = torn.offset
            except ValueError as exc:
                raise StorageCorruptedError(str(self.path), end, str(exc)) from None
        if end < size:
            os.ftruncate(fd, end)  # a torn tail (or zeros): cut
            os.fsync(fd)
        return end, count

    def append(self, records: Sequence[UsageRecord]) -> None:
        self.append_rows([usage_row(r) for r in records])

    def append_rows(self, rows: Sequence[UsageRow]) -> None:
        if self._fd is None:
            raise StorageError(f"{self.path} is closed; nothing was written")
        if not rows:
            return
        try:
            payload = "".join(_encode_line(row) for row in rows).encode()
        except UnicodeEncodeError:  # a lone surrogate: that row as ASCII escapes (same text)
            payload = "".join(_encode_line(row, safe=True) for row in rows).encode()
        except (TypeError, ValueError) as exc:
            raise StorageError(f"{self.path}: a usage record is not serialisable: {exc}") from exc
        frame = encode_frame(payload)
        try:
            written = 0
            while written < len(frame):
                written += os.pwrite(self._fd, frame[written:], self._size + written)
            if self.durability == "always":
                os.fdatasync(self._fd)
            else:
                self._unsynced = self.durability == "batch"
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)  # nothing of the batch stays
            raise StorageError(f"append to {self.path} failed, nothing was stored: {exc}") from exc
        self._size += len(frame)
        self._count += len(rows)

    def flush(self) -> None:
        if self._fd is not None and self._unsynced:
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                raise StorageError(f"fsync of {self.path} failed: {exc}") from exc
            self._unsynced = False

    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[UsageRecord]:
        if self._fd is None:
            raise StorageError(f"{self.path} is closed")
        end = self._size  # frames up to here were checked on open or written by us
        try:
            with open(self.path, "rb") as f:
                f.seek(HEADER.size)
                while f.tell() < end:
                    length, _, _ = FRAME.unpack(f.read(FRAME.size))
                    for line in f.read(length).splitlines():
                        record = usage_record(_decode_row(json.loads(line)))
                        if (since is None or record.at >= since) and (
                            until is None or record.at < until
                        ):
                            yield record
        except OSError as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from exc

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.flush()
        finally:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError as exc:
                raise StorageError(f"closing {self.path} failed: {exc}") from exc
            finally:
                self._lock.release()

    def __enter__(self) -> FileUsageLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
