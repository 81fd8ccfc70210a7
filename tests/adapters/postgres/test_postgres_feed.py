"""The event feed: every committed event delivered once in order, none skipped,
whatever transactions are in flight; a restarted reader resumes without loss."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import psycopg
import pytest

import etomkit as ek
from etomkit.adapters.postgres import PostgresEventFeed, PostgresEventSink, PostgresStore
from etomkit.adapters.postgres.feed import FeedEvent

pytestmark = pytest.mark.usefixtures("postgres_conninfo")


def _event(n: int | str) -> ek.Event:
    offering = ek.ProductOffering(id=f"po-{n}", name=f"offering {n}", revision=1)
    return ek.Event(
        event_id=f"ev-{n}",
        event_time=ek.tmf.utc("2026-12-01T00:00:00Z"),
        event_type="ProductOfferingCreateEvent",
        entity=offering,
    )


def _read_some(feed: PostgresEventFeed, wait: float = 20.0) -> list[FeedEvent]:
    """The feed's next events, waiting while there are none: the server may be
    shared, and any transaction open on it holds back what the feed delivers."""
    deadline = time.monotonic() + wait
    while not (events := feed.read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return events


def test_a_service_call_in_a_unit_of_work_commits_its_change_and_its_event_together(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    inventory = ek.ProductOfferingInventory(store, events=PostgresEventSink(store))
    feed = PostgresEventFeed(store, "billing")

    def fail_after_creating() -> None:
        with store.transaction():
            inventory.create_offering(ek.ProductOffering(id="po-1", name="rolled back"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_creating()
    assert feed.read() == [] and len(store.offerings) == 0
    with store.transaction():
        inventory.create_offering(ek.ProductOffering(id="po-2", name="kept"))
    events = feed.read()
    assert [e.event_type for e in events] == ["ProductOfferingCreateEvent"]
    assert events[0].document["event"]["productOffering"]["id"] == "po-2"


def test_an_event_of_a_transaction_still_open_is_not_skipped_when_a_later_one_commits_first(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    """The skip a sequence-number reader makes: B takes its transaction id first,
    A its sequence number first, B commits first, then A."""
    store = make_postgres_store()
    sink, feed = PostgresEventSink(store), PostgresEventFeed(store, "reader")
    outbox = f'"{store.schema}".outbox'
    with psycopg.connect(postgres_conninfo) as b, psycopg.connect(postgres_conninfo) as a:
        b.execute("SELECT pg_current_xact_id()")  # B's transaction id is the older one
        a.execute(f"INSERT INTO {outbox} (event_type, event) VALUES ('A', '{{}}')")  # seq 1
        b.execute(f"INSERT INTO {outbox} (event_type, event) VALUES ('B', '{{}}')")  # seq 2
        b.commit()
        first = _read_some(feed)  # another session's older open transaction delays B
        assert [e.event_type for e in first] == ["B"]  # B is below every open transaction
        feed.acknowledge(first[-1].position)
        a.commit()
    sink.publish(_event("later"))
    assert [e.event_type for e in feed.read()] == ["A", "ProductOfferingCreateEvent"]


def test_concurrent_writers_with_long_transactions_lose_no_event_while_a_reader_follows(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store(pool_size=6)
    sink = PostgresEventSink(store)
    rng = random.Random(7)
    writers, per_writer = 4, 25
    committed: list[str] = []
    lock = threading.Lock()

    def write(w: int) -> None:
        for n in range(per_writer):
            names = [f"{w}-{n}-{k}" for k in range(rng.randint(1, 3))]
            with store.transaction():
                for name in names:
                    sink.publish(_event(name))
                time.sleep(rng.choice([0, 0, 0.001, 0.05, 0.3]))  # some stay open a while
            with lock:
                committed.extend(f"ev-{name}" for name in names)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    feed = PostgresEventFeed(store, "follower")
    seen: list[str] = []
    positions: list[tuple[int, int]] = []
    while any(t.is_alive() for t in threads) or len(seen) < len(committed):
        batch = feed.read(limit=7)
        seen.extend(e.event_id for e in batch)
        positions.extend(e.position for e in batch)
        if batch:
            feed.acknowledge(batch[-1].position)
        if len(seen) > 2 * writers * per_writer * 3:
            break
        time.sleep(0.005)
    for thread in threads:
        thread.join()
    seen.extend(e.event_id for e in feed.read(limit=10_000))
    assert sorted(seen) == sorted(committed)  # every committed event, each once
    assert positions == sorted(positions)  # in feed order
    restarted = PostgresEventFeed(store, "follower")
    assert restarted.read() == []  # resumes from its stored position: nothing again


def test_follow_yields_events_as_they_commit_and_resumes_after_a_restart(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    sink = PostgresEventSink(store)
    for n in range(3):
        sink.publish(_event(n))
    follower = PostgresEventFeed(store, "follow").follow(wait=0.2)
    assert [next(follower).event_id for _ in range(3)] == ["ev-0", "ev-1", "ev-2"]
    threading.Timer(0.3, sink.publish, args=(_event(3),)).start()
    assert next(follower).event_id == "ev-3"  # woken by NOTIFY
    follower.close()
    sink.publish(_event(4))
    again = PostgresEventFeed(store, "follow")
    assert [e.event_id for e in again.read()][-1] == "ev-4"
    assert "ev-0" not in [e.event_id for e in again.read()]
