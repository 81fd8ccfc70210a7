"""Benchmark: the stores' garbage-collection policy over a sustained run into one store.

Issues 500,000 items (50,000 requests of 10, 1,000 rules, the workload of
``bench/issuing.py``) into one in-memory store with ``issue_many`` in batches of
100 requests (each batch built just before it is issued, in the timed loop: a
stream of requests), and prints the rate of every 100,000-item slice with the store's
``freeze_gc`` policy on (the default: ``gc.freeze()`` after committed writes of
every 10,000 or so entities) and off. Without it, each full collection walks
every stored entity, so the slices in which one falls are slower and they get
slower as the store grows. Each variant runs in a fresh process. Rates are
items per second of this process's CPU time (``time.process_time``), so that
other load on a shared machine does not blur them; collection pauses are CPU.

    python bench/gc_policy.py            # 500k items, slices of 100k
    python bench/gc_policy.py --quick    # 200k items, slices of 50k
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from etomkit.adapters import unit
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer, RuleSet
from issuing import make_requests, make_rules, make_specs  # type: ignore[import-not-found]

BATCH = 100  # requests per issue_many call


def run(freeze: bool, items: int, slice_items: int) -> dict[str, object]:
    """Rates per slice (items/s), full collections per slice, for one policy."""
    rules = RuleSet(make_rules(1000))
    store = InMemoryOrderingStore(freeze_gc=freeze)
    store.resource_specifications.add_all(make_specs())
    issuer = ResourceOrderIssuer(store, rules)
    per_slice = slice_items // 10  # requests
    rates: list[float] = []
    fulls: list[int] = []
    pauses: list[float] = []
    gen2 = [0, 0.0, 0.0]  # collections, longest pause, start of the current one

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            gen2[2] = time.process_time()
        else:
            gen2[0] += 1
            gen2[1] = max(gen2[1], time.process_time() - gen2[2])

    gc.callbacks.append(watch)
    for n in range(items // slice_items):
        before = gen2[0]
        gen2[1] = 0.0
        start = time.process_time()
        for b in range(per_slice // BATCH):  # the requests arrive as the store grows
            batch = make_requests(1000, BATCH * 10, seed=n * per_slice + b, prefix=f"S{n}-{b}")
            issuer.issue_many(batch)
        rates.append(slice_items / (time.process_time() - start))
        fulls.append(int(gen2[0] - before))
        pauses.append(gen2[1])
    gc.callbacks.remove(watch)
    assert len(store.issuance_records) == items // 10
    return {"rates": rates, "fulls": fulls, "pauses": pauses}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200k items, slices of 50k")
    parser.add_argument("--every", type=int, help="entities between freezes (default: the store's)")
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    items, slice_items = (200_000, 50_000) if args.quick else (500_000, 100_000)
    if args.child:
        if args.every:
            unit.FREEZE_EVERY = args.every
        print(json.dumps(run(args.child == "on", items, slice_items)))
        return 0
    results = {}
    for mode in ("off", "on"):
        command = [sys.executable, __file__, "--child", mode] + (["--quick"] if args.quick else [])
        command += ["--every", str(args.every)] if args.every else []
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[mode] = json.loads(out)
    load = os.getloadavg()[0]
    every = args.every or unit.FREEZE_EVERY
    print(
        f"{items:,} items into one store, issue_many batches of {BATCH}, CPU time; "
        f"freeze every {every:,} entities; load {load:.1f}"
    )
    print("| slice | freeze_gc=False items/s (full gcs, longest) | freeze_gc=True items/s |")
    print("|---|---:|---:|")
    off, on = results["off"], results["on"]
    for n in range(len(off["rates"])):
        print(
            f"| {n + 1} | {off['rates'][n]:,.0f} ({off['fulls'][n]}, {off['pauses'][n]:.2f} s) "
            f"| {on['rates'][n]:,.0f} ({on['fulls'][n]}, {on['pauses'][n]:.2f} s) |"
        )
    for mode in ("off", "on"):
        rates = results[mode]["rates"]
        print(f"freeze_gc={mode}: slowest/fastest slice {min(rates) / max(rates):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
