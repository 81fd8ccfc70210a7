"""The generated flat functions (etomkit._tmf_flat) build the converter's documents.

A differential test: for every covered class, entities from the shipped strategies,
from a generic builder that sets every field (GivenEmpty arrays, None where TMF
always writes, floats, big ints, surrogates, extras, spellings the hooks fix) and
from an issuer (specials, modify and delete, feasibility, replaced records) get
the same document, key order included, the same float flag and the same stored
bytes under both JSON backends, with the flat functions and without them.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ordering.helpers import StubFeasibility, fibre, fibre_rules, fibre_specs, request

import etomkit as ek
from etomkit import _tmf_flat, tmf
from etomkit.adapters.file import codec
from etomkit.adapters.file import store as store_module
from etomkit.model.resource_order import ResourceRefOrValue
from etomkit.model.values import GIVEN_EMPTY
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer, RuleSet
from etomkit.testing import strategies as es

pytest.importorskip("orjson")

_TEXT = st.text(max_size=6) | st.sampled_from(["\ud800", "a\udfffb", "é😀", "\x00", "add", ""])
_INT = st.integers(-(2**70), 2**70) | st.sampled_from([2**64, -(2**63) - 1, 10**40])
_FLOAT = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([1e-7, -0.0, 1e300])
_JSON = st.recursive(
    st.none() | st.booleans() | _INT | _FLOAT | _TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_TEXT, inner, max_size=2),
    max_leaves=5,
)
#: Values the hooks treat specially: TMF652 and TMF637 spellings, the defaults.
_SPELLED = st.sampled_from(
    ["noChange", "no_change", "aborted", "add", "acknowledged", "created", "In study"]
)
_MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), timezones=st.sampled_from([UTC, timezone(timedelta(hours=5))])
)


def _copy_of(value: Any) -> Any:
    """An equal value that is not the same object (the default compared by ``!=``)."""
    if type(value) is str:
        return "".join(list(value)) if len(value) > 1 else value
    if type(value) is int:
        return int(str(value))
    return value


def _for_hint(hint: Any, name: str, depth: int) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is str:
        return _SPELLED | _TEXT if name in ("action", "state", "status") else _TEXT
    if hint is bool:
        return st.booleans()
    if hint is int:
        return _INT
    if hint is float:
        return _FLOAT
    if hint is datetime:
        return _MOMENTS
    if hint is Any:
        return _JSON
    if origin is Mapping:
        keys = st.from_regex(r"x_[a-z]{1,4}", fullmatch=True) | st.sampled_from(
            ["id", "@type", "characteristic", "resource", "x_\ud800"]
        )
        return st.dictionaries(keys, _JSON, max_size=2)
    if origin is tuple:
        element = _for_hint(args[0], name, depth + 1)
        return st.just(GIVEN_EMPTY) | st.lists(element, max_size=2).map(tuple)
    if origin in (typing.Union, types.UnionType):
        (other,) = [a for a in args if a is not type(None)]
        return st.none() | _for_hint(other, name, depth)
    if attrs.has(hint):
        return anything(hint, depth + 1)
    raise AssertionError(f"no strategy for {hint!r}")


def anything(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    """A ``cls`` whose every field may hold any value of its type, or its default."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for a in attrs.fields(cls):
        if a.name == "revision":
            continue
        if depth > 3 and a.default is not attrs.NOTHING and a.name != "extras":
            fields[a.name] = st.just(a.default)
            continue
        value = _for_hint(hints[a.name], a.name, depth)
        if a.default is not attrs.NOTHING and not isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            value = st.sampled_from([a.default, _copy_of(a.default)]) | value
            if a.name in ("type", "status", "lifecycle_status", "referred_type"):
                value = st.none() | value
        fields[a.name] = value
    return st.builds(cls, **fields)


def _parts(entity: Any) -> Iterator[Any]:
    """``entity`` and every covered attrs object inside it."""
    if type(entity) in _tmf_flat.COVERED:
        yield entity
    if attrs.has(type(entity)):
        for a in attrs.fields(type(entity)):
            yield from _parts(getattr(entity, a.name))
    elif type(entity) is tuple or isinstance(entity, tuple):
        for value in entity:
            yield from _parts(value)


def _shape(value: Any) -> Any:
    """``value`` with its key order and scalar types made comparable."""
    if type(value) is dict:
        return ("dict", [(repr(k), _shape(v)) for k, v in value.items()])
    if type(value) is list:
        return ("list", [_shape(v) for v in value])
    return (type(value).__name__, repr(value))


@contextmanager
def _converter_only() -> Iterator[None]:
    tmf._built()
    flat = tmf._FLAT
    tmf._FLAT = {}
    try:
        yield
    finally:
        tmf._FLAT = flat


def _stored(entity: Any) -> tuple[Any, ...]:
    doc, floats = tmf._stored_doc(entity)
    out: list[Any] = [_shape(doc), floats]
    for name in codec.BACKENDS:
        codec.use_backend(name)
        store_module._REQUESTS.clear()
        try:
            out.append(store_module._encode(entity))
        except (UnicodeEncodeError, ValueError) as exc:  # surrogates: refused either way
            out.append(type(exc))
    return tuple(out)


@pytest.fixture(autouse=True)
def _backend() -> Iterator[None]:
    before = codec.backend()
    yield
    codec.use_backend(before)
    store_module._REQUESTS.clear()


def assert_same(entity: Any) -> None:
    for part in _parts(entity):
        assert type(part) in tmf._FLAT
        new = _stored(part)
        with _converter_only():
            old = _stored(part)
        assert new == old, type(part).__name__


def test_every_covered_class_has_a_flat_function() -> None:
    tmf._built()
    assert set(tmf._FLAT) == set(_tmf_flat.COVERED)


_SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@_SETTINGS
@given(data=st.data(), cls=st.sampled_from(_tmf_flat.COVERED))
def test_any_entity_of_a_covered_class_gets_the_converters_document(
    data: st.DataObject, cls: type
) -> None:
    assert_same(data.draw(anything(cls), label=cls.__name__))


_SHIPPED = st.one_of(
    es.products(),
    es.product_offerings(),
    es.resource_orders(),
    es.issuance_records(),
    es.feasibility_assessments(),
    es.service_orders(),
    es.initiating_requests(),
    es.characteristic_value_uses(),
    es.time_periods(),
    es.order_item_refs(),
    es.external_ids(),
)


@_SETTINGS
@given(entity=_SHIPPED)
def test_the_shipped_strategies_entities_get_the_converters_document(entity: Any) -> None:
    assert_same(entity)


_VALUES = st.sampled_from(["100M", "1G", "10G"])


@st.composite
def _requests(draw: st.DrawFn, n: int) -> ek.InitiatingRequest:
    items = []
    for k in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["add", "add", "modify", "delete", "noChange"]))
        chars: dict[str, Any] = {"bandwidth": draw(_VALUES)}
        if draw(st.booleans()):
            chars["staticIp"] = True
        if draw(st.booleans()):
            chars["premisesType"] = "newBuild"  # special handling
        if draw(st.booleans()):
            chars["x"] = draw(_JSON)  # floats, big ints, surrogates
        if action == "add":
            chars["vlanId"] = draw(st.integers(2, 4094) | _INT)
        service = None if action == "add" else f"svc-{k}"
        item = fibre(str(k + 1), action, service_id=service, **chars)
        if draw(st.booleans()):
            given_empty = attrs.evolve(item.service, supporting_resource=GIVEN_EMPTY)
            item = attrs.evolve(item, service=given_empty, extras={"x_note": draw(_JSON)})
        items.append(item)
    return request(*items, request_id=f"SO-{n}", special=draw(st.booleans()))


@_SETTINGS
@given(data=st.data(), feasible=st.booleans())
def test_issued_orders_and_records_get_the_converters_documents(
    data: st.DataObject, feasible: bool
) -> None:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(
        store, RuleSet(fibre_rules()), feasibility=StubFeasibility(feasible=feasible)
    )
    requests = [data.draw(_requests(n)) for n in range(data.draw(st.integers(1, 4)))]
    issued: list[Any] = []
    for outcome in issuer.issue_many(requests):
        if not isinstance(outcome, ek.EtomkitError):
            issued += [*outcome.orders, outcome.record]
    for entity in issued:
        assert_same(entity)
    records = [e for e in issued if isinstance(e, ek.IssuanceRecord)]
    for record in records:  # a replaced record keeps its request (the bytes are spliced)
        again = attrs.evolve(record, items=record.items[:1])
        new = _stored(again)
        with _converter_only():
            assert _stored(again) == new


def _fixed_shapes() -> list[Any]:
    party = ek.RelatedParty(id="c-1", role="customer", referred_type="Customer")
    product = ek.Product(id="p-1", product_offering=ek.EntityRef(id="po-1"), related_party=(party,))
    char = ek.Characteristic(name="vlanId", value=1.5, extras={"x_big": 2**70})
    item = ek.ResourceOrderItem(id="1", characteristic=(char,))
    order = ek.ResourceOrder(id="ro-1", order_item=(item,))
    none: Any = None  # where the model says str: what the hooks drop or skip
    return [
        attrs.evolve(product, status="aborted"),  # written "aborted " (TMF637)
        attrs.evolve(product, status=none, type=None),  # never written as null
        attrs.evolve(product, related_party=GIVEN_EMPTY, product_characteristic=GIVEN_EMPTY),
        attrs.evolve(item, action="noChange"),  # written "no_change" (TMF652)
        attrs.evolve(item, action="".join(["a", "dd"]), state=none, quantity=int("1")),
        attrs.evolve(item, characteristic=GIVEN_EMPTY, resource=ResourceRefOrValue(id="r")),
        attrs.evolve(item, extras={"characteristic": [1], "resource": {"x": 1.0}}),
        attrs.evolve(order, type=None, state="inProgress", extras={"x_s": "\ud800"}),
        attrs.evolve(order, order_item=GIVEN_EMPTY, note=GIVEN_EMPTY, special_handling=True),
    ]


@pytest.mark.parametrize("entity", _fixed_shapes(), ids=lambda e: type(e).__name__)
def test_the_shapes_the_hooks_fix_get_the_converters_documents(entity: Any) -> None:
    assert_same(entity)
