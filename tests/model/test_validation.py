"""Field-level validation of offerings and products: every problem, with its path, at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import etomkit as ek
from etomkit.model import offering_problems, product_problems

START = datetime(2025, 1, 1, tzinfo=UTC)
NAIVE = datetime(2025, 1, 1)


def offering(**fields: Any) -> ek.ProductOffering:
    """An offering with the given fields, wrong types included (the model does not check)."""
    values: dict[str, Any] = {"name": "Fibre 1G", **fields}
    return ek.ProductOffering(**values)


def product(**fields: Any) -> ek.Product:
    """A product of offering po-1 held by customer c-42, with the given fields."""
    values: dict[str, Any] = {
        "product_offering": ek.EntityRef(id="po-1"),
        "related_party": (ek.RelatedParty(id="c-42", role="customer"),),
        **fields,
    }
    return ek.Product(**values)


def paths(problems: list[tuple[str, str]]) -> list[str]:
    return [path for path, _ in problems]


def message_at(problems: list[tuple[str, str]], path: str) -> str:
    found = [message for where, message in problems if where == path]
    assert found, f"no problem at {path!r}; problems: {problems}"
    return found[0]


# ---------------------------------------------------------------- offerings


def test_a_minimal_offering_has_no_problems() -> None:
    assert offering_problems(offering()) == []


def test_a_fully_populated_offering_has_no_problems() -> None:
    full = offering(
        id="po-1",
        href="https://example.com/productOffering/po-1",
        version="1.0",
        description="Symmetric fibre",
        lifecycle_status="Launched",
        status_reason="market ready",
        valid_for=ek.TimePeriod(start_date_time=START, end_date_time=START + timedelta(days=30)),
        is_bundle=True,
        is_sellable=True,
        category=(ek.EntityRef(id="cat-1", name="Broadband"),),
        product_specification=ek.EntityRef(id="ps-1"),
        bundled_product_offering=(ek.EntityRef(id="po-2"),),
        product_offering_price=(ek.EntityRef(id="pop-1"),),
        prod_spec_char_value_use=(ek.CharacteristicValueUse(name="speed", value_type="number"),),
    )
    assert offering_problems(full) == []


def test_an_open_ended_validity_period_is_fine() -> None:
    assert offering_problems(offering(valid_for=ek.TimePeriod(start_date_time=START))) == []
    assert offering_problems(offering(valid_for=ek.TimePeriod(end_date_time=START))) == []


@pytest.mark.parametrize(
    ("fields", "path", "says"),
    [
        ({"name": ""}, "name", "blank"),
        ({"name": "   "}, "name", "blank"),
        ({"name": None}, "name", "required"),
        ({"name": 42}, "name", "string"),
        ({"id": 7}, "id", "string"),
        ({"version": 1.0}, "version", "string"),
        ({"description": ["text"]}, "description", "string"),
        ({"status_reason": 3}, "status_reason", "string"),
        ({"lifecycle_status": 3}, "lifecycle_status", "string"),
        ({"lifecycle_status": ""}, "lifecycle_status", "blank"),
        ({"is_bundle": "no"}, "is_bundle", "bool"),
        ({"is_sellable": 1}, "is_sellable", "bool"),
        ({"valid_for": "2025"}, "valid_for", "TimePeriod"),
        (
            {"valid_for": ek.TimePeriod(start_date_time=NAIVE)},
            "valid_for.start_date_time",
            "timezone",
        ),
        (
            {"valid_for": ek.TimePeriod(start_date_time=START, end_date_time=NAIVE)},
            "valid_for.end_date_time",
            "timezone",
        ),
        (
            {"valid_for": ek.TimePeriod(start_date_time="2025-01-01")},  # type: ignore[arg-type]
            "valid_for.start_date_time",
            "datetime",
        ),
        (
            {
                "valid_for": ek.TimePeriod(
                    start_date_time=START, end_date_time=START - timedelta(seconds=1)
                )
            },
            "valid_for.end_date_time",
            "before",
        ),
        ({"category": [ek.EntityRef(id="cat-1")]}, "category", "tuple"),
        ({"category": ({"id": "cat-1"},)}, "category[0]", "EntityRef"),
        ({"category": (ek.EntityRef(id=""),)}, "category[0].id", "blank"),
        ({"category": (ek.EntityRef(id="   "),)}, "category[0].id", "blank"),
        (
            {"category": (ek.EntityRef(id="cat-1"), ek.EntityRef(id=None))},  # type: ignore[arg-type]
            "category[1].id",
            "required",
        ),
        ({"product_specification": ek.EntityRef(id="")}, "product_specification.id", "blank"),
        ({"product_specification": "ps-1"}, "product_specification", "EntityRef"),
        (
            {"product_offering_price": (ek.EntityRef(id="pop-1"), ek.EntityRef(id=" "))},
            "product_offering_price[1].id",
            "blank",
        ),
        (
            {"bundled_product_offering": (ek.EntityRef(id=""),), "is_bundle": True},
            "bundled_product_offering[0].id",
            "blank",
        ),
        (
            {"bundled_product_offering": (ek.EntityRef(id="po-2"),), "is_bundle": False},
            "is_bundle",
            "bundled_product_offering",
        ),
        (
            {"prod_spec_char_value_use": (ek.CharacteristicValueUse(name=""),)},
            "prod_spec_char_value_use[0].name",
            "blank",
        ),
        (
            {"prod_spec_char_value_use": ({"name": "speed"},)},
            "prod_spec_char_value_use[0]",
            "CharacteristicValueUse",
        ),
    ],
)
def test_offering_problem_is_reported_at_its_field_path(
    fields: dict[str, Any], path: str, says: str
) -> None:
    problems = offering_problems(offering(**fields))
    assert says.lower() in message_at(problems, path).lower()


def test_every_offering_problem_is_listed_at_once() -> None:
    bad = offering(
        name=" ",
        version=2,
        is_sellable="yes",
        valid_for=ek.TimePeriod(start_date_time=START, end_date_time=START - timedelta(days=1)),
        category=(ek.EntityRef(id="cat-1"), ek.EntityRef(id="")),
        product_specification=ek.EntityRef(id=""),
        prod_spec_char_value_use=(ek.CharacteristicValueUse(name=" "),),
    )
    assert sorted(paths(offering_problems(bad))) == sorted(
        [
            "name",
            "version",
            "is_sellable",
            "valid_for.end_date_time",
            "category[1].id",
            "product_specification.id",
            "prod_spec_char_value_use[0].name",
        ]
    )


def test_inventory_reports_every_offering_problem_in_one_validation_error(
    inventory: ek.ProductOfferingInventory,
) -> None:
    bad = offering(name="", valid_for=ek.TimePeriod(start_date_time=NAIVE), is_bundle="maybe")
    with pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(bad)
    assert {"name", "valid_for.start_date_time", "is_bundle"} <= set(
        paths(list(caught.value.problems))
    )
    for path in ("name", "valid_for.start_date_time", "is_bundle"):
        assert path in str(caught.value)
    assert isinstance(caught.value, ValueError)


# ---------------------------------------------------------------- products


def test_a_minimal_product_has_no_problems() -> None:
    assert product_problems(product()) == []


def test_the_customer_role_is_matched_without_regard_to_case() -> None:
    party = ek.RelatedParty(id="c-42", role="Customer")
    assert product_problems(product(related_party=(party,))) == []


def test_a_fully_populated_product_has_no_problems() -> None:
    full = product(
        id="p-1",
        name="Fibre 1G for c-42",
        status="active",
        is_bundle=False,
        is_customer_visible=True,
        product_serial_number="SN-1",
        order_date=START,
        start_date=START,
        termination_date=START + timedelta(days=365),
        product_specification=ek.EntityRef(id="ps-1"),
        product_order_item=(ek.OrderItemRef(order_id="o-7", item_id="1"),),
        product_characteristic=(ek.Characteristic(name="speed", value=1000),),
        realizing_service=(ek.EntityRef(id="s-1"),),
        realizing_resource=(ek.EntityRef(id="r-1"),),
        billing_account=ek.EntityRef(id="ba-1"),
    )
    assert product_problems(full) == []


@pytest.mark.parametrize(
    ("fields", "path", "says"),
    [
        ({"related_party": ()}, "related_party", "customer"),
        (
            {"related_party": (ek.RelatedParty(id="r-1", role="reseller"),)},
            "related_party",
            "customer",
        ),
        (
            {"related_party": [ek.RelatedParty(id="c-42", role="customer")]},
            "related_party",
            "tuple",
        ),
        (
            {"related_party": (ek.RelatedParty(id="", role="customer"),)},
            "related_party[0].id",
            "blank",
        ),
        (
            {"related_party": (ek.EntityRef(id="c-42"),)},
            "related_party[0]",
            "RelatedParty",
        ),
        ({"product_offering": ek.EntityRef(id="")}, "product_offering.id", "blank"),
        ({"product_offering": "po-1"}, "product_offering", "EntityRef"),
        ({"product_offering": None}, "product_offering", "EntityRef"),
        ({"status": ""}, "status", "blank"),
        ({"status": None}, "status", "required"),
        ({"name": 5}, "name", "string"),
        ({"order_date": NAIVE}, "order_date", "timezone"),
        ({"start_date": NAIVE}, "start_date", "timezone"),
        ({"termination_date": "2025-01-01T00:00:00Z"}, "termination_date", "datetime"),
        (
            {"start_date": START, "termination_date": START - timedelta(days=1)},
            "termination_date",
            "before",
        ),
        (
            {"product_order_item": ({"productOrderId": "o-7"},)},
            "product_order_item[0]",
            "OrderItemRef",
        ),
        ({"product_characteristic": ("speed",)}, "product_characteristic[0]", "Characteristic"),
        ({"realizing_service": (ek.EntityRef(id=""),)}, "realizing_service[0].id", "blank"),
        ({"realizing_resource": ("r-1",)}, "realizing_resource[0]", "EntityRef"),
        ({"realizing_service": None}, "realizing_service", "tuple"),
        ({"billing_account": ek.EntityRef(id="")}, "billing_account.id", "blank"),
        ({"product_specification": ek.EntityRef(id=" ")}, "product_specification.id", "blank"),
        ({"is_customer_visible": "yes"}, "is_customer_visible", "bool"),
        ({"is_bundle": 0}, "is_bundle", "bool"),
    ],
)
def test_product_problem_is_reported_at_its_field_path(
    fields: dict[str, Any], path: str, says: str
) -> None:
    problems = product_problems(product(**fields))
    assert says.lower() in message_at(problems, path).lower()


def test_every_product_problem_is_listed_at_once() -> None:
    bad = product(
        product_offering=ek.EntityRef(id=""),
        related_party=(ek.RelatedParty(id="r-1", role="reseller"),),
        status="",
        order_date=NAIVE,
        start_date=START,
        termination_date=START - timedelta(hours=1),
        realizing_resource=(ek.EntityRef(id=""),),
    )
    assert sorted(paths(product_problems(bad))) == sorted(
        [
            "product_offering.id",
            "related_party",
            "status",
            "order_date",
            "termination_date",
            "realizing_resource[0].id",
        ]
    )


def test_validation_error_carries_every_problem_and_names_them_in_its_message() -> None:
    error = ek.ValidationError("Product p-1", [("status", "must not be blank"), ("name", "bad")])
    assert error.problems == (("status", "must not be blank"), ("name", "bad"))
    assert "2 problems" in str(error)
    assert "status: must not be blank" in str(error)
    assert isinstance(error, ValueError)
    assert isinstance(error, ek.EtomkitError)


def test_not_found_error_is_a_key_error_with_a_readable_message() -> None:
    error = ek.NotFoundError("ProductOffering", "po-9")
    assert isinstance(error, KeyError)
    assert isinstance(error, ek.EtomkitError)
    assert str(error) == "ProductOffering 'po-9' not found"


def test_conflict_and_transition_errors_share_the_root() -> None:
    assert issubclass(ek.ConflictError, ek.EtomkitError)
    assert issubclass(ek.TransitionError, ek.EtomkitError)
