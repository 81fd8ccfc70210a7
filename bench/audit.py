"""Audit of 1,000,000 products and 10,000 offerings against a plain pass (issue #6).

The audit runs every built-in rule (with information requirements that apply
to every offering and product) in one streaming pass. Its floor is a single
plain-Python pass over the same repositories that only touches each record
(``for p in repo.iterate(): p.id``). Both run on an in-memory store and on a
FileStore (the embedded default: its iteration decodes TMF JSON records; each
round reopens it, so every pass decodes). Rounds interleave floor and audit
in one process per configuration; memory is measured in fresh processes that
run only the floor or only the audit (RSS before, and the peak during the
pass, with the peak reset just before it). Re-run with:

    python bench/audit.py              # 1,000,000 products, 10,000 offerings
    python bench/audit.py --quick      # 100,000 products, 1,000 offerings
    python bench/audit.py --stores memory   # the in-memory store only (no FileStore build)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import etomkit as ek
from etomkit.inventory.requirements import InformationRequirement, ValueRequirement

NOW = datetime(2025, 1, 1, tzinfo=UTC)
BROADBAND = (ek.EntityRef(id="broadband", name="Broadband"),)
DEFECT_EVERY = 1000  # one product in a thousand is planted with a defect


def requirements() -> ek.InformationRequirements:
    return ek.InformationRequirements(
        [
            InformationRequirement(
                id="offerings", category="broadband", required_fields=("description",)
            ),
            InformationRequirement(
                id="products",
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


def offering(n: int) -> ek.ProductOffering:
    return ek.ProductOffering(
        id=f"po-{n:06d}",
        name=f"Fibre {n}",
        version="1.0",
        description="fibre broadband",
        lifecycle_status="Launched",
        category=BROADBAND,
        last_update=NOW,
    )


def product(n: int, offerings: int) -> ek.Product:
    defect = n % DEFECT_EVERY == 7
    kind = (n // DEFECT_EVERY) % 3
    return ek.Product(
        id=f"p-{n:08d}",
        name="Fibre 1G",
        status="active",
        product_offering=ek.EntityRef(
            id=f"po-{n % offerings:06d}", referred_type="ProductOffering"
        ),
        related_party=(
            ek.RelatedParty(
                id=f"c-{n % 250_000}",
                role="owner" if defect and kind == 0 else "customer",
                referred_type="Customer",
            ),
        ),
        product_order_item=(ek.OrderItemRef(order_id=f"po-{n}", item_id="1", action="add"),),
        product_characteristic=(
            ek.Characteristic(
                name="downloadSpeed", value=0 if defect and kind == 1 else 1000, value_type="number"
            ),
        ),
        start_date=NOW - timedelta(days=30),
        last_update=NOW - timedelta(days=900) if defect and kind == 2 else NOW,
    )


def fill(store: Any, products: int, offerings: int) -> None:
    store.offerings.add_all([offering(n) for n in range(offerings)])
    for start in range(0, products, 10_000):
        with store.transaction():
            store.products.add_all(
                [product(n, offerings) for n in range(start, min(products, start + 10_000))]
            )


# ------------------------------------------------------------------ the two contenders


def floor_pass(store: Any) -> int:
    """A single plain pass touching each record the audit reads."""
    n = 0
    for o in store.offerings.iterate():
        o.id  # noqa: B018 - touching the record is the point
        n += 1
    for p in store.products.iterate():
        p.id  # noqa: B018
        n += 1
    return n


def audit_pass(store: Any) -> int:
    run = ek.InventoryAuditor(store, requirements=requirements(), clock=ek.ManualClock(NOW)).run()
    expected = len(store.products) // DEFECT_EVERY
    assert abs(len(run.findings) - expected) <= 3, (len(run.findings), expected)
    return run.offerings_checked + run.products_checked


# ------------------------------------------------------------------ workers (subprocesses)


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # Linux: reset the peak RSS (ru_maxrss) to the current RSS
    except OSError:
        pass


def _open(kind: str, directory: str, products: int, offerings: int) -> Any:
    if kind == "memory":
        store = ek.InMemoryStore()
        fill(store, products, offerings)
        return store
    return ek.FileStore(directory, durability="none")


def worker(args: argparse.Namespace) -> dict[str, Any]:
    if args.worker == "build":
        with ek.FileStore(args.dir, durability="none", compact_min_bytes=1 << 40) as store:
            fill(store, args.products, args.offerings)
            store.compact()
        return {}
    if args.worker == "time":
        times: dict[str, list[float]] = {"floor": [], "audit": []}
        records = 0
        store = _open(args.kind, args.dir, args.products, args.offerings)
        for r in range(args.rounds):
            order = ("floor", "audit") if r % 2 == 0 else ("audit", "floor")
            for name in order:
                if args.kind == "file":  # a fresh open: every pass decodes the records
                    store.close()
                    store = _open(args.kind, args.dir, args.products, args.offerings)
                began = time.perf_counter()
                records = (floor_pass if name == "floor" else audit_pass)(store)
                times[name].append(time.perf_counter() - began)
        return {"records": records, **times}
    # "rss-floor" / "rss-audit": one pass, RSS before it and the peak during it;
    # "rss-cached": RSS after reading every product with get (a FileStore keeps them)
    store = _open(args.kind, args.dir, args.products, args.offerings)
    before = _rss_kb()
    _reset_peak()
    if args.worker == "rss-cached":
        get = store.products.get
        for key in [key for key, _ in store.products.stored_items()]:
            get(key)
        return {"before_kb": before, "after_kb": _rss_kb()}
    (floor_pass if args.worker == "rss-floor" else audit_pass)(store)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"before_kb": before, "peak_kb": peak}


def spawn(mode: str, kind: str, directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, __file__, "--worker", mode, "--kind", kind, "--dir", str(directory),
        "--products", str(args.products), "--offerings", str(args.offerings),
        "--rounds", str(args.rounds),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="audit throughput and memory")
    parser.add_argument("--quick", action="store_true", help="100,000 products, 1,000 offerings")
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--offerings", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="memory", help=argparse.SUPPRESS)
    parser.add_argument("--dir", default=None, help="work directory (default: a temp dir)")
    parser.add_argument(
        "--stores", default="memory,file", help="comma-separated: memory, file (default both)"
    )
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args)))
        return 0
    if args.products is None:
        args.products = 100_000 if args.quick else 1_000_000
    if args.offerings is None:
        args.offerings = 1_000 if args.quick else 10_000
    if args.rounds is None:
        args.rounds = 3
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="etomkit-audit-"))
    try:
        store_dir = work / f"store-{args.products}-{args.offerings}"
        kinds = [k.strip() for k in args.stores.split(",")]
        if "file" in kinds and not store_dir.exists():
            began = time.perf_counter()
            spawn("build", "file", store_dir, args)
            print(f"built the FileStore in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        # issue #13 (1M products): an InMemoryStore <= 1.1 GB; a FileStore audit <= 1.2 GB
        rss_targets = {"memory": ("RSS before", 1100), "file": ("peak, audit", 1200)}
        print(
            f"| store | records | audit records/s | floor records/s | audit / floor "
            f"(median of {args.rounds}) | target | RSS before | peak RSS, audit | "
            "peak RSS, floor | RSS after get of all | RSS target (#13, at 1M products) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for kind, label in (("memory", "InMemoryStore"), ("file", "FileStore (decodes)")):
            if kind not in kinds:
                continue
            timed = spawn("time", kind, store_dir, args)
            audit_rss = spawn("rss-audit", kind, store_dir, args)
            floor_rss = spawn("rss-floor", kind, store_dir, args)
            cached = spawn("rss-cached", kind, store_dir, args)
            records = timed["records"]
            what, limit = rss_targets[kind]
            measured = audit_rss["before_kb" if kind == "memory" else "peak_kb"] / 1024
            verdict = "n/a" if args.products != 1_000_000 else "yes" if measured <= limit else "NO"
            ratios = [f / a for f, a in zip(timed["floor"], timed["audit"], strict=True)]
            ratio = statistics.median(ratios)
            print(
                f"| {label} | {records:,} | {records / statistics.median(timed['audit']):,.0f} "
                f"| {records / statistics.median(timed['floor']):,.0f} | {ratio:.2f} "
                f"| >= 0.33: {'yes' if ratio >= 1 / 3 else 'NO'} "
                f"| {audit_rss['before_kb'] / 1024:,.0f} MB "
                f"| {audit_rss['peak_kb'] / 1024:,.0f} MB "
                f"| {floor_rss['peak_kb'] / 1024:,.0f} MB | {cached['after_kb'] / 1024:,.0f} MB "
                f"| {what} <= {limit:,} MB: {verdict} |"
            )
        command = " ".join(["python bench/audit.py", *(sys.argv[1:] if argv is None else argv)])
        print(
            f"\n{args.products:,} products, {args.offerings:,} offerings, one defect per "
            f"{DEFECT_EVERY} products; Python {sys.version.split()[0]}; re-run: `{command}`"
        )
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
