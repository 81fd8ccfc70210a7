"""Information requirements: declared in Python or files, every problem reported,
and enforced on create, modify, update and import (rejecting and storing nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.inventory.audit.helpers import BROADBAND, requirements

import etomkit as ek
from etomkit import tmf
from etomkit.inventory.requirements import InformationRequirement, ValueRequirement

TOML = """
[[requirement]]
id = "broadband-offerings"
category = "broadband"
required_fields = ["description"]

[[requirement]]
id = "broadband-products"
entity = "Product"
category = "broadband"

[[requirement.characteristic]]
name = "downloadSpeed"
value_type = "integer"
minimum = 1
maximum = 10000
"""


def test_toml_json_and_python_declarations_are_the_same_requirements(tmp_path: Path) -> None:
    path = tmp_path / "requirements.toml"
    path.write_text(TOML, encoding="utf-8")
    from_toml = ek.InformationRequirements.from_toml(path)
    doc = {
        "requirements": [
            {"id": "broadband-offerings", "category": "broadband",
             "requiredFields": ["description"]},
            {"id": "broadband-products", "entity": "Product", "category": "broadband",
             "characteristics": [{"name": "downloadSpeed", "valueType": "integer",
                                  "minimum": 1, "maximum": 10000}]},
        ]
    }  # fmt: skip
    json_path = tmp_path / "requirements.json"
    json_path.write_text(json.dumps(doc), encoding="utf-8")
    from_json = ek.InformationRequirements.from_json(json_path)
    assert from_toml.requirements == from_json.requirements == requirements().requirements


def test_a_bad_requirements_file_lists_every_problem_and_names_the_field() -> None:
    text = """
[[requirement]]
id = "a"
entity = "Service"

[[requirement]]
id = "a"
required_fields = ["descr"]
colour = "blue"

[[requirement.characteristic]]
name = "speed"
value_type = "int"
minimum = 10
maximum = 1
pattern = "("
"""
    with pytest.raises(ek.ValidationError) as caught:
        ek.InformationRequirements.from_toml_text(text)
    paths = [path for path, _ in caught.value.problems]
    assert paths == [
        "requirement[1].colour",
        "requirement[0](a).entity",
        "requirement[1](a).id",
        "requirement[1](a).required_fields[0]",
        "requirement[1](a).characteristics[0].value_type",
        "requirement[1](a).characteristics[0].maximum",
        "requirement[1](a).characteristics[0].pattern",
    ]
    messages = dict(caught.value.problems)
    assert "'Product'" in messages["requirement[0](a).entity"]
    assert "description" in messages["requirement[1](a).required_fields[0]"]
    assert "integer" in messages["requirement[1](a).characteristics[0].value_type"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[requirement]\nid=", "not valid TOML"),
        ("rules = []", "unknown top-level key"),
        ("requirement = 3", "must be a list"),
        ("[[requirement]]\nentity = 'Product'", "is required"),
    ],
)
def test_malformed_files_are_validation_errors_not_tracebacks(text: str, message: str) -> None:
    with pytest.raises(ek.ValidationError, match=message):
        ek.InformationRequirements.from_toml_text(text)


def test_bad_json_text_is_a_validation_error() -> None:
    with pytest.raises(ek.ValidationError, match="not valid JSON"):
        ek.InformationRequirements.from_json_text("{")


def test_value_constraints_report_type_allowed_range_and_pattern() -> None:
    reqs = ek.InformationRequirements(
        [
            InformationRequirement(
                id="r",
                entity="Product",
                fields=(ValueRequirement(name="name", pattern=r"[A-Z].*"),),
                characteristics=(
                    ValueRequirement(name="colour", allowed=("red", "blue")),
                    ValueRequirement(name="speed", value_type="number", maximum=10),
                    ValueRequirement(name="note", required=False, value_type="string"),
                ),
            )
        ]
    )
    product = ek.Product(
        name="lower",
        product_offering=ek.EntityRef(id="po"),
        related_party=(ek.RelatedParty(id="c", role="customer"),),
        product_characteristic=(
            ek.Characteristic(name="colour", value="green"),
            ek.Characteristic(name="speed", value=11),
        ),
    )
    gaps = reqs.product_gaps(product, None)
    assert [(g.kind, g.path) for g in gaps] == [
        ("invalid", "name"),
        ("invalid", "product_characteristic[colour]"),
        ("invalid", "product_characteristic[speed]"),
    ]
    assert "'green' is not allowed; allowed: 'red', 'blue'" in gaps[1].message


# --------------------------------------------------------------------- enforcement


@pytest.fixture(params=["memory", "file"])
def inventory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ek.ProductOfferingInventory]:
    store: Any = (
        ek.InMemoryStore()
        if request.param == "memory"
        else ek.FileStore(tmp_path / "store", durability="none")
    )
    yield ek.ProductOfferingInventory(
        store, clock=ek.ManualClock(), ids=ek.SequentialIdFactory(), requirements=requirements()
    )
    store.close()


def _contents(inv: ek.ProductOfferingInventory) -> tuple[list[Any], list[Any]]:
    return list(inv.store.offerings.iterate()), list(inv.store.products.iterate())


def _launched(inv: ek.ProductOfferingInventory) -> ek.ProductOffering:
    offer = inv.create_offering(
        ek.ProductOffering(name="Fibre 1G", description="fibre", category=BROADBAND)
    )
    for state in ("In design", "In test", "Active", "Launched"):
        offer = inv.transition_offering(offer.id or "", state)
    return offer


def _refused(inv: ek.ProductOfferingInventory, call: Any, *paths: str) -> None:
    before = _contents(inv)
    counts = (len(inv.store.offerings), len(inv.store.products))
    with pytest.raises(ek.ValidationError) as caught:
        call()
    assert [p for p, _ in caught.value.problems if "information requirement" in _] == list(paths)
    assert _contents(inv) == before
    assert (len(inv.store.offerings), len(inv.store.products)) == counts


def test_creating_an_offering_without_required_information_is_refused(
    inventory: ek.ProductOfferingInventory,
) -> None:
    bare = ek.ProductOffering(name="Fibre 2G", category=BROADBAND)
    _refused(inventory, lambda: inventory.create_offering(bare), "description")
    outside = inventory.create_offering(ek.ProductOffering(name="Voice"))  # no requirement
    assert outside.id in inventory.store.offerings


def test_modifying_or_updating_an_offering_below_requirements_is_refused(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offer = _launched(inventory)
    oid = offer.id or ""
    _refused(inventory, lambda: inventory.modify_offering(oid, {"description": " "}), "description")
    blank = ek.model._copy.replace(offer, description=None)
    _refused(inventory, lambda: inventory.update_offering(blank), "description")
    assert inventory.get_offering(oid) == offer


def test_importing_offerings_lists_every_gap_and_stores_none(
    inventory: ek.ProductOfferingInventory,
) -> None:
    docs = [
        tmf.to_json(ek.ProductOffering(id="po-a", name="A", category=BROADBAND, description="ok")),
        tmf.to_json(ek.ProductOffering(id="po-b", name="B", category=BROADBAND)),
        tmf.to_json(ek.ProductOffering(id="po-c", name="C", category=BROADBAND)),
    ]
    _refused(
        inventory, lambda: inventory.import_offerings(docs), "[1].description", "[2].description"
    )


def test_purchases_and_product_changes_below_requirements_are_refused(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offer = _launched(inventory)
    oid = offer.id or ""
    customer = ek.PartyRef(id="c-1")

    def buy(value: Any, item: str) -> ek.Product:
        chars = [] if value is None else [ek.Characteristic(name="downloadSpeed", value=value)]
        return inventory.record_purchase(
            customer=customer,
            offering_id=oid,
            order_item=ek.OrderItemRef(order_id="so-1", item_id=item),
            characteristics=chars,
        )

    path = "product_characteristic[downloadSpeed]"
    _refused(inventory, lambda: buy(None, "1"), path)
    _refused(inventory, lambda: buy(0, "2"), path)
    _refused(inventory, lambda: buy("fast", "3"), path)
    product = buy(1000, "4")
    pid = product.id or ""
    _refused(inventory, lambda: inventory.modify_product(pid, {"product_characteristic": ()}), path)
    doc = tmf.to_json(ek.model._copy.replace(product, id="p-imported", product_characteristic=()))
    json_path = "[0].productCharacteristic[downloadSpeed]"  # imports speak TMF JSON
    _refused(inventory, lambda: inventory.import_products([doc]), json_path)
    assert inventory.get_product(pid) == product


def test_without_requirements_nothing_extra_is_enforced() -> None:
    inv = ek.ProductOfferingInventory(ek.InMemoryStore())
    assert inv.requirements is None
    assert inv.create_offering(ek.ProductOffering(name="Bare", category=BROADBAND)).id
