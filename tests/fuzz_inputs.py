"""Hypothesis strategies for hostile input: what the fuzz tests of every entry point feed in.

Random bytes, byte mutations of valid documents, deep nesting, huge and
non-finite numbers, and valid documents with one value (at any level) swapped
for a value of the wrong type.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import etomkit as ek
from etomkit import tmf

EXAMPLES = Path(__file__).parents[1] / "examples" / "resource_orders"

#: Values of every JSON kind (and a few only Python has), swapped in anywhere.
WRONG_VALUES: tuple[Any, ...] = (
    "x",
    "",
    "2025-13-45T99:00:00Z",
    "²",
    0,
    -1,
    2**70,
    10**400,
    1.5,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    {},
    ["x"],
    [{"a": 1}],
    {"a": 1},
    {"id": 1},
    [[[[[]]]]],
)

#: JSON texts that break a limit or a rule of JSON, spliced into documents.
HOSTILE_TEXTS: tuple[str, ...] = (
    "9" * 5000,
    "-" + "9" * 400,
    "1e400",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "[" * 70 + "]" * 70,
    "[" * 3000 + "]" * 3000,
    '{"a":' * 2000 + "1" + "}" * 2000,
    "[" * 100_000,
    '"\\ud800"',
)


def offering_doc() -> dict[str, Any]:
    """A valid TMF620 offering document with most kinds of member."""
    return {
        "id": "po-1",
        "name": "Fibre 1G",
        "version": "1.0",
        "lifecycleStatus": "In study",
        "isSellable": True,
        "isBundle": False,
        "validFor": {"startDateTime": "2025-01-01T00:00:00Z"},
        "category": [{"id": "broadband", "name": "Broadband"}],
        "productSpecification": {"id": "ps-1", "version": "2"},
        "prodSpecCharValueUse": [
            {
                "name": "downloadSpeed",
                "valueType": "integer",
                "productSpecCharacteristicValue": [{"value": 1000, "isDefault": True}],
            }
        ],
        "@type": "ProductOffering",
    }


def product_doc(offering_id: str = "po-1") -> dict[str, Any]:
    """A valid TMF637 product document for ``offering_id``."""
    return {
        "id": "p-1",
        "name": "Fibre at home",
        "status": "created",
        "productOffering": {"id": offering_id},
        "relatedParty": [{"id": "c-1", "role": "customer", "@referredType": "Customer"}],
        "productOrderItem": [{"productOrderId": "o-1", "orderItemId": "1"}],
        "productCharacteristic": [{"name": "downloadSpeed", "value": 1000}],
        "startDate": "2025-01-01T00:00:00Z",
        "@type": "Product",
    }


def service_order_doc() -> Any:
    return json.loads((EXAMPLES / "service_order.json").read_text(encoding="utf-8"))


def resource_specification_doc() -> Any:
    specs = json.loads((EXAMPLES / "resource_specifications.json").read_text(encoding="utf-8"))
    return specs[0]


def rules_text() -> str:
    return (EXAMPLES / "rules.toml").read_text(encoding="utf-8")


REQUIREMENTS_TOML = """
[[requirement]]
id = "broadband-offerings"
category = "broadband"
required_fields = ["description"]

[[requirement]]
id = "broadband-products"
entity = "Product"
category = "broadband"

[[requirement.characteristic]]
name = "downloadSpeed"
value_type = "integer"
minimum = 1
maximum = 10000
pattern = "^[0-9]+$"
allowed = [100, 1000]
"""


def _places(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place (key path) in ``doc``, the root included."""
    places = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            places.extend(_places(value, (*path, key)))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            places.extend(_places(value, (*path, i)))
    return places


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(doc)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@st.composite
def wrong_types(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with one to three values (at any level) replaced by a wrongly typed one."""
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(_places(doc)))
        doc = _put(doc, place, draw(st.sampled_from(WRONG_VALUES)))
    return doc


@st.composite
def mutated_bytes(draw: st.DrawFn, text: str) -> bytes:
    """The UTF-8 of ``text`` with a few bytes set, inserted or deleted."""
    data = bytearray(text.encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(("set", "insert", "delete")))
        byte = draw(st.integers(0, 255))
        if how == "set":
            data[at] = byte
        elif how == "insert":
            data.insert(at, byte)
        else:
            del data[at]
    return bytes(data)


@st.composite
def spliced(draw: st.DrawFn, text: str) -> str:
    """``text`` with a hostile JSON text put in place of one of its values."""
    doc = json.loads(text)
    place = draw(st.sampled_from(_places(doc)))
    marker = '"__hostile__"'
    with_marker = json.dumps(_put(doc, place, "__hostile__"))
    return with_marker.replace(marker, draw(st.sampled_from(HOSTILE_TEXTS)), 1)


def json_texts(doc: Any) -> st.SearchStrategy[str | bytes]:
    """Every kind of hostile text derived from the valid ``doc``."""
    text = json.dumps(doc)
    return st.one_of(
        st.binary(max_size=120),
        st.text(max_size=60),
        mutated_bytes(text),
        spliced(text),
        wrong_types(doc).map(lambda d: json.dumps(d, allow_nan=True)),
        st.sampled_from(HOSTILE_TEXTS),
    )


def json_data(doc: Any) -> st.SearchStrategy[Any]:
    """Hostile parsed data derived from the valid ``doc`` (what from_json/from_dict take)."""
    deep: Any = []
    for _ in range(3000):
        deep = [deep]
    return st.one_of(
        wrong_types(doc),
        st.sampled_from(WRONG_VALUES),
        st.just(_put(doc, (), {"nested": deep})),
        st.sampled_from(_places(doc)).map(lambda place: _put(doc, place, deep)),
    )


def library_errors_only(call: Callable[[], Any]) -> Any:
    """``call()``; None if it raised an EtomkitError (any other exception escapes)."""
    try:
        return call()
    except ek.EtomkitError:
        return None


def strict_json(text: str) -> Any:
    """Parse ``text`` as JSON proper: NaN and Infinity are refused."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} written into a download")

    return json.loads(text, parse_constant=refuse)


def state_of(inventory: ek.ProductOfferingInventory) -> Any:
    """Everything the inventory holds, as TMF JSON (for 'nothing stored' checks)."""
    offerings = [tmf.to_json(o) for o in inventory.iter_offerings()]
    products = [tmf.to_json(p) for p in inventory.iter_products()]
    return offerings, products
