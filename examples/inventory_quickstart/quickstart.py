"""Quick start: build an inventory, launch an offering, record a purchase, export TMF JSON.

Run it with ``python examples/inventory_quickstart/quickstart.py``. It prints the
inventory as TMF JSON lines on stdout: the offering (TMF620), then the product
the customer bought (TMF637), one JSON document per line.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TextIO

import etomkit as ek


def build_inventory() -> ek.ProductOfferingInventory:
    """An inventory with one launched offering and one active product."""
    inv = ek.ProductOfferingInventory(
        ek.InMemoryStore(),
        clock=ek.ManualClock(datetime(2025, 6, 1, 8, 30, tzinfo=UTC)),
        ids=ek.SequentialIdFactory("qs-"),
    )
    offering = inv.create_offering(
        ek.ProductOffering(
            name="Fibre Broadband 500M",
            description="FTTH, 500 Mbit/s down, 100 Mbit/s up",
            is_sellable=True,
            category=(ek.EntityRef(id="cat-broadband", name="Broadband"),),
            prod_spec_char_value_use=(
                ek.CharacteristicValueUse(
                    name="downloadSpeed",
                    value_type="number",
                    product_spec_characteristic_value=(
                        {"value": 500, "unitOfMeasure": "Mbps", "isDefault": True},
                    ),
                ),
            ),
        )
    )
    offering_id = _id(offering)
    for state in ("In design", "In test", "Active", "Launched"):
        inv.transition_offering(offering_id, state)

    product = inv.record_purchase(
        customer=ek.PartyRef(id="cust-42", name="Ada Lovelace"),
        offering_id=offering_id,
        order_item=ek.OrderItemRef(order_id="ord-7", item_id="1", action="add"),
        characteristics=[ek.Characteristic(name="installationAddress", value="12 Analytical St")],
    )
    inv.transition_product(_id(product), "active")
    return inv


def _id(entity: ek.ProductOffering | ek.Product) -> str:
    """The id of a stored entity (always set once stored)."""
    assert entity.id is not None
    return entity.id


def main(out: TextIO = sys.stdout) -> int:
    """Build the inventory and write it to ``out`` as TMF JSON lines."""
    inv = build_inventory()
    inv.download_offerings(format="jsonl", out=out)
    inv.download_products(format="jsonl", out=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
