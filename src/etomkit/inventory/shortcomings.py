"""The repository's technically driven shortcomings, for Resource Development &
Management (eTOM 1.2.4.2): derived from the usage log, store statistics and
audit runs, each with a kind, a severity, the figures and a recommendation."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from etomkit.adapters.runtime import InMemoryResourceDevelopmentSink, SystemClock
from etomkit.errors import ValidationError
from etomkit.model.usage import TechnicalShortcoming, UsageRecord
from etomkit.notebook.display import Tabular
from etomkit.ports import Clock, ResourceDevelopmentSink, Store
from etomkit.tmf import to_json

__all__ = ["ShortcomingPolicy", "ShortcomingsReport", "identify_shortcomings", "percentile"]


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValidationError(
            "ShortcomingPolicy", [(attribute.name, f"must be a number > 0, not {value!r}")]
        )


def _budgets(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    bad = [
        (f"{attribute.name}.{k}", f"must be a number > 0, not {v!r}")
        for k, v in dict(value).items()
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0
    ]
    if bad:
        raise ValidationError("ShortcomingPolicy", bad)


@attrs.frozen(kw_only=True)
class ShortcomingPolicy:
    """Thresholds that make a figure a shortcoming.

    Latency: an operation's p95 over its budget (``latency_budget_ms`` by
    operation name, else ``default_latency_budget_ms``) once it has
    ``min_samples`` timed calls; critical when even p50 is over. Rates:
    failed (or denied) calls over ``max_error_rate`` (``max_denial_rate``) of
    at least ``min_calls``; critical at twice the rate. Capacity: a record
    count at ``capacity_warning`` of ``capacity[entity type]``; critical at
    capacity. Compaction: a journal over ``compaction_ratio`` times its
    snapshot and ``compaction_min_bytes``. Audits: the latest overall score
    under ``audit_score_floor``, or falling over the last ``audit_trend_runs``.
    """

    latency_budget_ms: Mapping[str, float] = attrs.field(factory=dict, validator=_budgets)
    default_latency_budget_ms: float = attrs.field(default=50.0, validator=_positive)
    min_samples: int = attrs.field(default=20, validator=_positive)
    max_error_rate: float = attrs.field(default=0.05, validator=_positive)
    max_denial_rate: float = attrs.field(default=0.05, validator=_positive)
    min_calls: int = attrs.field(default=20, validator=_positive)
    capacity: Mapping[str, int] = attrs.field(factory=dict, validator=_budgets)
    capacity_warning: float = attrs.field(default=0.8, validator=_positive)
    compaction_ratio: float = attrs.field(default=2.0, validator=_positive)
    compaction_min_bytes: int = attrs.field(default=16 << 20, validator=_positive)
    audit_score_floor: float = attrs.field(default=0.95, validator=_positive)
    audit_trend_runs: int = attrs.field(default=3, validator=_positive)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ascending values (``fraction`` in 0..1)."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@attrs.frozen
class ShortcomingsReport(Tabular):
    """The shortcomings found, most severe first."""

    shortcomings: tuple[TechnicalShortcoming, ...]

    def of_kind(self, kind: str) -> list[TechnicalShortcoming]:
        """The shortcomings of one kind (e.g. ``"latencyOverBudget"``)."""
        return [s for s in self.shortcomings if s.kind == kind]

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per shortcoming, for a notebook table."""
        return [
            {
                "kind": s.kind,
                "severity": s.severity,
                "subject": s.subject,
                "evidence": ", ".join(f"{k}={v}" for k, v in s.evidence.items()),
                "recommendation": s.recommendation,
            }
            for s in self.shortcomings
        ]

    def _display_title(self) -> str:
        return f"ShortcomingsReport: {len(self.shortcomings)} technical shortcoming(s)"

    def to_json(self) -> list[Any]:
        """The shortcomings as TMF-style JSON."""
        return [to_json(s) for s in self.shortcomings]


_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def identify_shortcomings(
    usage: Iterable[UsageRecord],
    *,
    store: Store | None = None,
    audit_runs: Iterable[Any] = (),
    policy: ShortcomingPolicy | None = None,
    sink: ResourceDevelopmentSink | None = None,
    clock: Clock | None = None,
    recording: Mapping[str, Any] | None = None,
) -> ShortcomingsReport:
    """Find the shortcomings the usage records, the store's figures and the audit
    runs (objects with ``started_at`` and ``overall_score``) show, and submit
    each to ``sink`` (default: an InMemoryResourceDevelopmentSink). ``recording``:
    a meter's counters of what it could not record (``UsageMeter.recording``)."""
    policy = policy or ShortcomingPolicy()
    now = (clock or SystemClock()).now()
    found: list[TechnicalShortcoming] = []

    def add(kind: str, severity: str, subject: str, evidence: dict[str, Any], advice: str) -> None:
        found.append(TechnicalShortcoming(
            kind=kind, severity=severity, subject=subject, evidence=evidence,
            recommendation=advice, detected_at=now,
        ))  # fmt: skip

    _usage_findings(usage, policy, add)
    if store is not None:
        _store_findings(store, policy, add)
    _audit_findings(list(audit_runs), policy, add)
    if recording and (recording.get("failed_writes") or recording.get("dropped")):
        add(
            "usageRecordingFailed",
            "critical" if recording.get("dropped") else "warning",
            "usage log",
            dict(recording),
            "the usage log refused writes: check its file system and space; "
            "dropped records are lost for cost reports",
        )
    found.sort(key=lambda s: (_SEVERITY_ORDER.get(s.severity, 9), s.kind, s.subject))
    target = sink if sink is not None else InMemoryResourceDevelopmentSink()
    for shortcoming in found:
        target.submit(shortcoming)
    return ShortcomingsReport(tuple(found))


def _ms(value: float) -> float:
    """Milliseconds shown to 3 decimals, or to the nanosecond below one microsecond."""
    return round(value, 3) if value >= 0.001 else round(value, 6)


def _usage_findings(usage: Iterable[UsageRecord], policy: ShortcomingPolicy, add: Any) -> None:
    durations: dict[str, list[float]] = {}
    by_operation: dict[str, list[int]] = {}  # calls, failed
    by_client: dict[str, list[int]] = {}  # calls, denied
    for r in usage:
        if r.duration_ns is not None and r.outcome == "ok":
            durations.setdefault(r.operation, []).append(r.duration_ns / 1e6)
        op = by_operation.setdefault(r.operation, [0, 0])
        op[0] += r.calls
        op[1] += r.calls if r.outcome == "failed" else 0
        client = by_client.setdefault(r.client_id, [0, 0])
        client[0] += r.calls
        client[1] += r.calls if r.outcome == "denied" else 0
    for operation, values in sorted(durations.items()):
        if len(values) < policy.min_samples:
            continue
        values.sort()
        raw50, raw95, raw99 = (percentile(values, f) for f in (0.5, 0.95, 0.99))
        budget = policy.latency_budget_ms.get(operation, policy.default_latency_budget_ms)
        if raw95 > budget:  # compared unrounded: sub-microsecond budgets work
            p50, p95, p99 = (_ms(v) for v in (raw50, raw95, raw99))
            add(
                "latencyOverBudget", "critical" if raw50 > budget else "warning", operation,
                {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "budget_ms": budget,
                 "samples": len(values)},
                f"{operation} p95 {p95} ms exceeds its {budget} ms budget: index the filter it "
                "uses, move to a faster adapter (a SQL store), or raise the budget",
            )  # fmt: skip
    for operation, (calls, failed) in sorted(by_operation.items()):
        rate = failed / calls if calls else 0.0
        if calls >= policy.min_calls and rate > policy.max_error_rate:
            add(
                "errorRateHigh", _rate_severity(rate, policy.max_error_rate), operation,
                {"calls": calls, "failed": failed, "rate": round(rate, 4),
                 "threshold": policy.max_error_rate},
                f"{failed} of {calls} {operation} calls failed: check the callers' input and "
                "the usage log's error messages",
            )  # fmt: skip
    for client_id, (calls, denied) in sorted(by_client.items()):
        rate = denied / calls if calls else 0.0
        if calls >= policy.min_calls and rate > policy.max_denial_rate:
            add(
                "denialRateHigh", _rate_severity(rate, policy.max_denial_rate), client_id,
                {"calls": calls, "denied": denied, "rate": round(rate, 4),
                 "threshold": policy.max_denial_rate},
                f"client {client_id!r} was denied {denied} of {calls} calls: review its "
                "permissions, or its behaviour",
            )  # fmt: skip


def _rate_severity(rate: float, threshold: float) -> str:
    return "critical" if rate >= 2 * threshold else "warning"


def _store_findings(store: Store, policy: ShortcomingPolicy, add: Any) -> None:
    counts = {"offering": len(store.offerings), "product": len(store.products)}
    for entity_type, capacity in sorted(policy.capacity.items()):
        count = counts.get(entity_type)
        if count is None or count < policy.capacity_warning * capacity:
            continue
        add(
            "capacityNear", "critical" if count >= capacity else "warning", entity_type,
            {"records": count, "capacity": capacity, "used": round(count / capacity, 4)},
            f"{entity_type} records are at {count / capacity:.0%} of the planned {capacity}: "
            "plan more capacity (or archive terminated records)",
        )  # fmt: skip
    journal = getattr(store, "journal_bytes", None)
    snapshot = getattr(store, "snapshot_bytes", None)
    if isinstance(journal, int) and isinstance(snapshot, int):
        limit = max(policy.compaction_min_bytes, policy.compaction_ratio * snapshot)
        failed = getattr(store, "last_compaction_error", None)
        if journal > limit or failed is not None:
            evidence: dict[str, Any] = {
                "journal_bytes": journal, "snapshot_bytes": snapshot, "limit_bytes": int(limit),
            }  # fmt: skip
            if failed is not None:
                evidence["last_compaction_error"] = str(failed)
            add(
                "compactionDue",
                "critical" if failed is not None else "warning",
                "journal",
                evidence,
                "compact the store (FileStore.compact()) and check free disk space; "
                "reopening replays the whole journal until then",
            )


def _audit_findings(runs: list[Any], policy: ShortcomingPolicy, add: Any) -> None:
    scored = sorted(
        (r for r in runs if getattr(r, "overall_score", None) is not None),
        key=lambda r: r.started_at,
    )
    if not scored:
        return
    recent = [float(r.overall_score) for r in scored[-policy.audit_trend_runs :]]
    latest = recent[-1]
    falling = len(recent) >= 2 and all(b < a for a, b in itertools.pairwise(recent))
    if latest < policy.audit_score_floor or (falling and len(recent) == policy.audit_trend_runs):
        add(
            "auditFailureTrend", "critical" if latest < policy.audit_score_floor and falling
            else "warning", "audits",
            {"latest_score": round(latest, 4), "recent_scores": [round(s, 4) for s in recent],
             "floor": policy.audit_score_floor},
            "data quality is below its floor or falling: fix the audit findings at their "
            "source and tighten capture (information requirements)",
        )  # fmt: skip
