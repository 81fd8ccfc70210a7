"""Inventories with known defects: a clean base, and one planted entity per defect.

Entities go straight into the repositories (the inventory service would refuse
most defects), stamped "now" unless the defect is staleness.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import etomkit as ek
from etomkit.inventory.requirements import (
    InformationRequirement,
    InformationRequirements,
    ValueRequirement,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)  # ManualClock's default start
LONG_AGO = NOW - timedelta(days=800)
BROADBAND = (ek.EntityRef(id="broadband", name="Broadband"),)


def requirements() -> InformationRequirements:
    """Broadband offerings need a description; broadband products an integer speed in range."""
    return InformationRequirements(
        [
            InformationRequirement(
                id="broadband-offerings", category="broadband", required_fields=("description",)
            ),
            InformationRequirement(
                id="broadband-products",
                entity="Product",
                category="broadband",
                characteristics=(
                    ValueRequirement(
                        name="downloadSpeed", value_type="integer", minimum=1, maximum=10_000
                    ),
                ),
            ),
        ]
    )


def offering(offering_id: str, **fields: Any) -> ek.ProductOffering:
    """A clean Launched broadband offering (override any field)."""
    base: dict[str, Any] = {
        "id": offering_id,
        "name": f"Offer {offering_id}",
        "version": "1.0",
        "description": "a well-described offering",
        "lifecycle_status": "Launched",
        "category": BROADBAND,
        "last_update": NOW,
    }
    return ek.ProductOffering(**{**base, **fields})


def product(product_id: str, offering_id: str = "po-base", **fields: Any) -> ek.Product:
    """A clean active product of ``offering_id`` with a customer and a speed."""
    base: dict[str, Any] = {
        "id": product_id,
        "product_offering": ek.EntityRef(id=offering_id, referred_type="ProductOffering"),
        "related_party": (ek.RelatedParty(id=f"c-{product_id}", role="customer"),),
        "status": "active",
        "start_date": NOW - timedelta(days=10),
        "last_update": NOW,
        "product_characteristic": (ek.Characteristic(name="downloadSpeed", value=1000),),
    }
    return ek.Product(**{**base, **fields})


def clean_base(store: Any, products: int = 3) -> None:
    """One broadband offering, ``po-base``, with ``products`` clean products."""
    store.offerings.add(offering("po-base"))
    for i in range(products):
        store.products.add(product(f"p-clean-{i}"))


# Each defect kind: what to plant (given a unique tag) and the finding it must cause.
Planted = tuple[str, str, str]  # (rule, entity type, entity id)


def plant(store: Any, kind: str, tag: str, auditor: Any = None) -> Planted:
    """Plant one defect of ``kind`` on a new entity; return the one finding it must cause."""
    pid, oid = f"p-{kind}-{tag}", f"po-{kind}-{tag}"
    if kind == "offering-incomplete":
        store.offerings.add(offering(oid, description=None))
        return ("completeness", "ProductOffering", oid)
    if kind == "product-incomplete":
        store.products.add(product(pid, product_characteristic=()))
        return ("completeness", "Product", pid)
    if kind == "product-bad-value":
        speed = ek.Characteristic(name="downloadSpeed", value=0)
        store.products.add(product(pid, product_characteristic=(speed,)))
        return ("value-validity", "Product", pid)
    if kind == "product-wrong-type":
        speed = ek.Characteristic(name="downloadSpeed", value="fast")
        store.products.add(product(pid, product_characteristic=(speed,)))
        return ("value-validity", "Product", pid)
    if kind == "product-missing-offering":
        store.products.add(product(pid, offering_id=f"po-gone-{tag}"))
        return ("referential-integrity", "Product", pid)
    if kind == "bundle-missing-member":
        members = (ek.EntityRef(id="po-base"), ek.EntityRef(id=f"po-gone-{tag}"))
        store.offerings.add(offering(oid, is_bundle=True, bundled_product_offering=members))
        return ("referential-integrity", "ProductOffering", oid)
    if kind == "active-on-retired":
        retired = f"po-retired-{tag}"
        store.offerings.add(offering(retired, lifecycle_status="Retired"))
        store.products.add(product(pid, offering_id=retired))
        return ("lifecycle-consistency", "Product", pid)
    if kind == "expired-still-launched":
        ended = ek.TimePeriod(end_date_time=NOW - timedelta(days=1))
        store.offerings.add(offering(oid, valid_for=ended))
        return ("lifecycle-consistency", "ProductOffering", oid)
    if kind == "terminated-undated":
        store.products.add(product(pid, status="terminated"))
        return ("lifecycle-consistency", "Product", pid)
    if kind == "duplicate-offering":
        store.offerings.add(offering(oid, name="Offer po-base", version="1.0"))
        return ("duplicates", "ProductOffering", oid)
    if kind == "orphan-product":
        owner = (ek.RelatedParty(id=f"o-{tag}", role="owner"),)
        store.products.add(product(pid, related_party=owner))
        return ("orphans", "Product", pid)
    if kind == "stale-offering":
        store.offerings.add(offering(oid, last_update=LONG_AGO))
        return ("staleness", "ProductOffering", oid)
    if kind == "stale-product":
        store.products.add(product(pid, last_update=LONG_AGO))
        return ("staleness", "Product", pid)
    if kind == "failed-manual-audit":
        store.products.add(product(pid))
        auditor.record_manual_audit(
            entity_type="Product", entity_id=pid, auditor="ann", outcome="failed", notes="no SIM"
        )
        return ("manual-audit", "Product", pid)
    raise ValueError(kind)


DEFECTS = (
    "offering-incomplete",
    "product-incomplete",
    "product-bad-value",
    "product-wrong-type",
    "product-missing-offering",
    "bundle-missing-member",
    "active-on-retired",
    "expired-still-launched",
    "terminated-undated",
    "duplicate-offering",
    "orphan-product",
    "stale-offering",
    "stale-product",
    "failed-manual-audit",
)


def auditor(store: Any, **options: Any) -> ek.InventoryAuditor:
    """An auditor with the test requirements, a clock at NOW and sequential ids."""
    options.setdefault("requirements", requirements())
    return ek.InventoryAuditor(
        store, clock=ek.ManualClock(NOW), ids=ek.SequentialIdFactory(), **options
    )


def found(run: ek.AuditRun) -> list[Planted]:
    """Each finding as (rule, entity type, entity id)."""
    return [(f.rule, f.entity.referred_type or "", f.entity.id) for f in run.findings]
