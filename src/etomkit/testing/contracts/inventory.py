"""Contracts of the inventory's repositories: offerings (TMF620) and products (TMF637)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import hypothesis.strategies as st
from hypothesis import given

from etomkit.model import (
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    EntityRef,
    OrderItemRef,
    Product,
    ProductOffering,
    RelatedParty,
)
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.ports import OfferingRepository, ProductRepository, Repository
from etomkit.testing import strategies as ets
from etomkit.testing.contracts._base import (
    RepositoryContract,
    StoreFactory,
    check_page,
    contract_settings,
    fresh,
    listed,
)

__all__ = ["OfferingRepositoryContract", "ProductRepositoryContract", "offering", "product"]

_RICH_OFFERINGS = ets.product_offerings()  # built once: strategies validate on first use
_RICH_PRODUCTS = ets.products()
_OFFERING_STATES = OFFERING_LIFECYCLE.states
_PRODUCT_STATES = PRODUCT_LIFECYCLE.states


def offering(offering_id: str | None, **changes: Any) -> ProductOffering:
    """A minimal well-formed offering (``changes`` override its fields)."""
    return attrs.evolve(ProductOffering(id=offering_id, name=f"Offering {offering_id}"), **changes)


def product(
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


class OfferingRepositoryContract(RepositoryContract[ProductOffering, OfferingFilter]):
    """The contract of :class:`~etomkit.ports.OfferingRepository` (``store.offerings``).

    Needs the ``make_store`` fixture (see :mod:`etomkit.testing.contracts`).
    """

    port = OfferingRepository

    def repository(self, store: Any) -> Repository[ProductOffering, OfferingFilter]:
        return store.offerings  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> ProductOffering:
        return offering(entity_id)

    def rich_entities(self) -> st.SearchStrategy[ProductOffering]:
        return _RICH_OFFERINGS

    def test_query_by_one_lifecycle_status(
        self, repo: Repository[ProductOffering, OfferingFilter]
    ) -> None:
        a = repo.add(offering("a", lifecycle_status="Active"))
        repo.add(offering("b", lifecycle_status="Retired"))
        c = repo.add(offering("c", lifecycle_status="Active"))
        page = repo.query(OfferingFilter(lifecycle_status="Active"))
        assert page.items == (a, c)
        assert page.total == 2

    def test_query_by_several_lifecycle_statuses(
        self, repo: Repository[ProductOffering, OfferingFilter]
    ) -> None:
        a = repo.add(offering("a", lifecycle_status="Active"))
        repo.add(offering("b", lifecycle_status="Retired"))
        c = repo.add(offering("c", lifecycle_status="Launched"))
        page = repo.query(OfferingFilter(lifecycle_status=["Launched", "Active"]))
        assert page.items == (a, c)

    def test_query_by_category(self, repo: Repository[ProductOffering, OfferingFilter]) -> None:
        fibre, mobile = EntityRef(id="cat-fibre"), EntityRef(id="cat-mobile")
        a = repo.add(offering("a", category=(mobile, fibre)))
        repo.add(offering("b", category=(mobile,)))
        repo.add(offering("c"))
        assert repo.query(OfferingFilter(category_id="cat-fibre")).items == (a,)

    def test_query_by_name(self, repo: Repository[ProductOffering, OfferingFilter]) -> None:
        repo.add(offering("a", name="Fibre 1G"))
        b = repo.add(offering("b", name="Fibre 10G"))
        assert repo.query(OfferingFilter(name="Fibre 10G")).items == (b,)

    def test_query_follows_a_change_of_lifecycle_status(
        self, repo: Repository[ProductOffering, OfferingFilter]
    ) -> None:
        stored = repo.add(offering("a", lifecycle_status="Active"))
        retired = repo.replace(attrs.evolve(stored, lifecycle_status="Retired"))
        assert repo.query(OfferingFilter(lifecycle_status="Active")).total == 0
        assert repo.query(OfferingFilter(lifecycle_status="Retired")).items == (retired,)

    @contract_settings
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
        with fresh(make_store) as store:
            stored = [
                store.offerings.add(
                    offering(
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
            check_page(
                store.offerings.query(where, offset=offset, limit=limit), matching, offset, limit
            )
            assert listed(store.offerings, where, page_size=3) == matching


class ProductRepositoryContract(RepositoryContract[Product, ProductFilter]):
    """The contract of :class:`~etomkit.ports.ProductRepository` (``store.products``).

    Needs the ``make_store`` fixture (see :mod:`etomkit.testing.contracts`).
    """

    port = ProductRepository

    def repository(self, store: Any) -> Repository[Product, ProductFilter]:
        return store.products  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> Product:
        return product(entity_id)

    def rich_entities(self) -> st.SearchStrategy[Product]:
        return _RICH_PRODUCTS

    def test_query_by_one_status(self, repo: Repository[Product, ProductFilter]) -> None:
        a = repo.add(product("a", status="active"))
        repo.add(product("b", status="terminated"))
        assert repo.query(ProductFilter(status="active")).items == (a,)

    def test_query_by_several_statuses(self, repo: Repository[Product, ProductFilter]) -> None:
        a = repo.add(product("a", status="active"))
        b = repo.add(product("b", status="suspended"))
        repo.add(product("c", status="terminated"))
        assert repo.query(ProductFilter(status=("suspended", "active"))).items == (a, b)

    def test_query_by_customer(self, repo: Repository[Product, ProductFilter]) -> None:
        a = repo.add(product("a", customer_id="alice"))
        repo.add(product("b", customer_id="bob"))
        c = repo.add(product("c", customer_id="alice"))
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
        a = repo.add(product("a", related_party=parties))
        assert repo.query(ProductFilter(customer_id="alice")).items == (a,)
        assert repo.query(ProductFilter(customer_id="reseller")).total == 0

    def test_query_byoffering(self, repo: Repository[Product, ProductFilter]) -> None:
        repo.add(product("a", offering_id="po-1"))
        b = repo.add(product("b", offering_id="po-2"))
        assert repo.query(ProductFilter(offering_id="po-2")).items == (b,)

    def test_query_follows_a_change_of_customer_andoffering(
        self, repo: Repository[Product, ProductFilter]
    ) -> None:
        stored = repo.add(product("a", customer_id="alice", offering_id="po-1"))
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

    @contract_settings
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
        with fresh(make_store) as store:
            stored = [
                store.products.add(
                    product(f"pr-{i}", status=status, customer_id=customer, offering_id=po)
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
            check_page(
                store.products.query(where, offset=offset, limit=limit), matching, offset, limit
            )
            assert listed(store.products, where, page_size=3) == matching

    # ---------------------------------------------------------------- find_by_order_item

    def test_a_product_is_found_by_the_order_item_that_created_it(self, store: Any) -> None:
        store.products.add(product("a", order_items=[("ord-1", "1")]))
        b = store.products.add(product("b", order_items=[("ord-1", "2"), ("ord-2", "1")]))
        assert store.products.find_by_order_item("ord-1", "2") == b
        assert store.products.find_by_order_item("ord-2", "1") == b

    def test_an_unknown_order_item_finds_nothing(self, store: Any) -> None:
        store.products.add(product("a", order_items=[("ord-1", "1")]))
        assert store.products.find_by_order_item("ord-1", "2") is None
        assert store.products.find_by_order_item("ord-2", "1") is None

    def test_order_item_lookup_follows_replace_and_remove(self, store: Any) -> None:
        stored = store.products.add(product("a", order_items=[("ord-1", "1")]))
        moved = store.products.replace(
            attrs.evolve(stored, product_order_item=(OrderItemRef(order_id="ord-9", item_id="1"),))
        )
        assert store.products.find_by_order_item("ord-1", "1") is None
        assert store.products.find_by_order_item("ord-9", "1") == moved
        store.products.remove("a")
        assert store.products.find_by_order_item("ord-9", "1") is None
