"""On-disk format of the FileStore: a header, then checksummed frames of operations.

File header (16 bytes): magic ``ETOMKIT\\0``, kind (``J`` journal, ``S`` snapshot),
format version, 2 reserved bytes, generation (u32). Then frames::

    u32 payload length | u32 CRC-32 of payload | payload

A frame is one committed transaction (its checksum is the commit marker): a
payload holds one or more operations::

    u8 kind (1 put, 2 delete) | u8 namespace length | u16 key length | u32 revision
    | u16 terms length | u32 value length | namespace | key | terms | value

Values are the entity's TMF JSON (UTF-8), so ``strings journal-0.log`` reads.
Terms are the entity's index terms joined by ``\\x1e``: reopening rebuilds the
indexes without decoding a single value.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

__all__ = [
    "FORMAT_VERSION",
    "HEADER",
    "Op",
    "decode_header",
    "encode_frame",
    "encode_header",
    "iter_ops",
    "scan_frames",
]

MAGIC = b"ETOMKIT\x00"
FORMAT_VERSION = 1
HEADER = struct.Struct("<8scBHI")
FRAME = struct.Struct("<II")
OP = struct.Struct("<BBHIHI")
PUT, DELETE = 1, 2
TERM_SEP = "\x1e"
MAX_FRAME = 1 << 31

Op = tuple[int, str, str, int, tuple[str, ...], int, int]
"""A decoded operation: kind, namespace, key, revision, terms, value offset, value length."""


def encode_header(kind: bytes, generation: int) -> bytes:
    """The 16-byte header of a journal (``b"J"``) or snapshot (``b"S"``)."""
    return HEADER.pack(MAGIC, kind, FORMAT_VERSION, 0, generation)


def decode_header(data: bytes | memoryview, path: str) -> tuple[bytes, int]:
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
    ns, k, t = namespace.encode(), key.encode(), TERM_SEP.join(terms).encode()
    return OP.pack(kind, len(ns), len(k), revision, len(t), len(value)) + ns + k + t + value


def encode_frame(payload: bytes) -> bytes:
    """A frame: length, CRC-32, payload."""
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class TornTailError(Exception):
    """The last frame is incomplete: a crash mid-append."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def scan_frames(data: bytes | memoryview, start: int) -> Iterator[tuple[int, int]]:
    """Yield ``(payload offset, payload length)`` of every intact frame.

    Raises TornTailError if the file ends in an incomplete frame (or trailing zeros),
    and ValueError (with the offset) for a bad frame followed by more data.
    """
    end = len(data)
    pos = start
    unpack, crc32 = FRAME.unpack_from, zlib.crc32
    while pos < end:
        if end - pos < FRAME.size:
            raise TornTailError(pos, f"{end - pos} bytes of a frame header")
        length, checksum = unpack(data, pos)
        body = pos + FRAME.size
        if length == 0 and checksum == 0 and not any(data[pos:end]):
            raise TornTailError(pos, f"{end - pos} zero bytes after the last frame")
        if body + length > end:
            if length > MAX_FRAME:
                raise ValueError(f"frame at byte {pos} claims {length} bytes")
            raise TornTailError(pos, f"frame of {length} bytes with only {end - body} written")
        if crc32(data[body : body + length]) != checksum:
            if body + length == end:
                raise TornTailError(pos, "last frame fails its checksum (partly written)")
            raise ValueError(f"frame at byte {pos} fails its checksum")
        yield body, length
        pos = body + length


def iter_ops(data: bytes | memoryview, offset: int, length: int) -> Iterator[Op]:
    """Decode the operations of one frame's payload."""
    pos, end = offset, offset + length
    unpack, size = OP.unpack_from, OP.size
    while pos < end:
        kind, ns_len, key_len, revision, terms_len, value_len = unpack(data, pos)
        pos += size
        namespace = bytes(data[pos : pos + ns_len]).decode()
        pos += ns_len
        key = bytes(data[pos : pos + key_len]).decode()
        pos += key_len
        terms_text = bytes(data[pos : pos + terms_len]).decode()
        pos += terms_len
        terms = tuple(terms_text.split(TERM_SEP)) if terms_text else ()
        yield kind, namespace, key, revision, terms, pos, value_len
        pos += value_len
    if pos != end:
        raise ValueError(f"operation overruns its frame at byte {offset}")
