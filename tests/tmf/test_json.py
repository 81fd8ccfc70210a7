"""TMF JSON at the edge: names, lossless round trips, lenient status reading, errors, events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.tmf.strategies import json_values, offerings, products, spellings

import etomkit as ek
from etomkit import tmf

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# A TMF620 offering as another system might send it: attributes etomkit does not
# model sit at the top level and inside refs and characteristic value uses.
OFFERING_DOC: dict[str, Any] = {
    "id": "po-1",
    "href": "https://api.example.com/productCatalogManagement/v4/productOffering/po-1",
    "name": "Fibre 1G",
    "version": "1.0",
    "description": "Symmetric 1 Gbit/s fibre",
    "lifecycleStatus": "Launched",
    "statusReason": "market ready",
    "isBundle": False,
    "isSellable": True,
    "lastUpdate": "2025-02-01T08:30:00Z",
    "validFor": {"startDateTime": "2025-01-01T00:00:00Z", "endDateTime": "2026-01-01T00:00:00Z"},
    "category": [
        {
            "id": "cat-1",
            "name": "Broadband",
            "href": "https://api.example.com/category/cat-1",
            "@referredType": "Category",
            "x_sortOrder": 3,
        }
    ],
    "productSpecification": {
        "id": "ps-1",
        "version": "2",
        "@referredType": "ProductSpecification",
        "targetProductSchema": {"@type": "FibreAccess", "@schemaLocation": "https://x/s.json"},
    },
    "productOfferingPrice": [
        {"id": "pop-1", "name": "Monthly", "priceType": "recurring", "@referredType": "POP"}
    ],
    "prodSpecCharValueUse": [
        {
            "name": "speed",
            "valueType": "number",
            "minCardinality": 1,
            "maxCardinality": 1,
            "productSpecCharacteristicValue": [
                {"value": 1000, "unitOfMeasure": "Mbit/s", "isDefault": True}
            ],
            "validFor": {"startDateTime": "2025-01-01T00:00:00Z"},
        }
    ],
    "channel": [{"id": "web", "name": "Web shop", "@referredType": "Channel"}],
    "agreement": [{"id": "ag-1", "name": "SLA gold"}],
    "productOfferingTerm": [{"name": "12 months", "duration": {"amount": 12, "units": "month"}}],
    "@type": "ProductOffering",
    "@baseType": "ProductOffering",
    "@schemaLocation": "https://api.example.com/schema/ProductOffering.json",
}

# A TMF637 v4 product with unknown attributes at the top level and inside
# productOffering, relatedParty, productOrderItem, productCharacteristic and refs.
PRODUCT_DOC: dict[str, Any] = {
    "id": "p-1",
    "href": "https://api.example.com/productInventory/v4/product/p-1",
    "name": "Fibre 1G for Jane",
    "description": "home line",
    "status": "active",
    "isBundle": False,
    "isCustomerVisible": True,
    "productSerialNumber": "SN-778",
    "orderDate": "2025-01-10T09:00:00Z",
    "startDate": "2025-01-12T00:00:00Z",
    "lastUpdate": "2025-01-12T00:00:00Z",
    "productOffering": {
        "id": "po-1",
        "name": "Fibre 1G",
        "@referredType": "ProductOffering",
        "x_catalogId": "cat-main",
    },
    "relatedParty": [
        {
            "id": "c-42",
            "role": "customer",
            "name": "Jane",
            "@referredType": "Customer",
            "contactMedium": [{"mediumType": "email", "value": "jane@example.com"}],
        }
    ],
    "productOrderItem": [
        {
            "productOrderId": "o-7",
            "orderItemId": "1",
            "orderItemAction": "add",
            "productOrderHref": "https://api.example.com/productOrder/o-7",
            "role": "creator",
            "@referredType": "ProductOrder",
            "x_channel": "web",
        }
    ],
    "productCharacteristic": [
        {"name": "speed", "value": 1000, "valueType": "number", "x_unit": "Mbit/s"},
        {"name": "address", "value": {"street": "Main St 1", "city": "Springfield"}},
    ],
    "realizingService": [{"id": "s-1", "@referredType": "Service", "x_state": "active"}],
    "realizingResource": [{"id": "r-1", "value": "+15551234", "@referredType": "Resource"}],
    "billingAccount": {"id": "ba-1", "x_currency": "EUR"},
    "productSpecification": {"id": "ps-1", "@referredType": "ProductSpecification"},
    "productPrice": [{"priceType": "recurring", "price": {"taxIncludedAmount": {"value": 30}}}],
    "productTerm": [{"name": "12 months"}],
    "@type": "Product",
    "@baseType": "Product",
}


def _paths(error: ek.ValidationError) -> list[str]:
    return [path for path, _ in error.problems]


# ---------------------------------------------------------------- names


def test_a_minimal_offering_writes_only_what_is_set_plus_status_and_type() -> None:
    doc = tmf.to_json(ek.ProductOffering(name="Fibre 1G", id="po-1"))
    assert doc == {
        "id": "po-1",
        "name": "Fibre 1G",
        "lifecycleStatus": "In study",
        "@type": "ProductOffering",
    }


def test_offering_attributes_are_written_in_camel_case_with_at_names() -> None:
    offering = tmf.from_json(ek.ProductOffering, OFFERING_DOC)
    assert offering.lifecycle_status == "Launched"
    assert offering.valid_for == ek.TimePeriod(
        start_date_time=datetime(2025, 1, 1, tzinfo=UTC),
        end_date_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert offering.is_sellable is True
    assert offering.category[0].referred_type == "Category"
    assert offering.base_type == "ProductOffering"
    assert offering.schema_location == "https://api.example.com/schema/ProductOffering.json"
    assert offering.prod_spec_char_value_use[0].min_cardinality == 1
    doc = tmf.to_json(offering)
    for name in (
        "lifecycleStatus",
        "statusReason",
        "validFor",
        "isBundle",
        "isSellable",
        "lastUpdate",
        "productSpecification",
        "productOfferingPrice",
        "prodSpecCharValueUse",
        "@type",
        "@baseType",
        "@schemaLocation",
    ):
        assert name in doc
    assert not any("_" in key for key in doc if not key.startswith("x_"))
    assert doc["category"][0]["@referredType"] == "Category"


def test_product_attributes_are_written_in_camel_case_with_tmf637_order_item_names() -> None:
    product = ek.Product(
        id="p-1",
        product_offering=ek.EntityRef(id="po-1", referred_type="ProductOffering"),
        related_party=(ek.RelatedParty(id="c-42", role="customer", referred_type="Customer"),),
        product_order_item=(
            ek.OrderItemRef(order_id="o-7", item_id="1", action="add", order_href="https://o/7"),
        ),
        is_customer_visible=True,
        product_serial_number="SN-1",
        order_date=NOON,
        billing_account=ek.EntityRef(id="ba-1"),
        realizing_service=(ek.EntityRef(id="s-1"),),
        schema_location="https://x/Product.json",
    )
    doc = tmf.to_json(product)
    assert doc["productOffering"] == {"id": "po-1", "@referredType": "ProductOffering"}
    assert doc["relatedParty"] == [{"id": "c-42", "role": "customer", "@referredType": "Customer"}]
    assert doc["productOrderItem"] == [
        {
            "productOrderId": "o-7",
            "orderItemId": "1",
            "orderItemAction": "add",
            "productOrderHref": "https://o/7",
        }
    ]
    assert doc["isCustomerVisible"] is True
    assert doc["productSerialNumber"] == "SN-1"
    assert doc["orderDate"] == "2025-03-01T12:00:00Z"
    assert doc["billingAccount"] == {"id": "ba-1"}
    assert doc["realizingService"] == [{"id": "s-1"}]
    assert doc["status"] == "created"
    assert doc["@type"] == "Product"
    assert doc["@schemaLocation"] == "https://x/Product.json"
    assert "revision" not in doc
    assert "extras" not in doc


def test_the_revision_counter_is_not_part_of_tmf_json() -> None:
    offering = ek.ProductOffering(name="Fibre 1G", id="po-1", revision=7)
    assert "revision" not in tmf.to_json(offering)
    assert tmf.from_json(ek.ProductOffering, tmf.to_json(offering)).revision == 0


# ---------------------------------------------------------------- lossless round trips


def test_an_offering_document_round_trips_with_its_unknown_attributes() -> None:
    offering = tmf.from_json(ek.ProductOffering, copy.deepcopy(OFFERING_DOC))
    assert offering.extras == {
        "channel": OFFERING_DOC["channel"],
        "agreement": OFFERING_DOC["agreement"],
        "productOfferingTerm": OFFERING_DOC["productOfferingTerm"],
    }
    assert offering.category[0].extras == {"x_sortOrder": 3}
    assert offering.product_offering_price[0].extras == {"priceType": "recurring"}
    assert offering.prod_spec_char_value_use[0].extras == {
        "validFor": {"startDateTime": "2025-01-01T00:00:00Z"}
    }
    assert tmf.to_json(offering) == OFFERING_DOC


def test_a_product_document_round_trips_with_its_unknown_attributes() -> None:
    product = tmf.from_json(ek.Product, copy.deepcopy(PRODUCT_DOC))
    assert product.extras == {
        "productPrice": PRODUCT_DOC["productPrice"],
        "productTerm": PRODUCT_DOC["productTerm"],
    }
    assert product.product_offering.extras == {"x_catalogId": "cat-main"}
    assert product.related_party[0].extras == {
        "contactMedium": [{"mediumType": "email", "value": "jane@example.com"}]
    }
    assert product.product_order_item[0].extras == {"x_channel": "web"}
    assert product.product_order_item[0].key == ("o-7", "1")
    assert product.product_characteristic[0].extras == {"x_unit": "Mbit/s"}
    assert product.characteristic("address") == {"street": "Main St 1", "city": "Springfield"}
    assert product.realizing_resource[0].extras == {"value": "+15551234"}
    assert product.billing_account is not None
    assert product.billing_account.extras == {"x_currency": "EUR"}
    assert product.customer_id == "c-42"
    assert tmf.to_json(product) == PRODUCT_DOC


def test_the_documents_survive_json_text_too() -> None:
    for cls, doc in ((ek.ProductOffering, OFFERING_DOC), (ek.Product, PRODUCT_DOC)):
        text = json.dumps(doc)
        entity: Any = tmf.loads(cls, text)
        assert json.loads(tmf.dumps(entity)) == doc
        assert tmf.loads(cls, text.encode("utf-8")) == entity


def test_unknown_attributes_do_not_leak_into_known_fields() -> None:
    doc = {"name": "Fibre 1G", "lifecycle_status": "Launched", "valid_for": "soon"}
    offering = tmf.from_json(ek.ProductOffering, doc)
    assert offering.lifecycle_status == "In study"
    assert offering.valid_for is None
    assert offering.extras == {"lifecycle_status": "Launched", "valid_for": "soon"}
    assert tmf.to_json(offering)["valid_for"] == "soon"


@given(offerings())
def test_any_offering_survives_a_trip_through_tmf_json(offering: ek.ProductOffering) -> None:
    doc = tmf.to_json(offering)
    assert tmf.from_json(ek.ProductOffering, doc) == offering
    assert tmf.to_json(tmf.from_json(ek.ProductOffering, doc)) == doc
    assert tmf.loads(ek.ProductOffering, tmf.dumps(offering)) == offering


@given(products())
def test_any_product_survives_a_trip_through_tmf_json(product: ek.Product) -> None:
    doc = tmf.to_json(product)
    assert tmf.from_json(ek.Product, doc) == product
    assert tmf.to_json(tmf.from_json(ek.Product, doc)) == doc
    assert tmf.loads(ek.Product, tmf.dumps(product)) == product


@given(
    products(),
    st.dictionaries(
        st.from_regex(r"x_[a-z]{1,5}", fullmatch=True), json_values(max_leaves=3), max_size=3
    ),
)
def test_unknown_attributes_added_to_any_nested_product_object_are_written_back(
    product: ek.Product, unknown: dict[str, Any]
) -> None:
    doc = tmf.to_json(product)
    nested = [doc, doc["productOffering"], *doc["relatedParty"]]
    nested += doc.get("productOrderItem", []) + doc.get("productCharacteristic", [])
    for target in nested:
        target.update(unknown)
    assert tmf.to_json(tmf.from_json(ek.Product, doc)) == doc


# ---------------------------------------------------------------- status spelling


@given(
    st.sampled_from(ek.OFFERING_LIFECYCLE.states).flatmap(
        lambda s: st.tuples(st.just(s), spellings(s))
    )
)
def test_offering_status_is_read_in_any_spelling_and_written_in_tmf_spelling(
    case: tuple[str, str],
) -> None:
    state, spelled = case
    offering = tmf.from_json(ek.ProductOffering, {"name": "Fibre 1G", "lifecycleStatus": spelled})
    assert offering.lifecycle_status == state
    assert tmf.to_json(offering)["lifecycleStatus"] == state


@given(
    st.sampled_from(ek.PRODUCT_LIFECYCLE.states).flatmap(
        lambda s: st.tuples(st.just(s), spellings(s))
    )
)
def test_product_status_is_read_in_any_spelling_and_written_in_tmf637_spelling(
    case: tuple[str, str],
) -> None:
    state, spelled = case
    doc = {
        "status": spelled,
        "productOffering": {"id": "po-1"},
        "relatedParty": [{"id": "c-42", "role": "customer", "@referredType": "Customer"}],
    }
    product = tmf.from_json(ek.Product, doc)
    assert product.status == state
    written = tmf.to_json(product)["status"]
    assert written == ("aborted " if state == "aborted" else state)


@pytest.mark.parametrize("spelled", ["aborted ", "aborted", "ABORTED", "Aborted "])
def test_aborted_is_read_in_every_spelling_and_written_with_the_trailing_space(
    spelled: str,
) -> None:
    doc = {**PRODUCT_DOC, "status": spelled}
    product = tmf.from_json(ek.Product, doc)
    assert product.status == "aborted"
    assert tmf.to_json(product)["status"] == "aborted "


def test_a_status_no_lifecycle_knows_is_kept_verbatim_for_the_inventory_to_judge() -> None:
    offering = tmf.from_json(ek.ProductOffering, {"name": "Fibre 1G", "lifecycleStatus": "Bogus"})
    assert offering.lifecycle_status == "Bogus"


# ---------------------------------------------------------------- date-times


def test_utc_date_times_are_written_with_z() -> None:
    offering = ek.ProductOffering(
        name="Fibre 1G",
        last_update=datetime(2025, 3, 1, 12, 30, 5, 250000, tzinfo=UTC),
        valid_for=ek.TimePeriod(start_date_time=NOON),
    )
    doc = tmf.to_json(offering)
    assert doc["lastUpdate"] == "2025-03-01T12:30:05.250000Z"
    assert doc["validFor"] == {"startDateTime": "2025-03-01T12:00:00Z"}


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2025-03-01T12:00:00Z", NOON),
        ("2025-03-01T12:00:00.000Z", NOON),
        ("2025-03-01T14:00:00+02:00", NOON),
        ("2025-03-01T12:00:00+00:00", NOON),
    ],
)
def test_date_times_are_read_with_z_or_an_offset(text: str, moment: datetime) -> None:
    offering = tmf.from_json(ek.ProductOffering, {"name": "F", "lastUpdate": text})
    assert offering.last_update == moment
    assert offering.last_update is not None
    assert offering.last_update.tzinfo is not None


def test_a_non_utc_offset_is_written_back_as_it_came() -> None:
    plus_two = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    doc = tmf.to_json(ek.ProductOffering(name="F", last_update=plus_two))
    assert doc["lastUpdate"] == "2025-03-01T14:00:00+02:00"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"name": "F", "validFor": {"startDateTime": "first of May"}}, "$.validFor.startDateTime"),
        (
            {"name": "F", "validFor": {"endDateTime": "2025-05-01T00:00:00"}},
            "$.validFor.endDateTime",
        ),
        ({"name": "F", "validFor": {"startDateTime": 1714521600}}, "$.validFor.startDateTime"),
        ({"name": "F", "category": [{"name": "Broadband"}]}, "$.category[0].id"),
        ({"name": "F", "category": [{"id": "c-1"}, {"id": 2}]}, "$.category[1].id"),
        ({"name": 42}, "$.name"),
        ({}, "$.name"),
        ({"name": "F", "isBundle": "yes"}, "$.isBundle"),
        ({"name": "F", "productSpecification": {"version": "1"}}, "$.productSpecification.id"),
        (
            {"name": "F", "prodSpecCharValueUse": [{"valueType": "x"}]},
            "$.prodSpecCharValueUse[0].name",
        ),
        (
            {"name": "F", "prodSpecCharValueUse": [{"name": "s", "minCardinality": "1"}]},
            "$.prodSpecCharValueUse[0].minCardinality",
        ),
        ({"name": "F", "@type": 5}, "$.@type"),
        ({"name": "F", "category": "cat-1"}, "$.category"),
        ({"name": "F", "category": ""}, "$.category"),
        ({"name": "F", "category": {}}, "$.category"),
    ],
)
def test_a_bad_offering_document_is_a_validation_error_at_its_json_path(
    doc: dict[str, Any], path: str
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ek.ProductOffering, doc)
    assert path in _paths(caught.value), caught.value.problems


def _product_doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(PRODUCT_DOC)
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        (_product_doc(productOffering={"name": "Fibre"}), "$.productOffering.id"),
        (_product_doc(productOffering=None), "$.productOffering"),
        (
            _product_doc(relatedParty=[{"id": "c-1", "role": "customer"}, {"role": "payer"}]),
            "$.relatedParty[1].id",
        ),
        (
            _product_doc(productOrderItem=[{"productOrderId": "o-7"}]),
            "$.productOrderItem[0].orderItemId",
        ),
        (
            _product_doc(productOrderItem=[{"orderItemId": "1"}]),
            "$.productOrderItem[0].productOrderId",
        ),
        (
            _product_doc(productCharacteristic=[{"name": "speed"}]),
            "$.productCharacteristic[0].value",
        ),
        (_product_doc(startDate="yesterday"), "$.startDate"),
        (_product_doc(isCustomerVisible=1), "$.isCustomerVisible"),
        (_product_doc(realizingService=[{"@referredType": "Service"}]), "$.realizingService[0].id"),
        (_product_doc(relatedParty=""), "$.relatedParty"),
    ],
)
def test_a_bad_product_document_is_a_validation_error_at_its_json_path(
    doc: dict[str, Any], path: str
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ek.Product, doc)
    assert path in _paths(caught.value), caught.value.problems


def test_every_problem_of_a_document_is_listed_at_once() -> None:
    doc = {
        "name": 7,
        "isSellable": "yes",
        "validFor": {"startDateTime": "soon"},
        "category": [{"id": "c-1"}, {"name": "no id"}],
    }
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ek.ProductOffering, doc)
    assert set(_paths(caught.value)) >= {
        "$.name",
        "$.isSellable",
        "$.validFor.startDateTime",
        "$.category[1].id",
    }
    for path in ("$.name", "$.validFor.startDateTime", "$.category[1].id"):
        assert path in str(caught.value)


@pytest.mark.parametrize("data", [[], "Fibre", 3, None, [{"name": "F"}]])
def test_a_document_that_is_not_an_object_is_a_validation_error_at_the_root(data: Any) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ek.ProductOffering, data)
    assert _paths(caught.value) == ["$"]


def _problems_reading(cls: type[Any], doc: Any) -> tuple[tuple[str, str], ...]:
    """The problems from_json reports (none if it accepts the document); any other
    exception propagates and fails the test."""
    try:
        tmf.from_json(cls, doc)
    except ek.ValidationError as error:
        return tuple(error.problems)
    return ()


@given(
    st.sampled_from(sorted(OFFERING_DOC)),
    json_values(),
)
def test_any_value_in_any_offering_attribute_gives_an_offering_or_a_validation_error(
    key: str, value: Any
) -> None:
    doc = {**copy.deepcopy(OFFERING_DOC), key: value}
    problems = _problems_reading(ek.ProductOffering, doc)
    assert all(path.startswith("$") and message for path, message in problems), problems


@given(
    st.sampled_from(
        ["productOffering", "relatedParty", "productOrderItem", "productCharacteristic"]
    ),
    st.sampled_from(["id", "role", "productOrderId", "orderItemId", "name", "value", "@type"]),
    json_values(),
)
def test_any_value_in_a_nested_product_attribute_gives_a_product_or_a_validation_error(
    field: str, key: str, value: Any
) -> None:
    doc = copy.deepcopy(PRODUCT_DOC)
    nested = doc[field]
    target = nested if isinstance(nested, dict) else nested[0]
    target[key] = value
    problems = _problems_reading(ek.Product, doc)
    assert all(path.startswith("$") and message for path, message in problems), problems


@pytest.mark.parametrize("text", ["{", "", "not json", '{"name": "F",}', b"\xff\xfe"])
def test_loads_turns_invalid_json_into_a_validation_error(text: str | bytes) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.loads(ek.ProductOffering, text)
    assert _paths(caught.value) == ["$"]


def test_loads_reports_bad_content_with_its_path() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.loads(ek.ProductOffering, '{"name": "F", "validFor": {"startDateTime": "x"}}')
    assert _paths(caught.value) == ["$.validFor.startDateTime"]


# ---------------------------------------------------------------- events


def test_events_are_written_as_tmf_notifications(
    inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink
) -> None:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    assert offering.id is not None
    inventory.transition_offering(offering.id, "In design")
    created, changed = events.events
    doc = tmf.to_json(created)
    assert doc == {
        "eventId": created.event_id,
        "eventTime": "2025-01-01T00:00:00Z",
        "eventType": "ProductOfferingCreateEvent",
        "event": {"productOffering": tmf.to_json(offering)},
    }
    state_doc = tmf.event_to_json(changed)
    assert state_doc["eventType"] == "ProductOfferingStateChangeEvent"
    assert state_doc["fieldPath"] == "lifecycleStatus"
    assert state_doc["event"]["productOffering"]["lifecycleStatus"] == "In design"
    assert created.event_id != changed.event_id


def test_product_events_name_the_product_domain_and_write_aborted_with_a_space() -> None:
    product = ek.Product(
        id="p-1",
        product_offering=ek.EntityRef(id="po-1"),
        related_party=(ek.RelatedParty(id="c-42", role="customer"),),
        status="aborted",
    )
    event = ek.Event(
        event_id="e-1",
        event_time=NOON,
        event_type="ProductStateChangeEvent",
        entity=product,
        field_path="status",
    )
    doc = tmf.to_json(event)
    assert doc["event"] == {"product": tmf.to_json(product)}
    assert doc["event"]["product"]["status"] == "aborted "
    assert doc["eventTime"] == "2025-03-01T12:00:00Z"
    assert json.loads(tmf.dumps(event)) == doc
