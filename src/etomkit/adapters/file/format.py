"""On-disk format of the FileStore: a header, then checksummed frames of operations.

File header (16 bytes): magic ``ETOMKIT\\0``, kind (``J`` journal, ``S`` snapshot),
format version, 2 reserved bytes, generation (u32). Then frames::

    u32 payload length | u32 CRC-32 of payload | u32 CRC-32 of the 8 bytes before | payload

A frame is one committed transaction (its checksums are the commit marker);
its payload holds one or more operations::

    u8 kind (1 put, 2 delete) | u32 meta length | u32 revision | u32 value length
    | meta: namespace, key and index terms joined by \x1e (UTF-8) | value

Values are the entity's TMF JSON (UTF-8), so ``strings journal-0.log`` reads.
Terms are the entity's index terms joined by ``\\x1e``: reopening rebuilds the
indexes without decoding a single value. Journals are preallocated with
zeros: an all-zero frame header ends the log.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from typing import Any

__all__ = [
    "DELETE",
    "FORMAT_VERSION",
    "FRAME",
    "HEADER",
    "OP",
    "PUT",
    "TERM_SEP",
    "TornTailError",
    "decode_header",
    "encode_frame",
    "encode_header",
    "encode_op",
    "scan_frames",
]

MAGIC = b"ETOMKIT\x00"
FORMAT_VERSION = 1
HEADER = struct.Struct("<8scBHI")
FRAME = struct.Struct("<III")
OP = struct.Struct("<BIII")
PUT, DELETE = 1, 2
TERM_SEP = "\x1e"
_NON_ZERO = re.compile(rb"[^\x00]")


def encode_header(kind: bytes, generation: int) -> bytes:
    """The 16-byte header of a journal (``b"J"``) or snapshot (``b"S"``)."""
    return HEADER.pack(MAGIC, kind, FORMAT_VERSION, 0, generation)


def decode_header(data: Any, path: str) -> tuple[bytes, int]:
    """``(kind, generation)`` of a file, or ValueError naming what is wrong."""
    if len(data) < HEADER.size:
        raise ValueError(f"{path}: shorter than its {HEADER.size}-byte header")
    magic, kind, version, _, generation = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ValueError(f"{path}: not an etomkit store file (bad magic)")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {version}, this etomkit reads {FORMAT_VERSION}")
    return kind, generation


def encode_op(
    kind: int, namespace: str, key: str, revision: int, terms: tuple[str, ...], value: bytes
) -> bytes:
    """One operation's bytes."""
    meta = TERM_SEP.join((namespace, key, *terms)).encode()
    return OP.pack(kind, len(meta), revision, len(value)) + meta + value


def encode_frame(payload: bytes) -> bytes:
    """A frame: length, payload CRC-32, header CRC-32, payload."""
    head = struct.pack("<II", len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


class TornTailError(Exception):
    """The last frame is incomplete: a crash mid-append (internal to recovery)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def zeros_from(data: Any, pos: int) -> bool:
    """True if every byte from ``pos`` to the end is zero."""
    return _NON_ZERO.search(data, pos) is None


def scan_frames(data: Any, start: int) -> Iterator[tuple[int, int]]:
    """Yield ``(payload offset, payload length)`` of every intact frame.

    The log ends at the end of the data or at an all-zero frame header
    (preallocated space). Raises TornTailError if the last frame is incomplete
    (nothing but zeros after it), and ValueError (naming the byte offset) for a
    bad frame followed by more data: that is corruption, not a crash.
    """
    end = len(data)
    pos = start
    unpack, crc32, size = FRAME.unpack_from, zlib.crc32, FRAME.size
    while pos < end:
        if end - pos < size:
            if zeros_from(data, pos):
                return
            raise TornTailError(pos, f"{end - pos} bytes of a frame header")
        length, checksum, head_checksum = unpack(data, pos)
        if head_checksum != crc32(data[pos : pos + 8]):
            if not (length or checksum or head_checksum) and zeros_from(data, pos):
                return  # preallocated space: the log ends here
            if zeros_from(data, pos + size):
                raise TornTailError(pos, "frame header partly written")
            raise ValueError(f"frame header at byte {pos} fails its checksum")
        body = pos + size
        if body + length > end:
            raise TornTailError(pos, f"frame of {length} bytes with only {end - body} written")
        if crc32(data[body : body + length]) != checksum:
            if zeros_from(data, body + length):
                raise TornTailError(pos, "last frame fails its checksum (partly written)")
            raise ValueError(f"frame at byte {pos} fails its checksum")
        yield body, length
        pos = body + length
