"""The main job, on an embedded default: ``python -m etomkit demo``.

Builds a small but realistic product offering inventory (eTOM 1.2.4.2): fibre
broadband, mobile plans and an SD-WAN bundle in three categories; walks the
offerings through their lifecycle to ``Launched``; records the products that
customers bought through Order Handling order items; activates them; queries
by customer and by offering; shows a refused transition; and downloads
everything as TMF JSON lines into a data folder (``./inventory-data/`` unless
``--data DIR``).

The demo is written to be re-runnable against a durable store: offerings have
fixed ids and are created only if missing, lifecycles are walked from wherever
an offering stands, and purchases are idempotent per order item. Swapping the
store is the one line in :func:`open_store`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, deque
from pathlib import Path
from typing import TextIO

import attrs

from etomkit.adapters.file import FileStore
from etomkit.adapters.runtime import InMemoryEventSink, SequentialIdFactory
from etomkit.errors import EtomkitError, TransitionError
from etomkit.inventory import ProductOfferingInventory
from etomkit.model import (
    Characteristic,
    CharacteristicValueUse,
    EntityRef,
    Lifecycle,
    OrderItemRef,
    PartyRef,
    Product,
    ProductOffering,
)

__all__ = [
    "DEFAULT_DATA_DIR",
    "Purchase",
    "catalogue",
    "lifecycle_path",
    "main",
    "open_store",
    "purchases",
    "run",
]

DEFAULT_DATA_DIR = Path("inventory-data")


def open_store(data_dir: Path) -> FileStore:
    """The store the demo works on: a durable FileStore in ``data_dir``.

    Run the demo twice on the same folder and the second run finds the first
    run's offerings and products (and says so).
    """
    return FileStore(data_dir)


# ---------------------------------------------------------------------- the catalogue

_BROADBAND = EntityRef(id="cat-broadband", name="Broadband", referred_type="Category")
_MOBILE = EntityRef(id="cat-mobile", name="Mobile", referred_type="Category")
_BUSINESS = EntityRef(id="cat-business", name="Business connectivity", referred_type="Category")


def _value_use(
    name: str, value_type: str, value: object, unit: str | None = None
) -> CharacteristicValueUse:
    """A prodSpecCharValueUse with one default value (and its unit of measure)."""
    value_doc: dict[str, object] = {"valueType": value_type, "value": value, "isDefault": True}
    if unit is not None:
        value_doc["unitOfMeasure"] = unit
    return CharacteristicValueUse(
        name=name,
        value_type=value_type,
        min_cardinality=1,
        max_cardinality=1,
        product_spec_characteristic_value=(value_doc,),
    )


def _fibre(mbps: int, price: str) -> ProductOffering:
    label = "1G" if mbps == 1000 else f"{mbps}M"
    return ProductOffering(
        id=f"po-fibre-{label.lower()}",
        name=f"Fibre Broadband {label}",
        version="1.0",
        description=f"FTTH internet access, {mbps} Mbit/s down, {mbps // 5} Mbit/s up.",
        is_bundle=False,
        is_sellable=True,
        category=(_BROADBAND,),
        product_specification=EntityRef(id="ps-ftth-access", name="FTTH access"),
        product_offering_price=(
            EntityRef(id=f"pop-fibre-{label.lower()}-monthly", name=f"{price} EUR / month"),
        ),
        prod_spec_char_value_use=(
            _value_use("downloadSpeed", "number", mbps, "Mbps"),
            _value_use("uploadSpeed", "number", mbps // 5, "Mbps"),
        ),
    )


def _mobile(key: str, name: str, gigabytes: int | str, price: str) -> ProductOffering:
    return ProductOffering(
        id=f"po-mobile-{key}",
        name=name,
        version="1.0",
        description=f"Mobile plan: calls and texts included, {gigabytes} GB of data.",
        is_bundle=False,
        is_sellable=True,
        category=(_MOBILE,),
        product_specification=EntityRef(id="ps-mobile-line", name="Mobile line"),
        product_offering_price=(EntityRef(id=f"pop-mobile-{key}-monthly", name=f"{price} EUR"),),
        prod_spec_char_value_use=(
            _value_use("dataAllowance", "string", str(gigabytes), "GB"),
            _value_use("networkTechnology", "string", "5G"),
        ),
    )


def _member(offering: ProductOffering) -> EntityRef:
    assert offering.id is not None  # the demo's offerings have fixed ids
    return EntityRef(id=offering.id, name=offering.name, referred_type="ProductOffering")


def catalogue() -> tuple[ProductOffering, ...]:
    """The demo's offerings, bundle members before the bundle, all ``In study``."""
    fibre_1g = _fibre(1000, "49.99")
    mobile_backup = _mobile("backup-20", "Mobile Data Backup 20GB", 20, "9.99")
    sd_wan = ProductOffering(
        id="po-sdwan-branch",
        name="SD-WAN Branch",
        version="1.0",
        description="Managed SD-WAN for a branch office: fibre primary link, 5G backup.",
        is_bundle=True,
        is_sellable=True,
        category=(_BUSINESS,),
        bundled_product_offering=(_member(fibre_1g), _member(mobile_backup)),
        product_offering_price=(EntityRef(id="pop-sdwan-branch-monthly", name="149.00 EUR"),),
    )
    return (
        _fibre(500, "34.99"),
        fibre_1g,
        _mobile("10", "Mobile 10GB", 10, "14.99"),
        _mobile("unlimited", "Mobile Unlimited", "unlimited", "29.99"),
        mobile_backup,
        sd_wan,
    )


@attrs.frozen
class Purchase:
    """One Order Handling order item that bought an offering for a customer."""

    customer: PartyRef
    offering_id: str
    order_id: str
    item_id: str
    characteristics: tuple[Characteristic, ...] = ()

    @property
    def order_item(self) -> OrderItemRef:
        """The order item reference a Product keeps."""
        return OrderItemRef(order_id=self.order_id, item_id=self.item_id, action="add")


def purchases() -> tuple[Purchase, ...]:
    """The demo's order items: three customers, five products."""
    ada = PartyRef(id="cust-1001", name="Ada Lovelace", referred_type="Individual")
    grace = PartyRef(id="cust-1002", name="Grace Hopper", referred_type="Individual")
    acme = PartyRef(id="cust-2001", name="ACME Logistics", referred_type="Organization")
    site = Characteristic(name="siteAddress", value="1 Harbour Road, Dock 4", value_type="string")
    return (
        Purchase(ada, "po-fibre-1g", "ord-5001", "1"),
        Purchase(ada, "po-mobile-unlimited", "ord-5001", "2"),
        Purchase(grace, "po-fibre-500m", "ord-5002", "1"),
        Purchase(grace, "po-mobile-10", "ord-5002", "2"),
        Purchase(acme, "po-sdwan-branch", "ord-7001", "1", (site,)),
    )


# ---------------------------------------------------------------------- the walk


def lifecycle_path(lifecycle: Lifecycle, current: str, target: str) -> list[str]:
    """The shortest list of states leading from ``current`` to ``target`` (excluding
    ``current``), found in the lifecycle's transition table; ``[]`` if already there.

    Raises TransitionError if ``target`` cannot be reached at all.
    """
    start, goal = lifecycle.canonical(current), lifecycle.canonical(target)
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == goal:
            path: list[str] = []
            step: str | None = state
            while step is not None and step != start:
                path.append(step)
                step = came_from[step]
            return path[::-1]
        for nxt in lifecycle.transitions.get(state, ()):
            if nxt not in came_from:
                came_from[nxt] = state
                queue.append(nxt)
    raise TransitionError(lifecycle.entity, None, start, goal, lifecycle.allowed_from(start))


def run(data_dir: Path, out: TextIO) -> int:
    """Do the demo on the store :func:`open_store` gives for ``data_dir``; report to ``out``."""
    store = open_store(data_dir)
    try:
        events = InMemoryEventSink()
        # Readable ids. Safe on a re-run against a durable store: offerings have fixed
        # ids and a repeated order item returns its product before any id is drawn.
        inv = ProductOfferingInventory(store, ids=SequentialIdFactory("demo-"), events=events)
        print("etomkit demo: Manage Product Offering Inventory (eTOM 1.2.4.2)", file=out)
        print(f"store: {type(store).__name__}; data folder: {data_dir}", file=out)
        found = (len(store.offerings), len(store.products))
        if any(found):
            print(
                f"found from earlier runs: {found[0]} offerings, {found[1]} products "
                f"({store.recovery_report})",
                file=out,
            )
        else:
            print("a new, empty store", file=out)
        _launch_catalogue(inv, out)
        _record_purchases(inv, out)
        _activate(inv, out)
        _query(inv, out)
        _refuse_a_transition(inv, out)
        _download(inv, data_dir, out)
        kinds = Counter(e.event_type for e in events.events)
        listed = "".join(f"\n   {kind} x{n}" for kind, n in kinds.items())
        print(f"\n{len(events.events)} events published{':' if listed else ''}{listed}", file=out)
    finally:
        store.close()
    return 0


def _launch_catalogue(inv: ProductOfferingInventory, out: TextIO) -> None:
    print("\n1. Offerings, walked through their lifecycle to 'Launched'", file=out)
    for offering in catalogue():
        assert offering.id is not None
        current = inv.find_offering(offering.id) or inv.create_offering(offering)
        steps = lifecycle_path(inv.offering_lifecycle, current.lifecycle_status, "Launched")
        walk = " -> ".join([current.lifecycle_status, *steps]) if steps else "already Launched"
        for state in steps:
            current = inv.transition_offering(offering.id, state)
        print(f"   {current.id:<20} {current.name:<24} {walk}", file=out)
        if current.bundled_product_offering:
            members = " + ".join(m.id for m in current.bundled_product_offering)
            print(f"   {'':<20} bundles {members}", file=out)
    categories = Counter(c.name or c.id for o in inv.iter_offerings() for c in o.category)
    listed = ", ".join(f"{name} {count}" for name, count in categories.items())
    total = len(inv.store.offerings)
    print(f"   {total} offerings in {len(categories)} categories: {listed}", file=out)


def _record_purchases(inv: ProductOfferingInventory, out: TextIO) -> None:
    print("\n2. Purchases recorded from Order Handling order items", file=out)
    recorded: list[Product] = []
    for purchase in purchases():
        product = inv.record_purchase(
            customer=purchase.customer,
            offering_id=purchase.offering_id,
            order_item=purchase.order_item,
            characteristics=purchase.characteristics,
        )
        recorded.append(product)
        item = f"{purchase.order_id}/{purchase.item_id}"
        print(
            f"   {item:<11} {purchase.customer.id:<10} {product.name:<24} -> {product.id} "
            f"({product.status})",
            file=out,
        )
    again = purchases()[0]
    repeat = inv.record_purchase(
        customer=again.customer, offering_id=again.offering_id, order_item=again.order_item
    )
    same = "the same product, no duplicate" if repeat == recorded[0] else "A DIFFERENT PRODUCT"
    print(
        f"   {again.order_id}/{again.item_id} sent again -> {repeat.id}: {same}; "
        f"{len(inv.store.products)} products in all",
        file=out,
    )


def _activate(inv: ProductOfferingInventory, out: TextIO) -> None:
    print("\n3. Activation", file=out)
    waiting = inv.list_products(status="created", limit=None).items
    for product in waiting:
        assert product.id is not None
        active = inv.transition_product(product.id, "active")
        print(f"   {active.id:<16} created -> {active.status}, since {_date(active)}", file=out)
    if not waiting:
        print("   nothing to activate: every product is already past 'created'", file=out)


def _query(inv: ProductOfferingInventory, out: TextIO) -> None:
    print("\n4. Queries", file=out)
    for customer_id in dict.fromkeys(p.customer.id for p in purchases()):
        held = inv.products_of_customer(customer_id)
        listed = "; ".join(f"{p.id} {p.name} ({p.status})" for p in held)
        print(f"   products_of_customer({customer_id!r}): {listed}", file=out)
    for offering_id in ("po-fibre-1g", "po-sdwan-branch", "po-mobile-backup-20"):
        parties = inv.customers_of_offering(offering_id)
        listed = ", ".join(f"{p.id} ({p.name})" for p in parties) or "nobody yet"
        print(f"   customers_of_offering({offering_id!r}): {listed}", file=out)


def _refuse_a_transition(inv: ProductOfferingInventory, out: TextIO) -> None:
    print("\n5. A transition the lifecycle refuses", file=out)
    try:
        inv.transition_offering("po-mobile-10", "In study")
    except TransitionError as exc:
        print(f"   TransitionError: {exc}", file=out)


def _download(inv: ProductOfferingInventory, data_dir: Path, out: TextIO) -> None:
    print("\n6. Download as TMF JSON lines", file=out)
    store = inv.store
    for name, download, count in (
        ("offerings.jsonl", inv.download_offerings, len(store.offerings)),
        ("products.jsonl", inv.download_products, len(store.products)),
    ):
        path = data_dir / name
        with path.open("w", encoding="utf-8") as handle:
            download(format="jsonl", out=handle)
        print(f"   {path}: {count} records", file=out)


def _date(product: Product) -> str:
    return product.start_date.isoformat(timespec="seconds") if product.start_date else "-"


# ---------------------------------------------------------------------- command line


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Build a small product offering inventory, walk it through its "
        "lifecycles and download it as TMF JSON lines.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["demo"],
        default="demo",
        help="what to run (default: demo)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"folder for the store and the download (default: ./{DEFAULT_DATA_DIR}/)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m etomkit [demo] [--data DIR]`` and the ``etomkit-demo`` script."""
    program = Path(sys.argv[0]).name
    prog = "python -m etomkit" if program == "__main__.py" else program or "etomkit"
    args = _parser(prog).parse_args(argv)
    try:
        return run(args.data, sys.stdout)
    except (EtomkitError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
