"""Contracts of the access-control and usage ports (issue #5): clients and the usage log.

``ClientRepositoryContract`` needs the ``make_store`` fixture (see
:mod:`etomkit.testing.contracts`); ``UsageLogContract`` needs ``make_log``, a
fixture returning a callable that makes a fresh, empty UsageLog::

    class TestMyLog(UsageLogContract):
        @pytest.fixture
        def make_log(self, tmp_path_factory):
            return lambda: MyUsageLog(tmp_path_factory.mktemp("log"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etomkit.model.client import ClientFilter, ClientRegistration, Permission, SecretHash
from etomkit.model.usage import OUTCOMES, UsageRecord
from etomkit.ports import ClientRepository, Repository, UsageLog
from etomkit.testing.contracts._base import RepositoryContract, contract_settings

__all__ = ["ClientRepositoryContract", "UsageLogFactory", "UsageLogContract", "usage_records"]

UsageLogFactory = Callable[[], UsageLog]
_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_names = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12)


def _client(client_id: str | None, **changes: object) -> ClientRegistration:
    fields: dict[str, object] = {"id": client_id, "name": f"client {client_id}"}
    fields.update(changes)
    return ClientRegistration(**fields)  # type: ignore[arg-type]


_RICH_CLIENTS = st.builds(
    ClientRegistration,
    id=_names,
    name=_names,
    permissions=st.lists(
        st.builds(
            Permission,
            st.sampled_from(["offering", "product"]),
            st.sampled_from(["create", "read", "download"]),
            st.none() | st.frozensets(_names, min_size=1, max_size=3),
        ),
        max_size=4,
    ).map(tuple),
    secret_hash=st.builds(
        SecretHash,
        algorithm=st.just("scrypt"),
        salt=st.just("00" * 16),
        digest=st.just("11" * 32),
        n=st.just(16384),
        r=st.just(8),
        p=st.just(1),
    ),
    status=st.sampled_from(["active", "revoked"]),
    description=st.none() | _names,
    registered_at=st.just(_T0),
)


class ClientRepositoryContract(RepositoryContract[ClientRegistration, ClientFilter]):
    """The contract of :class:`~etomkit.ports.ClientRepository` (``store.clients``)."""

    port = ClientRepository

    def repository(self, store: Any) -> Repository[ClientRegistration, ClientFilter]:
        return store.clients  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> ClientRegistration:
        return _client(entity_id)

    def rich_entities(self) -> st.SearchStrategy[ClientRegistration]:
        return _RICH_CLIENTS

    def test_query_by_status(self, repo: Repository[ClientRegistration, ClientFilter]) -> None:
        a = repo.add(_client("a"))
        repo.add(_client("b", status="revoked"))
        page = repo.query(ClientFilter(status="active"))
        assert page.items == (a,)

    def test_query_by_name(self, repo: Repository[ClientRegistration, ClientFilter]) -> None:
        repo.add(_client("a", name="crm"))
        b = repo.add(_client("b", name="billing"))
        assert repo.query(ClientFilter(name="billing")).items == (b,)


def usage_records(start: datetime = _T0) -> st.SearchStrategy[UsageRecord]:
    """Well-formed usage records at or after ``start`` (every field used)."""
    return st.builds(
        UsageRecord,
        at=st.integers(0, 10**6).map(lambda s: start + timedelta(seconds=s)),
        client_id=_names,
        client_name=st.none() | _names,
        operation=st.sampled_from(["get_offering", "create_offering", "list_products"]),
        action=st.sampled_from(["read", "create"]),
        entity_type=st.sampled_from(["offering", "product"]),
        outcome=st.sampled_from(OUTCOMES),
        entity_ids=st.lists(_names, max_size=3).map(tuple),
        count=st.integers(0, 1000),
        calls=st.integers(1, 1000),
        duration_ns=st.none() | st.integers(0, 10**10),
        cost_units=st.floats(0, 1e6, allow_nan=False),
        error=st.none() | _names,
    )


class UsageLogContract:
    """What every UsageLog does. Needs the ``make_log`` fixture."""

    port = UsageLog

    @pytest.fixture
    def log(self, make_log: UsageLogFactory) -> Iterator[UsageLog]:
        """A fresh, empty log, closed afterwards."""
        log = make_log()
        try:
            yield log
        finally:
            log.close()

    def test_a_new_log_is_empty(self, log: UsageLog) -> None:
        assert len(log) == 0
        assert list(log.records()) == []

    @contract_settings
    @given(batches=st.lists(st.lists(usage_records(), max_size=5), max_size=4))
    def test_records_read_back_equal_in_append_order(
        self, make_log: UsageLogFactory, batches: list[list[UsageRecord]]
    ) -> None:
        log = make_log()
        try:
            for batch in batches:
                log.append(batch)
            everything = [r for batch in batches for r in batch]
            assert list(log.records()) == everything
            assert len(log) == len(everything)
        finally:
            log.close()

    def test_since_and_until_select_a_half_open_range(self, log: UsageLog) -> None:
        records = [
            UsageRecord(at=_T0 + timedelta(hours=h), client_id="c", operation="get_offering",
                        action="read", entity_type="offering")
            for h in range(5)
        ]  # fmt: skip
        log.append(records)
        since, until = _T0 + timedelta(hours=1), _T0 + timedelta(hours=3)
        assert list(log.records(since=since, until=until)) == records[1:3]

    def test_rows_and_records_are_the_same_thing(self, log: UsageLog) -> None:
        record = UsageRecord(at=_T0, client_id="c", operation="create_offering",
                             action="create", entity_type="offering", entity_ids=("o-1",),
                             count=1, duration_ns=1500, cost_units=5.0)  # fmt: skip
        log.append_rows([(_T0.timestamp(), *list(_as_row(record))[1:])])
        assert list(log.records()) == [record]

    def test_flush_keeps_every_record(self, log: UsageLog) -> None:
        record = UsageRecord(at=_T0, client_id="c", operation="get_offering",
                             action="read", entity_type="offering")  # fmt: skip
        log.append([record])
        log.flush()
        assert list(log.records()) == [record]


def _as_row(record: UsageRecord) -> tuple[object, ...]:
    from etomkit.model.usage import usage_row

    return usage_row(record)
