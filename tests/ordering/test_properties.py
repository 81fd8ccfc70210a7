"""Properties of issuing over random rule sets and requests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.ordering.helpers import StubFeasibility, char_spec

import etomkit as ek
from etomkit.model.issuance import InitiatingRequest, request_item
from etomkit.model.orders import ServiceOrderItem
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
    SpecificationCheck,
)
from etomkit.model.values import Characteristic, EntityRef
from etomkit.ordering import (
    Eq,
    FromService,
    In,
    InMemoryOrderingStore,
    ItemTemplate,
    Range,
    ResourceOrderIssuer,
    Rule,
    RuleSet,
)

SERVICES = ["s0", "s1", "s2"]


def resource_specs() -> list[ResourceSpecification]:
    return [
        ResourceSpecification(
            id="r0", resource_spec_characteristic=(char_spec("x", "string", ["p", "q"]),)
        ),
        ResourceSpecification(
            id="r1",
            resource_spec_characteristic=(
                ResourceSpecificationCharacteristic(
                    name="y",
                    value_type="integer",
                    resource_spec_characteristic_value=(
                        CharacteristicValueSpecification(value_from=0, value_to=10),
                    ),
                ),
            ),
        ),
        ResourceSpecification(id="r2"),  # lists no characteristics: constrains none
    ]


TEMPLATES = st.one_of(
    st.builds(
        ItemTemplate,
        resource_specification=st.just("r0"),
        characteristics=st.fixed_dictionaries(
            {"x": st.one_of(st.sampled_from(["p", "q", "z"]), st.just(FromService("a")))}
        ),
    ),
    st.builds(
        ItemTemplate,
        resource_specification=st.just("r1"),
        characteristics=st.one_of(
            st.just({}),
            st.fixed_dictionaries({"y": st.one_of(st.integers(-1, 11), st.just(FromService("b")))}),
        ),
    ),
    st.builds(
        ItemTemplate,
        resource_specification=st.just("r2"),
        quantity=st.integers(1, 3),
        characteristics=st.dictionaries(st.sampled_from(["k", "m"]), st.integers(0, 3)),
    ),
)
CONDITIONS = st.one_of(
    st.none(),
    st.builds(Eq, st.just("a"), st.sampled_from(["p", "q"])),
    st.builds(In, st.just("b"), st.lists(st.integers(0, 12), min_size=1, max_size=3)),
    st.builds(Range, characteristic=st.just("b"), min=st.integers(0, 6), max=st.integers(6, 12)),
)


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    rules = []
    for n in range(draw(st.integers(1, 6))):
        special = draw(st.booleans()) and draw(st.booleans())
        produces = draw(st.lists(TEMPLATES, min_size=0 if special else 1, max_size=3))
        rules.append(
            Rule(
                id=f"rule-{n}",
                specification=draw(st.sampled_from(SERVICES)),
                action=draw(
                    st.sampled_from(
                        [("add",), ("add",), ("add", "modify"), ("modify",), ("delete",)]
                    )
                ),
                when=draw(CONDITIONS),
                produces=produces,
                priority=draw(st.integers(0, 3)),
                special=special,
                final=draw(st.booleans()) and draw(st.booleans()),
                requires_feasibility=draw(st.booleans()) and draw(st.booleans()),
            )
        )
    return rules


@st.composite
def items(draw: st.DrawFn) -> list[ServiceOrderItem]:
    out = []
    for n in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["add", "add", "add", "modify", "delete", "noChange"]))
        chars: dict[str, Any] = draw(
            st.fixed_dictionaries(
                {},
                optional={"a": st.sampled_from(["p", "q", "p", "z"]), "b": st.integers(-1, 12)},
            )
        )
        service_id = None if action == "add" else f"svc-{draw(st.integers(0, 2))}"
        out.append(
            request_item(
                str(n + 1), action, draw(st.sampled_from(SERVICES)), chars, service_id=service_id
            )
        )
    return out


ASSESSED = (
    ResourceOrderItem(
        id="1",
        resource_specification=EntityRef(id="r0"),
        characteristic=(Characteristic(name="x", value="q"),),
    ),
)
#: What the feasibility checker answers: yes, yes with its own items, or no.
ANSWERS = st.sampled_from(["yes", "own items", "no"])


def fresh_issuer(rules: RuleSet, answer: str) -> ResourceOrderIssuer:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(resource_specs())
    checker = StubFeasibility(
        feasible=answer != "no", items=ASSESSED if answer == "own items" else ()
    )
    return ResourceOrderIssuer(
        store,
        rules,
        feasibility=checker,
        clock=ek.ManualClock(),
        ids=ek.SequentialIdFactory(),
    )


def issue_all(
    issuer: ResourceOrderIssuer, requests: list[InitiatingRequest]
) -> list[ek.ordering.IssuanceResult | ek.ValidationError]:
    """Issue each request; a ValidationError is kept as the outcome."""
    out: list[ek.ordering.IssuanceResult | ek.ValidationError] = []
    for req in requests:
        try:
            out.append(issuer.issue(req))
        except ek.ValidationError as exc:
            out.append(exc)
    return out


REQUESTS = st.lists(items(), min_size=1, max_size=3).map(
    lambda batches: [
        InitiatingRequest(kind="serviceOrder", id=f"SO-{n}", items=tuple(batch))
        for n, batch in enumerate(batches)
    ]
)


@given(rules=rule_sets(), requests=REQUESTS, answer=ANSWERS)
def test_the_same_requests_and_rules_always_give_the_same_orders(
    rules: list[Rule], requests: list[InitiatingRequest], answer: str
) -> None:
    rule_set = RuleSet(rules)
    first = issue_all(fresh_issuer(rule_set, answer), requests)
    second = issue_all(fresh_issuer(RuleSet(rules), answer), requests)
    assert [_comparable(r) for r in first] == [_comparable(r) for r in second]


def _comparable(outcome: object) -> object:
    if isinstance(outcome, ek.ValidationError):
        return ("error", outcome.problems)
    return outcome


@given(rules=rule_sets(), requests=REQUESTS, answer=ANSWERS)
def test_every_issued_item_satisfies_its_specification_and_every_item_is_accounted_for(
    rules: list[Rule], requests: list[InitiatingRequest], answer: str
) -> None:
    issuer = fresh_issuer(RuleSet(rules), answer)
    store = issuer.store
    checks = {s.id: SpecificationCheck(s) for s in resource_specs()}
    referenced: list[str] = []
    for req, outcome in zip(requests, issue_all(issuer, requests), strict=True):
        if isinstance(outcome, ek.ValidationError):
            assert issuer.record_of(req) is None  # an incomplete request issues nothing
            continue
        record = outcome.record
        assert [e.item_id for e in record.items] == [i.id for i in req.items]
        assert all(e.outcome in ek.model.issuance.OUTCOMES for e in record.items)
        referenced += record.resource_order_ids
        for order in outcome.orders:
            for item in order.order_item:
                if item.action in ("add", "modify"):
                    spec = item.resource_specification
                    assert spec is not None
                    assert checks[spec.id].problems(item.characteristics) == []
    stored_ids = [o.id or "" for o in store.resource_orders.iterate()]
    assert sorted(referenced) == sorted(stored_ids)  # each stored order recorded exactly once
    assert len(set(referenced)) == len(referenced)


@given(rules=rule_sets(), batch=items(), answer=ANSWERS)
def test_explain_predicts_what_issue_does(
    rules: list[Rule], batch: list[ServiceOrderItem], answer: str
) -> None:
    issuer = fresh_issuer(RuleSet(rules), answer)
    req = InitiatingRequest(kind="serviceOrder", id="SO-1", items=tuple(batch))
    explanation = issuer.explain(req, consult_feasibility=True)
    if not explanation.would_issue:
        with pytest.raises(ek.ValidationError) as caught:
            issuer.issue(req)
        assert caught.value.problems == explanation.problems
        return
    result = issuer.issue(req)
    assert [i.outcome for i in explanation.items] == [e.outcome for e in result.record.items]
    assert [i.matched for i in explanation.items] == [e.rules for e in result.record.items]
    produced = [
        orders[0].order_item if orders else ()
        for orders in (result.orders_for(e.item_id) for e in result.record.items)
    ]
    assert [i.produced for i in explanation.items] == produced


@pytest.mark.parametrize("special", [False, True])
def test_the_fast_path_and_the_general_path_issue_the_same_items(special: bool) -> None:
    rules = RuleSet(
        [
            Rule(
                id="r",
                specification="s0",
                produces=[
                    ItemTemplate(
                        resource_specification="r0", characteristics={"x": FromService("a")}
                    ),
                    ItemTemplate(resource_specification="r2", characteristics={"k": 1}),
                ],
            )
        ]
    )
    issuer = fresh_issuer(rules, "yes")
    req = InitiatingRequest(
        kind="serviceOrder",
        id="SO-1",
        items=(request_item("1", "add", "s0", {"a": "p"}),),
        special=special,
    )
    (order,) = issuer.issue(req).orders
    assert [i.characteristics for i in order.order_item] == [{"x": "p"}, {"k": 1}]
    assert order.special_handling is special
