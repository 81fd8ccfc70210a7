"""The shipped strategies cover every public entity and value (issue #11): st.from_type
works for each, valid documents validate against the TMF specifications, rule sets
survive TOML and JSON, adversarial documents still read."""

from __future__ import annotations

import json
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from tests.tmf.swagger import schema_errors

import etomkit as ek
from etomkit import tmf
from etomkit.model import offering_problems, product_problems
from etomkit.model.orders import service_order_problems
from etomkit.ordering.rules import RuleSet, rule_problems
from etomkit.testing import strategies as ets

#: Public attrs classes that are service results or configuration, not entities or values.
NOT_ENTITIES_OR_VALUES = {
    "ImportResult",
    "RegisteredClient",
    "CostModel",
    "UsageReport",
    "ShortcomingPolicy",
    "ShortcomingsReport",
    "IssuanceResult",
    "Lifecycle",
    "Page",
    "RecoveryReport",
}

ENTITIES_AND_VALUES = [
    name
    for name in ek.__all__
    if isinstance(obj := getattr(ek, name), type)
    and attrs.has(obj)
    and name not in NOT_ENTITIES_OR_VALUES
] + ["RuleSet"]

_few = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def test_the_list_of_entities_and_values_is_not_empty() -> None:
    assert {"ServiceOrder", "ResourceOrder", "IssuanceRecord", "RuleSet"} <= set(
        ENTITIES_AND_VALUES
    )


@pytest.mark.parametrize("name", ENTITIES_AND_VALUES)
@_few
@given(data=st.data())
def test_from_type_generates_every_public_entity_and_value(name: str, data: st.DataObject) -> None:
    cls = getattr(ek, name)
    value = data.draw(st.from_type(cls))
    assert isinstance(value, cls)


#: (strategy, TMF spec, definition) of the TMF resources etomkit writes.
TMF_RESOURCES = {
    "ProductOffering": (ets.product_offerings(), "TMF620-ProductCatalog-v4.1.0.swagger.json"),
    "Product": (ets.products(), "TMF637-ProductInventory-v4.0.0.swagger.json"),
    "ServiceOrder": (ets.service_orders(), "TMF641-ServiceOrdering-v4.1.0.swagger.json"),
    "ResourceOrder": (ets.resource_orders(), "TMF652-ResourceOrder-v4.0.0.swagger.json"),
    "ResourceSpecification": (
        ets.resource_specifications(),
        "TMF634-ResourceCatalog-v4.1.0.swagger.json",
    ),
}


@pytest.mark.parametrize("definition", list(TMF_RESOURCES))
@settings(max_examples=10, deadline=None, database=None)
@given(data=st.data())
def test_generated_valid_documents_validate_against_the_tmf_specification(
    definition: str, data: st.DataObject
) -> None:
    strategy, spec = TMF_RESOURCES[definition]
    document = data.draw(ets.tmf_documents(strategy))
    assert schema_errors(spec, definition, document) == []


ROUND_TRIPS: dict[str, st.SearchStrategy[Any]] = {
    "ServiceOrder": ets.service_orders(),
    "InitiatingRequest": ets.initiating_requests(),
    "ResourceOrder": ets.resource_orders(),
    "ResourceSpecification": ets.resource_specifications(),
    "FeasibilityAssessment": ets.feasibility_assessments(),
    "IssuanceRecord": ets.issuance_records(),
}


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
@settings(max_examples=15, deadline=None, database=None)
@given(data=st.data())
def test_generated_ordering_entities_round_trip_through_tmf_json(
    name: str, data: st.DataObject
) -> None:
    value = data.draw(ROUND_TRIPS[name])
    assert tmf.from_json(type(value), tmf.to_json(value)) == value


@_few
@given(ets.service_orders())
def test_generated_service_orders_are_well_formed_and_become_requests(
    order: ek.ServiceOrder,
) -> None:
    assert service_order_problems(order) == []
    request = ek.InitiatingRequest.from_service_order(order)
    assert [i.id for i in request.items] == [i.id for i in order.service_order_item]


@_few
@given(ets.initiating_requests(kind="troubleRecovery"))
def test_a_fixed_kind_gives_requests_of_that_kind(request: ek.InitiatingRequest) -> None:
    assert request.key.startswith("troubleRecovery:")


@settings(max_examples=30, deadline=None, database=None)
@given(ets.rule_sets())
def test_generated_rule_sets_are_valid_and_round_trip_through_toml_and_json(
    rule_set: RuleSet,
) -> None:
    assert [p for rule in rule_set for p in rule_problems(rule)] == []
    assert list(RuleSet.from_json_text(json.dumps(rule_set.to_dict()))) == list(rule_set)
    assert list(RuleSet.from_toml_text(ets.rule_set_toml(rule_set))) == list(rule_set)


@settings(max_examples=30, deadline=None, database=None)
@given(data=st.data())
def test_adversarial_documents_still_read_and_keep_the_canonical_state(
    data: st.DataObject,
) -> None:
    offering = data.draw(ets.product_offerings())
    document = data.draw(ets.tmf_documents(st.just(offering), adversarial=True))
    read = tmf.from_json(ek.ProductOffering, document)
    assert read.lifecycle_status == offering.lifecycle_status
    assert offering_problems(read) == []


@settings(max_examples=10, deadline=None, database=None)
@given(data=st.data())
def test_adversarial_product_and_order_documents_read_too(data: st.DataObject) -> None:
    product = data.draw(ets.products())
    read = tmf.from_json(
        ek.Product, data.draw(ets.tmf_documents(st.just(product), adversarial=True))
    )
    assert read.status == product.status
    assert product_problems(read) == []
    order = data.draw(ets.resource_orders())
    doc = data.draw(ets.tmf_documents(st.just(order), adversarial=True))
    assert tmf.from_json(ek.ResourceOrder, doc).state == order.state
