"""Packed parameters (adapters/postgres/packing.py) unpack on the server to exactly
the lists they were made from, whatever the texts hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore
from etomkit.adapters.postgres.batch import text, untext
from etomkit.adapters.postgres.packing import BLOB, FLAGS, NUMBERS, TEXTS, blobs, flags, texts

pytestmark = pytest.mark.usefixtures("postgres_conninfo")

# Every separator packing tries, and the characters around them.
SEPARATORS = "\x1f\x1e\x1d\x1c\ufdd0\ufdd1"
_texts = st.text(alphabet=st.sampled_from(f"{SEPARATORS}\x00\\a,{{}}\"' "), max_size=6)


@pytest.fixture(scope="module")
def conn(postgres_conninfo: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(postgres_conninfo, autocommit=True) as c:
        yield c


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_texts, max_size=8))
def test_texts_unpack_to_the_list_they_were_made_from(
    conn: psycopg.Connection[tuple[object, ...]], values: list[str]
) -> None:
    sent = [text(v) for v in values]
    row = conn.execute(f"SELECT {TEXTS}", texts(sent)).fetchone()
    assert row is not None and [untext(v) for v in row[0]] == values


def test_texts_holding_every_usual_separator_take_one_they_do_not_hold(
    conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    values = [SEPARATORS, "", "x" + SEPARATORS[::-1], ""]
    packed, separator = texts(values)
    assert separator not in "".join(values)
    row = conn.execute(f"SELECT {TEXTS}", (packed, separator)).fetchone()
    assert row is not None and row[0] == values


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.binary(max_size=5), max_size=6),
    marks=st.lists(st.booleans(), max_size=6),
)
def test_documents_and_flags_unpack_to_the_lists_they_were_made_from(
    conn: psycopg.Connection[tuple[object, ...]], values: list[bytes], marks: list[bool]
) -> None:
    doc, starts, lengths = blobs(values)
    row = conn.execute(
        f"SELECT ARRAY(SELECT {BLOB} FROM unnest({NUMBERS}, {NUMBERS})"
        f" WITH ORDINALITY AS x(s, l, n) ORDER BY n), {FLAGS}",
        (doc, starts, lengths, flags(marks)),
    ).fetchone()
    assert row is not None and [bytes(v) for v in row[0]] == values and row[1] == marks


@pytest.mark.parametrize("in_unit", [False, True], ids=["own transaction", "in a unit"])
def test_a_small_batch_with_separators_in_ids_and_terms_is_stored_and_found_as_given(
    make_postgres_store: Callable[..., PostgresStore], in_unit: bool
) -> None:
    store = make_postgres_store()
    in_ids = SEPARATORS.replace("\x1e", "")  # U+001E: ids never hold it (the journal's)
    ids = [f"p{in_ids[:n]}" for n in range(len(in_ids) + 1)]
    products = [
        ek.Product(
            id=i,
            name="x",
            status="active",
            product_offering=ek.EntityRef(id="po-1"),
            related_party=(ek.RelatedParty(id=f"c{SEPARATORS}{n}", role="customer"),),
        )
        for n, i in enumerate(ids)
    ]
    if in_unit:
        with store.transaction():
            store.products.add_all(products)
    else:
        store.products.add_all(products)
    assert list(store.products.find_many([*ids, "missing"])) == ids
    assert [p.id for p in store.products.iterate()] == ids
    for n, i in enumerate(ids):
        found = store.products.query(ek.ProductFilter(customer_id=f"c{SEPARATORS}{n}"))
        assert [p.id for p in found.items] == [i]
