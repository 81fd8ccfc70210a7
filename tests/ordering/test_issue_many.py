"""issue_many ≡ issue() on each request in order (a differential property test),
and a batch is one unit of work: one commit, one fsync on a FileStore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.ordering.helpers import StubFeasibility, fibre, fibre_rules, fibre_specs, request
from tests.ordering.test_properties import ANSWERS, ASSESSED, items, resource_specs, rule_sets

import etomkit as ek
from etomkit.adapters.file import journal
from etomkit.model.issuance import InitiatingRequest
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer, Rule, RuleSet


def _issuer(rules: list[Rule], answer: str) -> ResourceOrderIssuer:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(resource_specs())
    checker = StubFeasibility(
        feasible=answer != "no", items=ASSESSED if answer == "own items" else ()
    )
    return ResourceOrderIssuer(
        store,
        RuleSet(rules),
        feasibility=checker,
        clock=ek.ManualClock(),
        ids=ek.SequentialIdFactory(),
    )


@st.composite
def request_streams(draw: st.DrawFn) -> list[Any]:
    """Requests with replays, changed payloads under a used id, and bad input."""
    stream: list[Any] = []
    for n in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["new", "new", "new", "replay", "changed", "bad"]))
        if kind == "replay" and stream:
            stream.append(draw(st.sampled_from(stream)))
        elif kind == "changed" and stream:
            used = draw(st.sampled_from(stream))
            used_id = used.id if isinstance(used, InitiatingRequest) else f"SO-{n}"
            stream.append(
                InitiatingRequest(kind="serviceOrder", id=used_id, items=tuple(draw(items())))
            )
        elif kind == "bad":
            stream.append(draw(st.sampled_from(["not a request", 42, None])))
        else:
            stream.append(
                InitiatingRequest(kind="serviceOrder", id=f"SO-{n}", items=tuple(draw(items())))
            )
    return stream


def _outcome(value: object) -> object:
    if isinstance(value, ek.EtomkitError):
        return (type(value).__name__, str(value))
    return value


def _one_by_one(issuer: ResourceOrderIssuer, stream: list[Any]) -> list[object]:
    out: list[object] = []
    for req in stream:
        try:
            out.append(issuer.issue(req))
        except ek.EtomkitError as e:
            out.append(e)
    return [_outcome(o) for o in out]


def _contents(issuer: ResourceOrderIssuer) -> tuple[list[Any], ...]:
    store = issuer.store
    return (
        list(store.resource_orders.iterate()),
        list(store.issuance_records.iterate()),
        list(store.feasibility_assessments.iterate()),
    )


@given(
    rules=rule_sets(),
    stream=request_streams(),
    answer=ANSWERS,
    cuts=st.lists(st.integers(1, 4), min_size=1, max_size=6),
)
def test_issue_many_gives_exactly_what_issue_gives_request_by_request(
    rules: list[Rule], stream: list[Any], answer: str, cuts: list[int]
) -> None:
    one = _issuer(rules, answer)
    expected = _one_by_one(one, stream)
    many = _issuer(rules, answer)
    got: list[object] = []
    start, n = 0, 0
    while start < len(stream):
        size = cuts[n % len(cuts)]
        got.extend(_outcome(o) for o in many.issue_many(stream[start : start + size]))
        start, n = start + size, n + 1
    assert got == expected
    assert _contents(many) == _contents(one)
    assert many.provisioning.hand_offs == one.provisioning.hand_offs  # type: ignore[attr-defined]


def test_a_bad_request_in_a_batch_stores_nothing_of_its_own_and_spares_the_others() -> None:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    good = request(fibre("1"), request_id="SO-1")
    bad = request(fibre("1", service_id="svc-1"), request_id="SO-2")  # an add naming a service
    with pytest.raises(ek.ValidationError):
        ResourceOrderIssuer(InMemoryOrderingStore(), RuleSet(fibre_rules())).issue(bad)
    outcomes = issuer.issue_many([good, bad, good, "junk"])  # type: ignore[list-item]
    first, refused, again, junk = outcomes
    assert isinstance(first, ek.ordering.IssuanceResult) and not first.replayed
    assert isinstance(refused, ek.ValidationError)
    assert isinstance(again, ek.ordering.IssuanceResult) and again.replayed
    assert again.record == first.record
    assert isinstance(junk, ek.ValidationError)
    assert [r.id for r in store.issuance_records.iterate()] == [first.record.id]
    assert len(store.resource_orders) == len(first.orders)


def test_a_batch_on_a_file_store_is_one_commit_with_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ek.FileStore(tmp_path / "store", durability="batch")
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    syncs: list[int] = []
    real = journal._fdatasync

    def counting(fd: int) -> None:
        syncs.append(fd)
        real(fd)

    monkeypatch.setattr(journal, "_fdatasync", counting)
    outcomes = issuer.issue_many(
        [request(fibre("1"), fibre("2", bandwidth="10G"), request_id=f"SO-{n}") for n in range(50)]
    )
    results = [o for o in outcomes if isinstance(o, ek.ordering.IssuanceResult)]
    assert len(results) == 50
    assert len(syncs) == 1
    store.close()
    reopened = ek.FileStore(tmp_path / "store")
    assert len(reopened.issuance_records) == 50
    assert len(reopened.resource_orders) == sum(len(r.orders) for r in results)
    reopened.close()
