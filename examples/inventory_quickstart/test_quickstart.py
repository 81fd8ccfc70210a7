"""The quick start runs as a script and prints the inventory as TMF JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import etomkit as ek

SCRIPT = Path(__file__).with_name("quickstart.py")


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    """What the script prints, one parsed JSON document per line."""
    run = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stderr == ""
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_quickstart_prints_one_offering_then_one_product(documents: list[dict[str, Any]]) -> None:
    assert [doc["@type"] for doc in documents] == ["ProductOffering", "Product"]


def test_the_offering_is_launched_with_its_category_and_characteristic_use(
    documents: list[dict[str, Any]],
) -> None:
    offering = documents[0]
    assert offering["name"] == "Fibre Broadband 500M"
    assert offering["lifecycleStatus"] == "Launched"
    assert offering["category"] == [{"id": "cat-broadband", "name": "Broadband"}]
    (use,) = offering["prodSpecCharValueUse"]
    assert use["name"] == "downloadSpeed"
    assert use["productSpecCharacteristicValue"][0]["value"] == 500


def test_the_product_is_the_customers_active_purchase_of_the_offering(
    documents: list[dict[str, Any]],
) -> None:
    offering, product = documents
    assert product["status"] == "active"
    assert product["productOffering"]["id"] == offering["id"]
    assert product["relatedParty"] == [
        {"id": "cust-42", "name": "Ada Lovelace", "role": "customer", "@referredType": "Customer"}
    ]
    assert product["productOrderItem"] == [
        {"productOrderId": "ord-7", "orderItemId": "1", "orderItemAction": "add"}
    ]
    assert product["productCharacteristic"] == [
        {"name": "installationAddress", "value": "12 Analytical St"}
    ]
    assert product["startDate"] == "2025-06-01T08:30:00Z"


def test_the_output_imports_back_into_a_fresh_inventory(documents: list[dict[str, Any]]) -> None:
    offering, product = documents
    inv = ek.ProductOfferingInventory(ek.InMemoryStore())
    assert inv.import_offerings([offering]).created == (offering["id"],)
    assert inv.import_products([product]).created == (product["id"],)
    assert ek.tmf.to_json(inv.get_product(product["id"])) == product
