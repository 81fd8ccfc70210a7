"""Misused arguments give a ValidationError naming the argument, not an AttributeError (#15)."""

from __future__ import annotations

from typing import Any

import pytest

import etomkit as ek


@pytest.fixture
def inv() -> ek.ProductOfferingInventory:
    inventory = ek.ProductOfferingInventory(ek.InMemoryStore())
    inventory.import_offerings([{"id": "po-1", "name": "Fibre", "lifecycleStatus": "Launched"}])
    return inventory


ITEM = ek.OrderItemRef(order_id="ord-1", item_id="1")


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"customer": "c-42", "offering_id": "po-1", "order_item": ITEM}, "customer"),
        ({"customer": ek.PartyRef(id="c"), "offering_id": "po-1", "order_item": "ord-1/1"},
         "order_item"),
        ({"customer": ek.PartyRef(id="c"), "offering_id": 7, "order_item": ITEM}, "offering_id"),
    ],
)  # fmt: skip
def test_a_purchase_with_a_wrong_argument_type_names_it_and_stores_nothing(
    inv: ek.ProductOfferingInventory, arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(ek.ValidationError) as raised:
        inv.record_purchase(**arguments)
    assert [path for path, _ in raised.value.problems] == [named]
    assert len(inv.store.products) == 0


def test_products_of_a_customer_object_instead_of_its_id_is_refused(
    inv: ek.ProductOfferingInventory,
) -> None:
    with pytest.raises(ek.ValidationError, match="customer_id"):
        inv.products_of_customer(ek.PartyRef(id="c-42"))  # type: ignore[arg-type]


def test_an_issuer_given_a_rule_file_path_says_to_load_it(tmp_path: Any) -> None:
    with pytest.raises(ek.ValidationError) as raised:
        ek.ResourceOrderIssuer(ek.InMemoryStore(), "rules.toml")  # type: ignore[arg-type]
    assert raised.value.problems[0][0] == "rules"
    assert "RuleSet.from_toml(path)" in str(raised.value)


def test_an_inventory_given_a_folder_name_says_it_needs_a_store() -> None:
    with pytest.raises(ek.ValidationError, match="store"):
        ek.ProductOfferingInventory("inventory-data/")  # type: ignore[arg-type]
