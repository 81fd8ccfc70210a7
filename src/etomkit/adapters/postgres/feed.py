"""Events across hosts: a transactional outbox and a feed that never skips an event.

``PostgresEventSink`` is an :class:`~etomkit.ports.EventSink` that writes each
TMF notification into the store's ``outbox`` table, inside the calling
thread's unit of work when one is open: wrap a service call in
``store.transaction()`` and its changes and its events commit together or not
at all. Each row carries the id of the transaction that wrote it
(``pg_current_xact_id()``, an ``xid8``) and a sequence number.

``PostgresEventFeed`` reads the outbox in ``(transaction id, sequence)``
order, and only rows of transactions older than the oldest one still in
flight (``pg_snapshot_xmin(pg_current_snapshot())``). A reader that paged
by sequence number alone would skip the events of a transaction that took
its numbers earlier but committed later (the gap Marten fixed in its
daemon); below the snapshot's xmin no transaction can still add a row, so
a position ``(tx, seq)`` once passed is never written behind. Delivery is
at least once: a consumer stores its position with :meth:`acknowledge`
after handling a batch and resumes from it; on a crash between the two it
sees that batch again, and deduplicates by the event's ``eventId`` (or by
``position``). ``LISTEN``/``NOTIFY`` only wakes a waiting reader early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from typing import Any

import attrs
import psycopg
from psycopg import sql

from etomkit import tmf
from etomkit.adapters.postgres.store import PostgresStore, translated
from etomkit.errors import StorageError, ValidationError
from etomkit.model.events import Event

__all__ = ["FeedEvent", "PostgresEventFeed", "PostgresEventSink"]

_CONSUMER = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


def _channel(store: PostgresStore) -> str:
    return f"etomkit_outbox_{store.schema}"[:63]


class PostgresEventSink:
    """Publishes TMF notification events into the store's outbox (see the module)."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._insert = sql.SQL("INSERT INTO {} (event_type, event) VALUES (%s, %s)").format(
            store.qualified("outbox")
        )
        self._channel = _channel(store)

    def publish(self, event: Event) -> None:
        document = json.dumps(tmf.to_json(event), ensure_ascii=False, separators=(",", ":"))

        def write(conn: psycopg.Connection[Any]) -> None:
            conn.execute(self._insert, (event.event_type, document.encode()))
            conn.execute("SELECT pg_notify(%s, '')", (self._channel,))  # sent on commit

        self._store.run(f"publish {event.event_type}", write)


@attrs.frozen
class FeedEvent:
    """One event of the feed: its ``position`` (transaction id, sequence), its
    type and its TMF notification document."""

    position: tuple[int, int]
    event_type: str
    document: dict[str, Any]

    @property
    def event_id(self) -> str:
        """The notification's ``eventId`` (what a consumer deduplicates by)."""
        return str(self.document.get("eventId"))


class PostgresEventFeed:
    """Reads a store's outbox for the consumer ``consumer``, from its stored position."""

    def __init__(self, store: PostgresStore, consumer: str) -> None:
        if not isinstance(consumer, str) or not _CONSUMER.match(consumer):
            raise ValidationError(
                "PostgresEventFeed", [("consumer", "1-200 letters, digits or _.:-")]
            )
        self._store = store
        self.consumer = consumer
        outbox, positions = store.qualified("outbox"), store.qualified("feed_position")
        self._read = sql.SQL(
            "SELECT tx::text, seq, event_type, event FROM {} WHERE (tx, seq) > (%s::xid8, %s)"
            " AND tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx, seq LIMIT %s"
        ).format(outbox)
        self._load = sql.SQL("SELECT tx::text, seq FROM {} WHERE consumer = %s").format(positions)
        self._save = sql.SQL(
            "INSERT INTO {} (consumer, tx, seq) VALUES (%s, %s::xid8, %s) ON CONFLICT (consumer)"
            " DO UPDATE SET tx = excluded.tx, seq = excluded.seq"
            " WHERE ({}.tx, {}.seq) < (excluded.tx, excluded.seq)"
        ).format(positions, positions, positions)

    def position(self) -> tuple[int, int]:
        """The stored position ((0, 0) before the first acknowledgement)."""
        row = self._store.run(
            "read the feed position", lambda c: c.execute(self._load, (self.consumer,)).fetchone()
        )
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def read(self, after: tuple[int, int] | None = None, *, limit: int = 500) -> list[FeedEvent]:
        """Up to ``limit`` events after ``after`` (default: the stored position), in
        order, none of a transaction still in flight."""
        tx, seq = self.position() if after is None else after
        rows = self._store.run(
            "read the event feed",
            lambda c: c.execute(self._read, (str(tx), seq, limit)).fetchall(),
        )
        try:
            return [
                FeedEvent((int(t), int(s)), kind, json.loads(bytes(doc)))
                for t, s, kind, doc in rows
            ]
        except ValueError as e:
            raise StorageError(f"PostgresEventFeed: an outbox event does not decode: {e}") from e

    def acknowledge(self, position: tuple[int, int]) -> None:
        """Store ``position`` as handled (never moves the position backwards)."""
        tx, seq = position
        self._store.run(
            "store the feed position",
            lambda c: c.execute(self._save, (self.consumer, str(tx), seq)),
        )

    def follow(self, *, wait: float = 1.0, batch: int = 500) -> Generator[FeedEvent, None, None]:
        """Every event from the stored position on, waiting (up to ``wait`` seconds,
        woken early by NOTIFY) when none is ready; acknowledges each batch once
        the consumer asks for the next. Runs until the caller stops iterating."""
        position = self.position()
        with (
            translated("follow the event feed"),
            psycopg.connect(self._store.conninfo, autocommit=True) as listener,
        ):
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(_channel(self._store))))
            while True:
                events = self.read(position, limit=batch)
                if events:
                    yield from events
                    position = events[-1].position
                    self.acknowledge(position)
                    continue
                for _ in listener.notifies(timeout=wait, stop_after=1):
                    pass
