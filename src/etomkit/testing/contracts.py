"""Contract suites for the ports in :mod:`etomkit.ports`: every adapter passes them.

Subclass the contracts in your adapter's test module, name the subclasses
``Test…`` and provide one fixture, ``make_store``: a callable that returns a
fresh, empty :class:`~etomkit.ports.Store` each time it is called. The
contracts call it once per test, and once per generated example in the
hypothesis-driven tests (a store shared between examples would leak state
between them), and close every store they make::

    import pytest
    from etomkit.testing.contracts import (
        OfferingRepositoryContract, ProductRepositoryContract, StoreContract, StoreFactory,
    )

    @pytest.fixture
    def make_store(tmp_path_factory) -> StoreFactory:
        return lambda: FileStore(tmp_path_factory.mktemp("store"))

    class TestFileOfferings(OfferingRepositoryContract): ...
    class TestFileProducts(ProductRepositoryContract): ...
    class TestFileStore(StoreContract): ...

The base classes carry no ``Test`` prefix, so pytest never collects them on
their own. The tests check each method's documented result and exceptions:
``add`` stores at revision 1 (ConflictError for a taken id, ValidationError for
an unset one), ``replace`` bumps the revision (ConflictError if stale,
NotFoundError if absent), ``remove`` returns the entity, and ``query`` pages
through matches in stable insertion order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from etomkit.errors import ConflictError, NotFoundError, ValidationError
from etomkit.model import (
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    EntityRef,
    OrderItemRef,
    Product,
    ProductOffering,
    RelatedParty,
)
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.ports import Repository, Store
from etomkit.testing import strategies as ets

__all__ = [
    "StoreFactory",
    "OfferingRepositoryContract",
    "ProductRepositoryContract",
    "StoreContract",
]

StoreFactory = Callable[[], Store]
"""What the ``make_store`` fixture returns: each call makes a fresh, empty Store."""

E = TypeVar("E", ProductOffering, Product)
F = TypeVar("F", OfferingFilter, ProductFilter)

#: Stores may do I/O (no deadline); each example makes its own store from the
#: factory fixture, and the same tests run for several adapters' classes.
_contract_settings = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)

_RICH_OFFERINGS = ets.product_offerings()  # built once: strategies validate on first use
_RICH_PRODUCTS = ets.products()
_OFFERING_STATES = OFFERING_LIFECYCLE.states
_PRODUCT_STATES = PRODUCT_LIFECYCLE.states


class _PlannedError(Exception):
    """The failure the store contract raises inside transactions."""


def _fail_inside_transaction(store: Store, writes: Callable[[], object]) -> None:
    """Run ``writes`` in a transaction of ``store``, then fail it with _PlannedError."""
    with store.transaction():
        writes()
        raise _PlannedError


@contextmanager
def _fresh(make_store: StoreFactory) -> Iterator[Store]:
    store = make_store()
    try:
        yield store
    finally:
        store.close()


def _offering(offering_id: str | None, **changes: Any) -> ProductOffering:
    """A minimal well-formed offering (``changes`` override its fields)."""
    return attrs.evolve(ProductOffering(id=offering_id, name=f"Offering {offering_id}"), **changes)


def _product(
    product_id: str | None,
    *,
    customer_id: str = "cust-1",
    offering_id: str = "po-1",
    order_items: Sequence[tuple[str, str]] = (),
    **changes: Any,
) -> Product:
    """A minimal well-formed product of ``customer_id`` for ``offering_id``."""
    return attrs.evolve(
        Product(
            id=product_id,
            product_offering=EntityRef(id=offering_id),
            related_party=(RelatedParty(id=customer_id, role="customer"),),
            product_order_item=tuple(OrderItemRef(order_id=o, item_id=i) for o, i in order_items),
        ),
        **changes,
    )


def _listed(repo: Repository[E, F], where: F | None = None, *, page_size: int = 1000) -> list[E]:
    """``list(repo.iterate(...))``, but stopping one past ``len(repo)`` should it never end."""
    return list(itertools.islice(repo.iterate(where, page_size=page_size), len(repo) + 1))


def _check_page(page: Page[E], everything: Sequence[E], offset: int, limit: int | None) -> None:
    """``page`` is the ``offset``/``limit`` slice of ``everything`` with the right totals."""
    end = None if limit is None else offset + limit
    assert list(page.items) == list(everything[offset:end])
    assert page.total == len(everything)
    assert (page.offset, page.limit) == (offset, limit)
    has_more = offset + len(page.items) < len(everything)
    assert page.next_offset == (offset + len(page.items) if has_more else None)


class _RepositoryContract(Generic[E, F]):
    """What every repository does, whatever it stores; see the concrete contracts."""

    def repository(self, store: Store) -> Repository[E, F]:
        """The repository under test in ``store``."""
        raise NotImplementedError

    def entity(self, entity_id: str | None) -> E:
        """A minimal well-formed entity with ``entity_id``."""
        raise NotImplementedError

    def rich_entities(self) -> st.SearchStrategy[E]:
        """Well-formed entities using every field (ids included)."""
        raise NotImplementedError

    def _stored(self, repo: Repository[E, F], count: int, prefix: str = "e") -> list[E]:
        return [repo.add(self.entity(f"{prefix}-{i}")) for i in range(count)]

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Store]:
        """A fresh store from the adapter's ``make_store`` fixture, closed afterwards."""
        with _fresh(make_store) as store:
            yield store

    @pytest.fixture
    def repo(self, store: Store) -> Repository[E, F]:
        """The repository under test, empty."""
        return self.repository(store)

    # ---------------------------------------------------------------- add, get, find

    def test_added_entity_is_stored_at_revision_one(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        assert stored == attrs.evolve(self.entity("x-1"), revision=1)
        assert repo.get("x-1") == stored
        assert repo.find("x-1") == stored
        assert "x-1" in repo
        assert len(repo) == 1

    def test_add_ignores_the_revision_the_caller_brings(self, repo: Repository[E, F]) -> None:
        stored = repo.add(attrs.evolve(self.entity("x-1"), revision=7))
        assert stored.revision == 1
        assert repo.get("x-1").revision == 1

    @_contract_settings
    @given(data=st.data())
    def test_any_well_formed_entity_reads_back_equal(
        self, make_store: StoreFactory, data: st.DataObject
    ) -> None:
        entity = data.draw(self.rich_entities(), label="entity")
        with _fresh(make_store) as store:
            repo = self.repository(store)
            stored = repo.add(entity)
            assert stored == attrs.evolve(entity, revision=1)
            assert repo.get(str(entity.id)) == stored
            assert _listed(repo) == [stored]

    def test_adding_a_taken_id_is_a_conflict(self, repo: Repository[E, F]) -> None:
        first = repo.add(self.entity("x-1"))
        with pytest.raises(ConflictError):
            repo.add(attrs.evolve(self.entity("x-1"), description="second"))
        assert repo.get("x-1") == first
        assert len(repo) == 1

    def test_adding_an_entity_without_id_is_refused(self, repo: Repository[E, F]) -> None:
        with pytest.raises(ValidationError):
            repo.add(self.entity(None))
        assert len(repo) == 0

    def test_an_entity_a_store_could_not_return_as_it_is_is_refused(
        self, repo: Repository[E, F]
    ) -> None:
        good = self.entity("x-1")
        fields = attrs.fields_dict(type(good))
        naive = datetime(2025, 1, 1)  # names no moment
        changes: list[tuple[str, Any]] = [
            ("description", "\udcff"),  # a lone surrogate: not UTF-8
            ("last_update", naive),
            ("registered_at", naive),
            ("extras", {"channel": (1, 2)}),  # read back as a list
            ("extras", {"price": Decimal("1.5")}),  # not JSON
        ]
        for name, value in changes:
            if name in fields:
                with pytest.raises(ValidationError):
                    repo.add(attrs.evolve(good, **{name: value}))
        assert len(repo) == 0
        stored = repo.add(good)
        with pytest.raises(ValidationError):
            repo.replace(attrs.evolve(stored, description="\udcff"))
        assert repo.get("x-1") == stored

    def test_getting_a_missing_entity_raises_not_found(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        with pytest.raises(NotFoundError) as info:
            repo.get("x-2")
        assert info.value.entity_id == "x-2"

    def test_finding_a_missing_entity_returns_none(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        assert repo.find("x-2") is None
        assert "x-2" not in repo

    def test_only_stored_ids_are_contained(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        assert "x-1" in repo
        assert "x-2" not in repo
        assert 1 not in repo
        assert None not in repo

    def test_every_missing_entity_error_is_also_a_key_error(self, repo: Repository[E, F]) -> None:
        attempts: list[Callable[[], object]] = [
            lambda: repo.get("gone"),
            lambda: repo.replace(attrs.evolve(self.entity("gone"), revision=1)),
            lambda: repo.remove("gone"),
        ]
        for attempt in attempts:
            with pytest.raises(KeyError) as info:
                attempt()
            assert isinstance(info.value, NotFoundError)

    # ---------------------------------------------------------------- replace

    def test_replace_stores_the_change_at_the_next_revision(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        changed = repo.replace(attrs.evolve(stored, description="changed"))
        assert changed == attrs.evolve(stored, description="changed", revision=2)
        assert repo.get("x-1") == changed
        assert repo.replace(attrs.evolve(changed, description="again")).revision == 3

    def test_stale_replace_is_refused(self, repo: Repository[E, F]) -> None:
        read_by_alice = repo.add(self.entity("x-1"))
        read_by_bob = repo.get("x-1")
        alices = repo.replace(attrs.evolve(read_by_alice, description="Alice"))
        with pytest.raises(ConflictError):
            repo.replace(attrs.evolve(read_by_bob, description="Bob"))
        assert repo.get("x-1") == alices

    def test_replace_checks_an_explicit_expected_revision(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        unread = attrs.evolve(self.entity("x-1"), description="blind write")  # revision 0
        stored = repo.replace(unread, expected_revision=1)
        assert stored == attrs.evolve(unread, revision=2)
        assert repo.get("x-1") == stored

    def test_a_wrong_explicit_expected_revision_is_refused(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        with pytest.raises(ConflictError):
            repo.replace(attrs.evolve(stored, description="x"), expected_revision=2)
        assert repo.get("x-1") == stored

    def test_replacing_a_missing_entity_raises_not_found(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        with pytest.raises(NotFoundError):
            repo.replace(attrs.evolve(self.entity("x-2"), revision=1))
        assert "x-2" not in repo
        assert len(repo) == 1

    # ---------------------------------------------------------------- remove

    def test_remove_returns_the_entity_and_forgets_it(self, repo: Repository[E, F]) -> None:
        kept, removed = self._stored(repo, 2)
        assert repo.remove(str(removed.id)) == removed
        assert repo.find(str(removed.id)) is None
        assert removed.id not in repo
        assert _listed(repo) == [kept]
        assert len(repo) == 1

    def test_removing_a_missing_entity_raises_not_found(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        with pytest.raises(NotFoundError):
            repo.remove("x-2")
        assert len(repo) == 1

    def test_remove_with_a_stale_revision_is_refused(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        changed = repo.replace(attrs.evolve(stored, description="changed"))
        with pytest.raises(ConflictError):
            repo.remove("x-1", expected_revision=stored.revision)
        assert repo.get("x-1") == changed

    def test_remove_with_the_current_revision_succeeds(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        assert repo.remove("x-1", expected_revision=1) == stored
        assert len(repo) == 0

    def test_a_removed_id_can_be_added_again_at_the_end(self, repo: Repository[E, F]) -> None:
        first, second = self._stored(repo, 2)
        repo.remove(str(first.id))
        again = repo.add(attrs.evolve(first, description="back", revision=0))
        assert again.revision == 1
        assert _listed(repo) == [second, again]

    # ---------------------------------------------------------------- query, iterate, len

    def test_len_counts_stored_entities(self, repo: Repository[E, F]) -> None:
        assert len(repo) == 0
        entities = self._stored(repo, 3)
        assert len(repo) == 3
        repo.replace(attrs.evolve(entities[0], description="changed"))
        assert len(repo) == 3
        repo.remove(str(entities[1].id))
        assert len(repo) == 2

    def test_query_without_filter_returns_everything_in_insertion_order(
        self, repo: Repository[E, F]
    ) -> None:
        ids = ["m", "b", "z", "a"]  # insertion order, not id order
        entities = [repo.add(self.entity(i)) for i in ids]
        page = repo.query()
        _check_page(page, entities, 0, None)
        assert [e.id for e in page.items] == ids

    def test_query_past_the_end_is_an_empty_last_page(self, repo: Repository[E, F]) -> None:
        self._stored(repo, 3)
        page = repo.query(offset=5, limit=2)
        assert page.items == ()
        assert page.total == 3
        assert page.next_offset is None

    @_contract_settings
    @given(
        count=st.integers(0, 12),
        offset=st.integers(0, 14),
        limit=st.none() | st.integers(0, 14),
    )
    def test_a_page_is_the_slice_of_all_entities_at_offset_and_limit(
        self, make_store: StoreFactory, count: int, offset: int, limit: int | None
    ) -> None:
        with _fresh(make_store) as store:
            repo = self.repository(store)
            entities = self._stored(repo, count)
            _check_page(repo.query(offset=offset, limit=limit), entities, offset, limit)

    @_contract_settings
    @given(
        count=st.integers(0, 12),
        page_size=st.integers(1, 5),
        changed=st.sets(st.integers(0, 11)),
    )
    def test_pages_visit_every_entity_once_in_order_even_after_replaces(
        self, make_store: StoreFactory, count: int, page_size: int, changed: set[int]
    ) -> None:
        with _fresh(make_store) as store:
            repo = self.repository(store)
            entities = self._stored(repo, count)
            seen: list[str | None] = []
            offset: int | None = 0
            for _ in range(count + 1):  # at most a page per entity, or one empty page
                assert offset is not None
                page = repo.query(offset=offset, limit=page_size)
                seen.extend(e.id for e in page.items)
                for i in sorted(changed & set(range(count))):  # changes between pages
                    current = repo.get(str(entities[i].id))
                    repo.replace(attrs.evolve(current, description=f"page {offset}"))
                offset = page.next_offset
                if offset is None:
                    break
            assert offset is None, "paging did not come to an end"
            assert seen == [e.id for e in entities]
            assert [e.id for e in repo.query().items] == seen

    @_contract_settings
    @given(count=st.integers(0, 12), page_size=st.integers(1, 5))
    def test_iterate_yields_every_entity_in_insertion_order(
        self, make_store: StoreFactory, count: int, page_size: int
    ) -> None:
        with _fresh(make_store) as store:
            repo = self.repository(store)
            entities = self._stored(repo, count)
            assert _listed(repo, page_size=page_size) == entities


class OfferingRepositoryContract(_RepositoryContract[ProductOffering, OfferingFilter]):
    """The contract of :class:`~etomkit.ports.OfferingRepository` (``store.offerings``).

    Needs the ``make_store`` fixture (see the module docstring).
    """

    def repository(self, store: Store) -> Repository[ProductOffering, OfferingFilter]:
        return store.offerings

    def entity(self, entity_id: str | None) -> ProductOffering:
        return _offering(entity_id)

    def rich_entities(self) -> st.SearchStrategy[ProductOffering]:
        return _RICH_OFFERINGS

    def test_query_by_one_lifecycle_status(
        self, repo: Repository[ProductOffering, OfferingFilter]
    ) -> None:
        a = repo.add(_offering("a", lifecycle_status="Active"))
        repo.add(_offering("b", lifecycle_status="Retired"))
        c = repo.add(_offering("c", lifecycle_status="Active"))
        page = repo.query(OfferingFilter(lifecycle_status="Active"))
        assert page.items == (a, c)
        assert page.total == 2

    def test_query_by_several_lifecycle_statuses(
        self, repo: Repository[ProductOffering, OfferingFilter]
    ) -> None:
        a = repo.add(_offering("a", lifecycle_status="Active"))
        repo.add(_offering("b", lifecycle_status="Retired"))
        c = repo.add(_offering("c", lifecycle_status="Launched"))
        page = repo.query(OfferingFilter(lifecycle_status=["Launched", "Active"]))
        assert page.items == (a, c)

    def test_query_by_category(self, repo: Repository[ProductOffering, OfferingFilter]) -> None:
        fibre, mobile = EntityRef(id="cat-fibre"), EntityRef(id="cat-mobile")
        a = repo.add(_offering("a", category=(mobile, fibre)))
        repo.add(_offering("b", category=(mobile,)))
        repo.add(_offering("c"))
        assert repo.query(OfferingFilter(category_id="cat-fibre")).items == (a,)

    def test_query_by_name(self, repo: Repository[ProductOffering, OfferingFilter]) -> None:
        repo.add(_offering("a", name="Fibre 1G"))
        b = repo.add(_offering("b", name="Fibre 10G"))
        assert repo.query(OfferingFilter(name="Fibre 10G")).items == (b,)

    def test_query_follows_a_change_of_lifecycle_status(
        self, repo: Repository[ProductOffering, OfferingFilter]
    ) -> None:
        stored = repo.add(_offering("a", lifecycle_status="Active"))
        retired = repo.replace(attrs.evolve(stored, lifecycle_status="Retired"))
        assert repo.query(OfferingFilter(lifecycle_status="Active")).total == 0
        assert repo.query(OfferingFilter(lifecycle_status="Retired")).items == (retired,)

    @_contract_settings
    @given(
        attributes=st.lists(
            st.tuples(
                st.sampled_from(_OFFERING_STATES[:4]),
                st.sets(st.sampled_from(["c1", "c2", "c3"]), max_size=2),
                st.sampled_from(["Fibre", "DSL"]),
            ),
            max_size=10,
        ),
        statuses=st.none() | st.sets(st.sampled_from(_OFFERING_STATES[:4]), min_size=1),
        category_id=st.none() | st.sampled_from(["c1", "c2", "c3"]),
        name=st.none() | st.sampled_from(["Fibre", "DSL"]),
        offset=st.integers(0, 10),
        limit=st.none() | st.integers(0, 10),
    )
    def test_query_pages_through_exactly_the_matching_offerings(
        self,
        make_store: StoreFactory,
        attributes: list[tuple[str, set[str], str]],
        statuses: set[str] | None,
        category_id: str | None,
        name: str | None,
        offset: int,
        limit: int | None,
    ) -> None:
        with _fresh(make_store) as store:
            stored = [
                store.offerings.add(
                    _offering(
                        f"po-{i}",
                        lifecycle_status=status,
                        category=tuple(EntityRef(id=c) for c in sorted(categories)),
                        name=offering_name,
                    )
                )
                for i, (status, categories, offering_name) in enumerate(attributes)
            ]
            matching = [
                o
                for o in stored
                if (statuses is None or o.lifecycle_status in statuses)
                and (category_id is None or category_id in {c.id for c in o.category})
                and (name is None or o.name == name)
            ]
            where = OfferingFilter(
                lifecycle_status=None if statuses is None else sorted(statuses),
                category_id=category_id,
                name=name,
            )
            _check_page(
                store.offerings.query(where, offset=offset, limit=limit), matching, offset, limit
            )
            assert _listed(store.offerings, where, page_size=3) == matching


class ProductRepositoryContract(_RepositoryContract[Product, ProductFilter]):
    """The contract of :class:`~etomkit.ports.ProductRepository` (``store.products``).

    Needs the ``make_store`` fixture (see the module docstring).
    """

    def repository(self, store: Store) -> Repository[Product, ProductFilter]:
        return store.products

    def entity(self, entity_id: str | None) -> Product:
        return _product(entity_id)

    def rich_entities(self) -> st.SearchStrategy[Product]:
        return _RICH_PRODUCTS

    def test_query_by_one_status(self, repo: Repository[Product, ProductFilter]) -> None:
        a = repo.add(_product("a", status="active"))
        repo.add(_product("b", status="terminated"))
        assert repo.query(ProductFilter(status="active")).items == (a,)

    def test_query_by_several_statuses(self, repo: Repository[Product, ProductFilter]) -> None:
        a = repo.add(_product("a", status="active"))
        b = repo.add(_product("b", status="suspended"))
        repo.add(_product("c", status="terminated"))
        assert repo.query(ProductFilter(status=("suspended", "active"))).items == (a, b)

    def test_query_by_customer(self, repo: Repository[Product, ProductFilter]) -> None:
        a = repo.add(_product("a", customer_id="alice"))
        repo.add(_product("b", customer_id="bob"))
        c = repo.add(_product("c", customer_id="alice"))
        page = repo.query(ProductFilter(customer_id="alice"))
        assert page.items == (a, c)
        assert page.total == 2

    def test_customer_is_the_party_in_the_customer_role_whatever_its_case(
        self, repo: Repository[Product, ProductFilter]
    ) -> None:
        parties = (
            RelatedParty(id="reseller", role="owner"),
            RelatedParty(id="alice", role="Customer"),
        )
        a = repo.add(_product("a", related_party=parties))
        assert repo.query(ProductFilter(customer_id="alice")).items == (a,)
        assert repo.query(ProductFilter(customer_id="reseller")).total == 0

    def test_query_by_offering(self, repo: Repository[Product, ProductFilter]) -> None:
        repo.add(_product("a", offering_id="po-1"))
        b = repo.add(_product("b", offering_id="po-2"))
        assert repo.query(ProductFilter(offering_id="po-2")).items == (b,)

    def test_query_follows_a_change_of_customer_and_offering(
        self, repo: Repository[Product, ProductFilter]
    ) -> None:
        stored = repo.add(_product("a", customer_id="alice", offering_id="po-1"))
        moved = repo.replace(
            attrs.evolve(
                stored,
                related_party=(RelatedParty(id="bob", role="customer"),),
                product_offering=EntityRef(id="po-2"),
            )
        )
        assert repo.query(ProductFilter(customer_id="alice")).total == 0
        assert repo.query(ProductFilter(offering_id="po-1")).total == 0
        assert repo.query(ProductFilter(customer_id="bob", offering_id="po-2")).items == (moved,)

    @_contract_settings
    @given(
        attributes=st.lists(
            st.tuples(
                st.sampled_from(_PRODUCT_STATES[:4]),
                st.sampled_from(["alice", "bob", "carol"]),
                st.sampled_from(["po-1", "po-2"]),
            ),
            max_size=10,
        ),
        statuses=st.none() | st.sets(st.sampled_from(_PRODUCT_STATES[:4]), min_size=1),
        customer_id=st.none() | st.sampled_from(["alice", "bob", "carol"]),
        offering_id=st.none() | st.sampled_from(["po-1", "po-2"]),
        offset=st.integers(0, 10),
        limit=st.none() | st.integers(0, 10),
    )
    def test_query_pages_through_exactly_the_matching_products(
        self,
        make_store: StoreFactory,
        attributes: list[tuple[str, str, str]],
        statuses: set[str] | None,
        customer_id: str | None,
        offering_id: str | None,
        offset: int,
        limit: int | None,
    ) -> None:
        with _fresh(make_store) as store:
            stored = [
                store.products.add(
                    _product(f"pr-{i}", status=status, customer_id=customer, offering_id=po)
                )
                for i, (status, customer, po) in enumerate(attributes)
            ]
            matching = [
                p
                for p in stored
                if (statuses is None or p.status in statuses)
                and (customer_id is None or p.related_party[0].id == customer_id)
                and (offering_id is None or p.product_offering.id == offering_id)
            ]
            where = ProductFilter(
                status=None if statuses is None else sorted(statuses),
                customer_id=customer_id,
                offering_id=offering_id,
            )
            _check_page(
                store.products.query(where, offset=offset, limit=limit), matching, offset, limit
            )
            assert _listed(store.products, where, page_size=3) == matching

    # ---------------------------------------------------------------- find_by_order_item

    def test_a_product_is_found_by_the_order_item_that_created_it(self, store: Store) -> None:
        store.products.add(_product("a", order_items=[("ord-1", "1")]))
        b = store.products.add(_product("b", order_items=[("ord-1", "2"), ("ord-2", "1")]))
        assert store.products.find_by_order_item("ord-1", "2") == b
        assert store.products.find_by_order_item("ord-2", "1") == b

    def test_an_unknown_order_item_finds_nothing(self, store: Store) -> None:
        store.products.add(_product("a", order_items=[("ord-1", "1")]))
        assert store.products.find_by_order_item("ord-1", "2") is None
        assert store.products.find_by_order_item("ord-2", "1") is None

    def test_order_item_lookup_follows_replace_and_remove(self, store: Store) -> None:
        stored = store.products.add(_product("a", order_items=[("ord-1", "1")]))
        moved = store.products.replace(
            attrs.evolve(stored, product_order_item=(OrderItemRef(order_id="ord-9", item_id="1"),))
        )
        assert store.products.find_by_order_item("ord-1", "1") is None
        assert store.products.find_by_order_item("ord-9", "1") == moved
        store.products.remove("a")
        assert store.products.find_by_order_item("ord-9", "1") is None


class StoreContract:
    """The unit of work of :class:`~etomkit.ports.Store`: ``transaction()``.

    Writes inside a block commit together; an exception inside rolls back every
    write of every repository and propagates; nested blocks join the outer one.
    Needs the ``make_store`` fixture (see the module docstring).
    """

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Store]:
        """A fresh store from the adapter's ``make_store`` fixture, closed afterwards."""
        with _fresh(make_store) as store:
            yield store

    @staticmethod
    def snapshot(store: Store) -> tuple[list[ProductOffering], list[Product]]:
        """Everything stored, in insertion order."""
        return _listed(store.offerings), _listed(store.products)

    def test_a_transaction_commits_writes_to_every_repository(self, store: Store) -> None:
        with store.transaction():
            po = store.offerings.add(_offering("po-1"))
            pr = store.products.add(_product("pr-1", offering_id="po-1"))
        assert self.snapshot(store) == ([po], [pr])

    def test_an_exception_rolls_back_every_write_of_every_repository(self, store: Store) -> None:
        po1, po2 = store.offerings.add(_offering("po-1")), store.offerings.add(_offering("po-2"))
        pr1 = store.products.add(_product("pr-1", order_items=[("ord-1", "1")]))
        pr2 = store.products.add(_product("pr-2", order_items=[("ord-2", "1")]))
        before = self.snapshot(store)

        def writes() -> None:
            store.offerings.add(_offering("po-3"))
            store.offerings.replace(attrs.evolve(po1, lifecycle_status="In design"))
            store.offerings.remove("po-2")
            store.products.add(_product("pr-3", order_items=[("ord-3", "1")]))
            store.products.replace(attrs.evolve(pr1, status="active"))
            store.products.remove("pr-2")

        with pytest.raises(_PlannedError):
            _fail_inside_transaction(store, writes)
        assert self.snapshot(store) == before
        assert (len(store.offerings), len(store.products)) == (2, 2)
        assert store.offerings.get("po-2") == po2
        assert store.products.find_by_order_item("ord-2", "1") == pr2
        assert store.products.find_by_order_item("ord-3", "1") is None

    def test_a_rollback_puts_removed_entities_back_in_their_place(self, store: Store) -> None:
        for i in range(4):
            store.offerings.add(_offering(f"po-{i}"))
        before = self.snapshot(store)

        def writes() -> None:
            store.offerings.remove("po-1")
            store.offerings.remove("po-0")
            store.offerings.add(_offering("po-0", name="again"))

        with pytest.raises(_PlannedError):
            _fail_inside_transaction(store, writes)
        assert self.snapshot(store) == before
        assert [o.id for o in store.offerings.query(offset=1, limit=2).items] == ["po-1", "po-2"]

    def test_nested_blocks_commit_with_the_outer_one(self, store: Store) -> None:
        with store.transaction():
            po = store.offerings.add(_offering("po-1"))
            with store.transaction():
                pr = store.products.add(_product("pr-1"))
        assert self.snapshot(store) == ([po], [pr])

    def test_nested_blocks_roll_back_with_the_outer_one(self, store: Store) -> None:
        seen_inside: list[bool] = []

        def writes() -> None:
            store.offerings.add(_offering("po-1"))
            with store.transaction():
                store.products.add(_product("pr-1"))
            seen_inside.append("pr-1" in store.products)

        with pytest.raises(_PlannedError):
            _fail_inside_transaction(store, writes)
        assert seen_inside == [True]  # the outer block saw the inner block's write
        assert self.snapshot(store) == ([], [])

    def test_a_refused_write_does_not_undo_the_others(self, store: Store) -> None:
        with store.transaction():
            po = store.offerings.add(_offering("po-1"))
            with pytest.raises(ConflictError):
                store.offerings.add(_offering("po-1"))
            with pytest.raises(NotFoundError):
                store.products.remove("pr-1")
        assert self.snapshot(store) == ([po], [])

    def test_the_store_takes_writes_after_a_rollback(self, store: Store) -> None:
        with pytest.raises(_PlannedError):
            _fail_inside_transaction(store, lambda: store.offerings.add(_offering("po-1")))
        stored = store.offerings.add(_offering("po-1"))
        assert stored.revision == 1
        assert self.snapshot(store) == ([stored], [])

    @_contract_settings
    @given(
        writes=st.lists(st.sampled_from(["add", "replace", "remove"]), max_size=8),
        fail=st.booleans(),
    )
    def test_a_transaction_is_all_or_nothing(
        self, make_store: StoreFactory, writes: list[str], fail: bool
    ) -> None:
        with _fresh(make_store) as store:
            for i in range(3):
                store.offerings.add(_offering(f"po-{i}"))
                store.products.add(_product(f"pr-{i}"))
            before = self.snapshot(store)
            expected_offerings = {o.id: o for o in before[0]}
            expected_products = {p.id: p for p in before[1]}
            try:
                with store.transaction():
                    for n, write in enumerate(writes):
                        if write == "add":
                            po = store.offerings.add(_offering(f"new-{n}"))
                            pr = store.products.add(_product(f"new-{n}"))
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
                        raise _PlannedError
            except _PlannedError:
                assert self.snapshot(store) == before
            else:
                assert self.snapshot(store) == (
                    list(expected_offerings.values()),
                    list(expected_products.values()),
                )
