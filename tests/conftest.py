"""Hypothesis profiles and the fixtures most test modules share.

Profiles: ``ci`` (more examples, derandomized, prints reproduction blobs) and
``dev`` (fast). ``HYPOTHESIS_PROFILE`` picks one; without it, ``ci`` when the
``CI`` environment variable is set, else ``dev``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from hypothesis import settings

import etomkit as ek

settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, print_blob=True, database=None
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

#: The default offering lifecycle's way from "In study" to "Launched".
LAUNCH_PATH = ("In design", "In test", "Active", "Launched")

Launch = Callable[..., ek.ProductOffering]
"""``launch(name="…", **offering_fields)``: a stored offering moved to Launched."""

Unchanged = Callable[[], AbstractContextManager[None]]
"""``with unchanged(): …`` asserts the block stored nothing and emitted no event."""


@pytest.fixture
def clock() -> ek.ManualClock:
    """A clock standing still at 2025-01-01T00:00:00Z until advanced."""
    return ek.ManualClock()


@pytest.fixture
def events() -> ek.InMemoryEventSink:
    """Collects the events the inventory publishes."""
    return ek.InMemoryEventSink()


@pytest.fixture
def inventory(clock: ek.ManualClock, events: ek.InMemoryEventSink) -> ek.ProductOfferingInventory:
    """An inventory over a fresh in-memory store, with readable sequential ids."""
    return ek.ProductOfferingInventory(
        ek.InMemoryStore(), clock=clock, ids=ek.SequentialIdFactory(), events=events
    )


@pytest.fixture
def launch(inventory: ek.ProductOfferingInventory) -> Launch:
    """Create an offering and take it through the default lifecycle to Launched."""

    def make(name: str = "Fibre 1G", **fields: Any) -> ek.ProductOffering:
        offering = inventory.create_offering(ek.ProductOffering(name=name, **fields))
        offering_id = offering.id
        assert offering_id is not None
        for state in LAUNCH_PATH:
            offering = inventory.transition_offering(offering_id, state)
        return offering

    return make


@pytest.fixture
def launched(launch: Launch) -> ek.ProductOffering:
    """One Launched offering, "Fibre 1G"."""
    return launch()


def store_contents(
    inventory: ek.ProductOfferingInventory,
) -> tuple[list[ek.ProductOffering], list[ek.Product]]:
    """Every stored offering and product, in insertion order."""
    offerings = list(inventory.store.offerings.iterate())
    products = list(inventory.store.products.iterate())
    return offerings, products


@pytest.fixture
def unchanged(inventory: ek.ProductOfferingInventory, events: ek.InMemoryEventSink) -> Unchanged:
    """A context manager asserting that its block left the store and the event sink alone."""

    @contextmanager
    def check() -> Iterator[None]:
        before = store_contents(inventory)
        seen = len(events.events)
        yield
        assert store_contents(inventory) == before, "the store changed"
        assert [e.event_type for e in events.events[seen:]] == [], "events were emitted"

    return check
