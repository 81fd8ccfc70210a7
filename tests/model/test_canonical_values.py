"""The model-boundary policy for stored values (model/canonical.py, #10 part 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import etomkit as ek
from etomkit import tmf
from etomkit.errors import ValidationError
from etomkit.model import canonical
from etomkit.model.audit import AuditRun, ManualAudit
from etomkit.model.canonical import MAX_JSON_DEPTH, json_value_problems, storable_problems
from etomkit.model.client import ClientRegistration
from etomkit.model.issuance import (
    FeasibilityAssessment,
    InitiatingRequest,
    IssuanceRecord,
    request_item,
)
from etomkit.model.resource_order import ResourceOrder, ResourceOrderItem, ResourceRefOrValue
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.testing import strategies as ek_st

T0 = datetime(2025, 1, 1, tzinfo=UTC)
STORED: tuple[type, ...] = (
    ek.ProductOffering,
    ek.Product,
    ResourceOrder,
    IssuanceRecord,
    FeasibilityAssessment,
    ResourceSpecification,
    ClientRegistration,
    AuditRun,
    ManualAudit,
)


def _offering(**changes: Any) -> ek.ProductOffering:
    return ek.ProductOffering(**{"id": "o-1", "name": "Fibre", **changes})


def _char(value: Any) -> ek.Product:
    return ek.Product(
        id="p-1",
        product_offering=ek.EntityRef(id="o-1"),
        related_party=(ek.RelatedParty(id="c-1", role="customer"),),
        product_characteristic=(ek.Characteristic(name="speed", value=value),),
    )


def test_the_json_names_the_policy_reserves_are_those_tmf_json_writes() -> None:
    for cls in STORED:
        canonical._fast(cls)  # compiles the checks of every class nested in it too
    classes = set(canonical._FAST)
    assert ek.Characteristic in classes and ResourceRefOrValue in classes
    for cls in classes:
        assert canonical.json_names(cls) == tmf._json_names(cls), cls


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        (Decimal("1.5"), "product_characteristic[0].value", "not Decimal"),
        ({1, 2}, "product_characteristic[0].value", "not set"),
        ((1, 2), "product_characteristic[0].value", "a list, not a tuple"),
        ([1, (2,)], "product_characteristic[0].value[1]", "a list, not a tuple"),
        ({1: "one"}, "product_characteristic[0].value", "keys must be strings"),
        ({"a": {2: "b"}}, "product_characteristic[0].value.a", "keys must be strings"),
        (T0, "product_characteristic[0].value", "ISO 8601 string"),
        (float("nan"), "product_characteristic[0].value", "finite"),
        (float("-inf"), "product_characteristic[0].value", "finite"),
        (10**4300, "product_characteristic[0].value", "4300 digits"),
        ("\udcff", "product_characteristic[0].value", "lone surrogates"),
        (b"x", "product_characteristic[0].value", "not bytes"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_a_characteristic_value_that_is_not_json_is_refused_at_its_path(
    value: Any, path: str, words: str
) -> None:
    ((where, message),) = storable_problems(_char(value))
    assert where == path and words in message


@given(ek_st.json_values())
def test_every_json_value_is_a_storable_characteristic_value(value: Any) -> None:
    assert storable_problems(_char(value)) == []
    assert canonical._fast(ek.Product)(_char(value))


def test_json_values_may_nest_to_the_documented_depth_and_no_deeper() -> None:
    deep: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    assert json_value_problems(deep, "v") == []
    ((path, message),) = json_value_problems([deep], "v")
    assert path == "v" + "[0]" * MAX_JSON_DEPTH and "deeper than 64" in message


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"name": "\udcff"}, "name", "lone surrogates"),
        ({"last_update": datetime(2025, 1, 1)}, "last_update", "timezone-aware"),
        (
            {"valid_for": ek.TimePeriod(end_date_time=datetime(2025, 1, 1))},
            "valid_for.end_date_time",
            "timezone-aware",
        ),
        ({"lifecycle_status": "launched"}, "lifecycle_status", "spelled 'Launched'"),
        ({"type": None}, "type", "is required"),
        ({"category": [ek.EntityRef(id="c")]}, "category", "must be a tuple"),
        ({"category": (ek.EntityRef(id=7),)}, "category[0].id", "must be a string"),  # type: ignore[arg-type]
        ({"is_sellable": 1}, "is_sellable", "must be a bool"),
        ({"extras": {"name": "shadow"}}, "extras.name", "modelled attribute"),
        ({"extras": {"@type": "X"}}, "extras.@type", "modelled attribute"),
        ({"extras": {"channel": (1,)}}, "extras.channel", "not a tuple"),
        ({"extras": {3: "x"}}, "extras", "keys must be strings"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_an_offering_field_a_store_would_change_is_refused_at_its_path(
    changes: dict[str, Any], path: str, words: str
) -> None:
    problems = storable_problems(_offering(**changes))
    assert [p for p, _ in problems] == [path]
    assert words in problems[0][1]


def test_every_date_time_of_a_request_must_be_timezone_aware() -> None:
    naive = datetime(2025, 1, 1)
    request = InitiatingRequest(
        kind="serviceOrder",
        id="so-1",
        items=(request_item("1", "add", "fibre", {"at": "x"}),),
        requested_start_date=naive,
        requested_completion_date=naive,
    )
    assert [p for p, _ in storable_problems(request)] == [
        "requested_start_date",
        "requested_completion_date",
    ]


def test_an_empty_resource_beside_characteristics_is_refused_since_it_reads_back_as_none() -> None:
    item = ResourceOrderItem(
        id="1",
        resource=ResourceRefOrValue(),
        characteristic=(ek.Characteristic(name="m", value=1),),
    )
    assert [p for p, _ in storable_problems(ResourceOrder(id="r", order_item=(item,)))] == [
        "order_item[0].resource"
    ]
    resource = ResourceRefOrValue(extras={"resourceCharacteristic": []})
    assert [p for p, _ in storable_problems(attrs.evolve(item, resource=resource))] == [
        "resource.extras.resourceCharacteristic"
    ]


_AWKWARD = st.sampled_from(
    [datetime(2025, 1, 1), (1,), {1: 2}, Decimal(1), {1}, "\udcff", float("nan"), 10**4300, b""]
)


@given(ek_st.products(), _AWKWARD, st.sampled_from(["value", "extras", "name", "start_date"]))
def test_the_fast_pass_never_accepts_what_the_detailed_check_refuses(
    product: ek.Product, value: Any, where: str
) -> None:
    if where == "value":
        product = attrs.evolve(
            product, product_characteristic=(ek.Characteristic(name="x", value=value),)
        )
    elif where == "extras":
        product = attrs.evolve(product, extras={"x": {"y": [value]}})
    else:
        product = attrs.evolve(product, **{where: value})
    detailed: list[tuple[str, str]] = []
    canonical._walk(canonical._plan(ek.Product), product, "", detailed)
    assert detailed and not canonical._fast(ek.Product)(product)


@given(ek_st.product_offerings())
def test_every_generated_offering_is_storable(offering: ek.ProductOffering) -> None:
    assert storable_problems(offering) == []


@pytest.mark.parametrize("store_kind", ["memory", "file"])
def test_an_offering_named_with_a_lone_surrogate_is_refused_and_nothing_is_stored(
    store_kind: str, tmp_path: Path
) -> None:
    store = ek.InMemoryStore() if store_kind == "memory" else ek.FileStore(tmp_path / "s")
    inventory = ek.ProductOfferingInventory(store, ids=ek.SequentialIdFactory())
    with pytest.raises(ValidationError, match="name: must not contain lone surrogates"):
        inventory.create_offering(ek.ProductOffering(name="\udcff"))
    assert len(store.offerings) == 0
    if isinstance(store, ek.FileStore):
        store.close()


def test_a_whole_number_in_a_float_field_is_refused_since_a_store_returns_a_float() -> None:
    run = AuditRun(id="ar-1", started_at=T0, finished_at=T0, overall_score=1)
    ((path, message),) = storable_problems(run)
    assert path == "overall_score" and "1.0, not 1" in message
    assert storable_problems(attrs.evolve(run, overall_score=1.0)) == []


def test_a_resource_order_whose_items_are_not_a_tuple_is_refused_not_crashed_on() -> None:
    order = ResourceOrder(id="r", order_item=T0)  # type: ignore[arg-type]
    assert [p for p, _ in storable_problems(order)] == ["order_item"]


def test_the_usual_spellings_are_those_each_finder_returns_unchanged() -> None:
    assert canonical._USUAL.keys() == canonical._SPELLED.keys()
    for key, usual in canonical._USUAL.items():
        find = canonical._SPELLED[key]
        assert all(find(s) == s for s in usual), key
