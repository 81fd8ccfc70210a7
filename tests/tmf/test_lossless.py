"""Lossless TMF (#10 part 7): an empty array the document gave is written back, an absent
one stays absent, for every modelled array of every entity, and through a FileStore."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ordering.helpers import fibre, fibre_rules, fibre_specs, request
from tests.tmf.strategies import offerings, products

import etomkit as ek
from etomkit import tmf
from etomkit.model.issuance import IssuanceRecord
from etomkit.model.orders import ServiceOrder
from etomkit.model.resource_order import ResourceOrder, ResourceOrderItem
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer, RuleSet
from etomkit.tmf import _json_names

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "resource_orders"

# ------------------------------------------------------------------ toggling arrays


def _unwrap(hint: Any) -> Any:
    """``X | None`` -> ``X``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, type(int | None)) and len(args) == 1:
        return args[0]
    return hint


Choose = Callable[[], bool]


def toggled(cls: type, doc: dict[str, Any], choose: Choose) -> dict[str, Any]:
    """``doc`` (a ``cls`` as TMF JSON) with each modelled array that is empty or absent,
    at any depth, made ``[]`` or absent as ``choose()`` says."""
    out = dict(doc)
    hints = typing.get_type_hints(cls)
    for field, key in _json_names(cls).items():
        hint = _unwrap(hints[field])
        if typing.get_origin(hint) is tuple:
            (element, *_) = typing.get_args(hint)
            holder, where = out, key
            if cls is ResourceOrderItem and field == "characteristic":  # nested in TMF652
                holder = dict(out.get("resource") or {})
                where = "resourceCharacteristic"
            value = holder.get(where)
            if not value:
                holder.pop(where, None)
                if choose():
                    holder[where] = []
            elif attrs.has(element):
                holder[where] = [toggled(element, v, choose) for v in value]
            if holder is not out:
                if holder:
                    out["resource"] = holder
                else:
                    out.pop("resource", None)
        elif attrs.has(hint) and isinstance(out.get(key), dict):
            out[key] = toggled(hint, out[key], choose)
    return out


def issued_documents() -> list[tuple[type, dict[str, Any]]]:
    """TMF641/652/634 documents and etomkit's records of a real issue."""
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()), ids=ek.SequentialIdFactory())
    result = issuer.issue(request(fibre("1", staticIp=True), fibre("2", premisesType="newBuild")))
    order = json.loads((EXAMPLES / "service_order.json").read_text(encoding="utf-8"))
    specs = json.loads((EXAMPLES / "resource_specifications.json").read_text(encoding="utf-8"))
    return [
        (ServiceOrder, order),
        *((ResourceSpecification, s) for s in specs),
        *((ResourceOrder, tmf.to_json(o)) for o in result.orders),
        (IssuanceRecord, tmf.to_json(result.record)),
    ]


ISSUED = issued_documents()


def entity_documents() -> st.SearchStrategy[tuple[type, dict[str, Any]]]:
    """A TMF entity class and one of its documents."""
    return (
        offerings().map(lambda o: (ek.ProductOffering, tmf.to_json(o)))
        | products().map(lambda p: (ek.Product, tmf.to_json(p)))
        | st.sampled_from(ISSUED)
    )


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(entity=entity_documents(), data=st.data())
def test_empty_and_absent_arrays_come_back_as_the_document_gave_them(
    entity: tuple[type, dict[str, Any]], data: st.DataObject
) -> None:
    cls, doc = entity
    doc = toggled(cls, doc, lambda: data.draw(st.booleans()))
    assert tmf.to_json(tmf.from_json(cls, doc)) == doc
    assert tmf.to_json(tmf.loads(cls, json.dumps(doc))) == doc


# ------------------------------------------------------------------ examples


OFFERING = {
    "id": "po-1",
    "name": "Fibre 1G",
    "lifecycleStatus": "In study",
    "@type": "ProductOffering",
    "bundledProductOffering": [],
    "category": [],
    "prodSpecCharValueUse": [{"name": "speed", "productSpecCharacteristicValue": []}],
    "x_tags": [],
}


def test_an_offering_keeps_its_empty_arrays_like_its_unmodelled_ones() -> None:
    offering = tmf.from_json(ek.ProductOffering, OFFERING)
    assert tmf.to_json(offering) == OFFERING
    assert offering.bundled_product_offering == ()


def test_an_empty_array_and_an_absent_one_mean_the_same_entity() -> None:
    absent = {k: v for k, v in OFFERING.items() if k not in ("bundledProductOffering", "category")}
    assert tmf.from_json(ek.ProductOffering, absent) == tmf.from_json(ek.ProductOffering, OFFERING)
    assert "category" not in tmf.to_json(tmf.from_json(ek.ProductOffering, absent))


def test_an_array_set_after_reading_is_written_not_the_empty_one_read() -> None:
    offering = tmf.from_json(ek.ProductOffering, OFFERING)
    changed = attrs.evolve(offering, category=(ek.EntityRef(id="cat-1"),))
    assert tmf.to_json(changed)["category"] == [{"id": "cat-1"}]


def test_a_resource_order_item_keeps_an_empty_resource_characteristic_array() -> None:
    item = {
        "id": "1",
        "action": "add",
        "quantity": 1,
        "state": "acknowledged",
        "resource": {"resourceCharacteristic": []},
    }
    assert tmf.to_json(tmf.from_json(ResourceOrderItem, item)) == item
    bare = {"id": "1", "action": "add", "quantity": 1, "state": "acknowledged"}
    assert tmf.to_json(tmf.from_json(ResourceOrderItem, bare)) == bare


# ------------------------------------------------------------------ through a FileStore


PRODUCT = {
    "id": "p-1",
    "status": "active",
    "@type": "Product",
    "productOffering": {"id": "po-1"},
    "relatedParty": [{"id": "c-1", "role": "customer"}],
    "productCharacteristic": [],
    "realizingService": [],
    "productOrderItem": [{"productOrderId": "o-1", "orderItemId": "1"}],
}


REPOSITORIES: dict[type, str] = {
    ResourceSpecification: "resource_specifications",
    ResourceOrder: "resource_orders",
    IssuanceRecord: "issuance_records",
}


def _every_array_given_empty(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    return toggled(cls, doc, lambda: True)


@pytest.mark.parametrize(
    ("repository", "cls", "doc"),
    [
        ("offerings", ek.ProductOffering, OFFERING),
        ("products", ek.Product, PRODUCT),
        *(
            (REPOSITORIES[cls], cls, _every_array_given_empty(cls, doc))
            for cls, doc in ISSUED
            if cls in REPOSITORIES
        ),
    ],
)
def test_a_file_store_reads_back_the_empty_arrays_it_was_given(
    tmp_path: Path, repository: str, cls: type, doc: dict[str, Any]
) -> None:
    with ek.FileStore(tmp_path / "store", durability="none") as store:
        entity = getattr(store, repository).add(tmf.from_json(cls, doc))
    with ek.FileStore(tmp_path / "store", durability="none") as store:
        (back,) = getattr(store, repository).iterate()  # from the journal
        store.compact()
    assert back == entity
    assert tmf.to_json(back) == doc
    with ek.FileStore(tmp_path / "store", durability="none") as store:
        (again,) = getattr(store, repository).iterate()  # from the snapshot
    assert tmf.to_json(again) == doc


def test_a_downloaded_inventory_keeps_the_empty_arrays_it_imported() -> None:
    inventory = ek.ProductOfferingInventory(ek.InMemoryStore())
    inventory.import_offerings([OFFERING])
    (downloaded,) = json.loads(inventory.download_offerings())
    assert downloaded.pop("lastUpdate")  # set on import
    assert downloaded == OFFERING
