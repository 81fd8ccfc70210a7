"""A hypothesis state machine that checks a Store against a plain-dict model.

:class:`StoreStateMachine` adds, replaces (with the right, a stale or an
explicit expected revision) and removes offerings and products, and, when the
store holds the issuer's repositories (an ``OrderingStore`` too), resource
orders and issuance records; it queries pages, runs transactions that commit
or roll back, and nested transactions whose inner block fails (an injected
failure the outer block catches: exactly the inner writes are dropped). After
every step it checks that the store holds exactly what the model holds, in
insertion order, and that every order item finds the product it belongs to.

Subclass it, supply :meth:`~StoreStateMachine.make_store` and run its
``TestCase``::

    class InMemoryStoreMachine(StoreStateMachine):
        def make_store(self) -> Store:
            return InMemoryStore()

    TestInMemoryStoreMachine = InMemoryStoreMachine.TestCase

A durable adapter sets ``supports_reopen = True`` and overrides
:meth:`~StoreStateMachine.reopen` (close the store, open it again from its
files); the machine then also closes and reopens the store between steps and
expects nothing to be lost. Entities are lean by default (ids, names,
statuses, categories, parties); set ``offering_values``/``product_values`` to
:func:`etomkit.testing.strategies.product_offerings` /
:func:`~etomkit.testing.strategies.products` to store every field.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, TypeVar

import attrs
import hypothesis.strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from etomkit.errors import ConflictError, NotFoundError
from etomkit.model import (
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    EntityRef,
    OrderItemRef,
    Product,
    ProductOffering,
    RelatedParty,
)
from etomkit.model.issuance import InitiatingRequest, IssuanceRecord
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.model.resource_order import RESOURCE_ORDER_LIFECYCLE, ResourceOrder, ResourceOrderItem
from etomkit.ports import Repository, Store

__all__ = ["StoreStateMachine"]

E = TypeVar("E", ProductOffering, Product, ResourceOrder, IssuanceRecord)

OFFERING_IDS = tuple(f"po-{i}" for i in range(5))
PRODUCT_IDS = tuple(f"pr-{i}" for i in range(5))
RESOURCE_ORDER_IDS = tuple(f"ro-{i}" for i in range(4))
RECORD_IDS = tuple(f"serviceOrder:so-{i}" for i in range(4))
_STATUSES = OFFERING_LIFECYCLE.states[:4]
_PRODUCT_STATUSES = PRODUCT_LIFECYCLE.states[:4]
_NAMES = ("Fibre 1G", "DSL", "Mobile")
_CATEGORIES = ("cat-fibre", "cat-mobile", "cat-tv")
_CUSTOMERS = ("alice", "bob", "carol")

_LEAN_OFFERINGS = st.builds(
    ProductOffering,
    name=st.sampled_from(_NAMES),
    lifecycle_status=st.sampled_from(_STATUSES),
    category=st.lists(st.sampled_from(_CATEGORIES), max_size=2, unique=True).map(
        lambda ids: tuple(EntityRef(id=i) for i in ids)
    ),
    description=st.none() | st.text(max_size=5),
)
_LEAN_PRODUCTS = st.builds(
    Product,
    product_offering=st.sampled_from(OFFERING_IDS).map(lambda i: EntityRef(id=i)),
    related_party=st.sampled_from(_CUSTOMERS).map(lambda c: (RelatedParty(id=c, role="customer"),)),
    status=st.sampled_from(_PRODUCT_STATUSES),
    description=st.none() | st.text(max_size=5),
)

_LEAN_RESOURCE_ORDERS = st.builds(
    ResourceOrder,
    state=st.sampled_from(RESOURCE_ORDER_LIFECYCLE.states[:4]),
    order_item=st.just((ResourceOrderItem(id="1"),)),
    special_handling=st.booleans(),
    description=st.none() | st.text(max_size=5),
)
_LEAN_RECORDS = st.builds(
    lambda source: IssuanceRecord(
        id="", request=InitiatingRequest(kind="serviceOrder", id="so", items=(), source=source),
        items=(),
    ),
    st.sampled_from(("serviceOrdering", "partner", "troubleTicketing")),
)  # fmt: skip

#: How a replace or remove states the revision it is based on.
_REVISION_MODES = ("read", "stale", "explicit", "explicit-stale")


class _RollbackError(Exception):
    """Raised inside a transaction the machine wants rolled back."""


class StoreStateMachine(RuleBasedStateMachine):
    """Drives ``store.offerings`` and ``store.products`` and checks them against dicts.

    The model is one dict per repository (id -> stored entity); a dict keeps
    insertion order, keeps a replaced key in place and moves a re-added key to
    the end, which is what the ports promise.
    """

    #: Set True (and override :meth:`reopen`) to add a close/reopen step.
    supports_reopen: ClassVar[bool] = False
    #: Entities to store (their ids, revisions and order items are set by the machine).
    offering_values: ClassVar[st.SearchStrategy[ProductOffering]] = _LEAN_OFFERINGS
    product_values: ClassVar[st.SearchStrategy[Product]] = _LEAN_PRODUCTS

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.offerings: dict[str, ProductOffering] = {}
        self.products: dict[str, Product] = {}
        self.resource_orders: dict[str, ResourceOrder] = {}
        self.issuance_records: dict[str, IssuanceRecord] = {}
        #: the issuer's repositories too, if the store has them
        self.ordering = hasattr(self.store, "resource_orders") and hasattr(
            self.store, "issuance_records"
        )
        self._order_numbers = itertools.count(1)
        self._issued_order_items: list[tuple[str, str]] = []

    # ---------------------------------------------------------------- hooks

    def make_store(self) -> Store:
        """A fresh, empty store (subclasses must override)."""
        raise NotImplementedError("subclasses of StoreStateMachine supply make_store()")

    def reopen(self, store: Store) -> Store:
        """Close ``store`` and open it again from where it keeps its data."""
        raise NotImplementedError("set supports_reopen = True and override reopen()")

    def teardown(self) -> None:
        self.store.close()

    # ---------------------------------------------------------------- checked operations

    def _add(self, repo: Repository[E, Any], model: dict[str, E], entity: E) -> None:
        entity_id = str(entity.id)
        if entity_id in model:
            try:
                repo.add(entity)
            except ConflictError:
                return
            raise AssertionError(f"adding the taken id {entity_id!r} was not refused")
        stored = repo.add(entity)
        assert stored == attrs.evolve(entity, revision=1)
        model[entity_id] = stored

    def _replace(
        self,
        repo: Repository[E, Any],
        model: dict[str, E],
        entity: E,
        mode: str,
        skew: int,
    ) -> None:
        entity_id = str(entity.id)
        current = model.get(entity_id)
        if current is None:
            try:
                repo.replace(attrs.evolve(entity, revision=1))
            except NotFoundError:
                return
            raise AssertionError(f"replacing the missing {entity_id!r} did not raise NotFoundError")
        right, stale = current.revision, current.revision + skew
        sent, expected = {
            "read": (attrs.evolve(entity, revision=right), None),
            "stale": (attrs.evolve(entity, revision=stale), None),
            "explicit": (entity, right),  # the entity's own revision does not count
            "explicit-stale": (attrs.evolve(entity, revision=right), stale),
        }[mode]
        if mode.endswith("stale"):
            try:
                repo.replace(sent, expected_revision=expected)
            except ConflictError:
                return
            raise AssertionError(f"a {mode} replace of {entity_id!r} was not refused")
        stored = repo.replace(sent, expected_revision=expected)
        assert stored == attrs.evolve(entity, revision=right + 1)
        model[entity_id] = stored

    def _remove(
        self, repo: Repository[E, Any], model: dict[str, E], entity_id: str, mode: str, skew: int
    ) -> None:
        current = model.get(entity_id)
        if current is None:
            try:
                repo.remove(entity_id, None if mode == "read" else skew)
            except NotFoundError:
                return
            raise AssertionError(f"removing the missing {entity_id!r} did not raise NotFoundError")
        expected = {
            "read": None,
            "stale": current.revision + skew,
            "explicit": current.revision,
            "explicit-stale": current.revision + skew,
        }[mode]
        if mode.endswith("stale"):
            try:
                repo.remove(entity_id, expected)
            except ConflictError:
                return
            raise AssertionError(f"a {mode} remove of {entity_id!r} was not refused")
        assert repo.remove(entity_id, expected) == current
        del model[entity_id]

    def _with_new_order_items(self, product: Product, count: int) -> Product:
        """``product`` holding ``count`` order items never issued before."""
        items = []
        for _ in range(count):
            key = (f"ord-{next(self._order_numbers)}", "1")
            self._issued_order_items.append(key)
            items.append(OrderItemRef(order_id=key[0], item_id=key[1]))
        return attrs.evolve(product, product_order_item=tuple(items))

    def _write(self, data: st.DataObject) -> None:
        """One write, drawn from ``data``: add, replace or remove, offering or product."""
        action = data.draw(st.sampled_from(("add", "replace", "remove")), label="action")
        mode = data.draw(st.sampled_from(_REVISION_MODES), label="mode")
        skew = data.draw(st.sampled_from((-1, 1, 2)), label="skew")
        if self.ordering and data.draw(st.integers(0, 3), label="issuer's?") == 0:
            self._ordering_write(data, action, mode, skew)
            return
        if data.draw(st.booleans(), label="offering?"):
            entity_id = data.draw(st.sampled_from(OFFERING_IDS), label="offering id")
            repo_o, model_o = self.store.offerings, self.offerings
            if action == "remove":
                self._remove(repo_o, model_o, entity_id, mode, skew)
                return
            offering = attrs.evolve(data.draw(self.offering_values, label="offering"), id=entity_id)
            if action == "add":
                self._add(repo_o, model_o, offering)
            else:
                self._replace(repo_o, model_o, offering, mode, skew)
            return
        entity_id = data.draw(st.sampled_from(PRODUCT_IDS), label="product id")
        repo_p, model_p = self.store.products, self.products
        if action == "remove":
            self._remove(repo_p, model_p, entity_id, mode, skew)
            return
        product = attrs.evolve(data.draw(self.product_values, label="product"), id=entity_id)
        product = self._with_new_order_items(product, data.draw(st.integers(0, 2), label="items"))
        if action == "add":
            self._add(repo_p, model_p, product)
        else:
            self._replace(repo_p, model_p, product, mode, skew)

    def _ordering_write(self, data: st.DataObject, action: str, mode: str, skew: int) -> None:
        """One write to the issuer's repositories: a resource order or an issuance record."""
        store: Any = self.store
        repo: Any
        model: dict[str, Any]
        values: st.SearchStrategy[Any]
        if data.draw(st.booleans(), label="resource order?"):
            entity_id = data.draw(st.sampled_from(RESOURCE_ORDER_IDS), label="order id")
            repo, model, values = store.resource_orders, self.resource_orders, _LEAN_RESOURCE_ORDERS
        else:
            entity_id = data.draw(st.sampled_from(RECORD_IDS), label="record id")
            repo, model, values = store.issuance_records, self.issuance_records, _LEAN_RECORDS
        if action == "remove":
            self._remove(repo, model, entity_id, mode, skew)
            return
        drawn: Any = data.draw(values, label="entity")
        entity = attrs.evolve(drawn, id=entity_id)
        if action == "add":
            self._add(repo, model, entity)
        else:
            self._replace(repo, model, entity, mode, skew)

    def _snapshot(self) -> tuple[dict[str, Any], ...]:
        return (
            dict(self.offerings),
            dict(self.products),
            dict(self.resource_orders),
            dict(self.issuance_records),
        )

    def _restore(self, snapshot: tuple[dict[str, Any], ...]) -> None:
        self.offerings, self.products, self.resource_orders, self.issuance_records = (
            dict(m) for m in snapshot
        )

    # ---------------------------------------------------------------- rules

    @rule(data=st.data())
    def write(self, data: st.DataObject) -> None:
        self._write(data)

    @rule(data=st.data(), count=st.integers(0, 4), nested=st.booleans(), commit=st.booleans())
    def transaction(self, data: st.DataObject, count: int, nested: bool, commit: bool) -> None:
        before = self._snapshot()
        try:
            with self.store.transaction():
                self._write(data)
                if nested:
                    with self.store.transaction():
                        for _ in range(count):
                            self._write(data)
                else:
                    for _ in range(count):
                        self._write(data)
                self.check_store_matches_model()  # the block sees its own writes
                if not commit:
                    raise _RollbackError
        except _RollbackError:
            self._restore(before)

    @rule(
        data=st.data(),
        inner=st.integers(1, 4),
        after=st.integers(0, 2),
        outer_fails=st.booleans(),
    )
    def nested_transaction_with_an_injected_failure(
        self, data: st.DataObject, inner: int, after: int, outer_fails: bool
    ) -> None:
        """An inner block fails and the outer one catches it: exactly the inner writes go."""
        before = self._snapshot()
        try:
            with self.store.transaction():
                self._write(data)
                mark = self._snapshot()
                try:
                    with self.store.transaction():
                        for _ in range(inner):
                            self._write(data)
                        raise _RollbackError
                except _RollbackError:
                    self._restore(mark)
                self.check_store_matches_model()  # the outer block lives on without them
                for _ in range(after):
                    self._write(data)
                if outer_fails:
                    raise _RollbackError
        except _RollbackError:
            self._restore(before)

    @rule(
        statuses=st.none() | st.lists(st.sampled_from(_STATUSES), min_size=1, max_size=2),
        category_id=st.none() | st.sampled_from(_CATEGORIES),
        name=st.none() | st.sampled_from(_NAMES),
        offset=st.integers(0, 6),
        limit=st.none() | st.integers(0, 4),
    )
    def query_offerings(
        self,
        statuses: list[str] | None,
        category_id: str | None,
        name: str | None,
        offset: int,
        limit: int | None,
    ) -> None:
        where = OfferingFilter(lifecycle_status=statuses, category_id=category_id, name=name)
        matching = [
            o
            for o in self.offerings.values()
            if (statuses is None or o.lifecycle_status in statuses)
            and (category_id is None or category_id in {c.id for c in o.category})
            and (name is None or o.name == name)
        ]
        self._check_page(self.store.offerings, where, matching, offset, limit)

    @rule(
        statuses=st.none() | st.lists(st.sampled_from(_PRODUCT_STATUSES), min_size=1, max_size=2),
        customer_id=st.none() | st.sampled_from(_CUSTOMERS),
        offering_id=st.none() | st.sampled_from(OFFERING_IDS),
        offset=st.integers(0, 6),
        limit=st.none() | st.integers(0, 4),
    )
    def query_products(
        self,
        statuses: list[str] | None,
        customer_id: str | None,
        offering_id: str | None,
        offset: int,
        limit: int | None,
    ) -> None:
        where = ProductFilter(status=statuses, customer_id=customer_id, offering_id=offering_id)
        matching = [
            p
            for p in self.products.values()
            if (statuses is None or p.status in statuses)
            and (customer_id is None or p.customer_id == customer_id)
            and (offering_id is None or p.product_offering.id == offering_id)
        ]
        self._check_page(self.store.products, where, matching, offset, limit)

    @staticmethod
    def _check_page(
        repo: Repository[E, Any], where: Any, matching: list[E], offset: int, limit: int | None
    ) -> None:
        page = repo.query(where, offset=offset, limit=limit)
        end = None if limit is None else offset + limit
        assert list(page.items) == matching[offset:end]
        assert page.total == len(matching)
        assert page.next_offset == (
            offset + len(page.items) if offset + len(page.items) < len(matching) else None
        )

    @precondition(lambda self: self.supports_reopen)
    @rule()
    def close_and_reopen(self) -> None:
        self.store = self.reopen(self.store)

    # ---------------------------------------------------------------- invariants

    @invariant()
    def check_store_matches_model(self) -> None:
        self._check_repository(self.store.offerings, self.offerings, OFFERING_IDS)
        self._check_repository(self.store.products, self.products, PRODUCT_IDS)
        if self.ordering:
            store: Any = self.store
            self._check_repository(store.resource_orders, self.resource_orders, RESOURCE_ORDER_IDS)
            self._check_repository(store.issuance_records, self.issuance_records, RECORD_IDS)
        holders = {item.key: p for p in self.products.values() for item in p.product_order_item}
        for order_id, item_id in self._issued_order_items:
            found = self.store.products.find_by_order_item(order_id, item_id)
            assert found == holders.get((order_id, item_id)), (order_id, item_id)

    @staticmethod
    def _check_repository(
        repo: Repository[E, Any], model: dict[str, E], ids: tuple[str, ...]
    ) -> None:
        stored = list(itertools.islice(repo.iterate(), len(model) + 1))  # even if it never ends
        assert stored == list(model.values())
        assert len(repo) == len(model)
        for entity_id in ids:
            assert repo.find(entity_id) == model.get(entity_id)
            assert (entity_id in repo) == (entity_id in model)
