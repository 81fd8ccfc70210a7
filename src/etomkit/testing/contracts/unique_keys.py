"""Contract for the unique keys of :mod:`etomkit.ports` (issue #10): enforced by the
store, atomically, under real threads.

``UniqueKeyContract`` needs the ``make_store`` fixture (see
:mod:`etomkit.testing.contracts`) returning a store that holds every repository
(a :class:`~etomkit.ports.Store` and an :class:`~etomkit.ports.OrderingStore`,
as ``InMemoryStore`` and ``FileStore`` do)::

    class TestMyStoreUniqueKeys(UniqueKeyContract):
        @pytest.fixture
        def make_store(self):
            return MyStore

The keys: a product per Order Handling order item (``product_order_item``),
one bootstrap administrator (``bootstrap_administrator``), a record per
initiating request (the issuance record's id, which is the request key).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import attrs
import pytest

from etomkit.errors import DuplicateKeyError
from etomkit.model import EntityRef, OrderItemRef, Product, RelatedParty
from etomkit.model.client import ClientRegistration
from etomkit.model.issuance import InitiatingRequest, IssuanceRecord
from etomkit.testing.contracts._base import StoreFactory, fresh

__all__ = ["UniqueKeyContract", "race"]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def race(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at once, one thread each, released together by a barrier.

    Returns, per call in order, its result or the exception it raised.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            outcomes[n] = calls[n]()
        except BaseException as e:  # handed back to the caller
            outcomes[n] = e

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _product(product_id: str, *items: tuple[str, str]) -> Product:
    return Product(
        id=product_id,
        product_offering=EntityRef(id="po-1"),
        related_party=(RelatedParty(id="cust-1", role="customer"),),
        product_order_item=tuple(OrderItemRef(order_id=o, item_id=i) for o, i in items),
    )


def _client(client_id: str, *, bootstrap: bool = False) -> ClientRegistration:
    return ClientRegistration(id=client_id, name=f"client {client_id}", bootstrap=bootstrap)


def _record(key: str) -> IssuanceRecord:
    request = InitiatingRequest(kind="resourceOrderRequest", id=key, items=())
    return IssuanceRecord(id=request.key, request=request, items=(), issued_at=_T0)


class UniqueKeyContract:
    """Every unique key of the ports is refused a second holder, atomically."""

    threads = 6
    rounds = 30

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Any]:
        """A fresh store from the adapter's ``make_store`` fixture, closed afterwards."""
        with fresh(make_store) as store:
            yield store

    # ---------------------------------------------------------------- product per order item

    def test_a_second_product_for_an_order_item_is_refused_naming_the_holder(
        self, store: Any
    ) -> None:
        first = store.products.add(_product("p-1", ("ord-1", "1")))
        with pytest.raises(DuplicateKeyError) as refused:
            store.products.add(_product("p-2", ("ord-2", "1"), ("ord-1", "1")))
        assert (refused.value.key, refused.value.existing_id) == ("product_order_item", "p-1")
        assert "ord-1" in refused.value.value
        assert store.products.find("p-2") is None
        assert store.products.find_by_order_item("ord-1", "1") == first
        assert store.products.find_by_order_item("ord-2", "1") is None

    def test_add_all_refuses_the_first_second_holder_as_adding_one_by_one_would(
        self, store: Any
    ) -> None:
        store.products.add(_product("p-1", ("ord-1", "1")))
        within = [_product("p-2", ("ord-2", "1")), _product("p-3", ("ord-3", "1"), ("ord-2", "1"))]
        with pytest.raises(DuplicateKeyError) as refused, store.transaction():
            store.products.add_all([*within, _product("p-1", ("ord-9", "1"))])
        assert (refused.value.key, refused.value.existing_id) == ("product_order_item", "p-2")
        with pytest.raises(DuplicateKeyError) as refused, store.transaction():
            store.products.add_all([_product("p-4", ("ord-4", "1"), ("ord-1", "1"))])
        assert refused.value.existing_id == "p-1"
        with pytest.raises(DuplicateKeyError) as refused, store.transaction():
            store.products.add_all([_product("p-1", ("ord-5", "1")), *within])  # id first
        assert (refused.value.key, refused.value.existing_id) == ("id", "p-1")
        assert [store.products.find(f"p-{n}") for n in (2, 3, 4)] == [None, None, None]
        added = store.products.add_all([_product("p-5", ("ord-5", "1")), within[0]])
        assert store.products.find_by_order_item("ord-2", "1") == added[1]

    def test_a_replace_cannot_take_another_products_order_item(self, store: Any) -> None:
        store.products.add(_product("p-1", ("ord-1", "1")))
        second = store.products.add(_product("p-2", ("ord-2", "1")))
        taken = (OrderItemRef(order_id="ord-1", item_id="1"),)
        with pytest.raises(DuplicateKeyError) as refused:
            store.products.replace(attrs.evolve(second, product_order_item=taken))
        assert refused.value.existing_id == "p-1"
        assert store.products.get("p-2") == second
        kept = store.products.replace(attrs.evolve(second, status="active"))  # own key: fine
        assert store.products.find_by_order_item("ord-2", "1") == kept

    def test_a_removed_product_frees_its_order_item(self, store: Any) -> None:
        store.products.add(_product("p-1", ("ord-1", "1")))
        store.products.remove("p-1")
        again = store.products.add(_product("p-2", ("ord-1", "1")))
        assert store.products.find_by_order_item("ord-1", "1") == again

    def test_inside_a_unit_of_work_the_second_holder_is_refused_and_a_rollback_frees_the_key(
        self, store: Any
    ) -> None:
        def both() -> None:
            with store.transaction():
                store.products.add(_product("p-1", ("ord-1", "1")))
                store.products.add(_product("p-2", ("ord-1", "1")))

        with pytest.raises(DuplicateKeyError):
            both()
        assert len(store.products) == 0
        assert store.products.find_by_order_item("ord-1", "1") is None
        stored = store.products.add(_product("p-3", ("ord-1", "1")))
        assert store.products.find_by_order_item("ord-1", "1") == stored

    def test_racing_threads_get_one_product_per_order_item(self, store: Any) -> None:
        for r in range(self.rounds):
            outcomes = race(
                [
                    partial(store.products.add, _product(f"p-{r}-{n}", (f"ord-{r}", "1")))
                    for n in range(self.threads)
                ]
            )
            winners = [o for o in outcomes if isinstance(o, Product)]
            losers = [o for o in outcomes if not isinstance(o, Product)]
            assert len(winners) == 1, outcomes
            assert all(isinstance(e, DuplicateKeyError) for e in losers), losers
            assert {e.existing_id for e in losers} <= {winners[0].id}
        assert len(store.products) == self.rounds

    # ---------------------------------------------------------------- bootstrap administrator

    def test_a_second_bootstrap_administrator_is_refused(self, store: Any) -> None:
        store.clients.add(_client("c-1", bootstrap=True))
        store.clients.add(_client("c-2"))  # an ordinary registration is no bootstrap
        with pytest.raises(DuplicateKeyError) as refused:
            store.clients.add(_client("c-3", bootstrap=True))
        assert (refused.value.key, refused.value.existing_id) == ("bootstrap_administrator", "c-1")
        assert len(store.clients) == 2

    def test_racing_bootstraps_leave_one_administrator(self, store: Any) -> None:
        outcomes = race(
            [
                partial(store.clients.add, _client(f"c-{n}", bootstrap=True))
                for n in range(self.threads)
            ]
        )
        winners = [o for o in outcomes if isinstance(o, ClientRegistration)]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, DuplicateKeyError) for o in outcomes if o not in winners)
        assert len(store.clients) == 1

    # ---------------------------------------------------------------- record per request

    def test_a_second_record_for_a_request_is_refused(self, store: Any) -> None:
        first = store.issuance_records.add(_record("so-1"))
        with pytest.raises(DuplicateKeyError) as refused:
            store.issuance_records.add(_record("so-1"))
        assert (refused.value.key, refused.value.existing_id) == ("id", first.id)

    def test_racing_records_for_one_request_leave_one(self, store: Any) -> None:
        outcomes = race(
            [lambda: store.issuance_records.add(_record("so-9")) for _ in range(self.threads)]
        )
        assert sum(isinstance(o, IssuanceRecord) for o in outcomes) == 1, outcomes
        assert len(store.issuance_records) == 1
