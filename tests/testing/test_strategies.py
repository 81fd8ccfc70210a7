"""The shipped strategies generate well-formed entities that survive TMF JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from etomkit import (
    Characteristic,
    EntityRef,
    OrderItemRef,
    PartyRef,
    Product,
    ProductOffering,
    RelatedParty,
    TimePeriod,
    tmf,
)
from etomkit.model import (
    CUSTOMER_ROLE,
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    CharacteristicValueUse,
    offering_problems,
    product_problems,
)
from etomkit.testing import strategies as ets
from etomkit.tmf import _json_names


def _at_most(max_examples: int) -> settings:
    """The loaded profile, capped at ``max_examples`` (whole entities are slow to generate)."""
    current = settings.default
    assert current is not None
    return settings(current, max_examples=min(current.max_examples, max_examples))


# Hold on to a unique reference per strategy: they validate once, on first use.
OFFERINGS = ets.product_offerings()
PRODUCTS = ets.products()

#: Fields holding free JSON, where lists are allowed.
JSON_FIELDS = frozenset({"extras", "value", "product_spec_characteristic_value"})


def model_values(obj: object, path: str = "$") -> Iterator[tuple[str, object]]:
    """Every ``(path, value)`` inside an attrs object, not descending into free JSON."""
    if attrs.has(type(obj)):
        for field in attrs.fields(type(obj)):  # type: ignore[arg-type]
            if field.name in JSON_FIELDS:
                continue
            value = getattr(obj, field.name)
            yield f"{path}.{field.name}", value
            yield from model_values(value, f"{path}.{field.name}")
    elif isinstance(obj, tuple):
        for i, item in enumerate(obj):
            yield from model_values(item, f"{path}[{i}]")


def assert_well_formed_values(entity: object) -> None:
    """Date-times are UTC, sequences are tuples, extras are JSON with unmodelled keys."""
    for path, value in [("$", entity), *model_values(entity)]:
        assert not isinstance(value, list | set), f"{path} is a {type(value).__name__}"
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), path
        extras = getattr(value, "extras", None)
        if attrs.has(type(value)) and extras is not None:
            assert not set(extras) & set(_json_names(type(value)).values()), path
            assert json.loads(json.dumps(extras)) == extras, path


# --------------------------------------------------------------------- offerings


@_at_most(100)
@given(OFFERINGS)
def test_generated_offerings_pass_validation(offering: ProductOffering) -> None:
    assert offering_problems(offering) == []
    assert offering.id
    assert offering.revision == 0
    assert offering.lifecycle_status in OFFERING_LIFECYCLE.states
    assert_well_formed_values(offering)


@_at_most(100)
@given(OFFERINGS)
def test_generated_offerings_round_trip_tmf_json(offering: ProductOffering) -> None:
    assert tmf.from_json(ProductOffering, tmf.to_json(offering)) == offering
    assert tmf.loads(ProductOffering, tmf.dumps(offering)) == offering


@_at_most(25)
@given(
    ets.product_offerings(
        lifecycle_status="Launched", with_id=False, category_ids=st.just("cat-fibre")
    )
)
def test_offering_arguments_pin_the_generated_fields(offering: ProductOffering) -> None:
    assert offering.lifecycle_status == "Launched"
    assert offering.id is None
    assert set(offering.category_ids) <= {"cat-fibre"}
    assert offering_problems(offering) == []


# --------------------------------------------------------------------- products


@_at_most(100)
@given(PRODUCTS)
def test_generated_products_pass_validation(product: Product) -> None:
    assert product_problems(product) == []
    assert product.id
    assert product.revision == 0
    assert product.status in PRODUCT_LIFECYCLE.states
    roles = [(p.role or "").lower() for p in product.related_party]
    assert roles.count(CUSTOMER_ROLE) == 1
    assert product.related_party[0].role == CUSTOMER_ROLE
    assert_well_formed_values(product)


@_at_most(100)
@given(PRODUCTS)
def test_generated_products_round_trip_tmf_json(product: Product) -> None:
    assert tmf.from_json(Product, tmf.to_json(product)) == product
    assert tmf.loads(Product, tmf.dumps(product)) == product


@_at_most(25)
@given(
    ets.products(
        offering_id="po-1",
        status=st.sampled_from(["active", "suspended"]),
        customer_id="alice",
        order_items=st.just(()),
    )
)
def test_product_arguments_pin_the_generated_fields(product: Product) -> None:
    assert product.product_offering.id == "po-1"
    assert product.status in {"active", "suspended"}
    assert product.customer_id == "alice"
    assert product.product_order_item == ()
    assert product_problems(product) == []


# --------------------------------------------------------------------- values

VALUES: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (EntityRef, ets.entity_refs()),
    (RelatedParty, ets.related_parties()),
    (OrderItemRef, ets.order_item_refs()),
    (Characteristic, ets.characteristics()),
    (CharacteristicValueUse, ets.characteristic_value_uses()),
    (TimePeriod, ets.time_periods()),
]


@pytest.mark.parametrize(("cls", "values"), VALUES, ids=[cls.__name__ for cls, _ in VALUES])
@given(data=st.data())
def test_generated_values_round_trip_tmf_json(
    cls: type[Any], values: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    value = data.draw(values)
    assert isinstance(value, cls)
    assert_well_formed_values(value)
    assert tmf.from_json(cls, json.loads(json.dumps(tmf.to_json(value)))) == value


@given(ets.time_periods(open_ended=False))
def test_closed_periods_start_before_they_end(period: TimePeriod) -> None:
    assert period.start_date_time is not None
    assert period.end_date_time is not None
    assert period.start_date_time <= period.end_date_time
    assert period.contains(period.start_date_time)


@given(ets.party_refs())
def test_generated_parties_become_customers(party: PartyRef) -> None:
    customer = party.as_related_party(CUSTOMER_ROLE)
    assert customer.id == party.id
    assert tmf.from_json(RelatedParty, tmf.to_json(customer)) == customer


@given(ets.entity_ids())
def test_entity_ids_are_never_blank(entity_id: str) -> None:
    assert entity_id.strip() == entity_id != ""


@given(ets.names())
def test_names_are_never_blank(name: str) -> None:
    assert name.strip()


# --------------------------------------------------------------------- st.from_type


def test_the_hypothesis_entry_point_registers_the_strategies() -> None:
    hooks = [e.value for e in entry_points(group="hypothesis")]
    assert "_etomkit_hypothesis:register" in hooks


REGISTERED = [
    ProductOffering,
    Product,
    EntityRef,
    PartyRef,
    RelatedParty,
    OrderItemRef,
    Characteristic,
    TimePeriod,
]


@pytest.mark.parametrize("cls", REGISTERED, ids=[cls.__name__ for cls in REGISTERED])
@_at_most(25)
@given(data=st.data())
def test_from_type_generates_well_formed_values(cls: type[Any], data: st.DataObject) -> None:
    # Without the registration, hypothesis would infer these classes field by
    # field and soon produce blank ids and names, naive date-times or lists.
    value = data.draw(st.from_type(cls))
    assert isinstance(value, cls)
    assert_well_formed_values(value)
    if isinstance(value, ProductOffering):
        assert offering_problems(value) == []
    if isinstance(value, Product):
        assert product_problems(value) == []
    if isinstance(value, EntityRef | RelatedParty | PartyRef):
        assert value.id.strip()
    if cls is not PartyRef:  # not a TMF resource: it becomes a RelatedParty first
        assert tmf.from_json(cls, tmf.to_json(value)) == value
