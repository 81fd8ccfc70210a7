"""Only etomkit errors at the input edges, and nothing stored (issue #10, part 4).

Each test is one finding of the issue: it raised a builtin exception (or stored
what no download could write) before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from tests.fuzz_inputs import REQUIREMENTS_TOML, offering_doc, service_order_doc, strict_json

import etomkit as ek
from etomkit import tmf
from etomkit.inputs import MAX_NESTING_DEPTH, parse_json
from etomkit.inventory.requirements import (
    InformationRequirement,
    ValueRequirement,
    requirement_problems,
)
from etomkit.model.issuance import InitiatingRequest
from etomkit.model.orders import ServiceOrder


def _paths(error: ek.ValidationError) -> list[str]:
    return [path for path, _ in error.problems]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def inventory() -> ek.ProductOfferingInventory:
    return ek.ProductOfferingInventory(ek.InMemoryStore(), ids=ek.SequentialIdFactory())


def test_bytes_that_are_not_utf8_are_a_validation_error_naming_the_byte() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.loads(ek.ProductOffering, b'{"name": "caf\xe9"}')
    assert caught.value.problems == (("$", "is not UTF-8 text: byte 13 is 0xe9"),)


def test_utf16_bytes_are_not_guessed_but_refused() -> None:
    text = json.dumps({"name": "Fibre"}).encode("utf-16")
    with pytest.raises(ek.ValidationError):
        tmf.loads(ek.ProductOffering, text)


def test_a_utf8_byte_order_mark_is_read_past() -> None:
    offering = tmf.loads(ek.ProductOffering, b"\xef\xbb\xbf" + json.dumps(offering_doc()).encode())
    assert offering.name == "Fibre 1G"


def test_rule_and_requirement_files_are_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes(
        '[[rule]]\nid = "r"\nspecification = "s"\ndescription = "Café"\n'
        '[[rule.produces]]\nresource_specification = "ont"\n'.encode()
    )
    assert ek.RuleSet.from_toml(rules).get("r").description == "Café"
    rules.write_bytes(b'[[rule]]\nid = "caf\xe9"\n')
    with pytest.raises(ek.ValidationError) as caught:
        ek.RuleSet.from_toml(rules)
    assert "not UTF-8" in caught.value.problems[0][1]
    requirements = tmp_path / "requirements.json"
    requirements.write_bytes(b'{"requirements": [{"id": "\xff"}]}')
    with pytest.raises(ek.ValidationError):
        ek.InformationRequirements.from_json(requirements)


def test_a_file_that_cannot_be_read_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(ek.StorageError, match="cannot read"):
        ek.RuleSet.from_json(tmp_path / "missing.json")


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 2_000, 100_000])
def test_a_document_nested_beyond_the_limit_is_refused_not_a_recursion_error(depth: int) -> None:
    text = '{"name": "x", "note": [{"text": "t", "deep": ' + _nested(depth) + "}]}"
    with pytest.raises(ek.ValidationError) as caught:
        tmf.loads(ek.ProductOffering, text)
    assert "nests deeper than" in caught.value.problems[0][1]
    with pytest.raises(ek.ValidationError):
        tmf.loads(ek.ProductOffering, "[" * depth)


def test_the_nesting_limit_names_the_path_where_it_is_exceeded() -> None:
    deep = json.loads(_nested(MAX_NESTING_DEPTH))
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ek.ProductOffering, {"name": "x", "deep": deep})
    (path,) = _paths(caught.value)
    assert path == "$.deep" + "[0]" * (MAX_NESTING_DEPTH - 1)


def test_a_document_at_the_nesting_limit_is_accepted() -> None:
    deep = json.loads(_nested(MAX_NESTING_DEPTH - 1))
    assert tmf.from_json(ek.ProductOffering, {"name": "x", "deep": deep}).extras["deep"] == deep


def test_a_deep_document_is_not_stored_and_downloads_keep_working(
    inventory: ek.ProductOfferingInventory,
) -> None:
    doc = offering_doc() | {"deep": json.loads(_nested(MAX_NESTING_DEPTH + 5))}
    with pytest.raises(ek.ValidationError):
        inventory.import_offerings([doc])
    deep: list[object] = []
    for _ in range(2_000):
        deep = [deep]
    with pytest.raises(ek.ValidationError):
        inventory.create_offering(ek.ProductOffering(name="x", extras={"deep": deep}))
    assert inventory.download_offerings() == "[]\n"


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "9" * 400, "1e400", "-1e999"])
def test_a_number_beyond_a_json_numbers_range_is_refused_at_its_path(number: str) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.loads(ek.ProductOffering, '{"name": "x", "validFor": {"n": ' + number + "}}")
    assert _paths(caught.value) == ["$.validFor.n"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_on_input(constant: str) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.loads(ek.ProductOffering, '{"name": "x", "speed": ' + constant + "}")
    assert caught.value.problems == (
        ("$.speed", f"{constant} is not a JSON number (numbers must be finite)"),
    )


def test_an_inventory_refuses_nan_so_no_download_holds_it(
    inventory: ek.ProductOfferingInventory,
) -> None:
    use = ek.CharacteristicValueUse(
        name="speed", product_spec_characteristic_value=({"value": float("nan")},)
    )
    with pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(ek.ProductOffering(name="x", prod_spec_char_value_use=(use,)))
    assert _paths(caught.value) == [
        "prod_spec_char_value_use[0].product_spec_characteristic_value[0].value"
    ]
    with pytest.raises(ek.ValidationError):
        inventory.import_offerings('[{"name": "x", "speed": NaN}]')
    strict_json(inventory.download_offerings())
    assert inventory.download_offerings() == "[]\n"


def test_a_purchase_with_a_huge_characteristic_value_is_refused(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre"))
    for target in ("In design", "In test", "Active", "Launched"):
        inventory.transition_offering(offering.id or "", target)
    with pytest.raises(ek.ValidationError) as caught:
        inventory.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id=offering.id or "",
            order_item=ek.OrderItemRef(order_id="o-1", item_id="1"),
            characteristics=(ek.Characteristic(name="n", value=10**5000),),
        )
    assert _paths(caught.value) == ["product_characteristic[0].value"]
    assert inventory.download_products() == "[]\n"


def test_a_priority_of_unicode_digits_makes_no_number_and_no_crash() -> None:
    doc = service_order_doc() | {"priority": "²"}
    request = InitiatingRequest.from_service_order(tmf.from_json(ServiceOrder, doc))
    assert request.priority is None
    doc = service_order_doc() | {"priority": "9" * 5000}
    assert InitiatingRequest.from_service_order(tmf.from_json(ServiceOrder, doc)).priority is None
    assert InitiatingRequest.from_service_order(tmf.from_json(ServiceOrder, service_order_doc()))


def test_a_requirement_bound_beyond_a_doubles_range_is_a_validation_error() -> None:
    data = {"requirement": [{"id": "r", "characteristic": [{"name": "x", "minimum": 10**400}]}]}
    with pytest.raises(ek.ValidationError) as caught:
        ek.InformationRequirements.from_dict(data)
    assert _paths(caught.value) == ["requirement[0](r).characteristic[0].minimum"]
    toml = REQUIREMENTS_TOML.replace("minimum = 1\n", "minimum = " + "9" * 5000 + "\n")
    with pytest.raises(ek.ValidationError):
        ek.InformationRequirements.from_toml_text(toml)


def test_a_requirement_built_in_python_with_a_huge_bound_is_checked_without_overflow() -> None:
    bounds = ValueRequirement(name="x", minimum=10**400, maximum=10**401)
    requirement = InformationRequirement(id="r", characteristics=(bounds,))
    assert requirement_problems([requirement]) == []


def test_deeply_nested_rule_conditions_are_refused_not_a_recursion_error() -> None:
    condition = '{"characteristic": "x", "eq": 1}'
    for _ in range(5_000):
        condition = '{"not": ' + condition + "}"
    text = '{"rules": [{"id": "r", "specification": "s", "when": [' + condition + "]}]}"
    with pytest.raises(ek.ValidationError) as caught:
        ek.RuleSet.from_json_text(text)
    assert "nests deeper than" in caught.value.problems[0][1]
    toml = "[[rule]]\nid = 'r'\nspecification = 's'\nwhen = " + _nested(5_000) + "\n"
    with pytest.raises(ek.ValidationError):
        ek.RuleSet.from_toml_text(toml)


def test_every_bad_json_line_of_an_import_is_reported_with_the_others(
    inventory: ek.ProductOfferingInventory,
) -> None:
    text = '{"name": "a"}\n{"name": 1}\n{"name": \n{"name": "d", "n": NaN}\n'
    with pytest.raises(ek.ValidationError) as caught:
        inventory.import_offerings(text)
    assert _paths(caught.value) == ["line 2.name", "line 3", "line 4.n"]
    assert inventory.download_offerings() == "[]\n"


def test_an_import_source_that_is_not_text_or_a_list_is_a_validation_error(
    inventory: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.ValidationError):
        inventory.import_offerings(5)  # type: ignore[arg-type]


def test_parse_json_names_the_place_of_a_syntax_error() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        parse_json('{"a":\n  [1,, 2]}', "doc")
    assert caught.value.problems[0][1].endswith("at line 2 column 6")


def test_a_service_order_built_in_python_with_a_deep_characteristic_value_is_refused() -> None:
    order = tmf.from_json(ServiceOrder, service_order_doc())
    item = order.service_order_item[0]
    deep: list[object] = []
    for _ in range(3_000):
        deep = [deep]
    service = attrs.evolve(
        item.service, service_characteristic=(ek.Characteristic(name="n", value=deep),)
    )
    order = attrs.evolve(order, service_order_item=(attrs.evolve(item, service=service),))
    with pytest.raises(ek.ValidationError) as caught:
        InitiatingRequest.from_service_order(order)
    (path,) = _paths(caught.value)
    assert path.startswith("service_order_item[0].service.service_characteristic[0].value[0]")


def test_a_service_order_with_a_huge_integer_id_is_a_validation_error() -> None:
    huge: Any = -(10**5000)
    order = attrs.evolve(tmf.from_json(ServiceOrder, service_order_doc()), id=huge)
    with pytest.raises(ek.ValidationError) as caught:
        InitiatingRequest.from_service_order(order)
    assert caught.value.entity == "ServiceOrder (no id)"
