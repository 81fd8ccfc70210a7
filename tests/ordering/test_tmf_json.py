"""TMF JSON for ServiceOrder (TMF641), ResourceOrder (TMF652), ResourceSpecification (TMF634)."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from tests.ordering.helpers import fibre, request
from tests.tmf.swagger import load_spec

import etomkit as ek
from etomkit import tmf
from etomkit.model.issuance import InitiatingRequest
from etomkit.model.orders import ServiceOrder
from etomkit.model.resource_order import ResourceOrder
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.ordering import ResourceOrderIssuer

TMF641 = "TMF641-ServiceOrdering-v4.1.0.swagger.json"
TMF652 = "TMF652-ResourceOrder-v4.0.0.swagger.json"
TMF634 = "TMF634-ResourceCatalog-v4.1.0.swagger.json"
EXAMPLE = Path(__file__).parents[2] / "examples" / "resource_orders"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")  # type: ignore[untyped-decorator]
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _RFC3339.match(value) is not None


@functools.cache
def _validator(spec_name: str, definition: str) -> Any:
    definitions = copy.deepcopy(load_spec(spec_name)["definitions"])
    if spec_name == TMF652:
        # TMF652 v4 marks id and href of ResourceRefOrValue required, as for a reference;
        # a resource the order asks to create (by value) has neither yet.
        definitions["ResourceRefOrValue"].pop("required")
    schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
    return jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


def schema_errors(spec_name: str, definition: str, document: Any) -> list[str]:
    """Every way ``document`` breaks the definition, as ``"path: message"``."""
    return sorted(
        f"$.{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in _validator(spec_name, definition).iter_errors(document)
    )


def example(name: str) -> Any:
    return json.loads((EXAMPLE / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ TMF641


def test_the_example_service_order_round_trips_and_validates() -> None:
    document = example("service_order.json")
    order = tmf.from_json(ServiceOrder, document)
    assert order.service_order_item[0].service.characteristic("bandwidth") == "1G"
    assert tmf.to_json(order) == document
    assert schema_errors(TMF641, "ServiceOrder", document) == []


def test_service_order_spellings_are_read_leniently_and_written_as_tmf_does() -> None:
    document = example("service_order.json")
    document["state"] = "in_progress"
    document["serviceOrderItem"][5]["action"] = "no_change"
    document["serviceOrderItem"][5]["state"] = "ACKNOWLEDGED"
    order = tmf.from_json(ServiceOrder, document)
    assert order.state == "inProgress"
    assert order.service_order_item[5].action == "noChange"
    written = tmf.to_json(order)
    assert (written["state"], written["serviceOrderItem"][5]["action"]) == (
        "inProgress",
        "noChange",
    )
    assert schema_errors(TMF641, "ServiceOrder", written) == []


def test_unknown_service_order_attributes_are_kept() -> None:
    document = example("service_order.json")
    document["jeopardyAlert"] = [{"id": "j1", "name": "late"}]
    document["serviceOrderItem"][0]["service"]["place"] = [{"id": "addr-1", "role": "install"}]
    assert tmf.to_json(tmf.from_json(ServiceOrder, document)) == document


def test_a_bad_service_order_document_names_every_problem_by_json_path() -> None:
    document = example("service_order.json")
    document["orderDate"] = "yesterday"
    document["serviceOrderItem"][1]["service"]["serviceCharacteristic"][0]["name"] = 7
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ServiceOrder, document)
    assert sorted(p for p, _ in caught.value.problems) == [
        "$.orderDate",
        "$.serviceOrderItem[1].service.serviceCharacteristic[0].name",
    ]


def test_a_service_order_becomes_a_request_only_when_it_is_issuable() -> None:
    order = tmf.from_json(ServiceOrder, example("service_order.json"))
    request = InitiatingRequest.from_service_order(order, source="bss")
    assert (request.kind, request.id, request.source, request.priority) == (
        "serviceOrder",
        "SO-2025-0042",
        "bss",
        2,
    )
    assert request.items == order.service_order_item

    bad = example("service_order.json")
    del bad["id"]
    bad["serviceOrderItem"][0]["service"]["id"] = "svc-1"
    bad["serviceOrderItem"][5]["action"] = "delete"
    del bad["serviceOrderItem"][5]["service"]["id"]
    bad["serviceOrderItem"][2]["action"] = "replace"
    with pytest.raises(ek.ValidationError) as caught:
        InitiatingRequest.from_service_order(tmf.from_json(ServiceOrder, bad))
    assert caught.value.problems == (
        ("id", "is required to issue resource orders for the order"),
        (
            "service_order_item[0].service.id",
            "must not be set on an 'add' item (the service is new)",
        ),
        (
            "service_order_item[2].action",
            "unknown action 'replace'; allowed: 'add', 'modify', 'delete', 'noChange'",
        ),
        (
            "service_order_item[5].service.id",
            "is required on a 'delete' item (names the service to change)",
        ),
    )


def test_an_order_with_no_items_is_not_a_request() -> None:
    with pytest.raises(ek.ValidationError, match="needs at least one item"):
        InitiatingRequest.from_service_order(ServiceOrder(id="SO-1", service_order_item=()))


# ------------------------------------------------------------------ TMF652


def test_issued_orders_write_valid_tmf652_json_that_reads_back(
    issuer: ResourceOrderIssuer,
) -> None:
    issuer.issue(request(fibre("1", staticIp=True), request_id="SO-1"))
    issuer.link_service("serviceOrder:SO-1", "1", "svc-1")
    result = issuer.issue(
        request(
            fibre("1", "modify", service_id="svc-1", bandwidth="100M"),
            fibre("2", premisesType="newBuild"),
            request_id="SO-2",
        )
    )
    for order in result.orders:
        document = tmf.to_json(order)
        assert schema_errors(TMF652, "ResourceOrder", document) == []
        # revision is etomkit's concurrency counter, not part of TMF JSON
        assert tmf.from_json(ResourceOrder, document) == attrs.evolve(order, revision=0)
    change = tmf.to_json(result.orders[0])
    assert change["orderItem"][0]["resource"] == {
        "resourceCharacteristic": [{"name": "bandwidthProfile", "value": "BP-100"}]
    }
    assert change["orderItem"][1]["action"] == "no_change"  # as TMF652 spells it
    assert change["orderItem"][0]["orderItemRelationship"][0]["relationshipType"] == "modifies"
    assert change["externalReference"] == [
        {"id": "SO-2", "owner": "unknown", "entityType": "serviceOrder"}
    ]
    special = tmf.to_json(result.orders[1])
    assert special["specialHandling"] is True
    assert special["state"] == "acknowledged"


def test_resource_order_spellings_are_read_leniently() -> None:
    document = {
        "id": "ro-1",
        "state": "In Progress",
        "orderItem": [{"id": "1", "action": "noChange", "state": "in_progress"}],
        "stateBeforeCancellation": "HELD",
    }
    order = tmf.from_json(ResourceOrder, document)
    assert (order.state, order.state_before_cancellation) == ("inProgress", "held")
    assert (order.order_item[0].action, order.order_item[0].state) == ("noChange", "inProgress")


def test_a_delivered_resource_keeps_its_reference_and_characteristics_apart() -> None:
    document = {
        "id": "ro-1",
        "state": "completed",
        "orderItem": [
            {
                "id": "1",
                "action": "delete",
                "quantity": 1,
                "state": "completed",
                "resource": {
                    "id": "ont-4711",
                    "href": "https://inv.example/resource/ont-4711",
                    "@referredType": "PhysicalResource",
                    "resourceStatus": "installed",
                    "resourceCharacteristic": [{"name": "model", "value": "HG8245H"}],
                },
            }
        ],
        "@type": "ResourceOrder",
    }
    order = tmf.from_json(ResourceOrder, document)
    item = order.order_item[0]
    assert item.resource is not None
    assert (item.resource.id, item.resource.extras) == ("ont-4711", {"resourceStatus": "installed"})
    assert item.characteristics == {"model": "HG8245H"}
    assert tmf.to_json(order) == document


def test_a_resource_order_event_is_tmf_shaped(
    issuer: ResourceOrderIssuer, events: ek.InMemoryEventSink
) -> None:
    issuer.issue(request())
    event = tmf.to_json(events.events[0])
    assert event["eventType"] == "ResourceOrderCreateEvent"
    assert event["event"]["resourceOrder"]["id"] == "ResourceOrder-1"
    assert schema_errors(TMF652, "ResourceOrderCreateEvent", event) == []


# ------------------------------------------------------------------ TMF634


def test_the_example_resource_specifications_round_trip_and_validate() -> None:
    for document in example("resource_specifications.json"):
        spec = tmf.from_json(ResourceSpecification, document)
        assert tmf.to_json(spec) == document
        assert schema_errors(TMF634, "ResourceSpecification", document) == []
    vlan = tmf.from_json(ResourceSpecification, example("resource_specifications.json")[2])
    assert vlan.required_characteristics == ("vlanType",)
    assert vlan.problems({"vlanType": "residential", "vlanId": 1}) == [
        (
            "characteristic.vlanId",
            "1 is not allowed by resource specification 'service-vlan'; allowed: 2..4094",
        )
    ]
