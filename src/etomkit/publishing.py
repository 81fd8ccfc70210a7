"""Publishing TMF notification events for the services."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from etomkit.adapters.runtime import RandomIdFactory
from etomkit.model.events import Event
from etomkit.ports import Clock, EventSink

__all__ = ["EventPublisher"]


class EventPublisher:
    """Sends events to a sink (or nowhere, if there is none), stamped with the time
    and a cheap unique id: a random prefix per publisher and a counter."""

    def __init__(self, sink: EventSink | None, clock: Clock) -> None:
        self.sink = sink
        self._clock = clock
        self._prefix = f"{RandomIdFactory().new_id('Event')[:18]}-e"
        self._counter = itertools.count(1)

    def publish(
        self,
        event_type: str,
        entity: Any,
        field_path: str | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        """Publish ``event_type`` about ``entity`` (as it is after the change)."""
        if self.sink is not None:
            self.sink.publish(
                Event(
                    event_id=f"{self._prefix}{next(self._counter)}",
                    event_time=now or self._clock.now(),
                    event_type=event_type,
                    entity=entity,
                    field_path=field_path,
                )
            )
