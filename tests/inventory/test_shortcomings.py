"""The technical-shortcomings report: each kind appears in its situation, and only then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

import etomkit as ek
from etomkit.inventory.shortcomings import identify_shortcomings, percentile

T0 = datetime(2026, 5, 4, tzinfo=UTC)
CLOCK = ek.ManualClock(T0)


def _calls(
    n: int, *, operation: str = "list_products", client: str = "crm", ms: float = 1.0,
    outcome: str = "ok",
) -> list[ek.UsageRecord]:  # fmt: skip
    return [
        ek.UsageRecord(
            at=T0, client_id=client, operation=operation, action="read", entity_type="product",
            outcome=outcome, duration_ns=int(ms * 1e6),
        )
        for _ in range(n)
    ]  # fmt: skip


def _kinds(usage: list[ek.UsageRecord], **kwargs: object) -> list[str]:
    report = identify_shortcomings(usage, clock=CLOCK, **kwargs)  # type: ignore[arg-type]
    return [s.kind for s in report.shortcomings]


def test_a_healthy_repository_has_no_shortcomings(tmp_path: Path) -> None:
    store = ek.FileStore(tmp_path / "s", durability="none")
    store.offerings.add(ek.ProductOffering(name="a", id="a"))
    policy = ek.ShortcomingPolicy(capacity={"offering": 100})
    runs = [
        SimpleNamespace(started_at=T0 + timedelta(days=i), overall_score=0.99) for i in range(3)
    ]
    assert _kinds(_calls(100), store=store, audit_runs=runs, policy=policy) == []
    store.close()


def test_latency_over_budget_uses_p95_of_timed_calls() -> None:
    usage = _calls(90, ms=5) + _calls(10, ms=400)  # p95 = 400 ms
    report = identify_shortcomings(usage, clock=CLOCK)
    (slow,) = report.shortcomings
    assert (slow.kind, slow.severity, slow.subject) == (
        "latencyOverBudget",
        "warning",
        "list_products",
    )
    assert slow.evidence["p50_ms"] == 5 and slow.evidence["p95_ms"] == 400
    assert slow.evidence["p99_ms"] == 400 and slow.evidence["samples"] == 100
    assert "budget" in slow.recommendation
    fast_enough = ek.ShortcomingPolicy(latency_budget_ms={"list_products": 500})
    assert _kinds(usage, policy=fast_enough) == []
    assert _kinds(_calls(90, ms=5) + _calls(4, ms=400)) == []  # p95 within budget
    assert _kinds(_calls(10, ms=400)) == []  # too few samples to judge


def test_latency_is_critical_when_even_the_median_is_over() -> None:
    (slow,) = identify_shortcomings(_calls(30, ms=80), clock=CLOCK).shortcomings
    assert slow.severity == "critical"


def test_a_high_error_rate_is_reported_per_operation() -> None:
    usage = _calls(92) + _calls(8, operation="list_products", outcome="failed")
    (errors,) = identify_shortcomings(usage, clock=CLOCK).shortcomings
    assert (errors.kind, errors.subject, errors.severity) == (
        "errorRateHigh", "list_products", "warning",
    )  # fmt: skip
    assert errors.evidence == {"calls": 100, "failed": 8, "rate": 0.08, "threshold": 0.05}
    assert _kinds(_calls(97) + _calls(3, outcome="failed")) == []


def test_a_high_denial_rate_is_reported_per_client() -> None:
    usage = _calls(10, client="rogue") + _calls(30, client="rogue", outcome="denied")
    usage += _calls(50, client="crm")
    (denials,) = identify_shortcomings(usage, clock=CLOCK).shortcomings
    assert (denials.kind, denials.subject, denials.severity) == (
        "denialRateHigh", "rogue", "critical",
    )  # fmt: skip
    assert denials.evidence["denied"] == 30 and denials.evidence["calls"] == 40
    assert _kinds(_calls(50, client="crm") + _calls(1, client="crm", outcome="denied")) == []


def test_record_counts_near_capacity() -> None:
    store = ek.InMemoryStore()
    for i in range(9):
        store.offerings.add(ek.ProductOffering(name=f"o{i}", id=f"o{i}"))
    near = identify_shortcomings(
        [], store=store, policy=ek.ShortcomingPolicy(capacity={"offering": 10}), clock=CLOCK
    )
    (capacity,) = near.shortcomings
    assert (capacity.kind, capacity.subject, capacity.severity) == (
        "capacityNear", "offering", "warning",
    )  # fmt: skip
    assert capacity.evidence == {"records": 9, "capacity": 10, "used": 0.9}
    full = ek.ShortcomingPolicy(capacity={"offering": 9})
    assert [
        s.severity for s in identify_shortcomings([], store=store, policy=full).shortcomings
    ] == ["critical"]
    roomy = ek.ShortcomingPolicy(capacity={"offering": 100, "product": 5})
    assert _kinds([], store=store, policy=roomy) == []


def test_journal_growth_calls_for_compaction(tmp_path: Path) -> None:
    store = ek.FileStore(tmp_path / "s", durability="none", compact_min_bytes=1 << 30)
    for i in range(50):
        store.offerings.add(ek.ProductOffering(name=f"o{i}", id=f"o{i}", description="x" * 200))
    policy = ek.ShortcomingPolicy(compaction_min_bytes=4096)
    (due,) = identify_shortcomings([], store=store, policy=policy, clock=CLOCK).shortcomings
    assert (due.kind, due.severity) == ("compactionDue", "warning")
    assert due.evidence["journal_bytes"] == store.journal_bytes > 4096
    store.compact()
    assert _kinds([], store=store, policy=policy) == []
    store.close()


def test_falling_audit_scores_are_a_trend() -> None:
    def runs(*scores: float) -> list[SimpleNamespace]:
        return [
            SimpleNamespace(started_at=T0 + timedelta(days=i), overall_score=s)
            for i, s in enumerate(scores)
        ]

    (trend,) = identify_shortcomings(
        [], audit_runs=runs(0.99, 0.98, 0.97), clock=CLOCK
    ).shortcomings
    assert (trend.kind, trend.severity) == ("auditFailureTrend", "warning")
    assert trend.evidence["recent_scores"] == [0.99, 0.98, 0.97]
    (low,) = identify_shortcomings([], audit_runs=runs(0.9, 0.8, 0.7), clock=CLOCK).shortcomings
    assert low.severity == "critical"
    assert _kinds([], audit_runs=runs(0.97, 0.99, 0.98)) == []  # not falling, above floor
    assert _kinds([], audit_runs=runs(0.98, 0.97)) == []  # too short to be a trend


def test_every_shortcoming_goes_to_the_sink_and_the_report_has_rows_and_json() -> None:
    sink = ek.InMemoryResourceDevelopmentSink()
    usage = _calls(30, ms=80) + _calls(30, client="rogue", outcome="denied")
    report = identify_shortcomings(usage, sink=sink, clock=CLOCK)
    assert list(report.shortcomings) == sink.shortcomings
    assert {row["kind"] for row in report.rows()} == {"latencyOverBudget", "denialRateHigh"}
    doc = report.to_json()
    assert {d["kind"] for d in doc} == {"latencyOverBudget", "denialRateHigh"}
    assert all("detectedAt" in d and "recommendation" in d for d in doc)


def test_the_meter_reports_shortcomings_of_its_own_log() -> None:
    meter = ek.UsageMeter(clock=CLOCK)
    for _ in range(25):
        meter.record(("rogue", "Rogue"), "get_product", "read", "product", outcome="denied")
    sink = ek.InMemoryResourceDevelopmentSink()
    report = meter.shortcomings(sink=sink)
    assert [(s.kind, s.subject) for s in report.shortcomings] == [("denialRateHigh", "rogue")]
    assert len(sink.shortcomings) == 1


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (
        50.0, 95.0, 99.0,
    )  # fmt: skip
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_a_bad_policy_names_the_field() -> None:
    with pytest.raises(ek.ValidationError) as error:
        ek.ShortcomingPolicy(max_error_rate=0, latency_budget_ms={"get_offering": -1})
    assert [p for p, _ in error.value.problems] in (
        ["max_error_rate"], ["latency_budget_ms.get_offering"],
    )  # fmt: skip


def test_falling_scores_of_real_audit_runs_feed_the_report() -> None:
    clock = ek.ManualClock(T0)
    store = ek.InMemoryStore()
    auditor = ek.InventoryAuditor(store, clock=clock)
    inv = ek.ProductOfferingInventory(store, clock=clock)
    for name in ("a", "b", "c", "d"):
        inv.create_offering(ek.ProductOffering(name=name, version="1"))
    auditor.run()
    for copy in ("a", "b"):  # duplicates (same name and version) appear run after run
        inv.create_offering(ek.ProductOffering(name=copy, version="1"))
        clock.advance(timedelta(days=1))
        auditor.run()
    runs = auditor.runs()
    scores = [r.overall_score for r in sorted(runs, key=lambda r: r.started_at)]
    assert scores[0] > scores[1] > scores[2]
    report = identify_shortcomings([], audit_runs=runs, clock=CLOCK)
    assert [s.kind for s in report.shortcomings] == ["auditFailureTrend"]
    assert report.shortcomings[0].evidence["recent_scores"] == [round(s, 4) for s in scores]
