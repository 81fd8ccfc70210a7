"""Checking characteristics against a TMF634 ResourceSpecification."""

from __future__ import annotations

from typing import Any

import pytest

from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)

Value = CharacteristicValueSpecification


def spec(*chars: ResourceSpecificationCharacteristic) -> ResourceSpecification:
    return ResourceSpecification(id="port", resource_spec_characteristic=chars)


def char(name: str, **fields: Any) -> ResourceSpecificationCharacteristic:
    return ResourceSpecificationCharacteristic(name=name, **fields)


@pytest.mark.parametrize(
    ("characteristic", "value", "problem"),
    [
        (char("mtu", value_type="integer"), 1500, None),
        (char("mtu", value_type="integer"), True, "must be an integer"),
        (char("mtu", value_type="Integer"), 1500.5, "must be an integer"),
        (char("ratio", value_type="number"), 0.5, None),
        (char("name", value_type="string"), 7, "must be a string"),
        (char("on", value_type="boolean"), "yes", "must be a boolean"),
        (char("cfg", value_type="object"), {"a": 1}, None),
        (char("cfg", value_type="object"), [1], "must be an object"),
        (char("tags", value_type="array"), ["a", "b"], None),
        (char("colour", value_type="hexColour"), object(), None),  # unknown types unchecked
        (char("tier", resource_spec_characteristic_value=(Value(value="gold"),)), "gold", None),
        (
            char("tier", resource_spec_characteristic_value=(Value(value="gold"),)),
            "silver",
            "'silver' is not allowed by resource specification 'port'; allowed: 'gold'",
        ),
        (char("n", resource_spec_characteristic_value=(Value(value=1),)), 1.0, None),
        (char("n", resource_spec_characteristic_value=(Value(value=1),)), True, "not allowed"),
        (
            char("tier", extensible=True, resource_spec_characteristic_value=(Value(value="g"),)),
            "anything",
            None,
        ),
        (
            char("vlan", resource_spec_characteristic_value=(Value(value_from=2, value_to=4094),)),
            4094,
            None,
        ),
        (
            char("vlan", resource_spec_characteristic_value=(Value(value_from=2, value_to=4094),)),
            4095,
            "allowed: 2..4094",
        ),
        (
            char(
                "vlan",
                resource_spec_characteristic_value=(
                    Value(value_from=2, value_to=4094, range_interval="open"),
                ),
            ),
            2,
            "not allowed",
        ),
        (
            char(
                "vlan",
                resource_spec_characteristic_value=(
                    Value(value_from=2, value_to=4094, range_interval="closedBottom"),
                ),
            ),
            2,
            None,
        ),
        (char("circuit", regex="^C-[0-9]+$"), "C-12", None),
        (char("circuit", regex="^C-[0-9]+$"), "X-12", "does not match '^C-[0-9]+$'"),
        (char("circuit", regex="("), "C-12", "has an invalid regex '('"),
        (
            char("pool", resource_spec_characteristic_value=(Value(regex="^static-"),)),
            "static-1",
            None,
        ),
        (
            char("dns", value_type="string", max_cardinality=2),
            ["a", "b", "c"],
            "has 3 values; at most 2 allowed",
        ),
        (char("dns", value_type="string"), ["a", 1], "must be a string"),
    ],
)
def test_a_value_is_checked_against_type_allowed_values_ranges_and_patterns(
    characteristic: ResourceSpecificationCharacteristic, value: Any, problem: str | None
) -> None:
    problems = spec(characteristic).problems({characteristic.name: value})
    if problem is None:
        assert problems == []
    else:
        ((path, message),) = problems
        assert path == f"characteristic.{characteristic.name}"
        assert problem in message


def test_required_characteristics_must_be_present_and_unknown_ones_are_named() -> None:
    port = spec(char("profile", min_cardinality=1), char("label"))
    assert port.required_characteristics == ("profile",)
    assert port.problems({"lable": "x"}, "order_item[2].") == [
        (
            "order_item[2].characteristic.profile",
            "is required by resource specification 'port' and missing",
        ),
        (
            "order_item[2].characteristic.lable",
            "is not a characteristic of resource specification 'port'; known: label, profile",
        ),
    ]


def test_a_specification_without_characteristics_constrains_none() -> None:
    assert spec().problems({"anything": 1}) == []


def test_a_specification_refers_to_itself() -> None:
    ref = ResourceSpecification(
        id="ont", name="ONT", version="2", type="PhysicalResourceSpecification"
    ).ref()
    assert (ref.id, ref.name, ref.version, ref.referred_type) == (
        "ont",
        "ONT",
        "2",
        "PhysicalResourceSpecification",
    )
