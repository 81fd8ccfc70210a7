"""The in-memory reference adapter passes the shipped contracts and state machine."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from etomkit import ConflictError, InMemoryStore, ProductOffering, Store
from etomkit.testing.contracts import StoreContract, StoreFactory
from etomkit.testing.stateful import StoreStateMachine

T = TypeVar("T")


@pytest.fixture
def make_store() -> StoreFactory:
    return InMemoryStore


class TestInMemoryStore(StoreContract):
    """Every contract of the kit (one nested class per port)."""


class InMemoryStoreMachine(StoreStateMachine):
    def make_store(self) -> Store:
        return InMemoryStore()


TestInMemoryStoreMachine = InMemoryStoreMachine.TestCase
TestInMemoryStoreMachine.settings = settings(
    TestInMemoryStoreMachine.settings, stateful_step_count=30
)


# --------------------------------------------------------------------- the kit notices


def _quick(max_examples: int = 200) -> settings:
    return settings(
        max_examples=max_examples,
        stateful_step_count=30,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],  # a failure is the expected outcome: do not shrink it
    )


class _StoreWithoutRollback(InMemoryStore):
    """A broken store: ``transaction()`` does nothing, so a failed block keeps its writes."""

    def transaction(self) -> AbstractContextManager[None]:
        return nullcontext()


def test_the_state_machine_catches_a_store_that_keeps_rolled_back_writes() -> None:
    class Machine(StoreStateMachine):
        def make_store(self) -> Store:
            return _StoreWithoutRollback()

    with pytest.raises(AssertionError):
        run_state_machine_as_test(Machine, settings=_quick())


def test_the_state_machine_catches_a_store_that_keeps_the_writes_of_a_failed_inner_block() -> None:
    from tests.testing.mutants import MUTANTS

    keeps_inner_writes, _ = MUTANTS["keep writes of a failed inner unit of work"]

    class Machine(StoreStateMachine):
        def make_store(self) -> Store:
            return keeps_inner_writes()

    with pytest.raises(AssertionError):
        run_state_machine_as_test(Machine, settings=_quick())


def test_the_state_machine_drives_the_issuers_repositories_too() -> None:
    seen: list[int] = []

    class Machine(StoreStateMachine):
        def make_store(self) -> Store:
            return InMemoryStore()

        def teardown(self) -> None:
            seen.append(len(self.resource_orders) + len(self.issuance_records))
            super().teardown()

    run_state_machine_as_test(Machine, settings=_quick(max_examples=10))
    assert any(seen)


def test_the_state_machine_reopens_stores_that_support_it() -> None:
    reopened: list[Store] = []

    class Machine(StoreStateMachine):
        supports_reopen = True

        def make_store(self) -> Store:
            return InMemoryStore()

        def reopen(self, store: Store) -> Store:
            reopened.append(store)
            return store  # memory cannot reopen; the same store must still match the model

    run_state_machine_as_test(Machine, settings=_quick(max_examples=10))
    assert reopened


# --------------------------------------------------------------------- threads

THREADS = 4


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Make the interpreter switch threads often, so interleavings actually happen."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _in_threads(work: Callable[[int], T]) -> list[T]:
    """Run ``work(n)`` for n in 0..THREADS-1 in as many threads, started together."""
    start = threading.Barrier(THREADS)

    def run(n: int) -> T:
        start.wait()
        return work(n)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))  # re-raises a worker's exception


def test_concurrent_adds_of_distinct_offerings_are_all_kept(
    frequent_thread_switches: None,
) -> None:
    store = InMemoryStore()

    def add_many(n: int) -> list[ProductOffering]:
        return [
            store.offerings.add(ProductOffering(id=f"po-{n}-{i}", name="Fibre")) for i in range(200)
        ]

    added = _in_threads(add_many)
    assert len(store.offerings) == THREADS * 200
    assert store.offerings.query().total == THREADS * 200
    for batch in added:
        order = [o.id for o in store.offerings.iterate() if o in batch]
        assert order == [o.id for o in batch]  # each thread's adds keep their order


def test_concurrent_adds_of_one_id_store_exactly_one(frequent_thread_switches: None) -> None:
    store = InMemoryStore()

    def add_same(n: int) -> list[bool]:
        won = []
        for i in range(100):
            try:
                store.offerings.add(ProductOffering(id=f"po-{i}", name=f"by {n}"))
                won.append(True)
            except ConflictError:
                won.append(False)
        return won

    results = _in_threads(add_same)
    for i in range(100):
        assert sum(result[i] for result in results) == 1
    assert len(store.offerings) == 100


def test_concurrent_replaces_lose_no_update(frequent_thread_switches: None) -> None:
    store = InMemoryStore()
    store.offerings.add(ProductOffering(id="po-1", name="Counter", description="0"))
    rounds = 100

    def increment(n: int) -> tuple[list[int], int]:
        revisions: list[int] = []
        conflicts = 0
        while len(revisions) < rounds:
            current = store.offerings.get("po-1")
            count = int(current.description or "0")
            try:
                stored = store.offerings.replace(attrs.evolve(current, description=str(count + 1)))
            except ConflictError:
                conflicts += 1
                continue
            assert stored.revision == current.revision + 1
            revisions.append(stored.revision)
        return revisions, conflicts

    results = _in_threads(increment)
    final = store.offerings.get("po-1")
    assert final.description == str(THREADS * rounds)  # every increment survived
    assert final.revision == 1 + THREADS * rounds
    every_revision = sorted(r for revisions, _ in results for r in revisions)
    assert every_revision == list(range(2, 2 + THREADS * rounds))  # each won exactly once
    for revisions, _ in results:
        assert revisions == sorted(revisions)


def test_a_rollback_in_one_thread_never_undoes_another_threads_writes(
    frequent_thread_switches: None,
) -> None:
    store = InMemoryStore()

    class Abort(Exception):  # noqa: N818 - a planned failure, not an error
        pass

    def work(n: int) -> None:
        for i in range(100):
            if n % 2:  # odd threads: writes that roll back
                try:
                    with store.transaction():
                        store.offerings.add(ProductOffering(id=f"lost-{n}-{i}", name="x"))
                        raise Abort
                except Abort:
                    pass
            else:
                store.offerings.add(ProductOffering(id=f"kept-{n}-{i}", name="x"))

    _in_threads(work)
    ids = {o.id for o in store.offerings.iterate()}
    expected = {f"kept-{n}-{i}" for n in range(0, THREADS, 2) for i in range(100)}
    assert ids == expected
    assert len(store.offerings) == len(expected)
