"""Contract of the :class:`~etomkit.ports.EventSink` port: where services publish
TMF notification events.

``EventSinkContract`` needs ``make_sink``, a fixture returning a callable that
makes a fresh sink; override :meth:`EventSinkContract.published` to read back
what a sink received (the default reads ``sink.events``, as
``InMemoryEventSink`` keeps them)::

    class TestMySink(EventSinkContract):
        @pytest.fixture
        def make_sink(self):
            return MySink

        def published(self, sink):
            return sink.read_all()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import hypothesis.strategies as st
from hypothesis import given

from etomkit.model.events import Event
from etomkit.model.resource_order import ResourceOrder
from etomkit.ports import EventSink
from etomkit.testing import strategies as ets
from etomkit.testing.contracts._base import contract_settings
from etomkit.testing.contracts.inventory import offering, product
from etomkit.testing.contracts.unique_keys import race

__all__ = ["EventSinkContract", "EventSinkFactory"]

EventSinkFactory = Callable[[], EventSink]
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(n: int, entity: Any) -> Event:
    return Event(event_id=f"ev-{n}", event_time=_T0, event_type="ProductCreateEvent", entity=entity)


class EventSinkContract:
    """What every EventSink does: keeps every published event, in publish order."""

    port = EventSink
    threads = 6

    def published(self, sink: Any) -> Sequence[Event]:
        """Every event ``sink`` received, oldest first."""
        return list(sink.events)

    @contract_settings
    @given(events=st.lists(ets.events(), max_size=5))
    def test_published_events_read_back_equal_in_order(
        self, make_sink: EventSinkFactory, events: list[Event]
    ) -> None:
        sink = make_sink()
        for event in events:
            sink.publish(event)
        assert list(self.published(sink)) == events

    def test_events_about_every_kind_of_entity_are_accepted(
        self, make_sink: EventSinkFactory
    ) -> None:
        sink = make_sink()
        entities = [offering("po-1"), product("pr-1"), ResourceOrder(id="ro-1")]
        events = [_event(n, e) for n, e in enumerate(entities)]
        for event in events:
            sink.publish(event)
        assert list(self.published(sink)) == events

    def test_events_published_from_racing_threads_are_all_kept(
        self, make_sink: EventSinkFactory
    ) -> None:
        sink = make_sink()
        events = [_event(n, offering(f"po-{n}")) for n in range(self.threads * 20)]

        def publish_share(share: int) -> None:
            for event in events[share :: self.threads]:
                sink.publish(event)

        outcomes = race([partial(publish_share, n) for n in range(self.threads)])
        assert outcomes == [None] * self.threads
        got = list(self.published(sink))
        assert sorted(e.event_id for e in got) == sorted(e.event_id for e in events)
        for share in range(self.threads):  # each thread's events in its order
            mine = [e for e in got if e in events[share :: self.threads]]
            assert mine == events[share :: self.threads]
