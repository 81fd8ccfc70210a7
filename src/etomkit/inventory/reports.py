"""Usage and cost reports: by client, operation, entity type and period (eTOM 1.2.4.2).

Build one with :func:`usage_report` from any records (``meter.records()``, a
log's ``records()``), or with ``UsageMeter.report``. A report is an object,
``rows()`` for a notebook table, and ``to_json()`` in the TMF JSON style.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from etomkit.errors import ValidationError
from etomkit.model.usage import UsageRecord
from etomkit.notebook.display import Tabular
from etomkit.tmf import camel

__all__ = [
    "PERIODS",
    "STORAGE_SAMPLE",
    "UsageLine",
    "UsageReport",
    "UsageTotal",
    "period_start",
    "record_days",
    "usage_report",
]

STORAGE_SAMPLE = "storage_sample"
"""The operation of the usage records that note how many records a store held
(``UsageMeter.sample_storage``): ``count`` records of ``entity_type``, no calls."""

PERIODS = ("day", "week", "month")
_GROUPINGS = ("client", "operation", "entity_type", "period")


def period_start(moment: datetime, period: str) -> date:
    """The first day of the ``period`` (UTC day, ISO week from Monday, month) holding ``moment``."""
    day = moment.date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValidationError(
        "usage report", [("period", f"must be one of {', '.join(PERIODS)}, not {period!r}")]
    )


@attrs.frozen(kw_only=True)
class UsageLine:
    """Use of one operation by one client in one period."""

    period_start: date
    client_id: str
    client_name: str | None
    operation: str
    entity_type: str
    calls: int = 0
    ok: int = 0
    denied: int = 0
    failed: int = 0
    records: int = 0
    cost_units: float = 0.0


@attrs.frozen(kw_only=True)
class UsageTotal:
    """Use summed over one grouping key (a client, an operation, an entity type or a period)."""

    key: str
    calls: int
    ok: int
    denied: int
    failed: int
    records: int
    cost_units: float


@attrs.frozen(kw_only=True)
class UsageReport(Tabular):
    """Usage and cost over ``[since, until)`` in ``period`` buckets.

    ``storage_cost`` is the cost of records kept, per entity type, when the
    report was made with a store; ``storage_record_days`` the record-days it
    prices (records held, weighted by how long they were held).
    """

    period: str
    since: datetime | None
    until: datetime | None
    lines: tuple[UsageLine, ...]
    denied_attempts: tuple[UsageRecord, ...]
    storage_cost: Mapping[str, float] = attrs.field(factory=dict)
    storage_record_days: Mapping[str, float] = attrs.field(factory=dict)

    @property
    def cost_units(self) -> float:
        """Total cost units of use (storage excluded)."""
        return sum(line.cost_units for line in self.lines)

    def totals(self, by: str) -> list[UsageTotal]:
        """Lines summed by ``"client"``, ``"operation"``, ``"entity_type"`` or ``"period"``,
        most costly first."""
        if by not in _GROUPINGS:
            raise ValidationError(
                "usage report", [("by", f"must be one of {', '.join(_GROUPINGS)}, not {by!r}")]
            )
        sums: dict[str, list[float]] = {}
        for line in self.lines:
            key = {
                "client": line.client_id,
                "operation": line.operation,
                "entity_type": line.entity_type,
                "period": line.period_start.isoformat(),
            }[by]
            acc = sums.setdefault(key, [0, 0, 0, 0, 0, 0.0])
            for i, value in enumerate(
                (line.calls, line.ok, line.denied, line.failed, line.records, line.cost_units)
            ):
                acc[i] += value
        totals = [
            UsageTotal(
                key=key,
                calls=int(a[0]),
                ok=int(a[1]),
                denied=int(a[2]),
                failed=int(a[3]),
                records=int(a[4]),
                cost_units=round(a[5], 9),
            )
            for key, a in sums.items()
        ]
        return sorted(totals, key=lambda t: (-t.cost_units, t.key))

    def top_consumers(self, n: int = 5) -> list[UsageTotal]:
        """The ``n`` clients that used the most cost units."""
        return self.totals("client")[:n]

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per line, for a notebook table (``pandas.DataFrame(report.rows())``)."""
        return [
            {
                "period": line.period_start.isoformat(),
                "client": line.client_name or line.client_id,
                "client_id": line.client_id,
                "operation": line.operation,
                "entity_type": line.entity_type,
                "calls": line.calls,
                "ok": line.ok,
                "denied": line.denied,
                "failed": line.failed,
                "records": line.records,
                "cost_units": round(line.cost_units, 9),
            }
            for line in self.lines
        ]

    def _display_title(self) -> str:
        return f"UsageReport by {self.period}: {self.cost_units:.3f} cost units"

    def plot(self, *, by: str = "client") -> Any:
        """Cost per period stacked by ``by`` and calls by ``by``: a matplotlib Figure
        (needs the ``etomkit[notebook]`` extra)."""
        from etomkit.notebook.plots import plot_usage

        return plot_usage(self, by=by)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON in the TMF style (camelCase, ``@type``)."""
        doc: dict[str, Any] = {
            "@type": "UsageReport",
            "period": self.period,
            "costUnits": round(self.cost_units, 9),
            "usageLine": [{camel(k): v for k, v in row.items()} for row in self.rows()],
            "topConsumer": [_total_json(t) for t in self.top_consumers()],
            "deniedAttempt": [
                {
                    "at": r.at.isoformat().replace("+00:00", "Z"),
                    "clientId": r.client_id,
                    "operation": r.operation,
                    "entityType": r.entity_type,
                    "entityIds": list(r.entity_ids),
                    "reason": r.error,
                }
                for r in self.denied_attempts
            ],
        }
        if self.since is not None:
            doc["since"] = self.since.isoformat().replace("+00:00", "Z")
        if self.until is not None:
            doc["until"] = self.until.isoformat().replace("+00:00", "Z")
        if self.storage_cost:
            doc["storageCost"] = dict(self.storage_cost)
        if self.storage_record_days:
            doc["storageRecordDays"] = dict(self.storage_record_days)
        return doc


def _total_json(total: UsageTotal) -> dict[str, Any]:
    return {camel(a.name): getattr(total, a.name) for a in attrs.fields(UsageTotal)}


def usage_report(
    records: Iterable[UsageRecord],
    *,
    period: str = "day",
    since: datetime | None = None,
    until: datetime | None = None,
    storage_cost: Mapping[str, float] | None = None,
    storage_record_days: Mapping[str, float] | None = None,
) -> UsageReport:
    """Aggregate ``records`` (those within ``[since, until)``) by period, client,
    operation and entity type (storage samples are not calls: they are left out)."""
    period_start(datetime(2000, 1, 1), period)  # checks the period name
    lines: dict[tuple[date, str, str, str], dict[str, Any]] = {}
    denied: list[UsageRecord] = []
    for r in records:
        if (since is not None and r.at < since) or (until is not None and r.at >= until):
            continue
        if r.operation == STORAGE_SAMPLE:
            continue
        key = (period_start(r.at, period), r.client_id, r.operation, r.entity_type)
        line = lines.get(key)
        if line is None:
            line = lines[key] = {
                "client_name": r.client_name, "calls": 0, "ok": 0, "denied": 0, "failed": 0,
                "records": 0, "cost_units": 0.0,
            }  # fmt: skip
        line["calls"] += r.calls
        line[r.outcome] += r.calls
        line["records"] += r.count
        line["cost_units"] += r.cost_units
        if r.outcome == "denied":
            denied.append(r)
    ordered = sorted(lines.items(), key=lambda item: item[0])
    return UsageReport(
        period=period,
        since=since,
        until=until,
        lines=tuple(
            UsageLine(period_start=k[0], client_id=k[1], operation=k[2], entity_type=k[3], **v)
            for k, v in ordered
        ),
        denied_attempts=tuple(denied),
        storage_cost=dict(storage_cost or {}),
        storage_record_days=dict(storage_record_days or {}),
    )


def record_days(samples: Iterable[tuple[datetime, int]], since: datetime, until: datetime) -> float:
    """Record-days over ``[since, until)`` of a record count sampled at moments: each
    sample's count holds until the next sample; before the first, the first's count
    (0 without samples). ``sum(count x days held)``."""
    ordered = sorted(samples, key=lambda s: s[0])
    if not ordered or until <= since:
        return 0.0
    level = ordered[0][1]
    for at, count in ordered:
        if at > since:
            break
        level = count
    total = 0.0
    moment = since
    for at, count in ordered:
        if at <= since:
            continue
        if at >= until:
            break
        total += level * (at - moment).total_seconds()
        moment, level = at, count
    total += level * (until - moment).total_seconds()
    return total / 86400


def storage_samples(records: Iterable[UsageRecord]) -> dict[str, list[tuple[datetime, int]]]:
    """The storage samples among ``records``, per entity type: ``(moment, records held)``."""
    samples: dict[str, list[tuple[datetime, int]]] = {}
    for r in records:
        if r.operation == STORAGE_SAMPLE:
            samples.setdefault(r.entity_type, []).append((r.at, r.count))
    return samples
