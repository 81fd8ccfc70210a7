"""Default Clock, IdFactory, EventSink, UsageLog and ResourceDevelopmentSink adapters."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from etomkit.model.events import Event
from etomkit.model.usage import (
    TechnicalShortcoming,
    UsageRecord,
    UsageRow,
    usage_record,
    usage_row,
)
from etomkit.ports import UsageLog

__all__ = [
    "InMemoryEventSink",
    "InMemoryResourceDevelopmentSink",
    "InMemoryUsageLog",
    "ManualClock",
    "RandomIdFactory",
    "SequentialIdFactory",
    "SystemClock",
]


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told (tests, notebooks, replays)."""

    def __init__(self, start: datetime | None = None, *, step: timedelta = timedelta(0)) -> None:
        self._now = start or datetime(2025, 1, 1, tzinfo=UTC)
        self._step = step

    def now(self) -> datetime:
        moment = self._now
        self._now += self._step
        return moment

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta


class RandomIdFactory:
    """Random version-4 UUIDs as text (from ``os.urandom``, cheaper than ``uuid.uuid4``)."""

    def new_id(self, entity: str) -> str:
        h = os.urandom(16).hex()
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


class SequentialIdFactory:
    """Readable, deterministic ids: ``<prefix><entity>-<n>`` (tests, examples)."""

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new_id(self, entity: str) -> str:
        with self._lock:
            n = next(self._counter)
        return f"{self._prefix}{entity}-{n}"


class InMemoryEventSink:
    """Collects published events in ``events`` (newest last)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, event_type: str) -> list[Event]:
        """The collected events of one type, e.g. ``"ProductCreateEvent"``."""
        return [e for e in self.events if e.event_type == event_type]


class InMemoryUsageLog(UsageLog):
    """Usage records in a list, kept as rows (notebooks, tests, short-lived services)."""

    def __init__(self) -> None:
        self._rows: list[UsageRow] = []
        self._lock = threading.Lock()

    def append(self, records: Sequence[UsageRecord]) -> None:
        self.append_rows([usage_row(r) for r in records])

    def append_rows(self, rows: Sequence[UsageRow]) -> None:
        with self._lock:
            self._rows.extend(rows)

    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[UsageRecord]:
        with self._lock:
            snapshot = list(self._rows)
        for row in snapshot:
            record = usage_record(row)
            if (since is None or record.at >= since) and (until is None or record.at < until):
                yield record

    def __len__(self) -> int:
        return len(self._rows)


class InMemoryResourceDevelopmentSink:
    """Collects submitted shortcomings in ``shortcomings`` (newest last)."""

    def __init__(self) -> None:
        self.shortcomings: list[TechnicalShortcoming] = []

    def submit(self, shortcoming: TechnicalShortcoming) -> None:
        self.shortcomings.append(shortcoming)
