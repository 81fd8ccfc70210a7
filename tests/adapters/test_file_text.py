"""The FileStore's stored text, written straight from the objects: the documents' bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ordering.helpers import fibre, fibre_rules, fibre_specs, request

import etomkit as ek
from etomkit import tmf
from etomkit._tmf_text import stored_text
from etomkit.adapters.file import codec
from etomkit.adapters.file.store import _encode, _records
from etomkit.model.issuance import InitiatingRequest, IssuedItem
from etomkit.model.resource_order import ResourceOrder, ResourceOrderItem, ResourceRefOrValue
from etomkit.model.values import NO_EXTRAS, GivenEmpty
from etomkit.testing import strategies as es


@pytest.fixture(scope="module")
def stdlib() -> Iterator[None]:
    before = codec.backend()
    codec.use_backend("stdlib")
    yield
    codec.use_backend(before)


def reference(entity: Any) -> bytes:
    """What the FileStore wrote before there were backends, memos and text functions."""
    return json.dumps(tmf.to_json(entity), ensure_ascii=False, separators=(",", ":")).encode()


def usual(value: Any) -> Any:
    """``value`` without extras and with absent arrays for the given-empty ones, at
    every depth: what the text functions write themselves."""
    if isinstance(value, tuple):
        return tuple(usual(v) for v in value)
    if not attrs.has(type(value)):
        return value
    changes: dict[str, Any] = {}
    for a in attrs.fields(type(value)):
        v = getattr(value, a.name)
        if a.name == "extras":
            changes[a.name] = NO_EXTRAS
        elif type(v) is GivenEmpty:
            changes[a.name] = ()
        elif isinstance(v, tuple) or attrs.has(type(v)):
            changes[a.name] = usual(v)
    return attrs.evolve(value, **changes)


ENTITIES = st.one_of(
    es.products(),
    es.product_offerings(),
    es.resource_orders(),
    es.issuance_records(),
    es.feasibility_assessments(),
)


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entity=ENTITIES)
def test_the_text_is_the_documents_bytes(stdlib: None, entity: Any) -> None:
    plain = usual(entity)
    assert stored_text(plain) == reference(plain)  # written as text, never None
    text = stored_text(entity)  # extras, given-empty arrays: the document's way
    assert text is None or text == reference(entity)
    assert _encode(entity) == reference(entity)


@pytest.mark.parametrize(
    "unusual",
    [
        lambda p: attrs.evolve(p, extras={"x_note": 1}),
        lambda p: attrs.evolve(p, product_characteristic=GivenEmpty()),
        lambda p: attrs.evolve(
            p, product_characteristic=(ek.Characteristic(name="c", value=("a", 1.5)),)
        ),
    ],
)
def test_what_the_text_does_not_spell_goes_by_the_document(stdlib: None, unusual: Any) -> None:
    product = unusual(
        ek.Product(
            id="p-1",
            product_offering=ek.EntityRef(id="po-1"),
            related_party=(ek.RelatedParty(id="c-1", role="customer"),),
        )
    )
    assert stored_text(product) is None
    assert _encode(product) == reference(product)


def test_what_an_issuer_stores_is_written_as_text(stdlib: None) -> None:
    store = ek.InMemoryOrderingStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ek.ResourceOrderIssuer(store, ek.RuleSet(fibre_rules()))
    items = [fibre(str(n), bandwidth=bw) for n, bw in enumerate(("1G", "10G", "100M"), 1)]
    requests = [request(*items[: n % 3 + 1], request_id=f"SO-{n}") for n in range(12)]
    results = issuer.issue_many(requests)
    written = [e for r in results if not isinstance(r, Exception) for e in (*r.orders, r.record)]
    assert len(written) > 12
    for entity in written:
        assert stored_text(entity) == reference(entity)


def test_a_resource_order_items_characteristics_go_inside_its_resource(stdlib: None) -> None:
    chars = (ek.Characteristic(name="vlanId", value=7),)
    bare = ResourceOrderItem(id="1", characteristic=chars)
    within = attrs.evolve(bare, resource=ResourceRefOrValue(id="r-1", href="/r/1"))
    empty = attrs.evolve(bare, resource=ResourceRefOrValue())
    for item in (bare, within, empty, attrs.evolve(bare, action="no_change")):
        order = ResourceOrder(id="ro-1", order_item=(item,))
        assert stored_text(order) == reference(order)
        assert b'"resourceCharacteristic":[{"name":"vlanId","value":7}]' in reference(order)


def test_a_shared_text_is_written_once(stdlib: None) -> None:
    request = InitiatingRequest(kind="serviceOrder", id="SO-9", items=())
    stored_text(request)
    text_of = stored_text.functions[InitiatingRequest]
    assert text_of(request) is text_of(request)


def test_an_always_written_key_left_null_is_left_out(stdlib: None) -> None:
    party = (ek.RelatedParty(id="c-1", role="customer", referred_type=None),)
    product = ek.Product(id="p-1", product_offering=ek.EntityRef(id="po-1"), related_party=party)
    for entity in (
        attrs.evolve(product, type=None),
        ek.ProductOffering(id="o-1", name="Fibre", type=None),
    ):
        assert stored_text(entity) == reference(entity)
        assert b'"@type"' not in reference(entity)


def _in_a_product(chars: tuple[ek.Characteristic, ...]) -> ek.Product:
    return ek.Product(
        id="p-1",
        product_offering=ek.EntityRef(id="po-1"),
        related_party=(ek.RelatedParty(id="c-1", role="customer"),),
        product_characteristic=chars,
    )


_EQUAL_KEYS = st.sampled_from((1, True, 1.0, "1", 0, False, 0.0, -0.0, "", 2**70, "ü"))


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    chars=st.lists(
        st.one_of(
            es.characteristics(names=st.sampled_from(("a", "b"))),
            st.builds(
                ek.Characteristic,
                name=st.sampled_from(("a", "b")),
                value=_EQUAL_KEYS,
                value_type=st.sampled_from((None, "number", "boolean")),
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_characteristics_remembered_by_value_are_each_spelled_as_their_own(
    stdlib: None, chars: list[ek.Characteristic]
) -> None:
    """Plain characteristics' text is remembered by name, value and value type; values
    equal in Python but spelled apart (1, True, 1.0, -0.0) never share a text."""
    for round_ in (chars, chars[::-1], chars):  # every one met again after the others
        for char in round_:
            product = usual(_in_a_product((char,)))
            assert stored_text(product) == reference(product)
        together = usual(_in_a_product(tuple(round_)))
        assert stored_text(together) == reference(together)


@pytest.mark.parametrize("orders", [(), ("ro-1",), ("ro-1", "ro-2"), ("ü\n\x00",)])
def test_an_issued_items_order_ids_are_spelled_as_the_document(
    stdlib: None, orders: tuple[str, ...]
) -> None:
    item = IssuedItem(item_id="1", action="add", outcome="standard", resource_orders=orders)
    record = attrs.evolve(
        next(r for r in _issued_records()), items=(item,), id=f"rec-{len(orders)}"
    )
    assert stored_text(record) == reference(record)


def _issued_records() -> Iterator[Any]:
    store = ek.InMemoryOrderingStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ek.ResourceOrderIssuer(store, ek.RuleSet(fibre_rules()))
    for result in issuer.issue_many([request(fibre("1"), request_id="SO-items")]):
        assert not isinstance(result, Exception)
        yield result.record


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entities=st.lists(ENTITIES, min_size=1, max_size=4))
def test_the_journal_records_hold_the_documents_bytes(entities: list[Any]) -> None:
    """``_records`` (the commit's loop, calling the text functions itself) writes what
    ``_encode`` and the reference write, with either backend, for usual entities and
    for those that go by the document (extras, given-empty arrays)."""
    before = codec.backend()
    try:
        for backend in [b for b in codec.BACKENDS if b == "stdlib" or codec._ORJSON_DUMPS]:
            codec.use_backend(backend)
            writes = [("ns", f"k{n}", e, ("t",)) for n, e in enumerate(entities)]
            records = _records([*writes, ("ns", "gone", None, ())])
            assert records[-1] == ("ns", "gone", 0, (), None)
            for n, entity in enumerate(entities):
                _, key, rev, terms, value = records[n]
                assert (key, rev, terms) == (f"k{n}", entity.revision, ("t",))
                assert value == _encode(entity) == reference(entity)
    finally:
        codec.use_backend(before)
