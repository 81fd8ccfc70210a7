"""``etomkit audit`` and ``etomkit report usage|shortcomings`` (eTOM 1.2.4.2 upkeep)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from etomkit.cli.base import EXIT_OK, CommandError, Context, Progress
from etomkit.inventory.audit import InventoryAuditor
from etomkit.inventory.requirements import InformationRequirements
from etomkit.ports import Store

__all__ = ["load_requirements", "register"]


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``audit`` and ``report``."""
    audit = commands.add_parser(
        "audit",
        parents=[common],
        help="audit the inventory's data quality and keep the run",
        description="Run every built-in data-quality rule over the store, store the run and "
        "print the score per rule; --compare also compares it with the previous run.",
    )
    audit.add_argument(
        "--requirements",
        metavar="FILE",
        help="information requirements (.toml or .json) that completeness and value "
        "validity check against",
    )
    audit.add_argument(
        "--compare", action="store_true", help="compare with the previous stored run"
    )
    audit.set_defaults(handler=_audit)

    report = commands.add_parser(
        "report", parents=[common], help="usage and cost, technical shortcomings"
    )
    report.set_defaults(handler=lambda ctx: _usage_help(ctx, report))
    sub = report.add_subparsers(title="reports", metavar="REPORT")
    usage = sub.add_parser(
        "usage",
        parents=[common],
        help="usage and cost by period, client and operation",
        description="Usage and cost of the inventory operations recorded in the store's "
        "usage log, by period, client, operation and entity type.",
    )
    usage.add_argument("--period", choices=["day", "week", "month"], default="day")
    usage.set_defaults(handler=_report_usage)
    short = sub.add_parser(
        "shortcomings",
        parents=[common],
        help="the repository's technical shortcomings",
        description="Slow operations, error and denial rates, capacity, compaction needs "
        "and audit scores, from the usage log, the store and the audit runs.",
    )
    short.set_defaults(handler=_report_shortcomings)


def _usage_help(ctx: Context, parser: argparse.ArgumentParser) -> int:
    parser.print_help(ctx.stderr)
    return 2


def load_requirements(path: str) -> InformationRequirements:
    """Information requirements from a ``.toml`` or ``.json`` file."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no requirements file {path}")
    if file.suffix.lower() == ".json":
        return InformationRequirements.from_json(file)
    return InformationRequirements.from_toml(file)


def _audit(ctx: Context) -> int:
    requirements = None
    if ctx.args.requirements is not None:
        requirements = load_requirements(ctx.args.requirements)
    store = ctx.store()
    auditor = InventoryAuditor(store, requirements=requirements)
    previous = auditor.latest_run()
    if ctx.interactive:  # count what the audit reads: rate and ETA on the terminal
        total = len(store.offerings) + len(store.products)
        progress = Progress(ctx, "auditing", total)
        counted = InventoryAuditor(
            cast(Store, _Counted(store, progress)), requirements=requirements
        )
        try:
            run = counted.run()
        finally:
            progress.finish()
    else:
        run = auditor.run()
    comparison = auditor.compare(previous, run) if ctx.args.compare and previous else None
    if ctx.json:
        doc: dict[str, Any] = {
            "run": run.id,
            "overall_score": run.overall_score,
            "offerings_checked": run.offerings_checked,
            "products_checked": run.products_checked,
            "scores": run.score_rows(),
            "findings": run.rows(),
            "earlier_runs": len(auditor.runs()) - 1,
        }
        if ctx.args.compare:
            doc["comparison"] = (
                None
                if comparison is None
                else {
                    "before": comparison.before,
                    **comparison.counts(),
                    "rows": comparison.rows(),
                }
            )
        ctx.emit_json(doc)
        return EXIT_OK
    ctx.out(
        f"audit run {run.id}: {run.offerings_checked} offering(s), "
        f"{run.products_checked} product(s) checked; overall score {run.overall_score:.3f}; "
        f"{len(run.findings)} finding(s)"
    )
    ctx.emit_rows(run.score_rows(), ["rule", "checked", "failed", "score"])
    if ctx.args.compare:
        if comparison is None or previous is None:
            ctx.out("no earlier audit run to compare with")
        else:
            counts = ", ".join(f"{k} {v}" for k, v in comparison.counts().items())
            ctx.out(
                f"compared with the run found from earlier runs, {previous.id} "
                f"({previous.started_at:%Y-%m-%d %H:%M:%S}, overall "
                f"{previous.overall_score:.3f}): findings {counts}"
            )
    return EXIT_OK


def _report_usage(ctx: Context) -> int:
    store = ctx.store(read_only=True)
    meter = ctx.meter()
    report = meter.report(period=ctx.args.period, store=store)
    if ctx.json:
        ctx.emit_json(report.to_json())
        return EXIT_OK
    rows = report.rows()
    ctx.out(
        f"usage by {ctx.args.period}: {sum(r['calls'] for r in rows)} call(s), "
        f"{report.cost_units:.3f} cost units"
    )
    ctx.emit_rows(
        rows, ["period", "client", "operation", "entity_type", "calls", "records", "cost_units"]
    )
    return EXIT_OK


def _report_shortcomings(ctx: Context) -> int:
    store = ctx.store(read_only=True)
    runs = InventoryAuditor(store).runs()
    report = ctx.meter().shortcomings(store=store, audit_runs=runs)
    if ctx.json:
        ctx.emit_json(report.to_json())
        return EXIT_OK
    rows = report.rows()
    ctx.out(f"{len(rows)} technical shortcoming(s)")
    if rows:
        ctx.emit_rows(rows)
    return EXIT_OK


class _CountedRepository:
    """A repository whose full passes (``iterate``, ``stream``) count what they
    yield into a Progress."""

    def __init__(self, repo: Any, progress: Progress) -> None:
        self._repo = repo
        self._progress = progress

    def iterate(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        step = self._progress.step
        for entity in self._repo.iterate(*args, **kwargs):
            step()
            yield entity

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        step = self._progress.step
        stream = getattr(self._repo, "stream", None) or self._repo.iterate
        for entity in stream(*args, **kwargs):
            step()
            yield entity

    def __len__(self) -> int:
        return len(self._repo)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._repo

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


class _Counted:
    """The store as the audit reads it, its offering and product passes counted."""

    def __init__(self, store: Any, progress: Progress) -> None:
        self._store = store
        self.offerings = _CountedRepository(store.offerings, progress)
        self.products = _CountedRepository(store.products, progress)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
