"""Contract of the unit of work (``Store.transaction()``): all or nothing,
across every repository, with nested blocks as savepoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given

from etomkit.errors import ConflictError, NotFoundError
from etomkit.model import Product, ProductOffering
from etomkit.ports import Store
from etomkit.testing.contracts._base import (
    PlannedError,
    StoreFactory,
    contract_settings,
    fail_inside_transaction,
    fresh,
    listed,
)
from etomkit.testing.contracts.inventory import offering, product

__all__ = ["UnitOfWorkContract"]


class UnitOfWorkContract:
    """The unit of work of :class:`~etomkit.ports.Store`: ``transaction()``.

    Writes inside a block commit together; an exception inside rolls back every
    write of every repository and propagates. A nested block joins the outer
    one: it commits with it and rolls back with it, and when it fails and the
    outer block catches the exception, exactly the nested block's writes are
    dropped (a savepoint). Needs the ``make_store`` fixture (see
    :mod:`etomkit.testing.contracts`).
    """

    port = Store

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Any]:
        """A fresh store from the adapter's ``make_store`` fixture, closed afterwards."""
        with fresh(make_store) as store:
            yield store

    @staticmethod
    def snapshot(store: Any) -> tuple[list[ProductOffering], list[Product]]:
        """Everything stored, in insertion order."""
        return listed(store.offerings), listed(store.products)

    def test_a_transaction_commits_writes_to_every_repository(self, store: Any) -> None:
        with store.transaction():
            po = store.offerings.add(offering("po-1"))
            pr = store.products.add(product("pr-1", offering_id="po-1"))
        assert self.snapshot(store) == ([po], [pr])

    def test_an_exception_rolls_back_every_write_of_every_repository(self, store: Any) -> None:
        po1, po2 = store.offerings.add(offering("po-1")), store.offerings.add(offering("po-2"))
        pr1 = store.products.add(product("pr-1", order_items=[("ord-1", "1")]))
        pr2 = store.products.add(product("pr-2", order_items=[("ord-2", "1")]))
        before = self.snapshot(store)

        def writes() -> None:
            store.offerings.add(offering("po-3"))
            store.offerings.replace(attrs.evolve(po1, lifecycle_status="In design"))
            store.offerings.remove("po-2")
            store.products.add(product("pr-3", order_items=[("ord-3", "1")]))
            store.products.replace(attrs.evolve(pr1, status="active"))
            store.products.remove("pr-2")

        with pytest.raises(PlannedError):
            fail_inside_transaction(store, writes)
        assert self.snapshot(store) == before
        assert (len(store.offerings), len(store.products)) == (2, 2)
        assert store.offerings.get("po-2") == po2
        assert store.products.find_by_order_item("ord-2", "1") == pr2
        assert store.products.find_by_order_item("ord-3", "1") is None

    def test_a_rollback_puts_removed_entities_back_in_their_place(self, store: Any) -> None:
        for i in range(4):
            store.offerings.add(offering(f"po-{i}"))
        before = self.snapshot(store)

        def writes() -> None:
            store.offerings.remove("po-1")
            store.offerings.remove("po-0")
            store.offerings.add(offering("po-0", name="again"))

        with pytest.raises(PlannedError):
            fail_inside_transaction(store, writes)
        assert self.snapshot(store) == before
        assert [o.id for o in store.offerings.query(offset=1, limit=2).items] == ["po-1", "po-2"]

    def test_nested_blocks_commit_with_the_outer_one(self, store: Any) -> None:
        with store.transaction():
            po = store.offerings.add(offering("po-1"))
            with store.transaction():
                pr = store.products.add(product("pr-1"))
        assert self.snapshot(store) == ([po], [pr])

    def test_nested_blocks_roll_back_with_the_outer_one(self, store: Any) -> None:
        seen_inside: list[bool] = []

        def writes() -> None:
            store.offerings.add(offering("po-1"))
            with store.transaction():
                store.products.add(product("pr-1"))
            seen_inside.append("pr-1" in store.products)

        with pytest.raises(PlannedError):
            fail_inside_transaction(store, writes)
        assert seen_inside == [True]  # the outer block saw the inner block's write
        assert self.snapshot(store) == ([], [])

    def test_a_refused_write_does_not_undo_the_others(self, store: Any) -> None:
        with store.transaction():
            po = store.offerings.add(offering("po-1"))
            with pytest.raises(ConflictError):
                store.offerings.add(offering("po-1"))
            with pytest.raises(NotFoundError):
                store.products.remove("pr-1")
        assert self.snapshot(store) == ([po], [])

    def test_the_store_takes_writes_after_a_rollback(self, store: Any) -> None:
        with pytest.raises(PlannedError):
            fail_inside_transaction(store, lambda: store.offerings.add(offering("po-1")))
        stored = store.offerings.add(offering("po-1"))
        assert stored.revision == 1
        assert self.snapshot(store) == ([stored], [])

    @contract_settings
    @given(
        writes=st.lists(st.sampled_from(["add", "replace", "remove"]), max_size=8),
        fail=st.booleans(),
    )
    def test_a_transaction_is_all_or_nothing(
        self, make_store: StoreFactory, writes: list[str], fail: bool
    ) -> None:
        with fresh(make_store) as store:
            for i in range(3):
                store.offerings.add(offering(f"po-{i}"))
                store.products.add(product(f"pr-{i}"))
            before = self.snapshot(store)
            expected_offerings = {o.id: o for o in before[0]}
            expected_products = {p.id: p for p in before[1]}
            try:
                with store.transaction():
                    for n, write in enumerate(writes):
                        if write == "add":
                            po = store.offerings.add(offering(f"new-{n}"))
                            pr = store.products.add(product(f"new-{n}"))
                            expected_offerings[po.id] = po
                            expected_products[pr.id] = pr
                        elif write == "replace" and expected_offerings:
                            first = next(iter(expected_offerings.values()))
                            po = store.offerings.replace(attrs.evolve(first, description=str(n)))
                            expected_offerings[po.id] = po
                        elif write == "remove" and expected_products:
                            pr = store.products.remove(str(next(iter(expected_products))))
                            del expected_products[pr.id]
                    if fail:
                        raise PlannedError
            except PlannedError:
                assert self.snapshot(store) == before
            else:
                assert self.snapshot(store) == (
                    list(expected_offerings.values()),
                    list(expected_products.values()),
                )

    # ---------------------------------------------------------------- savepoints

    def test_an_inner_failure_caught_by_the_outer_unit_drops_exactly_the_inner_writes(
        self, store: Any
    ) -> None:
        kept = store.offerings.add(offering("po-0"))
        with store.transaction():
            first = store.offerings.add(offering("po-1"))
            try:
                with store.transaction():
                    store.offerings.add(offering("po-2"))
                    store.offerings.replace(attrs.evolve(kept, description="inner"))
                    store.offerings.remove("po-1")
                    store.products.add(product("pr-1", order_items=[("ord-1", "1")]))
                    raise PlannedError
            except PlannedError:
                pass
            assert self.snapshot(store) == ([kept, first], [])  # seen inside the outer block
            last = store.products.add(product("pr-2", order_items=[("ord-1", "1")]))
        assert self.snapshot(store) == ([kept, first], [last])
        assert store.offerings.get("po-0").revision == 1
        assert store.products.find_by_order_item("ord-1", "1") == last

    def test_an_outer_failure_after_a_committed_inner_block_drops_both(self, store: Any) -> None:
        def writes() -> None:
            store.offerings.add(offering("po-1"))
            with store.transaction():
                store.offerings.add(offering("po-2"))
            try:
                with store.transaction():
                    store.offerings.add(offering("po-3"))
                    raise PlannedError
            except PlannedError:
                pass

        with pytest.raises(PlannedError):
            fail_inside_transaction(store, writes)
        assert self.snapshot(store) == ([], [])

    def test_a_rolled_back_replace_leaves_the_revision_where_it_was(self, store: Any) -> None:
        stored = store.offerings.add(offering("po-1"))
        with pytest.raises(PlannedError):
            fail_inside_transaction(
                store, lambda: store.offerings.replace(attrs.evolve(stored, description="lost"))
            )
        assert store.offerings.get("po-1") == stored
        again = store.offerings.replace(attrs.evolve(stored, description="kept"))
        assert again.revision == 2

    def test_one_unit_of_work_spans_every_repository_of_the_store(self, store: Any) -> None:
        writes = _every_repository_write(store)
        before = {name: len(getattr(store, name)) for name, _ in writes}

        def all_writes() -> None:
            for name, entity in writes:
                getattr(store, name).add(entity)

        with pytest.raises(PlannedError):
            fail_inside_transaction(store, all_writes)
        assert {name: len(getattr(store, name)) for name, _ in writes} == before
        with store.transaction():
            all_writes()
        assert all(len(getattr(store, name)) == before[name] + 1 for name, _ in writes)


def _every_repository_write(store: Any) -> list[tuple[str, Any]]:
    """One new entity for each repository ``store`` holds (of those the services use)."""
    from etomkit.testing.contracts.access import _client
    from etomkit.testing.contracts.audit import audit_run, manual_audit
    from etomkit.testing.contracts.ordering import (
        feasibility_assessment,
        issuance_record,
        resource_order,
        resource_specification,
    )

    candidates: list[tuple[str, Any]] = [
        ("offerings", offering("uow-1")),
        ("products", product("uow-1")),
        ("clients", _client("uow-1")),
        ("resource_orders", resource_order("uow-1")),
        ("issuance_records", issuance_record("uow-1")),
        ("feasibility_assessments", feasibility_assessment("uow-1")),
        ("resource_specifications", resource_specification("uow-1")),
        ("audit_runs", audit_run("uow-1")),
        ("manual_audits", manual_audit("uow-1")),
    ]
    return [(name, entity) for name, entity in candidates if hasattr(store, name)]
