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

import array
import dataclasses
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "DELETE",
    "Block",
    "blocks_of",
    "decode_block",
    "encode_block",
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
    "encode_ops_frame",
    "frame_head",
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
    return frame_head(payload) + payload


def frame_head(payload: bytes) -> bytes:
    """The 12 bytes of a frame before ``payload``."""
    head = struct.pack("<II", len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head))


_OP_PACK, _OP_SIZE = OP.pack, OP.size


def encode_ops_frame(
    writes: Iterable[tuple[str, str, int, tuple[str, ...], bytes | None]],
) -> tuple[bytearray, list[int]]:
    """The frame of ``writes`` (``(namespace, key, revision, terms, value)``; value
    None: a delete) and where each operation ends in it: the bytes ``encode_frame``
    gives of their ``encode_op``s, joined once (no copy per operation or payload)."""
    pieces: list[bytes] = [bytes(FRAME.size)]  # the frame header, filled in at the end
    add, sep, pack, size = pieces.extend, TERM_SEP, _OP_PACK, _OP_SIZE
    ends: list[int] = []
    note = ends.append
    end = FRAME.size
    for ns, key, rev, terms, value in writes:
        if value is None:
            meta = sep.join((ns, key)).encode()
            add((pack(DELETE, len(meta), 0, 0), meta))
            end += size + len(meta)
        else:
            meta = sep.join((ns, key, *terms)).encode()
            m, v = len(meta), len(value)
            add((pack(PUT, m, rev, v), meta, value))
            end += size + m + v
        note(end)
    frame = bytearray().join(pieces)
    with memoryview(frame)[FRAME.size :] as payload:
        length, crc = len(payload), zlib.crc32(payload)
    FRAME.pack_into(frame, 0, length, crc, zlib.crc32(_HEAD.pack(length, crc)))
    return frame, ends


_HEAD = struct.Struct("<II")


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
    view = memoryview(data)  # checksums without copying the frame
    try:
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
            if crc32(view[body : body + length]) != checksum:
                if zeros_from(data, body + length):
                    raise TornTailError(pos, "last frame fails its checksum (partly written)")
                raise ValueError(f"frame at byte {pos} fails its checksum")
            yield body, length
            pos = body + length
    finally:
        view.release()  # so the file can be unmapped


# ---------------------------------------------------------------------------- snapshot blocks
# A snapshot frame holds one columnar block of records of one namespace, so that
# reopening loads keys, revisions and index postings with a few C-level calls
# instead of a Python loop per record:
#
#   u32 namespace length | namespace | u32 n | u32 keys length | keys joined by \x1e
#   | n x u32 revision | n x u32 value length
#   | u32 terms length | distinct terms joined by \x1e (T of them)
#   | (n+1) x u32 row term starts | row term ids (u32, into the distinct terms)
#   | (T+1) x u32 posting starts | posting rows (u32, rows carrying each term)
#   | values, concatenated in row order

_U32 = struct.Struct("<I")


@dataclasses.dataclass(frozen=True)
class Block:
    """A decoded snapshot block (arrays, not per-record objects)."""

    namespace: str
    keys: list[str]
    revisions: array.array[int]
    lengths: array.array[int]
    terms: list[str]
    term_starts: array.array[int]
    term_ids: array.array[int]
    posting_starts: array.array[int]
    postings: array.array[int]
    values_at: int  # absolute offset of the first value


def _u32s(values: Any) -> bytes:
    return array.array("I", values).tobytes()


def encode_block(namespace: str, rows: list[tuple[str, int, tuple[str, ...], bytes]]) -> bytes:
    """A block payload for ``(key, revision, terms, value)`` rows."""
    term_index: dict[str, int] = {}
    term_starts = [0]
    row_terms: list[int] = []
    postings: list[list[int]] = []
    for row, (_, _, terms, _) in enumerate(rows):
        for term in terms:
            t = term_index.get(term)
            if t is None:
                t = term_index[term] = len(term_index)
                postings.append([])
            row_terms.append(t)
            postings[t].append(row)
        term_starts.append(len(row_terms))
    posting_starts = [0]
    for rows_of_term in postings:
        posting_starts.append(posting_starts[-1] + len(rows_of_term))
    ns = namespace.encode()
    keys = TERM_SEP.join(key for key, _, _, _ in rows).encode()
    terms_blob = TERM_SEP.join(term_index).encode()
    return b"".join(
        (
            _U32.pack(len(ns)),
            ns,
            _U32.pack(len(rows)),
            _U32.pack(len(keys)),
            keys,
            _u32s(revision for _, revision, _, _ in rows),
            _u32s(len(value) for _, _, _, value in rows),
            _U32.pack(len(terms_blob)),
            terms_blob,
            _u32s(term_starts),
            _u32s(row_terms),
            _u32s(posting_starts),
            _u32s(row for rows_of_term in postings for row in rows_of_term),
            *(value for _, _, _, value in rows),
        )
    )


def blocks_of(
    records: Iterable[tuple[str, str, int, tuple[str, ...], bytes]], limit: int
) -> Iterator[tuple[str, list[tuple[str, int, tuple[str, ...], bytes]]]]:
    """Group records into per-namespace blocks of about ``limit`` bytes of values."""
    namespace = ""
    rows: list[tuple[str, int, tuple[str, ...], bytes]] = []
    size = 0
    for ns, key, revision, terms, value in records:
        if rows and (ns != namespace or size >= limit):
            yield namespace, rows
            rows, size = [], 0
        namespace = ns
        rows.append((key, revision, terms, value))
        size += len(value)
    if rows:
        yield namespace, rows


def decode_block(data: Any, offset: int, length: int) -> Block:
    """Read a block payload; ValueError if its parts do not add up."""
    pos, end = offset, offset + length

    def take(size: int) -> Any:
        nonlocal pos
        if pos + size > end:
            raise ValueError(f"snapshot block at byte {offset} is shorter than it says")
        chunk = data[pos : pos + size]
        pos += size
        return chunk

    def u32() -> int:
        value: int = _U32.unpack(take(4))[0]
        return value

    def u32s(count: int) -> array.array[int]:
        out = array.array("I")
        out.frombytes(take(4 * count))
        return out

    namespace = take(u32()).decode()
    n = u32()
    keys_blob = take(u32()).decode()
    keys = keys_blob.split(TERM_SEP) if n else []
    revisions, lengths = u32s(n), u32s(n)
    terms_blob = take(u32()).decode()
    terms = terms_blob.split(TERM_SEP) if terms_blob else []
    term_starts = u32s(n + 1)
    term_ids = u32s(term_starts[-1])
    posting_starts = u32s(len(terms) + 1)
    postings = u32s(posting_starts[-1])
    if len(keys) != n or pos + sum(lengths) != end:
        raise ValueError(f"snapshot block at byte {offset} does not add up")
    return Block(
        namespace,
        keys,
        revisions,
        lengths,
        terms,
        term_starts,
        term_ids,
        posting_starts,
        postings,
        pos,
    )
