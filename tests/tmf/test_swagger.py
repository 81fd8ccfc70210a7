"""What etomkit writes validates against the TM Forum Swagger definitions (TMF620, TMF637 v4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from tests.tmf import swagger
from tests.tmf.strategies import offerings, products
from tests.tmf.swagger import TMF620, TMF637, load_spec, schema_errors

import etomkit as ek
from etomkit import tmf

Launch = Callable[..., ek.ProductOffering]
START = datetime(2025, 1, 1, tzinfo=UTC)


def _without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


def _full_offering() -> ek.ProductOffering:
    return ek.ProductOffering(
        id="po-1",
        href="https://api.example.com/productCatalogManagement/v4/productOffering/po-1",
        name="Fibre 1G bundle",
        version="1.0",
        description="Fibre and TV",
        lifecycle_status="Launched",
        status_reason="market ready",
        valid_for=ek.TimePeriod(start_date_time=START, end_date_time=START + timedelta(days=365)),
        is_bundle=True,
        is_sellable=True,
        last_update=START,
        category=(ek.EntityRef(id="cat-1", name="Broadband", referred_type="Category"),),
        product_specification=ek.EntityRef(
            id="ps-1", version="2", referred_type="ProductSpecification"
        ),
        bundled_product_offering=(ek.EntityRef(id="po-2", name="TV"),),
        product_offering_price=(ek.EntityRef(id="pop-1", name="Monthly"),),
        prod_spec_char_value_use=(
            ek.CharacteristicValueUse(
                name="speed",
                value_type="number",
                min_cardinality=1,
                max_cardinality=1,
                product_spec_characteristic_value=({"value": 1000, "isDefault": True},),
            ),
        ),
        base_type="ProductOffering",
        schema_location="https://api.example.com/schema/ProductOffering.json",
        extras={"channel": [{"id": "web"}], "x_internalCode": "F1G"},
    )


def _product(status: str = "created", **fields: Any) -> ek.Product:
    return ek.Product(
        id="p-1",
        product_offering=ek.EntityRef(id="po-1", referred_type="ProductOffering"),
        related_party=(ek.RelatedParty(id="c-42", role="customer", referred_type="Customer"),),
        status=status,
        **fields,
    )


def _full_product() -> ek.Product:
    return _product(
        "active",
        href="https://api.example.com/productInventory/v4/product/p-1",
        name="Fibre 1G for c-42",
        description="home line",
        is_bundle=False,
        is_customer_visible=True,
        product_serial_number="SN-1",
        order_date=START,
        start_date=START + timedelta(days=2),
        termination_date=START + timedelta(days=400),
        last_update=START,
        product_specification=ek.EntityRef(id="ps-1", version="2"),
        product_order_item=(
            ek.OrderItemRef(
                order_id="o-7",
                item_id="1",
                action="add",
                order_href="https://api.example.com/productOrder/o-7",
                role="creator",
                referred_type="ProductOrder",
            ),
        ),
        product_characteristic=(
            ek.Characteristic(name="speed", value=1000, value_type="number"),
            ek.Characteristic(name="address", value={"city": "Springfield"}),
        ),
        realizing_service=(ek.EntityRef(id="s-1", referred_type="Service"),),
        realizing_resource=(ek.EntityRef(id="r-1", referred_type="Resource"),),
        billing_account=ek.EntityRef(id="ba-1", name="Main account"),
        base_type="Product",
        schema_location="https://api.example.com/schema/Product.json",
        extras={"productTerm": [{"name": "12 months"}]},
    )


# ---------------------------------------------------------------- the checker itself


def test_the_specifications_are_found_next_to_the_repository() -> None:
    assert "ProductOffering" in load_spec(TMF620)["definitions"]
    assert "Product" in load_spec(TMF637)["definitions"]


def test_a_missing_specification_fails_the_test_saying_where_it_was_looked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(swagger, "SPEC_DIR", tmp_path)
    with pytest.raises(pytest.fail.Exception) as caught:
        swagger.load_spec("TMF999-Missing-v1.swagger.json")
    assert "TMF999-Missing-v1.swagger.json" in str(caught.value)
    assert str(tmp_path.resolve()) in str(caught.value)


def test_the_schema_check_catches_what_tmf_forbids() -> None:
    assert schema_errors(TMF620, "ProductOffering", {"name": 5}) != []
    assert schema_errors(TMF620, "ProductOffering", {"lastUpdate": "2025-01-01 00:00"}) != []
    assert schema_errors(TMF620, "ProductOffering_Create", {"lifecycleStatus": "In study"}) != []
    assert schema_errors(TMF637, "Product", {"status": "aborted"}) != []
    assert schema_errors(TMF637, "Product", {"relatedParty": [{"id": "c-42"}]}) != []


# ---------------------------------------------------------------- offerings (TMF620)


def test_a_minimal_offering_is_a_tmf620_product_offering() -> None:
    doc = tmf.to_json(ek.ProductOffering(name="Fibre 1G", id="po-1"))
    assert schema_errors(TMF620, "ProductOffering", doc) == []


def test_a_minimal_offering_without_id_is_a_tmf620_create_request() -> None:
    doc = tmf.to_json(ek.ProductOffering(name="Fibre 1G"))
    assert "id" not in doc
    assert schema_errors(TMF620, "ProductOffering_Create", doc) == []


def test_a_fully_populated_offering_is_a_tmf620_product_offering() -> None:
    doc = tmf.to_json(_full_offering())
    assert schema_errors(TMF620, "ProductOffering", doc) == []


def test_a_fully_populated_offering_without_id_and_href_is_a_tmf620_create_request() -> None:
    doc = _without(tmf.to_json(_full_offering()), "id", "href")
    assert schema_errors(TMF620, "ProductOffering_Create", doc) == []


def test_an_offering_without_a_type_writes_no_null_type() -> None:
    doc = tmf.to_json(ek.ProductOffering(name="Fibre 1G", id="po-1", type=None))
    assert schema_errors(TMF620, "ProductOffering", doc) == []


@pytest.mark.parametrize("state", ek.OFFERING_LIFECYCLE.states)
def test_an_offering_in_every_state_is_a_tmf620_product_offering(state: str) -> None:
    doc = tmf.to_json(ek.ProductOffering(name="Fibre 1G", id="po-1", lifecycle_status=state))
    assert schema_errors(TMF620, "ProductOffering", doc) == []


@given(offerings())
def test_any_offering_is_a_tmf620_product_offering(offering: ek.ProductOffering) -> None:
    doc = tmf.to_json(offering)
    assert schema_errors(TMF620, "ProductOffering", doc) == []
    assert schema_errors(TMF620, "ProductOffering_Create", _without(doc, "id", "href")) == []


# ---------------------------------------------------------------- products (TMF637 v4)


@pytest.mark.parametrize("status", ek.PRODUCT_LIFECYCLE.states)
def test_a_product_in_every_status_is_a_tmf637_product(status: str) -> None:
    doc = tmf.to_json(_product(status))
    assert schema_errors(TMF637, "Product", doc) == []


def test_an_aborted_product_is_written_in_the_tmf637_enum_spelling() -> None:
    doc = tmf.to_json(_product("aborted"))
    enum = load_spec(TMF637)["definitions"]["ProductStatusType"]["enum"]
    assert doc["status"] in enum
    assert doc["status"] == "aborted "


def test_a_fully_populated_product_is_a_tmf637_product() -> None:
    doc = tmf.to_json(_full_product())
    assert schema_errors(TMF637, "Product", doc) == []


@given(products())
def test_any_product_is_a_tmf637_product(product: ek.Product) -> None:
    assert schema_errors(TMF637, "Product", tmf.to_json(product)) == []


# ---------------------------------------------------------------- events


def test_offering_events_and_their_offerings_validate_against_tmf620(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(_without_lifecycle(_full_offering(), bundle=False))
    assert offering.id is not None
    inventory.modify_offering(offering.id, {"description": "now faster"})
    inventory.transition_offering(offering.id, "In design")
    inventory.delete_offering(offering.id)
    types = [event.event_type for event in events.events]
    assert types == [
        "ProductOfferingCreateEvent",
        "ProductOfferingAttributeValueChangeEvent",
        "ProductOfferingStateChangeEvent",
        "ProductOfferingDeleteEvent",
    ]
    for event in events.events:
        doc = tmf.to_json(event)
        assert schema_errors(TMF620, event.event_type, doc) == []
        assert schema_errors(TMF620, "ProductOffering", doc["event"]["productOffering"]) == []


def test_product_events_and_their_products_validate_against_tmf637(
    inventory: ek.ProductOfferingInventory,
    events: ek.InMemoryEventSink,
    launched: ek.ProductOffering,
) -> None:
    assert launched.id is not None
    seen = len(events.events)
    product = inventory.record_purchase(
        customer=ek.PartyRef(id="c-42", name="Jane"),
        offering_id=launched.id,
        order_item=ek.OrderItemRef(order_id="o-7", item_id="1", action="add"),
        characteristics=[ek.Characteristic(name="speed", value=1000)],
    )
    assert product.id is not None
    inventory.transition_product(product.id, "pendingActive")
    inventory.modify_product(product.id, {"description": "home line"})
    inventory.transition_product(product.id, "aborted ")
    product_events = events.events[seen:]
    assert [event.event_type for event in product_events] == [
        "ProductCreateEvent",
        "ProductStateChangeEvent",
        "ProductAttributeValueChangeEvent",
        "ProductStateChangeEvent",
    ]
    for event in product_events:
        doc = tmf.to_json(event)
        assert schema_errors(TMF637, event.event_type, doc) == []
        assert schema_errors(TMF637, "Product", doc["event"]["product"]) == []
    assert tmf.to_json(product_events[-1])["event"]["product"]["status"] == "aborted "


def _without_lifecycle(offering: ek.ProductOffering, *, bundle: bool) -> ek.ProductOffering:
    """The offering as a create request: initial state, optionally without bundle members."""
    changes: dict[str, Any] = {"lifecycle_status": "In study", "id": None}
    if not bundle:
        changes["bundled_product_offering"] = ()
    return attrs.evolve(offering, **changes)
