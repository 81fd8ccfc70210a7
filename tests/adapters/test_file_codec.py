"""The FileStore's value encoder: the same bytes with orjson as with the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit import tmf
from etomkit._tmf_text import stored_text
from etomkit.adapters.file import codec
from etomkit.adapters.file.store import _encode
from etomkit.model.issuance import IssuanceRecord, IssuedItem
from etomkit.model.resource_order import ResourceOrder, ResourceOrderItem
from etomkit.testing import strategies as es

orjson = pytest.importorskip("orjson")

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8
) | st.sampled_from(
    ["\x00", "\x1f", '"', "\\", "\u2028", "\x7f", "é😀", "\ud7ff", 'a\\":1.5', "\b\f\n\r\t"]
)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [-0.0, 0.0, 1e16, 1e-5, 8.677e-05, 1e-7, 1.5e300, 5e-324, 123456789012345680.0]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
    | _FLOATS
    | _TEXT
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
EXTRAS = st.dictionaries(st.from_regex(r"x_[a-z]{1,5}", fullmatch=True), JSON, max_size=2)


@pytest.fixture(scope="module")
def backend() -> Iterator[None]:
    before = codec.backend()
    yield
    codec.use_backend(before)


def both(entity: Any) -> tuple[bytes, bytes]:
    codec.use_backend("stdlib")
    stdlib = _encode(entity)
    codec.use_backend("orjson")
    return stdlib, _encode(entity)


def reference(entity: Any) -> bytes:
    """What the FileStore wrote before there were backends and memos."""
    return json.dumps(tmf.to_json(entity), ensure_ascii=False, separators=(",", ":")).encode()


def _stored_entities() -> st.SearchStrategy[Any]:
    plain = st.one_of(
        es.products(),
        es.product_offerings(),
        es.resource_orders(),
        es.issuance_records(),
        es.feasibility_assessments(),
        es.resource_specifications(),
        es.audit_runs(),
        es.manual_audits(),
        es.client_registrations(),
    )
    characteristic = st.builds(
        lambda name, value: ek.Characteristic(name=name, value=value), st.just("c"), JSON
    )
    with_values = st.builds(
        lambda product, chars, extras: attrs.evolve(
            product, product_characteristic=tuple(chars), extras=extras
        ),
        es.products(),
        st.lists(characteristic, max_size=3),
        EXTRAS,
    )
    return plain | with_values


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entity=_stored_entities())
def test_both_backends_write_the_bytes_the_store_always_wrote(backend: None, entity: Any) -> None:
    stdlib, fast = both(entity)
    assert stdlib == fast
    assert fast == reference(entity)


@settings(max_examples=500, deadline=None)
@given(doc=st.dictionaries(_TEXT, JSON, max_size=4))
def test_any_json_document_is_spelled_alike(backend: None, doc: dict[str, Any]) -> None:
    """orjson's own spelling of every float-free document is the standard library's."""
    try:
        expected = codec.stdlib_dumps(doc)
    except UnicodeEncodeError:
        return
    has_float = any(isinstance(v, float) for v in _leaves(doc))
    codec.use_backend("orjson")
    assert codec.dumps(doc, has_float) == expected
    assert codec.dumps(doc, False) == expected or has_float


def _product(product_id: str, **fields: Any) -> ek.Product:
    fields.setdefault("product_offering", ek.EntityRef(id="po-1"))
    party = ek.RelatedParty(id="c-1", role="customer", referred_type="Customer")
    return ek.Product(id=product_id, related_party=(party,), **fields)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


@given(value=JSON, extras=EXTRAS)
def test_the_store_converter_sees_every_float(value: Any, extras: dict[str, Any]) -> None:
    product = _product(
        "p-1", product_characteristic=(ek.Characteristic(name="c", value=value),), extras=extras
    )
    doc, floats = tmf._stored_doc(product)
    assert doc == tmf.to_json(product)
    assert floats == any(isinstance(v, float) for v in _leaves([value, extras]))


def test_shared_sub_objects_encode_once_and_identically() -> None:
    spec = ek.EntityRef(id="ont")
    item = ResourceOrderItem(id="1", resource_specification=spec)
    float_item = ResourceOrderItem(id="2", characteristic=(ek.Characteristic(name="w", value=0.5),))
    orders = [
        ResourceOrder(id=f"ro-{n}", order_item=(item if n % 2 else float_item,)) for n in range(6)
    ]
    for order in orders:
        doc, floats = tmf._stored_doc(order)
        assert doc == tmf.to_json(order)
        assert floats is (order.order_item[0] is float_item)  # a memo hit keeps the flag
    first, _ = tmf._stored_doc(orders[1])
    again, _ = tmf._stored_doc(orders[3])
    assert again["orderItem"][0] is first["orderItem"][0]  # one document, shared
    mine = tmf.to_json(orders[1])  # a caller's: fresh, never a remembered one
    assert mine == first and mine["orderItem"][0] is not first["orderItem"][0]


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), 2**64, -(2**63) - 1, 1e-7, -0.0, {"\ud800": 1}, "\ud800"],
)
def test_what_orjson_cannot_spell_alike_goes_to_the_standard_library(
    backend: None, value: Any
) -> None:
    doc = {"v": value}
    codec.use_backend("stdlib")
    try:
        expected: bytes | type[BaseException] = codec.dumps(doc, True)
    except (UnicodeEncodeError, ValueError) as exc:
        expected = type(exc)
    codec.use_backend("orjson")
    floats = isinstance(value, float)
    if isinstance(expected, bytes):
        assert codec.dumps(doc, floats) == expected
    else:
        with pytest.raises(expected):
            codec.dumps(doc, floats)


def test_backend_choice(backend: None) -> None:
    assert codec.use_backend("stdlib") == "stdlib"
    assert codec.dumps is codec.stdlib_dumps
    assert codec.use_backend("orjson") == "orjson"
    with pytest.raises(ValueError, match="one of"):
        codec.use_backend("simdjson")


def test_the_store_works_without_orjson(tmp_path: Any) -> None:
    """ETOMKIT_JSON=stdlib, and orjson made unimportable: the same store files."""
    script = f"""
import sys
sys.modules["orjson"] = None  # import orjson now raises ImportError
import etomkit as ek
from etomkit.adapters.file import codec
assert codec.backend() == "stdlib" and codec.orjson is None, codec.backend()
with ek.FileStore({str(tmp_path / "s")!r}) as store:
    store.products.add(ek.Product(id="p-1", name="Fibre é",
        product_offering=ek.EntityRef(id="po-1"),
        related_party=(ek.RelatedParty(id="c-1", role="customer", referred_type="Customer"),),
        product_characteristic=(ek.Characteristic(name="speed", value=1.5),)))
with ek.FileStore({str(tmp_path / "s")!r}) as store:
    assert store.products.get("p-1").product_characteristic[0].value == 1.5
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"ETOMKIT_JSON": "stdlib", "PATH": ""},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_environment_variable_selects_the_standard_library() -> None:
    script = "from etomkit.adapters.file import codec; print(codec.backend())"
    for env, expected in (({"ETOMKIT_JSON": "stdlib"}, "stdlib"), ({}, "orjson")):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        assert out.stdout.strip() == expected


def _record(reason: str | None = None) -> IssuanceRecord:
    items = tuple(
        ek.ServiceOrderItem(
            id=str(n),
            action="add",
            service=ek.ServiceRefOrValue(
                service_specification=ek.EntityRef(id="fibre"),
                service_characteristic=(ek.Characteristic(name="bw", value="1G"),),
            ),
        )
        for n in range(1, 4)
    )
    request = ek.InitiatingRequest(kind="serviceOrder", id="SO-1", items=items)
    entries = (IssuedItem(item_id="1", action="add", outcome="issued", reason=reason),)
    return IssuanceRecord(id=request.key, request=request, items=entries)


def test_a_rewritten_record_reuses_its_requests_bytes(backend: None) -> None:
    from etomkit.adapters.file import store as store_module

    record = _record()
    for name in ("stdlib", "orjson"):
        codec.use_backend(name)
        assert _encode(record) == reference(record)
        rewritten = attrs.evolve(record, items=(attrs.evolve(record.items[0], service_id="s-1"),))
        assert rewritten.request is record.request
        if name == "orjson":
            assert store_module._REQUESTS[id(record.request)][0] is record.request
        else:  # written as text: the request's text is remembered
            text_of = stored_text.functions[type(record.request)]
            assert text_of(record.request) is text_of(record.request)
        assert _encode(rewritten) == reference(rewritten)


def test_a_record_holding_the_placeholder_is_encoded_whole(backend: None) -> None:
    from etomkit.adapters.file import store as store_module

    record = _record(reason=store_module._SPLICE)
    assert _encode(record) == reference(record)


def _plain_converter() -> Any:
    """tmf's converter as it was built before the faster container hooks."""
    faster = tmf.__dict__["register_faster_containers"]
    setattr(tmf, "register_faster_containers", lambda _conv: None)  # noqa: B010
    try:
        return tmf._make_converter()
    finally:
        setattr(tmf, "register_faster_containers", faster)  # noqa: B010


_PLAIN = _plain_converter()


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entity=_stored_entities())
def test_the_faster_hooks_build_the_same_documents(entity: Any) -> None:
    expected = _PLAIN.unstructure(entity)
    assert tmf.to_json(entity) == expected
    assert tmf._stored_doc(entity)[0] == expected
    assert json.dumps(tmf.to_json(entity)) == json.dumps(expected)  # same key order too
