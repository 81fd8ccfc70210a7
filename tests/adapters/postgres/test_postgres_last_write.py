"""PostgresStore round trips of a unit of work: reads before the first write need no
transaction, and a write announced as the unit's last (``expect_last_write``) is
one statement committing by itself. Counted on the wire: every statement psycopg
sends, and the round trips they take (a pipeline block is one)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import psycopg
import pytest
from tests.ordering.helpers import fibre, fibre_rules, fibre_specs, request

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore
from etomkit.model.issuance import IssuanceRecord
from etomkit.ordering import IssuanceResult, ResourceOrderIssuer, RuleSet
from etomkit.testing.contracts.ordering import issuance_record, resource_order

pytestmark = pytest.mark.usefixtures("postgres_conninfo")

Sent = list[tuple[int, str]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """``(round trip, first word)`` of each statement sent from now on, in order."""
    statements: Sent = []
    state: dict[str, object] = {"trips": 0, "pipeline": None}
    execute = psycopg.Connection.execute

    def counted(self: psycopg.Connection[Any], query: Any, *args: Any, **kw: Any) -> Any:
        pipeline = self._pipeline
        if pipeline is None or pipeline is not state["pipeline"]:
            state["trips"] = int(str(state["trips"])) + 1
        state["pipeline"] = pipeline
        text = query if isinstance(query, str | bytes) else query.as_string(self)
        text = text.decode() if isinstance(text, bytes) else text
        statements.append((int(str(state["trips"])), text.split(None, 1)[0].upper()))
        return execute(self, query, *args, **kw)

    monkeypatch.setattr(psycopg.Connection, "execute", counted)
    return statements


def _issuer(store: PostgresStore) -> ResourceOrderIssuer:
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    issuer.issue_many([request(fibre("1"), request_id="SO-warm")])  # statements prepared
    return issuer


def _trips(statements: Sent) -> int:
    return len({trip for trip, _ in statements})


def test_a_batch_of_one_request_is_two_round_trips_without_begin_or_commit(
    make_postgres_store: Callable[..., PostgresStore], sent: Sent
) -> None:
    store = make_postgres_store()
    issuer = _issuer(store)
    sent.clear()
    (result,) = issuer.issue_many([request(fibre("1"), fibre("2"), request_id="SO-1")])
    assert isinstance(result, IssuanceResult) and not result.replayed
    # the record and the catalogue read together, then one statement writing both
    assert [word for _, word in sent] == ["SELECT", "SELECT", "WITH"] and _trips(sent) == 2
    other = make_postgres_store(schema=store.schema, migrate=False)
    assert other.issuance_records.get(result.record.id) == result.record  # committed
    assert other.resource_orders.find_many([str(o.id) for o in result.orders]) == {
        o.id: o for o in result.orders
    }
    sent.clear()
    (again,) = issuer.issue_many([request(fibre("1"), fibre("2"), request_id="SO-1")])
    assert isinstance(again, IssuanceResult) and again.replayed and again.orders == result.orders
    assert _trips(sent) == 2  # the record, then its orders in one read


def test_issue_is_two_round_trips_without_begin_or_commit(
    make_postgres_store: Callable[..., PostgresStore], sent: Sent
) -> None:
    store = make_postgres_store()
    issuer = _issuer(store)
    sent.clear()
    result = issuer.issue(request(fibre("1"), request_id="SO-2"))
    assert not result.replayed
    # the idempotency read with the catalogue; the write
    assert [word for _, word in sent] == ["SELECT", "SELECT", "WITH"] and _trips(sent) == 2
    other = make_postgres_store(schema=store.schema, migrate=False)
    assert other.issuance_records.get(result.record.id) == result.record
    sent.clear()
    again = issuer.issue(request(fibre("1"), request_id="SO-2"))
    assert again.replayed and again.orders == result.orders and _trips(sent) == 2


def test_a_unit_that_only_reads_sends_no_begin_or_commit(
    make_postgres_store: Callable[..., PostgresStore], sent: Sent
) -> None:
    store = make_postgres_store()
    store.issuance_records.add(issuance_record("so:1"))
    sent.clear()
    with store.transaction():
        assert store.issuance_records.find_many(["so:1"]).keys() == {"so:1"}
        assert "so:2" not in store.issuance_records
    assert [w for _, w in sent] == ["SELECT", "SELECT"]


def test_a_write_after_the_announced_last_one_is_refused_and_that_one_stays(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    refused = pytest.raises(ek.StorageError, match="committed by the write")
    with refused, store.transaction():
        store.expect_last_write()
        store.add_issued([resource_order("ro-1")], [issuance_record("so:1")])
        store.resource_orders.add(resource_order("ro-2"))
    assert store.resource_orders.get("ro-1").revision == 1
    assert store.issuance_records.find("so:1") is not None
    assert store.resource_orders.find("ro-2") is None
    with store.transaction():  # the next unit is a unit again
        store.resource_orders.add(resource_order("ro-3"))
    assert store.resource_orders.find("ro-3") is not None


def test_a_request_issued_meanwhile_by_another_host_replays(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    """The record appears between the batch's idempotency read and its write: the
    write (one statement) is refused whole, and the request replays."""
    store = make_postgres_store()
    other = ResourceOrderIssuer(
        make_postgres_store(schema=store.schema, migrate=False), RuleSet(fibre_rules())
    )
    issuer = _issuer(store)
    wanted = request(fibre("1"), fibre("2"), request_id="SO-3")
    find_many = store.issuance_records.find_many
    first: list[IssuanceResult] = []

    def read_then_lose_the_race(ids: Iterable[str]) -> dict[str, IssuanceRecord]:
        found = find_many(ids)
        if not first:
            first.append(other.issue(wanted))
        return found

    store.issuance_records.find_many = read_then_lose_the_race  # type: ignore[method-assign]
    (result,) = issuer.issue_many([wanted, request(fibre("1"), request_id="SO-4")])[:1]
    assert isinstance(result, IssuanceResult) and result.replayed
    assert result.record == first[0].record and result.orders == first[0].orders
    assert len(store.issuance_records) == 3  # SO-warm, SO-3 once, SO-4
    orders = store.resource_orders.query().items
    assert len(orders) == len({o.id for o in orders}) == 1 + 2 + 1
