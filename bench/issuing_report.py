"""The contenders of a bench/issuing.py run, their rates, and the table they make."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["BATCHES", "DURABLE_BATCHES", "RULE_COUNTS", "Run", "table"]

RULE_COUNTS = (1_000, 50_000)
BATCHES = (1, 10, 100, 1000)
DURABLE_BATCHES = (0, 1, 10, 100)  # 0: issue() per request
# Contenders timed in a worker process, and which worker (see issuing_baseline.py).
WORKER_KINDS = {"old issue": "baseline", "old many": "baseline", "control issue": "this tree"}


def _worker_of(key: tuple[Any, ...]) -> str | None:
    return WORKER_KINDS.get(key[1]) if len(key) > 1 and isinstance(key[1], str) else None


class Run:
    """The contenders of one bench run and their rates, round by round."""

    def __init__(self) -> None:
        self.contenders: dict[tuple[Any, ...], Callable[[], float]] = {}
        self.rates: dict[tuple[Any, ...], list[float]] = {}
        self.timed: dict[tuple[Any, ...], int] = {}  # items per measurement
        self.notes: list[str] = []
        self.unused: set[tuple[Any, ...]] = set()  # scans the issuer did not consult

    def add(self, key: tuple[Any, ...], items: int, fn: Callable[[], float]) -> None:
        self.contenders[key] = fn
        self.rates[key] = []
        self.timed[key] = items

    def scan(self, key: tuple[Any, ...], index: Any, items: int, fn: Callable[[], float]) -> None:
        """A scanning matcher end to end (``fn``); notes when the issuer never called
        ``index.match`` (it counts its ``calls``)."""

        def run() -> float:
            before = index.calls
            rate = fn()
            if index.calls == before:
                self.unused.add(key)
            return rate

        self.add(key, items, run)

    def round(self, n: int) -> None:
        keys = list(self.contenders)
        shift = (n * 7) % len(keys)
        for key in keys[shift:] + keys[:shift]:
            if key not in self.contenders:
                continue  # dropped during this round
            try:
                self.rates[key].append(self.contenders[key]())
            except RuntimeError as exc:  # a worker failed: drop its rows
                worker = _worker_of(key)
                if worker is None:
                    raise
                self.drop(worker, str(exc))

    def drop(self, worker: str, why: str) -> None:
        """Leave out the rows of a failed worker (``"baseline"`` or ``"this tree"``)."""
        self.notes.append(f"the {worker} worker failed ({why}); its rows are left out")
        for key in [k for k in self.contenders if _worker_of(k) == worker]:
            del self.contenders[key], self.rates[key]

    def median(self, key: tuple[Any, ...]) -> float | None:
        rates = self.rates.get(key)
        return statistics.median(rates) if rates else None

    def ratio(self, a: tuple[Any, ...], b: tuple[Any, ...]) -> float | None:
        """Rate ``a`` / rate ``b``: the median of the per-round ratios (both were timed
        in each round, close together), else the ratio of the medians."""
        ra, rb = self.rates.get(a), self.rates.get(b)
        if not ra or not rb or a in self.unused or b in self.unused:
            return None
        if len(ra) == len(rb):
            return statistics.median(x / y for x, y in zip(ra, rb, strict=True))
        return statistics.median(ra) / statistics.median(rb)


def _ratio(value: float) -> str:
    return f"{value:,.1f}x" if value >= 10 else f"{value:.2f}x"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return f"**{value:.2f}x** (target >= {target}x: {'met' if value >= target else 'NOT met'})"


LABELS = {
    "issue": "`issue()`, one request at a time",
    "old issue": "old `issue()` ({baseline}, worker process)",
    "old many": "old `issue_many`, batches of 100 ({baseline}, worker process)",
    "control issue": "`issue()`, this tree, in a worker process like the old one (control)",
    "many": "`issue_many`, batches of {batch}",
    "linear": "linear scan of Python predicates, `issue()`",
    "rule-engine": "rule-engine expressions, scanned, `issue()`",
}


def table(run: Run, slices: Sequence[tuple[float, int, float]], info: Mapping[str, Any]) -> str:
    """The results as one Markdown table and its footnotes."""
    med = run.median
    floor = med(("floor",)) or 0.0
    lines = [
        "| rules | contender | items timed | items/s | x floor | compared | matching only, items/s |",
        "|---:|---|---:|---:|---:|---|---:|",
    ]

    def row(
        rules: str,
        label: str,
        timed: str,
        rate: float | None,
        compared: str = "",
        match: str = "",
        *,
        vs_floor: bool = True,
    ) -> None:
        shown = "n/a" if rate is None else f"{rate:,.0f}"
        vs = "" if rate is None or not floor or not vs_floor else _ratio(rate / floor)
        lines.append(f"| {rules} | {label} | {timed} | {shown} | {vs} | {compared} | {match} |")

    row(
        "-",
        "TMF-required objects, trusted construction (**the floor**)",
        f"{run.timed[('floor',)]:,}",
        floor,
    )

    def vs(pairs: Sequence[tuple[tuple[Any, ...], tuple[Any, ...], str]]) -> str:
        shown = [(run.ratio(a, b), what) for a, b, what in pairs]
        return "; ".join(f"{_ratio(r)} {what}" for r, what in shown if r is not None)

    first = RULE_COUNTS[0]
    for n in RULE_COUNTS:
        rules = f"{n:,}"
        issue = (n, "issue")
        at_first = [] if n == first else [(issue, (first, "issue"), "at 1,000 rules")]
        compared = vs([(issue, (n, "old issue"), "old `issue()`"), *at_first])
        compared = "; ".join(
            x for x in (compared, vs([(issue, (n, "linear"), "linear scan")])) if x
        )
        idx_match = med((n, "match"))
        shown_match = "" if idx_match is None else f"{idx_match:,.0f}"
        lin_ratio = run.ratio((n, "match"), (n, "linear", "match"))
        if lin_ratio:
            shown_match += f" ({_ratio(lin_ratio)} linear)"
        row(rules, LABELS["issue"], f"{run.timed[issue]:,}", med(issue), compared, shown_match)
        for kind in ("control issue", "old issue", "old many"):
            if (n, kind) in run.rates:
                label = LABELS[kind].format(baseline=info["baseline"])
                compared = ""
                if kind == "control issue":
                    compared = vs([((n, kind), (n, "old issue"), "old `issue()`")])
                row(rules, label, f"{run.timed[(n, kind)]:,}", med((n, kind)), compared)
        for b in BATCHES:
            many = (n, "many", b)
            pairs: list[tuple[tuple[Any, ...], tuple[Any, ...], str]] = [(many, issue, "`issue()`")]
            if b == 100:
                pairs.append((many, (n, "old many"), "old `issue_many`"))
            if n != first:
                pairs.append((many, (first, "many", b), "at 1,000 rules"))
            label = LABELS["many"].format(batch=b)
            row(rules, label, f"{run.timed[many]:,}", med(many), vs(pairs))
        for kind in ("linear", "rule-engine"):
            key = (n, kind)
            if key in run.rates:
                match = med((n, kind, "match"))
                rate = None if key in run.unused else med(key)
                shown = f"{match:,.0f}" if match else ""
                row(rules, LABELS[kind], f"{run.timed[key]:,}", rate, "", shown)
                continue
            first_match, issue_rate = med((first, kind, "match")), med(issue)
            if kind == "rule-engine" and first_match and issue_rate:
                # It evaluates every rule for every item: its rate falls with the rules.
                re_match = first_match * first / n
                re_issue = 1 / (1 / re_match + 1 / issue_rate)
                row(rules, LABELS[kind], "est.", re_issue, "", f"{re_match:,.0f}")
    for b in DURABLE_BATCHES:
        what = "`issue()`" if b == 0 else f"`issue_many`, batches of {b}"
        mem, fs, db = med(("memory", b)), med(("file", b)), med(("sqlite", b))
        timed = f"{run.timed[('memory', b)]:,}"
        row("1,000", f"durable: in memory, {what}, the same requests", timed, mem)
        compared = vs([(("file", b), ("memory", b), "in memory")])
        # A host issuing in memory and then storing in sqlite pays both.
        both = 1 / (1 / mem + 1 / db) if mem and db else None
        if fs and both:
            compared += f"; {_ratio(fs / both)} in memory + sqlite3"
        label = f"durable: FileStore, fsync per commit, {what}"
        row("1,000", label, timed, fs, compared, vs_floor=False)
        if b:
            per = "request" if b == 1 else f"{b} requests"
            label = f"durable: sqlite3 WAL FULL, the same TMF JSON, one transaction per {per}"
            note = "encodes and writes only" + (
                f"; with issuing in memory {both:,.0f} items/s" if both else ""
            )
            row("1,000", label, timed, db, note, vs_floor=False)
    fastest = max((s[0] for s in slices), default=0.0)
    step = info["slice"]
    for k, (rate, full, longest) in enumerate(slices):
        pauses = (
            f"{full} full collection(s), longest {longest:.2f} s" if full else "no full collection"
        )
        row(
            "1,000",
            f"sustained: one store, items {k * step // 1000:,}k-{(k + 1) * step // 1000:,}k",
            f"{step:,}",
            rate,
            f"{_ratio(rate / fastest)} fastest slice; {pauses}",
        )

    last = RULE_COUNTS[-1]
    new_old = run.ratio((first, "issue"), (first, "old issue"))
    control_old = run.ratio((first, "control issue"), (first, "old issue"))
    both_workers = (
        ""
        if control_old is None
        else f"; both in worker processes (the control row): {control_old:.2f}x"
    )
    slowest = min((s[0] for s in slices), default=None)
    lines += [
        "",
        "Targets (issue #13), ratios from this run:",
        "",
        f"* `issue_many` (batches of 100) at 1,000 rules / the floor: {_verdict(run.ratio((first, 'many', 100), ('floor',)), 0.25)}",
        f"* `issue_many` (batches of 100), 50,000 rules / 1,000 rules: {_verdict(run.ratio((last, 'many', 100), (first, 'many', 100)), 0.8)}",
        f"* `issue()` / old `issue()` ({info['baseline']}), 1,000 rules: "
        + (
            _verdict(new_old, 1.3) + both_workers
            if new_old
            else f"not measured ({info['skipped'] or 'the baseline failed'})"
        ),
        f"* sustained run, slowest / fastest slice of {step:,} items: {_verdict(slowest / fastest if slowest and fastest else None, 0.85)}",
        f"* FileStore `issue_many` (batches of 100) / in memory, the same requests: {_verdict(run.ratio(('file', 100), ('memory', 100)), 0.5)}",
        "",
        "* the floor: per item one ResourceOrder, its tuple of order items, the order item that "
        "varies per item (the VLAN; the ONT, port and IP items are shared, as the issuer shares "
        "them), its id and one IssuedItem; per request the ExternalEntityId and the IssuanceRecord; "
        "made by `_fast.factory` (no `__init__`, no checks), nothing matched, checked or stored. "
        "It is checked (untimed) to build objects equal to the issuer's",
        "* end to end: a fresh InMemoryOrderingStore per measurement; gc on. The bench's own "
        "workload (rules, requests, scans) is frozen with `gc.freeze()` in both processes, so "
        "collections walk the stores being filled, as in a host",
        "* sustained: `issue_many` with batches of 100 requests into one InMemoryOrderingStore, "
        "gc on; requests made batch by batch outside the timer; collections that run while they "
        "are made are added to the slice's time",
        '* FileStore: `durability="always"` (every commit fsynced: one per `issue()`, one per '
        "`issue_many` batch). sqlite3 stores the orders and records issued beforehand in memory "
        "(`json.dumps(tmf.to_json(x))`, one row each): it encodes and writes, it does not issue; "
        "'in memory + sqlite3' is a host issuing in memory, then storing there (1 / (1/a + 1/b))",
        "* old `issue()`: `git archive` of the commit, imported in a worker process that builds "
        "the same rules and requests with this bench's functions and times them with the same "
        "code, asked between the bench's own measurements (never at the same time). The control "
        "row runs this tree's `issue()` in such a worker too: the control / old ratio compares "
        "code alone, the in-process / old ratio also the process",
        "* ratios: the median of the per-round ratios (the two were timed in the same round)",
        "* est.: rule-engine at 50,000 rules from its 1,000-rule matching rate scaled by the rule "
        "count (it evaluates every rule for every item; parsing 50,000 expressions takes minutes)",
    ]
    for key in sorted(run.unused, key=str):
        lines.append(
            f"* n/a: the issuer never called the {key[1]} matcher at {key[0]:,} rules (it does "
            "not match through `RuleSet.index`), so its end-to-end figure would be the indexed one"
        )
    lines += [f"* {note}" for note in run.notes]
    (l1, l5, _), (e1, e5, _) = info["load"]
    lines.append(
        f"* medians of {info['rounds']} interleaved rounds; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPU(s), load average {l1:.1f}/{l5:.1f} at the start, {e1:.1f}/{e5:.1f} "
        f"at the end; took {info['seconds']:.0f} s; re-run: `{info['command']}`"
    )
    return "\n".join(lines)
