"""Fixtures for the resource order issuing tests (see helpers.py for the catalogue)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ordering.helpers import StubFeasibility, fibre_rules, fibre_specs

import etomkit as ek
from etomkit.ordering import (
    InMemoryOrderingStore,
    InMemoryProvisioningTracker,
    OrderingStore,
    ResourceOrderIssuer,
    RuleSet,
)


@pytest.fixture
def clock() -> ek.ManualClock:
    """A clock standing still at 2025-01-01T00:00:00Z."""
    return ek.ManualClock()


@pytest.fixture
def events() -> ek.InMemoryEventSink:
    """Collects the events the issuer publishes."""
    return ek.InMemoryEventSink()


@pytest.fixture
def tracker() -> InMemoryProvisioningTracker:
    """Track & Manage Resource Provisioning, collecting hand-offs."""
    return InMemoryProvisioningTracker()


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OrderingStore]:
    """An ordering store holding the fibre resource specifications: in memory, and a
    FileStore (every ordering test runs on both adapters)."""
    store: OrderingStore = (
        InMemoryOrderingStore()
        if request.param == "memory"
        else ek.FileStore(tmp_path / "store", durability="none")
    )
    store.resource_specifications.add_all(fibre_specs())
    yield store
    store.close()


@pytest.fixture
def rules() -> RuleSet:
    """The fibre rules."""
    return RuleSet(fibre_rules())


@pytest.fixture
def feasibility() -> StubFeasibility:
    """A feasibility checker that says yes."""
    return StubFeasibility()


@pytest.fixture
def issuer(
    store: OrderingStore,
    rules: RuleSet,
    clock: ek.ManualClock,
    events: ek.InMemoryEventSink,
    tracker: InMemoryProvisioningTracker,
    feasibility: StubFeasibility,
) -> ResourceOrderIssuer:
    """An issuer with readable ids, a still clock, an event sink and a tracker."""
    return ResourceOrderIssuer(
        store,
        rules,
        feasibility=feasibility,
        provisioning=tracker,
        clock=clock,
        ids=ek.SequentialIdFactory(),
        events=events,
    )
