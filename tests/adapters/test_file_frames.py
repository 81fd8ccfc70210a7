"""The FileStore's write path spells what it always spelled: the standard library's
JSON text through the C encoder built once, and a journal frame joined in one go."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit.adapters.file import codec
from etomkit.adapters.file import store as store_module
from etomkit.adapters.file.format import (
    DELETE,
    PUT,
    encode_frame,
    encode_op,
    encode_ops_frame,
    scan_frames,
)

_TEXT = st.text(max_size=6) | st.sampled_from(["\x00", "\x1e", '"', "\\", "\u2028", "é😀"])
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and the infinities too: the standard library spells them
    | _TEXT
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(doc=_JSON)
def test_the_stored_spelling_is_json_dumps(doc: Any) -> None:
    try:
        expected = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate: neither encodes it
        return
    assert codec.stdlib_dumps(doc) == expected


@pytest.mark.parametrize("doc", [{"a": object()}, {(1, 2): 1}], ids=["object", "tuple key"])
def test_what_json_refuses_the_store_refuses_alike(doc: Any) -> None:
    with pytest.raises(TypeError) as expected:
        json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    with pytest.raises(TypeError, match=re.escape(str(expected.value))):
        codec.stdlib_dumps(doc)


_WRITES = st.lists(
    st.tuples(
        st.sampled_from(["product", "resourceOrder"]),
        st.text(min_size=1, max_size=5).filter(lambda k: "\x1e" not in k),
        st.integers(min_value=0, max_value=2**32 - 1),
        st.lists(st.text(max_size=5).filter(lambda t: "\x1e" not in t), max_size=3).map(tuple),
        st.none() | st.binary(max_size=40),
    ),
    min_size=1,
    max_size=6,
)


@given(writes=_WRITES)
def test_a_frame_joined_once_is_the_frame_of_its_operations(writes: list[Any]) -> None:
    ops = [
        encode_op(PUT, ns, key, rev, terms, value)
        if value is not None
        else encode_op(DELETE, ns, key, 0, (), b"")
        for ns, key, rev, terms, value in writes
    ]
    frame, ends = encode_ops_frame(writes)
    assert bytes(frame) == encode_frame(b"".join(ops))
    at = len(frame) - len(b"".join(ops))
    for op, end in zip(ops, ends, strict=True):
        at += len(op)
        assert end == at
    assert list(scan_frames(bytes(frame), 0)) == [(12, len(frame) - 12)]


def test_compaction_copies_the_journals_values_as_written(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compaction reads the values from the mapped journal (it encodes nothing), and
    the store reads them back equal, before and after reopening."""
    path = tmp_path / "s"
    party = ek.RelatedParty(id="c-1", role="customer", referred_type="Customer")
    products = [
        ek.Product(
            id=f"p-{n}",
            product_offering=ek.EntityRef(id="po-1"),
            name=f"n{n}",
            related_party=(party,),
        )
        for n in range(50)
    ]
    with ek.FileStore(path, durability="none", compact_min_bytes=1 << 40) as store:
        with store.transaction():
            for p in products:
                store.products.add(p)
        store.products.remove("p-3")
        before = {p.id: p for p in store.products.iterate()}

        def no_encoding(entity: Any) -> bytes:
            raise AssertionError(f"compaction encoded {entity.id}")

        monkeypatch.setattr(store_module, "_encode", no_encoding)
        store.compact()
        monkeypatch.undo()
        assert store.journal_bytes == 16  # a fresh journal: every value went to the snapshot
        assert {p.id: p for p in store.products.iterate()} == before
    assert sorted(os.listdir(path)) == ["LOCK", "journal-1.log", "snapshot-1.dat"]
    with ek.FileStore(path, durability="none") as reopened:
        assert {p.id: p for p in reopened.products.iterate()} == before
        assert "p-3" not in reopened.products


def test_the_journal_grows_by_zeros_past_frames_larger_than_its_reserve(tmp_path: Any) -> None:
    """Space is reserved in zeros from one buffer; a frame larger than the reserve
    (4 MB) grows the file past it, and every byte after the last frame stays zero."""
    from etomkit.adapters.file import journal as journal_module

    big = b"x" * (journal_module._PREALLOCATE + 12_345)
    journal = journal_module.FileJournal(str(tmp_path), durability="always", read_only=False)
    try:
        journal.commit([("ns", "small", 1, ("t",), b"{}")])
        journal.commit([("ns", "big", 1, (), big)])
        end = journal.journal_bytes
    finally:
        journal.close()
    (name,) = [n for n in os.listdir(tmp_path) if n.startswith("journal-")]
    data = (tmp_path / name).read_bytes()
    assert len(data) >= end > len(big) and not data[end:].strip(b"\x00")
    reopened = journal_module.FileJournal(str(tmp_path), durability="none", read_only=True)
    try:
        values = {key: p.loader.value(p.offset, p.length) for _, key, p in reopened.ops if p}
    finally:
        reopened.close()
    assert values == {"small": b"{}", "big": big}
