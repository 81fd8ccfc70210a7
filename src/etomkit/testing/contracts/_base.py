"""What every repository contract shares: the store factory, the generic
:class:`RepositoryContract` (add, get, find, replace, remove, query, iterate,
len, revisions, paging arguments) and small helpers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from etomkit.errors import ConflictError, NotFoundError, ValidationError
from etomkit.model.queries import Page
from etomkit.ports import Repository, Store

__all__ = [
    "StoreFactory",
    "RepositoryContract",
    "PlannedError",
    "contract_settings",
    "fresh",
    "listed",
]

StoreFactory = Callable[[], Store]
"""What the ``make_store`` fixture returns: each call makes a fresh, empty store.

For the whole kit (:class:`~etomkit.testing.contracts.StoreContract`) the store
holds every repository the services use: a :class:`~etomkit.ports.Store` that is
also an :class:`~etomkit.ports.OrderingStore` and has ``audit_runs`` and
``manual_audits``, as ``InMemoryStore`` and ``FileStore`` do."""


class _Entity(Protocol):
    """What a repository stores: an entity with an id and a revision."""

    @property
    def id(self) -> str | None: ...

    @property
    def revision(self) -> int: ...


E = TypeVar("E", bound=_Entity)
F = TypeVar("F")

#: Stores may do I/O (no deadline); each example makes its own store from the
#: factory fixture, and the same tests run for several adapters' classes.
contract_settings = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
_contract_settings = contract_settings  # the name etomkit 0.1 used

#: Paging arguments every ``query`` refuses with ValidationError.
BAD_PAGING: tuple[dict[str, Any], ...] = (
    {"offset": -1},
    {"offset": -(2**40)},
    {"limit": -1},
    {"offset": -1, "limit": -1},
    {"offset": 1.5},
    {"offset": "1"},
    {"offset": None},
    {"limit": "10"},
    {"limit": 2.5},
)


class PlannedError(Exception):
    """The failure the contracts raise inside units of work."""


_PlannedError = PlannedError


def fail_inside_transaction(store: Any, writes: Callable[[], object]) -> None:
    """Run ``writes`` in a transaction of ``store``, then fail it with _PlannedError."""
    with store.transaction():
        writes()
        raise PlannedError


@contextmanager
def fresh(make_store: Callable[[], Any]) -> Iterator[Any]:
    """A store from ``make_store``, closed afterwards."""
    store = make_store()
    try:
        yield store
    finally:
        store.close()


def listed(repo: Repository[E, F], where: F | None = None, *, page_size: int = 1000) -> list[E]:
    """``list(repo.iterate(...))``, but stopping one past ``len(repo)`` should it never end."""
    return list(itertools.islice(repo.iterate(where, page_size=page_size), len(repo) + 1))


def check_page(page: Page[E], everything: Sequence[E], offset: int, limit: int | None) -> None:
    """``page`` is the ``offset``/``limit`` slice of ``everything`` with the right totals."""
    end = None if limit is None else offset + limit
    assert list(page.items) == list(everything[offset:end])
    assert page.total == len(everything)
    assert (page.offset, page.limit) == (offset, limit)
    has_more = offset + len(page.items) < len(everything)
    assert page.next_offset == (offset + len(page.items) if has_more else None)


_fresh, _listed, _check_page = fresh, listed, check_page
_fail_inside_transaction = fail_inside_transaction


def _with(entity: E, **changes: Any) -> E:
    """``attrs.evolve`` for the entity type of a contract."""
    evolved: E = attrs.evolve(cast(Any, entity), **changes)
    return evolved


class RepositoryContract(Generic[E, F]):
    """What every repository does, whatever it stores; see the concrete contracts.

    A contract for another repository subclasses this and says which repository
    (:meth:`repository`), how to make a minimal entity (:meth:`entity`), how to
    change one (:meth:`changed`) and which rich entities it stores
    (:meth:`rich_entities`). ``port`` names the port it checks.
    """

    port: ClassVar[type]

    def repository(self, store: Any) -> Repository[E, F]:
        """The repository under test in ``store``."""
        raise NotImplementedError

    def entity(self, entity_id: str | None) -> E:
        """A minimal well-formed entity with ``entity_id``."""
        raise NotImplementedError

    def rich_entities(self) -> st.SearchStrategy[E]:
        """Well-formed entities using every field (ids included)."""
        raise NotImplementedError

    def changed(self, entity: E, label: str) -> E:
        """``entity`` with a change that keeps its index terms (default: its description)."""
        return _with(entity, description=label)

    def _stored(self, repo: Repository[E, F], count: int, prefix: str = "e") -> list[E]:
        return [repo.add(self.entity(f"{prefix}-{i}")) for i in range(count)]

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[Any]:
        """A fresh store from the adapter's ``make_store`` fixture, closed afterwards."""
        with fresh(make_store) as store:
            yield store

    @pytest.fixture
    def repo(self, store: Any) -> Repository[E, F]:
        """The repository under test, empty."""
        return self.repository(store)

    # ---------------------------------------------------------------- add, get, find

    def test_added_entity_is_stored_at_revision_one(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        assert stored == _with(self.entity("x-1"), revision=1)
        assert repo.get("x-1") == stored
        assert repo.find("x-1") == stored
        assert "x-1" in repo
        assert len(repo) == 1

    def test_add_ignores_the_revision_the_caller_brings(self, repo: Repository[E, F]) -> None:
        stored = repo.add(_with(self.entity("x-1"), revision=7))
        assert stored.revision == 1
        assert repo.get("x-1").revision == 1

    @contract_settings
    @given(data=st.data())
    def test_any_well_formed_entity_reads_back_equal(
        self, make_store: StoreFactory, data: st.DataObject
    ) -> None:
        entity = data.draw(self.rich_entities(), label="entity")
        with fresh(make_store) as store:
            repo = self.repository(store)
            stored = repo.add(entity)
            assert stored == _with(entity, revision=1)
            assert repo.get(str(entity.id)) == stored
            assert listed(repo) == [stored]

    def test_adding_a_taken_id_is_a_conflict(self, repo: Repository[E, F]) -> None:
        first = repo.add(self.entity("x-1"))
        with pytest.raises(ConflictError):
            repo.add(self.changed(self.entity("x-1"), "second"))
        assert repo.get("x-1") == first
        assert len(repo) == 1

    def test_adding_an_entity_without_id_is_refused(self, repo: Repository[E, F]) -> None:
        with pytest.raises(ValidationError):
            repo.add(self.entity(None))
        assert len(repo) == 0

    def test_an_entity_a_store_could_not_return_as_it_is_is_refused(
        self, repo: Repository[E, F]
    ) -> None:
        good: Any = self.entity("x-1")
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
        stored: Any = repo.add(good)
        if "description" in fields:
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
            lambda: repo.replace(_with(self.entity("gone"), revision=1)),
            lambda: repo.remove("gone"),
        ]
        for attempt in attempts:
            with pytest.raises(KeyError) as info:
                attempt()
            assert isinstance(info.value, NotFoundError)

    # ---------------------------------------------------------------- replace

    def test_replace_stores_the_change_at_the_next_revision(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        changed = repo.replace(self.changed(stored, "changed"))
        assert changed == _with(self.changed(stored, "changed"), revision=2)
        assert repo.get("x-1") == changed
        assert repo.replace(self.changed(changed, "again")).revision == 3

    def test_stale_replace_is_refused(self, repo: Repository[E, F]) -> None:
        read_by_alice = repo.add(self.entity("x-1"))
        read_by_bob = repo.get("x-1")
        alices = repo.replace(self.changed(read_by_alice, "Alice"))
        with pytest.raises(ConflictError):
            repo.replace(self.changed(read_by_bob, "Bob"))
        assert repo.get("x-1") == alices

    def test_replace_checks_an_explicit_expected_revision(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        unread = self.changed(self.entity("x-1"), "blind write")  # revision 0
        stored = repo.replace(unread, expected_revision=1)
        assert stored == _with(unread, revision=2)
        assert repo.get("x-1") == stored

    def test_a_wrong_explicit_expected_revision_is_refused(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        with pytest.raises(ConflictError):
            repo.replace(self.changed(stored, "x"), expected_revision=2)
        assert repo.get("x-1") == stored

    def test_replacing_a_missing_entity_raises_not_found(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        with pytest.raises(NotFoundError):
            repo.replace(_with(self.entity("x-2"), revision=1))
        assert "x-2" not in repo
        assert len(repo) == 1

    # ---------------------------------------------------------------- remove

    def test_remove_returns_the_entity_and_forgets_it(self, repo: Repository[E, F]) -> None:
        kept, removed = self._stored(repo, 2)
        assert repo.remove(str(removed.id)) == removed
        assert repo.find(str(removed.id)) is None
        assert removed.id not in repo
        assert listed(repo) == [kept]
        assert len(repo) == 1

    def test_removing_a_missing_entity_raises_not_found(self, repo: Repository[E, F]) -> None:
        repo.add(self.entity("x-1"))
        with pytest.raises(NotFoundError):
            repo.remove("x-2")
        assert len(repo) == 1

    def test_remove_with_a_stale_revision_is_refused(self, repo: Repository[E, F]) -> None:
        stored = repo.add(self.entity("x-1"))
        changed = repo.replace(self.changed(stored, "changed"))
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
        again = repo.add(_with(self.changed(first, "back"), revision=0))
        assert again.revision == 1
        assert listed(repo) == [second, again]

    # ---------------------------------------------------------------- query, iterate, len

    def test_len_counts_stored_entities(self, repo: Repository[E, F]) -> None:
        assert len(repo) == 0
        entities = self._stored(repo, 3)
        assert len(repo) == 3
        repo.replace(self.changed(entities[0], "changed"))
        assert len(repo) == 3
        repo.remove(str(entities[1].id))
        assert len(repo) == 2

    def test_query_without_filter_returns_everything_in_insertion_order(
        self, repo: Repository[E, F]
    ) -> None:
        ids = ["m", "b", "z", "a"]  # insertion order, not id order
        entities = [repo.add(self.entity(i)) for i in ids]
        page = repo.query()
        check_page(page, entities, 0, None)
        assert [e.id for e in page.items] == ids

    def test_query_past_the_end_is_an_empty_last_page(self, repo: Repository[E, F]) -> None:
        self._stored(repo, 3)
        page = repo.query(offset=5, limit=2)
        assert page.items == ()
        assert page.total == 3
        assert page.next_offset is None

    @contract_settings
    @given(
        count=st.integers(0, 12),
        offset=st.integers(0, 14),
        limit=st.none() | st.integers(0, 14),
    )
    def test_a_page_is_the_slice_of_all_entities_at_offset_and_limit(
        self, make_store: StoreFactory, count: int, offset: int, limit: int | None
    ) -> None:
        with fresh(make_store) as store:
            repo = self.repository(store)
            entities = self._stored(repo, count)
            check_page(repo.query(offset=offset, limit=limit), entities, offset, limit)

    @contract_settings
    @given(
        count=st.integers(0, 12),
        page_size=st.integers(1, 5),
        changed=st.sets(st.integers(0, 11)),
    )
    def test_pages_visit_every_entity_once_in_order_even_after_replaces(
        self, make_store: StoreFactory, count: int, page_size: int, changed: set[int]
    ) -> None:
        with fresh(make_store) as store:
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
                    repo.replace(self.changed(current, f"page {offset}"))
                offset = page.next_offset
                if offset is None:
                    break
            assert offset is None, "paging did not come to an end"
            assert seen == [e.id for e in entities]
            assert [e.id for e in repo.query().items] == seen

    @contract_settings
    @given(count=st.integers(0, 12), page_size=st.integers(1, 5))
    def test_iterate_yields_every_entity_in_insertion_order(
        self, make_store: StoreFactory, count: int, page_size: int
    ) -> None:
        with fresh(make_store) as store:
            repo = self.repository(store)
            entities = self._stored(repo, count)
            assert listed(repo, page_size=page_size) == entities

    # ---------------------------------------------------------------- paging arguments, revisions

    @pytest.mark.parametrize("paging", BAD_PAGING, ids=repr)
    def test_negative_or_absurd_paging_arguments_are_refused(
        self, repo: Repository[E, F], paging: dict[str, Any]
    ) -> None:
        self._stored(repo, 3)
        with pytest.raises(ValidationError):
            repo.query(**paging)

    @pytest.mark.parametrize("page_size", [0, -1])
    def test_iterating_with_a_page_size_below_one_is_refused(
        self, repo: Repository[E, F], page_size: int
    ) -> None:
        self._stored(repo, 3)
        with pytest.raises(ValidationError):
            list(itertools.islice(repo.iterate(page_size=page_size), 10))

    def test_a_huge_offset_or_limit_is_just_past_the_end(self, repo: Repository[E, F]) -> None:
        entities = self._stored(repo, 2)
        assert repo.query(offset=2**62).items == ()
        assert list(repo.query(limit=2**62).items) == entities

    def test_every_write_gives_a_strictly_higher_revision_read_back_at_once(
        self, repo: Repository[E, F]
    ) -> None:
        current = repo.add(self.entity("x-1"))
        seen = [current.revision]
        for n in range(4):
            current = repo.replace(self.changed(current, f"change {n}"))
            seen.append(current.revision)
            assert repo.get("x-1") == current
            assert list(repo.query().items) == [current]
        assert seen == [1, 2, 3, 4, 5]
        with pytest.raises(ConflictError):
            repo.remove("x-1", expected_revision=4)
        assert repo.remove("x-1", expected_revision=5) == current

    def test_iteration_is_stable_while_writing(self, repo: Repository[E, F]) -> None:
        entities = self._stored(repo, 7)
        seen: list[Any] = []
        for n, entity in enumerate(repo.iterate(page_size=2)):
            seen.append(entity.id)
            if n < 7:  # write while iterating: change one, add one
                current = repo.get(str(entities[(n + 3) % 7].id))
                repo.replace(self.changed(current, f"during {n}"))
                repo.add(self.entity(f"new-{n}"))
            if len(seen) > 30:
                break
        assert seen[:7] == [e.id for e in entities]
        added = seen[7:]
        assert len(added) == len(set(added)) <= 7  # new ones at the end, once, if at all
        assert [e.id for e in listed(repo)][:7] == seen[:7]
