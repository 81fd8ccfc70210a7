"""issue_many ≡ issue() on each request in order (a differential property test),
and a batch is one unit of work: one commit, one fsync on a FileStore."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.ordering.helpers import StubFeasibility, fibre, fibre_rules, fibre_specs, request
from tests.ordering.test_properties import ANSWERS, ASSESSED, items, resource_specs, rule_sets

import etomkit as ek
from etomkit.adapters.file import journal
from etomkit.model.canonical import storable_problems
from etomkit.model.issuance import InitiatingRequest, request_item
from etomkit.model.orders import RelatedServiceOrderItem, ServiceOrderItem, ServiceRefOrValue
from etomkit.ordering import (
    InMemoryOrderingStore,
    ItemTemplate,
    ResourceOrderIssuer,
    Rule,
    RuleSet,
)


def _issuer(rules: list[Rule], answer: str, ids: Any = None) -> ResourceOrderIssuer:
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
        ids=ids or ek.SequentialIdFactory(),
    )


def _follow_up(draw: st.DrawFn, earlier: InitiatingRequest, n: int) -> InitiatingRequest:
    """A request modifying or deleting the services an earlier request's items added,
    found by the earlier order item (TMF641 RelatedServiceOrderItem)."""
    out = []
    for k, item in enumerate(earlier.items[: draw(st.integers(1, 3))]):
        service = item.service
        related = RelatedServiceOrderItem(item_id=item.id, service_order_id=earlier.id)
        out.append(
            ServiceOrderItem(
                id=str(k + 1),
                action=draw(st.sampled_from(["modify", "delete"])),
                service=ServiceRefOrValue(
                    service_specification=service.service_specification,
                    service_characteristic=service.service_characteristic,
                    service_order_item=(related,),
                ),
            )
        )
    return InitiatingRequest(kind="serviceOrder", id=f"SO-{n}", items=tuple(out))


@st.composite
def request_streams(draw: st.DrawFn) -> list[Any]:
    """Requests with replays, changed payloads under a used id, follow-ups that modify
    or delete what an earlier request added, and bad input."""
    stream: list[Any] = []
    for n in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["new", "new", "new", "replay", "changed", "follow", "bad"]))
        earlier = [r for r in stream if isinstance(r, InitiatingRequest)]
        if kind == "follow" and earlier:
            stream.append(_follow_up(draw, draw(st.sampled_from(earlier)), n))
        elif kind == "replay" and stream:
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
    assert many.feasibility.asked == one.feasibility.asked  # type: ignore[union-attr]
    for stored in [entity for group in _contents(many) for entity in group]:
        assert storable_problems(stored) == []  # what the batch wrote unchecked is storable


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


class _OneId:
    """An IdFactory handing out the same order id every time (a clash)."""

    def __init__(self) -> None:
        self.inner = ek.SequentialIdFactory()

    def new_id(self, entity: str) -> str:
        return "ro-clash" if entity == "ResourceOrder" else self.inner.new_id(entity)


def test_a_clash_in_the_batched_write_is_attributed_request_by_request() -> None:
    rules = [
        Rule(
            id="r",
            specification="s0",
            action="add",
            produces=[ItemTemplate(resource_specification="r2")],
        )
    ]
    stream = [
        InitiatingRequest(
            kind="serviceOrder", id=f"SO-{n}", items=(request_item("1", "add", "s0"),)
        )
        for n in range(3)
    ]
    one = _issuer(rules, "yes", _OneId())
    expected = _one_by_one(one, stream)
    many = _issuer(rules, "yes", _OneId())
    got = [_outcome(o) for o in many.issue_many(stream)]
    assert [type(o).__name__ for o in got] == ["IssuanceResult", "tuple", "tuple"]
    assert got[1][0] == "DuplicateKeyError"  # type: ignore[index]
    assert got == expected
    assert _contents(many) == _contents(one)


def test_a_dropped_issuer_is_freed_without_the_garbage_collector() -> None:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    issuer.issue_many([request(fibre("1"))])
    gone, store_gone = weakref.ref(issuer), weakref.ref(store)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del issuer
        assert gone() is None
        del store
        assert store_gone() is None
    finally:
        if enabled:
            gc.enable()


class _UnstorableAnswer(StubFeasibility):
    """Answers with an assessment a store cannot read back (a lone surrogate)."""

    def assess(self, request: Any, item: Any, proposed: Any) -> Any:
        return attrs.evolve(super().assess(request, item, proposed), reason="\ud800")


def test_an_unstorable_assessment_fails_its_request_only_and_asks_once() -> None:
    rules = [
        Rule(
            id="r",
            specification="s0",
            action="add",
            produces=[ItemTemplate(resource_specification="r2")],
            requires_feasibility=True,
        ),
        Rule(
            id="q",
            specification="s1",
            action="add",
            produces=[ItemTemplate(resource_specification="r2")],
        ),
    ]
    stream = [
        InitiatingRequest(kind="serviceOrder", id="SO-1", items=(request_item("1", "add", "s1"),)),
        InitiatingRequest(kind="serviceOrder", id="SO-2", items=(request_item("1", "add", "s0"),)),
        InitiatingRequest(kind="serviceOrder", id="SO-3", items=(request_item("1", "add", "s1"),)),
    ]
    issuers = []
    for _ in range(2):
        store = InMemoryOrderingStore()
        store.resource_specifications.add_all(resource_specs())
        issuers.append(
            ResourceOrderIssuer(
                store,
                RuleSet(rules),
                feasibility=_UnstorableAnswer(),
                clock=ek.ManualClock(),
                ids=ek.SequentialIdFactory(),
            )
        )
    one, many = issuers
    expected = _one_by_one(one, stream)
    got = [_outcome(o) for o in many.issue_many(stream)]
    assert got == expected
    assert got[1][0] == "ValidationError"  # type: ignore[index]
    assert len(many.feasibility.asked) == 1  # type: ignore[union-attr]
    assert [r.id for r in many.store.issuance_records.iterate()] == [
        "serviceOrder:SO-1",
        "serviceOrder:SO-3",
    ]
    assert _contents(many) == _contents(one)


class _HintlessRepository:
    """A repository of an adapter written before the port's optional steps:
    it forwards the port's methods and has no ``expect_*`` hint."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("expect_"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._inner

    def __len__(self) -> int:
        return len(self._inner)


class _DuckStore:
    """An OrderingStore by duck typing (no ABC, so no ``add_issued``)."""

    def __init__(self) -> None:
        inner = InMemoryOrderingStore()
        self.transaction = inner.transaction
        self.resource_orders = _HintlessRepository(inner.resource_orders)
        self.issuance_records = _HintlessRepository(inner.issuance_records)
        self.feasibility_assessments = _HintlessRepository(inner.feasibility_assessments)
        self.resource_specifications = _HintlessRepository(inner.resource_specifications)


def test_a_store_without_the_ports_optional_steps_still_issues() -> None:
    store = _DuckStore()
    store.resource_specifications.add_all(fibre_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()), clock=ek.ManualClock())  # type: ignore[arg-type]
    first = issuer.issue(request(request_id="SO-1"))
    outcomes = issuer.issue_many([request(request_id="SO-2"), request(request_id="SO-1")])
    assert first.orders and not first.replayed
    assert [type(o).__name__ for o in outcomes] == ["IssuanceResult", "IssuanceResult"]
    assert outcomes[1].replayed and not outcomes[0].replayed  # type: ignore[union-attr]
    assert len(store.issuance_records) == 2
