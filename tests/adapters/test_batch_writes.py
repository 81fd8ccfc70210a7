"""Batched writes (add_all, find_many) behave as one add per entity would, on every
in-memory-based store; and the stores' garbage-collection policy (freeze_gc)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import etomkit as ek
from etomkit.adapters import unit
from etomkit.adapters.memory import InMemoryOrderingStore, InMemoryStore
from etomkit.model.resource_order import (
    ExternalEntityId,
    ResourceOrder,
    ResourceOrderFilter,
    ResourceOrderItem,
)
from etomkit.model.values import Characteristic, EntityRef


def order(order_id: str, request_id: str = "SO-1", *, special: bool = False) -> ResourceOrder:
    return ResourceOrder(
        id=order_id,
        special_handling=special,
        external_reference=(
            ExternalEntityId(id=request_id, owner="bss", entity_type="serviceOrder"),
        ),
    )


def orders_of(request_id: str, *ids: str) -> list[ResourceOrder]:
    """Orders sharing one request reference object (as the issuer's do)."""
    ref = (ExternalEntityId(id=request_id, owner="bss", entity_type="serviceOrder"),)
    return [ResourceOrder(id=i, external_reference=ref) for i in ids]


@pytest.fixture(params=["memory", "file"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    opened: list[Any] = []

    def make() -> Any:
        if request.param == "memory":
            return InMemoryStore()
        store = ek.FileStore(tmp_path / "store", durability="none")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _reopen(store: Any) -> Any:
    if not isinstance(store, ek.FileStore):
        return store
    store.close()
    return ek.FileStore(store.path, durability="none")


def test_add_all_indexes_each_entity_as_add_would(make_store: Callable[[], Any]) -> None:
    store = make_store()
    repo = store.resource_orders
    first = orders_of("SO-1", "ro-1", "ro-2")
    stored = repo.add_all(
        [*first, order("ro-3", "SO-2", special=True), *orders_of("SO-1", "ro-4")], checked=True
    )
    assert [o.revision for o in stored] == [1, 1, 1, 1]
    store = _reopen(store)
    repo = store.resource_orders
    by_request = repo.iterate(ResourceOrderFilter(request_key="serviceOrder:SO-1"))
    assert [o.id for o in by_request] == ["ro-1", "ro-2", "ro-4"]
    assert [o.id for o in repo.iterate(ResourceOrderFilter(special_handling=True))] == ["ro-3"]
    assert [o.id for o in repo.iterate()] == ["ro-1", "ro-2", "ro-3", "ro-4"]
    assert repo.get("ro-2") == attrs.evolve(first[1], revision=1)


@pytest.mark.parametrize("clash", ["repeated in the batch", "stored before"])
def test_add_all_stores_none_on_a_taken_id(make_store: Callable[[], Any], clash: str) -> None:
    store = make_store()
    repo = store.resource_orders
    repo.add(order("ro-0"))
    batch = orders_of("SO-1", "ro-1", "ro-2", "ro-1" if clash.startswith("rep") else "ro-0")
    with pytest.raises(ek.DuplicateKeyError):
        repo.add_all(batch, checked=True)
    store = _reopen(store)
    assert [o.id for o in store.resource_orders.iterate()] == ["ro-0"]
    assert list(store.resource_orders.iterate(ResourceOrderFilter(state="acknowledged"))) == [
        store.resource_orders.get("ro-0")
    ]


def test_add_all_refuses_what_a_store_could_not_read_back(make_store: Callable[[], Any]) -> None:
    store = make_store()
    bad = ResourceOrder(
        id="ro-2",
        order_item=(
            ResourceOrderItem(
                id="1",
                resource_specification=EntityRef(id="ont"),
                characteristic=(Characteristic(name="x", value=(1, 2)),),  # a tuple
            ),
        ),
    )
    with pytest.raises(ek.ValidationError):
        store.resource_orders.add_all([order("ro-1"), bad])
    with pytest.raises(ek.ValidationError, match="must be set"):
        store.resource_orders.add_all([ResourceOrder()], checked=True)
    assert len(_reopen(store).resource_orders) == 0


def test_add_all_in_a_failed_transaction_leaves_no_trace(make_store: Callable[[], Any]) -> None:
    store = make_store()
    repo = store.resource_orders

    def crash() -> None:
        with store.transaction():
            repo.add_all(orders_of("SO-1", "ro-1", "ro-2"), checked=True)
            repo.add_all(orders_of("SO-2", "ro-3"))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    repo.add_all(orders_of("SO-1", "ro-9"))
    store = _reopen(store)
    repo = store.resource_orders
    assert [o.id for o in repo.iterate()] == ["ro-9"]
    assert [o.id for o in repo.iterate(ResourceOrderFilter(request_key="serviceOrder:SO-1"))] == [
        "ro-9"
    ]
    assert repo.query(ResourceOrderFilter(request_key="serviceOrder:SO-2")).total == 0


def test_find_many_returns_the_entities_found(make_store: Callable[[], Any]) -> None:
    store = make_store()
    store.resource_orders.add_all(orders_of("SO-1", "ro-1", "ro-2", "ro-3"))
    store = _reopen(store)  # a FileStore then holds them undecoded
    found = store.resource_orders.find_many(["ro-3", "nope", "ro-1"])
    assert found == {
        "ro-3": store.resource_orders.get("ro-3"),
        "ro-1": store.resource_orders.get("ro-1"),
    }
    assert store.resource_orders.find_many([]) == {}


# ---------------------------------------------------------------- the gc policy


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Calls of gc.freeze (counted, not made), with a freeze due every 5 entities."""
    calls: list[int] = []
    monkeypatch.setattr(unit, "FREEZE_EVERY", 5)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
    return calls


def test_a_store_freezes_the_collector_after_committed_writes(freezes: list[int]) -> None:
    store = InMemoryStore()
    repo = store.resource_orders
    with store.transaction():
        repo.add_all(orders_of("SO-1", *(f"ro-{n}" for n in range(4))))
        repo.add(order("ro-4"))
        assert freezes == []  # not before the commit
    assert freezes == [1]
    for n in range(5, 9):
        repo.add(order(f"ro-{n}"))
    assert freezes == [1]  # 4 entities since the last freeze
    repo.add(order("ro-9"))
    assert freezes == [1, 1]


@pytest.mark.parametrize("kind", ["InMemoryStore", "InMemoryOrderingStore", "FileStore"])
def test_freeze_gc_false_never_freezes(freezes: list[int], kind: str, tmp_path: Path) -> None:
    if kind == "FileStore":
        store: Any = ek.FileStore(tmp_path / "s", durability="none", freeze_gc=False)
    elif kind == "InMemoryStore":
        store = InMemoryStore(freeze_gc=False)
    else:
        store = InMemoryOrderingStore(freeze_gc=False)
    store.resource_orders.add_all(orders_of("SO-1", *(f"ro-{n}" for n in range(20))))
    store.close()
    assert freezes == []


def test_a_file_store_freezes_too(freezes: list[int], tmp_path: Path) -> None:
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        store.resource_orders.add_all(orders_of("SO-1", *(f"ro-{n}" for n in range(6))))
    assert freezes == [1]
