"""Default Clock, IdFactory and EventSink adapters."""

from __future__ import annotations

import itertools
import os
import threading
from datetime import UTC, datetime, timedelta

from etomkit.model.events import Event

__all__ = [
    "InMemoryEventSink",
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
