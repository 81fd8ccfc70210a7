"""Attribute-value-change events name the attributes that changed (``fieldPath``, #10
part 7), for offerings and products, by modify, update and upsert import."""

from __future__ import annotations

import json

import attrs
import pytest
from tests.tmf.swagger import TMF620, TMF637, schema_errors

import etomkit as ek
from etomkit import tmf
from etomkit.publishing import changed_attributes


def _last(events: ek.InMemoryEventSink, event_type: str) -> ek.Event:
    return [e for e in events.events if e.event_type == event_type][-1]


def test_modifying_an_offering_names_the_changed_attributes_in_tmf_spelling(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre"))
    inventory.modify_offering(
        offering.id or "",
        {"description": "fast", "is_sellable": True, "valid_for": ek.TimePeriod()},
    )
    event = _last(events, "ProductOfferingAttributeValueChangeEvent")
    assert event.field_path == "description,validFor,isSellable"
    doc = tmf.to_json(event)
    assert doc["fieldPath"] == "description,validFor,isSellable"
    assert schema_errors(TMF620, "ProductOfferingAttributeValueChangeEvent", doc) == []


def test_an_offering_change_that_moves_the_lifecycle_names_it_too(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre"))
    inventory.modify_offering(offering.id or "", {"lifecycle_status": "In design"})
    assert [(e.event_type, e.field_path) for e in events.events[-2:]] == [
        ("ProductOfferingAttributeValueChangeEvent", "lifecycleStatus"),
        ("ProductOfferingStateChangeEvent", "lifecycleStatus"),
    ]


def test_updating_an_offering_names_what_the_replacement_changed_unmodelled_ones_included(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(
        ek.ProductOffering(name="Fibre", extras={"x_channel": "web", "x_old": 1})
    )
    replacement = attrs.evolve(
        offering,
        name="Fibre 1G",
        category=(ek.EntityRef(id="broadband"),),
        extras={"x_channel": "shop", "x_new": True},
    )
    inventory.update_offering(replacement)
    event = _last(events, "ProductOfferingAttributeValueChangeEvent")
    assert event.field_path == "name,category,x_channel,x_new,x_old"


def test_a_change_that_changes_nothing_names_nothing(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre"))
    inventory.modify_offering(offering.id or "", {"name": "Fibre"})
    assert _last(events, "ProductOfferingAttributeValueChangeEvent").field_path is None


def test_modifying_a_product_names_the_changed_attributes(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
) -> None:
    product = inventory.record_purchase(
        customer=ek.PartyRef(id="c-42"),
        offering_id=launched.id or "",
        order_item=ek.OrderItemRef(order_id="po-7", item_id="1"),
    )
    speed = ek.Characteristic(name="speed", value=500)
    inventory.modify_product(product.id or "", {"product_characteristic": (speed,)})
    event = _last(events, "ProductAttributeValueChangeEvent")
    assert event.field_path == "productCharacteristic"
    assert schema_errors(TMF637, event.event_type, tmf.to_json(event)) == []
    inventory.modify_product(product.id or "", {"status": "active", "description": "home"})
    # the activation dates the product: that changed too
    assert _last(events, "ProductAttributeValueChangeEvent").field_path == (
        "description,status,startDate"
    )


def test_an_upsert_import_names_what_each_replaced_entity_changed(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre"))
    doc = {**tmf.to_json(offering), "description": "imported", "x_source": "legacy"}
    inventory.import_offerings(json.dumps([doc]), mode="upsert")
    event = _last(events, "ProductOfferingAttributeValueChangeEvent")
    assert event.field_path == "description,x_source"


@pytest.mark.parametrize(
    ("before", "after", "path"),
    [
        (ek.ProductOffering(name="a"), ek.ProductOffering(name="a"), None),
        (ek.ProductOffering(name="a"), ek.ProductOffering(name="a", revision=7), None),
        (ek.ProductOffering(name="a"), ek.ProductOffering(name="a", is_bundle=True), "isBundle"),
        (
            ek.ProductOffering(name="a", extras={"@baseType": "X"}),
            ek.ProductOffering(name="a", base_type="X"),
            "@baseType",
        ),
    ],
)
def test_changed_attributes_are_named_as_tmf_names_them(
    before: ek.ProductOffering, after: ek.ProductOffering, path: str | None
) -> None:
    assert changed_attributes(before, after) == path
