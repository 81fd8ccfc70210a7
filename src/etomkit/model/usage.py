"""Usage records of the inventory and the technical shortcomings derived from them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

__all__ = [
    "OUTCOMES",
    "SEVERITIES",
    "SHORTCOMING_KINDS",
    "TechnicalShortcoming",
    "UsageRecord",
    "UsageRow",
    "usage_record",
    "usage_row",
]

#: ``ok``: done; ``denied``: refused by access control; ``failed``: raised an error.
OUTCOMES = ("ok", "denied", "failed")
SEVERITIES = ("info", "warning", "critical")
SHORTCOMING_KINDS = (
    "latencyOverBudget",
    "errorRateHigh",
    "denialRateHigh",
    "capacityNear",
    "compactionDue",
    "auditFailureTrend",
    "usageRecordingFailed",
)


@attrs.frozen(kw_only=True)
class UsageRecord:
    """One access to the inventory: who, what, how it ended, how long, what it cost.

    ``operation`` is the inventory method (``get_offering``), ``action`` the
    permission it needs (``read``). ``entity_ids`` names the entities a
    single-entity call touched; ``count`` is how many records were returned,
    stored or downloaded; ``calls`` is how many calls the record stands for
    (several keyed reads are recorded together). ``duration_ns`` is None for
    keyed reads recorded in a batch (see ``UsageMeter``).
    """

    at: datetime
    client_id: str
    operation: str
    action: str
    entity_type: str
    outcome: str = "ok"
    entity_ids: tuple[str, ...] = ()
    count: int = 0
    calls: int = 1
    duration_ns: int | None = None
    cost_units: float = 0.0
    error: str | None = None
    client_name: str | None = None


#: A usage record as a plain tuple, in UsageRecord's field order, ``at`` either a
#: datetime or POSIX seconds: what meters buffer and logs keep (cheap to make).
UsageRow = tuple[Any, ...]
_FIELDS = tuple(a.name for a in attrs.fields(UsageRecord))


def usage_record(row: UsageRow) -> UsageRecord:
    """The UsageRecord of a row (entity ids as exact ``str``: anything else as its type)."""
    at = row[0]
    if not isinstance(at, datetime):
        at = datetime.fromtimestamp(at, UTC)
    ids = row[6]
    if any(type(i) is not str for i in ids):
        ids = tuple(entity_text(i) for i in ids)
    return UsageRecord(**dict(zip(_FIELDS, (at, *row[1:6], tuple(ids), *row[7:]), strict=True)))


def entity_text(value: Any) -> str:
    """An entity id as an exact ``str`` (a str subclass's own characters; else its type)."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    return f"<{type(value).__name__}>"


def usage_row(record: UsageRecord) -> UsageRow:
    """The row of a UsageRecord."""
    return attrs.astuple(record, recurse=False)


@attrs.frozen(kw_only=True)
class TechnicalShortcoming:
    """A technically driven shortcoming of the repository, for Resource
    Development & Management: what (``kind``, ``subject``), how bad, the figures
    that show it, and what to do."""

    kind: str
    severity: str
    subject: str
    evidence: Mapping[str, Any]
    recommendation: str
    detected_at: datetime
