"""Every problem, at its path in the document as given (issue #10, part 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.fuzz_inputs import offering_doc, product_doc, service_order_doc

import etomkit as ek
from etomkit import tmf
from etomkit.model.issuance import IssuanceRecord
from etomkit.model.orders import ServiceOrder
from etomkit.model.resource_order import ResourceOrder

#: One wrongly typed array and four other problems of the same document.
BROKEN_OFFERING: dict[str, Any] = {
    "name": 5,
    "category": "broadband",
    "isSellable": "yes",
    "validFor": {"startDateTime": "soon"},
    "version": 2,
}
EVERY_PROBLEM = ["category", "isSellable", "name", "validFor.startDateTime", "version"]


def _paths(error: ek.ValidationError) -> list[str]:
    return sorted(path for path, _ in error.problems)


def _refused(call: Any) -> ek.ValidationError:
    with pytest.raises(ek.ValidationError) as caught:
        call()
    return caught.value


def test_a_wrongly_typed_array_does_not_hide_the_documents_other_problems() -> None:
    error = _refused(lambda: tmf.from_json(ek.ProductOffering, BROKEN_OFFERING))
    assert _paths(error) == [f"$.{p}" for p in EVERY_PROBLEM]


def test_an_import_reports_every_problem_of_a_document_with_a_wrongly_typed_array() -> None:
    inventory = ek.ProductOfferingInventory(ek.InMemoryStore())
    error = _refused(lambda: inventory.import_offerings([offering_doc(), BROKEN_OFFERING]))
    assert _paths(error) == [f"[1].{p}" for p in EVERY_PROBLEM]
    lines = "\n".join(json.dumps(d) for d in (offering_doc(), BROKEN_OFFERING))
    error = _refused(lambda: inventory.import_offerings(lines))
    assert _paths(error) == [f"line 2.{p}" for p in EVERY_PROBLEM]


def test_wrongly_typed_arrays_at_several_levels_are_all_reported() -> None:
    doc = product_doc() | {"relatedParty": {"id": "c-1"}, "productCharacteristic": "fast"}
    doc["productOffering"] = {"id": 7}
    error = _refused(lambda: tmf.from_json(ek.Product, doc))
    assert _paths(error) == ["$.productCharacteristic", "$.productOffering.id", "$.relatedParty"]


def test_a_resource_order_item_characteristic_is_reported_where_tmf652_puts_it() -> None:
    doc = {
        "orderItem": [
            {
                "id": "1",
                "action": "add",
                "resource": {"name": 3, "resourceCharacteristic": [{"name": "model"}]},
            }
        ]
    }
    error = _refused(lambda: tmf.from_json(ResourceOrder, doc))
    assert _paths(error) == [
        "$.orderItem[0].resource.name",
        "$.orderItem[0].resource.resourceCharacteristic[0].value",
    ]


def test_a_service_order_item_action_is_reported_at_action_not_an_order_item_reference() -> None:
    doc = service_order_doc()
    doc["serviceOrderItem"][0]["action"] = 5
    error = _refused(lambda: tmf.from_json(ServiceOrder, doc))
    assert _paths(error) == ["$.serviceOrderItem[0].action"]


def test_an_issuance_record_item_id_is_reported_under_its_own_name() -> None:
    doc = {
        "id": "serviceOrder:1",
        "request": {"kind": "serviceOrder", "id": "1", "items": []},
        "items": [{"itemId": 1, "action": "add", "outcome": "standard"}],
    }
    error = _refused(lambda: tmf.from_json(IssuanceRecord, doc))
    assert _paths(error) == ["$.items[0].itemId"]


def test_a_product_order_item_reference_keeps_its_tmf_names() -> None:
    doc = product_doc() | {"productOrderItem": [{"productOrderId": 1, "orderItemId": "1"}]}
    error = _refused(lambda: tmf.from_json(ek.Product, doc))
    assert _paths(error) == ["$.productOrderItem[0].productOrderId"]


def _rule(rule_id: str, when: list[Any]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "specification": "fibre",
        "when": when,
        "produces": [{"resource_specification": "ont"}],
    }


def test_a_single_condition_of_a_rule_keeps_its_index() -> None:
    bad_range = {"characteristic": "speed", "range": {"min": 10, "max": 1}}
    rules = [_rule("a", []), _rule("b", []), _rule("bad-range", [bad_range])]
    error = _refused(lambda: ek.RuleSet.from_dict({"rule": rules}))
    assert _paths(error) == ["rule[2](bad-range).when[0].range"]
    rules[2] = _rule("bad-range", [{"characteristic": "x", "eq": 1}, bad_range])
    error = _refused(lambda: ek.RuleSet.from_dict({"rule": rules}))
    assert _paths(error) == ["rule[2](bad-range).when[1].range"]


def test_a_limit_broken_in_a_rule_file_is_reported_at_the_rules_place_and_id() -> None:
    rules = [_rule("a", []), _rule("b", [{"characteristic": "x", "eq": 10**400}])]
    error = _refused(lambda: ek.RuleSet.from_dict({"rules": rules}))
    assert _paths(error) == ["rule[1](b).when[0].eq"]
    error = _refused(lambda: ek.RuleSet.from_json_text('[{"id": "a", "priority": NaN}]'))
    assert _paths(error) == ["rule[0](a).priority"]
