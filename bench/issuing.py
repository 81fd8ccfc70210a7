"""Benchmark: issuing resource orders, against its object floor, the released issuer,
a linear scan, rule-engine, a sustained run and durable stores (issue #13).

One run prints one table. Rounds are interleaved (the contenders run one after
the other in each round, in a rotating order) and the table shows medians:

* the TMF-required object floor: what issuing must build per item (the order,
  its order items that vary, the record entry; per request the record), by
  trusted construction, without matching, checks or storage (bench/issuing_floor.py);
* ``issue()``, one request at a time, and ``issue_many`` with batches of
  1, 10, 100 and 1000 requests, end to end on a fresh InMemoryOrderingStore;
* the released issuer (``--baseline``, a git commit) doing the same in a worker
  process on the same requests (bench/issuing_baseline.py), and this tree's
  ``issue()`` in such a worker too (the control: the same code, timed the same way);
* the same pipeline matching by a linear scan of Python predicates and by
  ``rule-engine`` expressions (slow: timed on samples);
  all of it at 1,000 and at 50,000 rules;
* a sustained run into ONE store with the garbage collector on (bench/issuing_durable.py);
* FileStore (every commit fsynced) and sqlite3 (WAL, synchronous=FULL) storing
  the same TMF JSON, with the same batch sizes.

The workload: 10 items per service order; about 93% standard adds, 2% match no
rule and 2% hit a special rule (special handling), 3% noChange.

    python bench/issuing.py                    # 5 rounds of 100,000 items per contender
    python bench/issuing.py --quick            # 3 rounds of 10,000 items
    python bench/issuing.py --baseline none    # without the released issuer (or: a commit)

``rule-engine`` is a bench-only dependency (``pip install -e '.[bench]'``); the
old issuer needs ``git`` and this repository's history (its row is left out,
with a note, without them).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from etomkit.model.issuance import InitiatingRequest
from etomkit.model.orders import ServiceOrderItem, ServiceRefOrValue
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.model.values import Characteristic, EntityRef
from etomkit.ordering import (
    Eq,
    Exists,
    FromService,
    In,
    InMemoryOrderingStore,
    ItemTemplate,
    ResourceOrderIssuer,
    Rule,
    RuleSet,
)
from etomkit.ordering.index import CompiledRule, RuleIndex

BANDWIDTHS = ("100M", "300M", "1G")
PROFILES = {"100M": "BP-100", "300M": "BP-300", "1G": "BP-1000", "10G": "BP-10000"}
ITEMS_PER_ORDER = 10
DEFAULT_BASELINE = "abb0480"  # the released issuer (main before issue #13)


# ---------------------------------------------------------------------- workload


def make_rules(count: int) -> list[Rule]:
    """``count`` rules, four per service specification (like a real catalogue)."""
    rules: list[Rule] = []
    for n in range(count // 4):
        spec = f"svc-{n}"
        rules += [
            Rule(
                id=f"{spec}-base",
                specification=spec,
                action="add",
                when=[In("bandwidth", BANDWIDTHS)],
                priority=10,
                produces=[
                    ItemTemplate(
                        resource_specification="ont", characteristics={"model": "HG8245H"}
                    ),
                    ItemTemplate(
                        resource_specification="gpon-port",
                        characteristics={
                            "bandwidthProfile": FromService("bandwidth", map=PROFILES)
                        },
                    ),
                    ItemTemplate(
                        resource_specification="vlan",
                        characteristics={
                            "vlanType": "residential",
                            "vlanId": FromService("vlanId"),
                        },
                    ),
                ],
            ),
            Rule(
                id=f"{spec}-static-ip",
                specification=spec,
                action=("add", "modify"),
                when=[Eq("staticIp", True)],
                produces=[
                    ItemTemplate(resource_specification="ipv4", characteristics={"pool": "static"})
                ],
            ),
            Rule(
                id=f"{spec}-speed-change",
                specification=spec,
                action="modify",
                when=[Exists("bandwidth")],
                produces=[
                    ItemTemplate(
                        resource_specification="gpon-port",
                        characteristics={
                            "bandwidthProfile": FromService("bandwidth", map=PROFILES)
                        },
                    )
                ],
            ),
            Rule(
                id=f"{spec}-new-build",
                specification=spec,
                action="add",
                when=[Eq("installationType", "newBuild")],
                priority=100,
                special=True,
                final=True,
                reason="new-build premises need a site survey",
            ),
        ]
    return rules


def make_specs() -> list[ResourceSpecification]:
    def char(
        name: str, value_type: str, values: Sequence[Any] = (), *, required: bool = True
    ) -> ResourceSpecificationCharacteristic:
        return ResourceSpecificationCharacteristic(
            name=name,
            value_type=value_type,
            min_cardinality=1 if required else 0,
            resource_spec_characteristic_value=tuple(
                CharacteristicValueSpecification(value=v) for v in values
            ),
        )

    vlan_range = CharacteristicValueSpecification(value_from=2, value_to=4094)
    return [
        ResourceSpecification(id="ont", resource_spec_characteristic=(char("model", "string"),)),
        ResourceSpecification(
            id="gpon-port",
            resource_spec_characteristic=(
                char("bandwidthProfile", "string", sorted(set(PROFILES.values()))),
            ),
        ),
        ResourceSpecification(
            id="vlan",
            resource_spec_characteristic=(
                char("vlanType", "string", ("residential", "business")),
                ResourceSpecificationCharacteristic(
                    name="vlanId",
                    value_type="integer",
                    min_cardinality=1,
                    resource_spec_characteristic_value=(vlan_range,),
                ),
            ),
        ),
        ResourceSpecification(id="ipv4", resource_spec_characteristic=(char("pool", "string"),)),
    ]


def make_requests(
    rule_count: int, item_count: int, seed: int = 7, prefix: str = "SO"
) -> list[InitiatingRequest]:
    """Service orders of 10 items: mostly standard adds, some special, some noChange."""
    rnd = random.Random(seed)
    specs = [EntityRef(id=f"svc-{n}") for n in range(rule_count // 4)]
    requests = []
    for r in range(item_count // ITEMS_PER_ORDER):
        items = []
        for i in range(ITEMS_PER_ORDER):
            roll = rnd.random()
            chars = [
                Characteristic(
                    name="bandwidth", value="10G" if roll < 0.02 else rnd.choice(BANDWIDTHS)
                ),
                Characteristic(name="vlanId", value=rnd.randrange(2, 4094)),
                Characteristic(name="staticIp", value=rnd.random() < 0.3),
                Characteristic(
                    name="installationType", value="newBuild" if 0.02 <= roll < 0.04 else "existing"
                ),
            ]
            action = "noChange" if 0.04 <= roll < 0.07 else "add"
            items.append(
                ServiceOrderItem(
                    id=str(i + 1),
                    action=action,
                    service=ServiceRefOrValue(
                        id="svc-instance" if action == "noChange" else None,
                        service_specification=rnd.choice(specs),
                        service_characteristic=tuple(chars),
                    ),
                )
            )
        requests.append(
            InitiatingRequest(kind="serviceOrder", id=f"{prefix}-{r}", items=tuple(items))
        )
    return requests


# ---------------------------------------------------------------------- matchers


class LinearScan(RuleIndex):
    """The same rules as one Python predicate per rule, scanned in full for every item."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        super().__init__(rules)
        compiled = sorted(
            {id(c): c for bucket in self.buckets.values() for c in bucket}.values(),
            key=lambda c: (-c.priority, c.id),
        )
        self.scan = [(self._predicate(c), c) for c in compiled]
        self.calls = 0

    @staticmethod
    def _predicate(c: CompiledRule) -> Callable[[str, str | None, str, Mapping[str, Any]], bool]:
        spec, actions, version, test = c.rule.specification, c.rule.action, c.version, c.test

        def predicate(
            spec_id: str, spec_version: str | None, action: str, values: Mapping[str, Any]
        ) -> bool:
            return (
                spec_id == spec
                and action in actions
                and (version is None or version == spec_version)
                and (test is None or test(values))
            )

        return predicate

    def match(
        self, specification: str, version: str | None, action: str, values: Mapping[str, Any]
    ) -> list[CompiledRule]:
        self.calls += 1
        matched: list[CompiledRule] = []
        for predicate, rule in self.scan:
            if predicate(specification, version, action, values):
                matched.append(rule)
                if rule.final:
                    break
        return matched


class RuleEngineScan(RuleIndex):
    """The same rules as ``rule-engine`` expressions, evaluated in turn for every item."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        import rule_engine

        super().__init__(rules)
        compiled = sorted(
            {id(c): c for bucket in self.buckets.values() for c in bucket}.values(),
            key=lambda c: (-c.priority, c.id),
        )
        self.scan = [(rule_engine.Rule(self._expression(c.rule)), c) for c in compiled]
        self.calls = 0

    @staticmethod
    def _expression(rule: Rule) -> str:
        actions = ", ".join(repr(a) for a in rule.action)
        parts = [f"spec == {rule.specification!r}", f"action in [{actions}]"]
        when = rule.when
        for p in getattr(when, "predicates", (when,)) if when is not None else ():
            if not isinstance(p, In | Eq | Exists):
                raise NotImplementedError(p)
            name = f"chars&[{p.characteristic!r}]"  # null when absent
            if isinstance(p, In):
                parts.append(f"{name} in [{', '.join(repr(v) for v in p.values)}]")
            elif isinstance(p, Eq):
                value = (
                    "true" if p.value is True else "false" if p.value is False else repr(p.value)
                )
                parts.append(f"{name} == {value}")
            else:
                parts.append(f"{name} != null")
        return " and ".join(parts)

    def match(
        self, specification: str, version: str | None, action: str, values: Mapping[str, Any]
    ) -> list[CompiledRule]:
        self.calls += 1
        thing = {"spec": specification, "action": action, "chars": dict(values)}
        matched: list[CompiledRule] = []
        for expression, rule in self.scan:
            if expression.matches(thing):
                matched.append(rule)
                if rule.final:
                    break
        return matched


# ---------------------------------------------------------------------- running

SIZES: dict[bool, dict[str, Any]] = {  # by --quick
    False: {
        "items": 100_000,
        "rounds": 5,
        "sample": {(1_000, "linear"): 2_000, (1_000, "rule-engine"): 100, (50_000, "linear"): 100},
        "sustained": (500_000, 100_000),
        "durable": {0: 300, 1: 300, 10: 1_000, 100: 2_000},  # requests
    },
    True: {
        "items": 10_000,
        "rounds": 3,
        "sample": {(1_000, "linear"): 500, (1_000, "rule-engine"): 30, (50_000, "linear"): 30},
        "sustained": (100_000, 20_000),
        "durable": {0: 100, 1: 100, 10: 300, 100: 500},
    },
}


def issuer_for(rules: RuleSet) -> ResourceOrderIssuer:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(make_specs())
    return ResourceOrderIssuer(store, rules)


def issue_rate(rules: RuleSet, requests: Sequence[InitiatingRequest], batch: int = 0) -> float:
    """Items per second issuing every request on a fresh store, end to end
    (``batch`` 0: ``issue()`` per request, else ``issue_many`` of ``batch`` requests)."""
    issuer = issuer_for(rules)
    items = sum(len(r.items) for r in requests)
    chunks = (
        [list(requests[i : i + batch]) for i in range(0, len(requests), batch)] if batch else []
    )
    gc.collect()
    if batch == 0:
        issue = issuer.issue
        start = time.perf_counter()
        for request in requests:
            issue(request)
    else:
        issue_many = issuer.issue_many
        start = time.perf_counter()
        for chunk in chunks:
            issue_many(chunk)
    return items / (time.perf_counter() - start)


def match_rate(index: RuleIndex, requests: Sequence[InitiatingRequest]) -> float:
    """Items per second just finding the matching rules (no orders built)."""
    work = [
        (
            item.service.service_specification.id,  # type: ignore[union-attr]
            item.action,
            {c.name: c.value for c in item.service.service_characteristic},
        )
        for request in requests
        for item in request.items
    ]
    match = index.match
    start = time.perf_counter()
    for spec, action, values in work:
        match(spec, None, action, values)
    return len(work) / (time.perf_counter() - start)


def _variant(kind: str, rule_set: RuleSet) -> RuleSet:
    """The rule set with the matcher of ``kind`` in place of its index."""
    variant = copy.copy(rule_set)
    variant.index = (
        LinearScan(rule_set.rules) if kind == "linear" else RuleEngineScan(rule_set.rules)
    )
    return variant


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer items and rounds")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds")
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help=f"git commit of the released issuer to compare with (default {DEFAULT_BASELINE}; "
        "'none' to skip)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="work directory for the stores")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from bench.issuing_baseline import Baseline, serve, start_baseline, start_control

    if args.worker is not None:
        return serve(json.loads(args.worker), sys.modules[__name__])
    from bench.issuing_durable import filestore_rate, memory_rate, sqlite_rate, sustained
    from bench.issuing_floor import build_floor, check_floor, floor_plan, protos
    from bench.issuing_report import BATCHES, RULE_COUNTS, Run, table

    began, load = time.perf_counter(), os.getloadavg()
    size = SIZES[args.quick]
    rounds: int = args.rounds or size["rounds"]
    items: int = size["items"]
    baseline = start_baseline(args.baseline, {"rules": list(RULE_COUNTS), "items": items})
    control = start_control({"rules": [RULE_COUNTS[0]], "items": items})
    if not isinstance(baseline, Baseline) and isinstance(control, Baseline):
        control.close()
        control = "no baseline to control for"
    log("building rules and requests ...")
    specs = make_specs()
    rule_sets: dict[int, RuleSet] = {}
    built: list[str] = []
    for n in RULE_COUNTS:
        written = make_rules(n)
        start = time.perf_counter()
        rule_sets[n] = RuleSet(written)
        took = time.perf_counter() - start
        shapes = len(rule_sets[n].index.shapes)
        built.append(f"{n:,} rules {took:.2f} s ({shapes} bucket shape(s))")
    requests = {n: make_requests(n, items) for n in RULE_COUNTS}
    reference = issuer_for(rule_sets[1_000])
    log(f"built them ({time.perf_counter() - began:.0f} s); a reference run ...")
    results = [reference.issue(r) for r in requests[1_000]]  # the floor's plan, sqlite's JSON
    plan = floor_plan(requests[1_000], results)
    floor_differs = check_floor(plan, results)
    proto, varying = protos(results)
    work = args.dir or Path(tempfile.mkdtemp(prefix="etomkit-bench-issuing-"))
    work.mkdir(parents=True, exist_ok=True)

    run = Run()

    def floor() -> float:
        gc.collect()
        start = time.perf_counter()
        built = build_floor(plan, datetime.now(UTC), proto, varying)
        took = time.perf_counter() - start
        del built
        return items / took

    run.add(("floor",), items, floor)
    for n in RULE_COUNTS:
        rules, reqs = rule_sets[n], requests[n]
        run.add((n, "issue"), items, partial(issue_rate, rules, reqs))
        if isinstance(baseline, Baseline):
            run.add((n, "old issue"), items, partial(baseline.rate, n, len(reqs)))
            run.add((n, "old many"), items, partial(baseline.rate, n, len(reqs), 100))
        if n == RULE_COUNTS[0] and isinstance(control, Baseline):
            run.add((n, "control issue"), items, partial(control.rate, n, len(reqs)))
        for b in BATCHES:
            run.add((n, "many", b), items, partial(issue_rate, rules, reqs, b))
        run.add((n, "match"), items, partial(match_rate, rules.index, reqs))
        for kind in ("linear", "rule-engine"):
            sample = size["sample"].get((n, kind))
            if sample is not None:
                variant, chosen = _variant(kind, rules), reqs[: sample // ITEMS_PER_ORDER]
                run.scan((n, kind), variant.index, sample, partial(issue_rate, variant, chosen))
                run.add((n, kind, "match"), sample, partial(match_rate, variant.index, chosen))
    rules = rule_sets[1_000]
    for b, count in size["durable"].items():
        chosen, n_items = requests[1_000][:count], count * ITEMS_PER_ORDER
        run.add(("memory", b), n_items, partial(memory_rate, rules, specs, chosen, b))
        fs = partial(filestore_rate, work / "filestore", rules, specs, chosen, b)
        run.add(("file", b), n_items, fs)
        if b:
            run.add(("sqlite", b), n_items, partial(sqlite_rate, work / "db", results[:count], b))
    log(f"set up the contenders ({time.perf_counter() - began:.0f} s)")
    gc.collect()
    gc.freeze()  # the workload: collections walk the stores being filled, not the 50k rules
    for worker in (baseline, control):
        if isinstance(worker, Baseline):
            try:
                log(f"worker {worker.commit}: etomkit from {worker.ready()}")
            except RuntimeError as exc:
                run.drop("this tree" if worker is control else "baseline", str(exc))
    log(f"set up in {time.perf_counter() - began:.0f} s; {rounds} rounds ...")
    try:
        for r in range(rounds):
            run.round(r)
            shown = ", ".join(
                f"{label} {run.rates[key][-1]:,.0f}"
                for label, key in (
                    ("floor", ("floor",)),
                    ("issue", (1_000, "issue")),
                    ("old issue", (1_000, "old issue")),
                    ("issue_many(100)", (1_000, "many", 100)),
                )
                if run.rates.get(key)
            )
            log(f"round {r + 1}/{rounds} ({time.perf_counter() - began:.0f} s): items/s {shown}")
        total, slice_items = size["sustained"]
        log(f"sustained: {total:,} items into one store ...")
        slices = sustained(
            rule_sets[1_000],
            specs,
            lambda k: make_requests(1_000, 100 * ITEMS_PER_ORDER, seed=1_000 + k, prefix=f"S{k}"),
            total,
            slice_items,
        )
    finally:
        for worker in (baseline, control):
            if isinstance(worker, Baseline):
                worker.close()
        if args.dir is None:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    if isinstance(baseline, str):
        run.notes.append(f"old issue() ({args.baseline}): left out, {baseline}")
    run.notes.append(
        "building the RuleSet (validating, indexing, grouping the 'add' buckets by shape), "
        f"gc on, once before the rounds: {'; '.join(built)}"
    )
    if floor_differs:
        run.notes.append(f"the floor does not build exactly what the issuer does: {floor_differs}")
    command = "python bench/issuing.py" + " --quick" * args.quick
    if args.rounds:
        command += f" --rounds {args.rounds}"
    if args.baseline != DEFAULT_BASELINE:
        command += f" --baseline {args.baseline}"
    info = {
        "rounds": rounds,
        "baseline": args.baseline,
        "skipped": baseline if isinstance(baseline, str) else None,
        "slice": slice_items,
        "seconds": time.perf_counter() - began,
        "load": (load, os.getloadavg()),
        "command": command,
    }
    print(table(run, slices, info))
    return 0


if __name__ == "__main__":
    if not __package__:  # run as a script: make the bench package importable
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
