"""Publishing TMF notification events for the services."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import attrs

from etomkit.adapters.runtime import RandomIdFactory
from etomkit.model._copy import replacer
from etomkit.model.events import Event
from etomkit.ports import Clock, EventSink
from etomkit.tmf import _json_names

__all__ = ["EventPublisher", "changed_attributes"]

#: Set by every change (bookkeeping, not what the change was about): never named.
_BOOKKEEPING = frozenset({"revision", "last_update"})
_NAMES: dict[type, dict[str, str]] = {}
_event = replacer(Event, "event_id", "event_time", "event_type", "entity", "field_path")
_PROTO = Event(event_id="", event_time=datetime.min, event_type="", entity=None)  # type: ignore[arg-type]


def changed_attributes(before: Any, after: Any) -> str | None:
    """The ``fieldPath`` of an attribute-value-change event: the TMF names of the
    attributes that differ between ``before`` and ``after``, comma-separated
    (TMF630's ``fields`` syntax, e.g. ``"description,validFor"``), unmodelled
    ones (``extras``) included; None if none differs. ``lastUpdate``, which
    every change sets, is not named."""
    cls = type(before)
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = _json_names(cls)
    changed = [
        names[a.name]
        for a in attrs.fields(cls)
        if a.name in names
        and a.name not in _BOOKKEEPING
        and getattr(before, a.name) != getattr(after, a.name)
    ]
    old: Any = getattr(before, "extras", {})
    new: Any = getattr(after, "extras", {})
    if old != new:
        changed.extend(k for k in new if k not in old or old[k] != new[k])
        changed.extend(k for k in old if k not in new)
    return ",".join(dict.fromkeys(changed)) or None  # an extra may bear a modelled name


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
        sink = self.sink
        if sink is not None:  # Event(...) with these fields, built without keywords
            sink.publish(
                _event(
                    _PROTO,
                    f"{self._prefix}{next(self._counter)}",
                    now or self._clock.now(),
                    event_type,
                    entity,
                    field_path,
                )
            )
