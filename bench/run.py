"""Benchmarks for the inventory core and the TMF JSON edge (issue #2).

Each row runs our operation and its floor side by side, interleaved over
several rounds in one process; the table shows median per-operation times,
throughputs and the ratio (ours / floor throughput). Re-run with:

    python bench/run.py            # or: nox -s bench
    python bench/run.py --quick    # fewer rounds, smaller batches
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs
from cattrs.preconf.json import make_converter

import etomkit as ek
from etomkit import tmf

Batch = Callable[[], int]  # runs a batch, returns how many operations it did


class _CountingSink:
    def __init__(self) -> None:
        self.count = 0

    def publish(self, event: ek.Event) -> None:
        self.count += 1


CATEGORY = (ek.EntityRef(id="broadband", name="Broadband"),)


def _inventory() -> ek.ProductOfferingInventory:
    return ek.ProductOfferingInventory(ek.InMemoryStore(), events=_CountingSink())


def _launched(inv: ek.ProductOfferingInventory, n: int) -> list[str]:
    ids = []
    for i in range(n):
        o = inv.create_offering(ek.ProductOffering(name=f"Fibre {i}", category=CATEGORY))
        for status in ("In design", "In test", "Active", "Launched"):
            o = inv.transition_offering(o.id or "", status)
        ids.append(o.id or "")
    return ids


def create_pair(n: int) -> tuple[Batch, Batch]:
    def ours() -> int:
        inv = _inventory()
        create, offering = inv.create_offering, ek.ProductOffering
        for _ in range(n):
            create(offering(name="Fibre 1G", version="1.0", category=CATEGORY))
        return n

    def floor() -> int:
        data: dict[str, ek.ProductOffering] = {}
        ids = ek.RandomIdFactory()
        offering = ek.ProductOffering
        for _ in range(n):
            o = offering(name="Fibre 1G", version="1.0", category=CATEGORY, id=ids.new_id("o"))
            data[o.id] = o  # type: ignore[index]
        return n

    return ours, floor


def get_pair(n: int) -> tuple[Batch, Batch]:
    inv = _inventory()
    keys = [inv.create_offering(ek.ProductOffering(name=f"o{i}")).id or "" for i in range(n)]
    data = {k: inv.get_offering(k) for k in keys}

    def ours() -> int:
        get = inv.get_offering
        for k in keys:
            get(k)
        return n

    def floor() -> int:  # a lookup that, like ours, tells a miss apart
        get = data.get
        for k in keys:
            if get(k) is None:
                raise KeyError(k)
        return n

    return ours, floor


def transition_pair(n: int) -> tuple[Batch, Batch]:
    inv = _inventory()
    keys = [inv.create_offering(ek.ProductOffering(name=f"o{i}")).id or "" for i in range(n)]
    data = {k: inv.get_offering(k) for k in keys}
    flip = {"In study": "In design", "In design": "In study"}

    def ours() -> int:
        move = inv.transition_offering
        for k in keys:
            move(k, "In design")
        for k in keys:
            move(k, "In study")
        return 2 * n

    def floor() -> int:
        evolve = attrs.evolve
        for _ in range(2):
            for k in keys:
                o = data[k]
                data[k] = evolve(o, lifecycle_status=flip[o.lifecycle_status])
        return 2 * n

    return ours, floor


def purchase_pair(n: int) -> tuple[Batch, Batch]:
    inv = _inventory()
    (offering_id,) = _launched(inv, 1)
    offering = inv.get_offering(offering_id)
    counter = iter(range(10**12))

    def ours() -> int:
        buy, party, item = inv.record_purchase, ek.PartyRef, ek.OrderItemRef
        for i in range(n):
            buy(
                customer=party(id=f"c-{i}"),
                offering_id=offering_id,
                order_item=item(order_id=f"po-{next(counter)}", item_id="1"),
            )
        return n

    def floor() -> int:
        data: dict[str, ek.Product] = {}
        ids = ek.RandomIdFactory()
        ref = ek.EntityRef(id=offering_id, name=offering.name, referred_type="ProductOffering")
        for i in range(n):
            p = ek.Product(
                id=ids.new_id("p"),
                product_offering=ref,
                related_party=(ek.PartyRef(id=f"c-{i}").as_related_party("customer"),),
                product_order_item=(ek.OrderItemRef(order_id=f"po-{i}", item_id="1"),),
            )
            data[p.id] = p  # type: ignore[index]
        return n

    return ours, floor


def customer_pair(n: int) -> tuple[Batch, Batch]:
    """``products_of_customer`` against a plain dict of customer id -> product ids
    (four products per customer, as in the audit bench; a quarter moved on once)."""
    inv = _inventory()
    (offering_id,) = _launched(inv, 1)
    customers = [f"c-{i}" for i in range(max(1, n // 4))]
    by_customer: dict[str, list[str]] = {c: [] for c in customers}
    for i in range(n):
        c = customers[i % len(customers)]
        p = inv.record_purchase(
            customer=ek.PartyRef(id=c),
            offering_id=offering_id,
            order_item=ek.OrderItemRef(order_id=f"po-{i}", item_id="1"),
        )
        if i % 4 == 0:  # a transition re-indexes the product
            inv.transition_product(p.id or "", "active")
        by_customer[c].append(p.id or "")
    data = {p.id: p for p in inv.iter_products()}

    def ours() -> int:
        of = inv.products_of_customer
        for c in customers:
            of(c)
        return len(customers)

    def floor() -> int:
        get, products = by_customer.get, data.__getitem__
        for c in customers:
            list(map(products, get(c, ())))
        return len(customers)

    return ours, floor


def product_transition_pair(n: int) -> tuple[Batch, Batch]:
    inv = _inventory()
    (offering_id,) = _launched(inv, 1)
    keys = [
        inv.record_purchase(
            customer=ek.PartyRef(id=f"c-{i}"),
            offering_id=offering_id,
            order_item=ek.OrderItemRef(order_id=f"po-{i}", item_id="1"),
            status="active",
        ).id
        or ""
        for i in range(n)
    ]
    data = {k: inv.get_product(k) for k in keys}
    flip = {"active": "suspended", "suspended": "active"}

    def ours() -> int:
        move = inv.transition_product
        for k in keys:
            move(k, "suspended")
        for k in keys:
            move(k, "active")
        return 2 * n

    def floor() -> int:
        evolve = attrs.evolve
        for _ in range(2):
            for k in keys:
                p = data[k]
                data[k] = evolve(p, status=flip[p.status])
        return 2 * n

    return ours, floor


def _sample_objects(n: int) -> list[Any]:
    inv = _inventory()
    (offering_id,) = _launched(inv, 1)
    objects: list[Any] = []
    for i in range(n // 2):
        objects.append(
            inv.create_offering(
                ek.ProductOffering(
                    name=f"Fibre {i}",
                    version="1.0",
                    description="Symmetric fibre broadband",
                    category=CATEGORY,
                    product_specification=ek.EntityRef(id="ps-fibre", version="2"),
                    is_bundle=False,
                    is_sellable=True,
                )
            )
        )
        objects.append(
            inv.record_purchase(
                customer=ek.PartyRef(id=f"c-{i}", name="Ada"),
                offering_id=offering_id,
                order_item=ek.OrderItemRef(order_id=f"po-{i}", item_id="1", action="add"),
                characteristics=(ek.Characteristic(name="speed", value=1000, value_type="number"),),
            )
        )
    return objects


def to_json_pair(n: int) -> tuple[Batch, Batch]:
    objects = _sample_objects(n)
    plain = make_converter()

    def ours() -> int:
        to_json = tmf.to_json
        for o in objects:
            to_json(o)
        return len(objects)

    def floor() -> int:
        unstructure = plain.unstructure
        for o in objects:
            unstructure(o)
        return len(objects)

    return ours, floor


def from_json_pair(n: int) -> tuple[Batch, Batch]:
    objects = _sample_objects(n)
    plain = make_converter()
    ours_docs = [(type(o), tmf.to_json(o)) for o in objects]
    plain_docs = [(type(o), plain.unstructure(o)) for o in objects]

    def ours() -> int:
        from_json = tmf.from_json
        for cls, doc in ours_docs:
            from_json(cls, doc)
        return len(ours_docs)

    def floor() -> int:
        structure = plain.structure
        for cls, doc in plain_docs:
            structure(doc, cls)
        return len(plain_docs)

    return ours, floor


# name, pair factory, floor label, target ratio (ours throughput / floor throughput)
CASES: list[tuple[str, Callable[[int], tuple[Batch, Batch]], str, float]] = [
    ("create_offering", create_pair, "attrs object + dict set", 1 / 4),
    ("get_offering", get_pair, "dict.get + miss check", 1 / 3),
    ("transition_offering", transition_pair, "dict get + attrs.evolve + set", 1 / 4),
    ("transition_product", product_transition_pair, "dict get + attrs.evolve + set", 1 / 2),
    ("record_purchase", purchase_pair, "attrs Product + dict set", 0.6),  # issue #13
    ("products_of_customer", customer_pair, "dict customer -> ids, list of products", 0.5),
    ("tmf.to_json", to_json_pair, "cattrs preconf json unstructure", 1 / 1.5),
    ("tmf.from_json", from_json_pair, "cattrs preconf json structure", 1 / 1.5),
]


def _time(batch: Batch) -> float:
    start = time.perf_counter()
    count = batch()
    return (time.perf_counter() - start) / count


def measure(rounds: int, n: int, only: set[str] | None = None) -> list[dict[str, Any]]:
    rows = []
    for name, factory, floor_label, target in CASES:
        if only and name not in only:
            continue
        ours, floor = factory(n)
        ours(), floor()  # warm up
        ours_t, floor_t = [], []
        for _ in range(rounds):  # interleaved, so drift hits both alike
            ours_t.append(_time(ours))
            floor_t.append(_time(floor))
        ratios = [f / o for f, o in zip(floor_t, ours_t, strict=True)]
        rows.append(
            {
                "operation": name,
                "ours_us": statistics.median(ours_t) * 1e6,
                "floor_us": statistics.median(floor_t) * 1e6,
                "floor": floor_label,
                "ratio": statistics.median(ratios),
                "target": target,
            }
        )
    return rows


def render(rows: list[dict[str, Any]], rounds: int, n: int, argv: list[str]) -> str:
    head = (
        f"| operation | ours µs/op | ours ops/s | floor | floor µs/op | floor ops/s "
        f"| ours/floor (median of {rounds}) | target | ok |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        ok = "yes" if r["ratio"] >= r["target"] else "NO"
        lines.append(
            f"| {r['operation']} | {r['ours_us']:.2f} | {1e6 / r['ours_us']:,.0f} | {r['floor']} "
            f"| {r['floor_us']:.2f} | {1e6 / r['floor_us']:,.0f} | {r['ratio']:.2f} "
            f"| >= {r['target']:.2f} | {ok} |"
        )
    command = "python bench/run.py " + " ".join(argv)
    lines += [
        "",
        f"{n} operations per batch, Python {sys.version.split()[0]}; re-run: `{command.strip()}`",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--n", type=int, default=5000, help="operations per batch")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1000")
    parser.add_argument("--only", default="", help="comma-separated operations to run")
    args = parser.parse_args(argv)
    rounds, n = (3, 1000) if args.quick else (args.rounds, args.n)
    rows = measure(rounds, n, {o.strip() for o in args.only.split(",") if o.strip()})
    print(render(rows, rounds, n, sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
