"""Buckets alike but for their rule refs share one BucketShape (ordering/index.py) and
one generated plan: they still issue what the general path issues, with their own refs,
and rules that test differently (``True`` is not ``1``) never share."""

from __future__ import annotations

from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.ordering.test_fastpath import _issuer, _outcomes, requests, rule_sets

import etomkit as ek
from etomkit.model.issuance import InitiatingRequest, RuleRef, request_item
from etomkit.ordering import (
    AllOf,
    AnyOf,
    Eq,
    FromService,
    In,
    ItemTemplate,
    Not,
    Predicate,
    Range,
    Regex,
    Rule,
    RuleSet,
    fastpath,
)
from etomkit.ordering.index import predicate_key


def _kin(predicate: Predicate | None) -> Predicate | None:
    """The predicate with its booleans as integers and its 0/1 integers as booleans."""

    def swap(value: Any) -> Any:
        if type(value) is bool:
            return int(value)
        return bool(value) if type(value) is int and value in (0, 1) else value

    if isinstance(predicate, Eq):
        return Eq(predicate.characteristic, swap(predicate.value))
    if isinstance(predicate, In):
        return In(predicate.characteristic, [swap(v) for v in predicate.values])
    if isinstance(predicate, AllOf | AnyOf):
        return type(predicate)([p for p in map(_kin, predicate.predicates) if p is not None])
    if isinstance(predicate, Not):
        inner = _kin(predicate.predicate)
        assert inner is not None
        return Not(inner)
    return predicate


@st.composite
def catalogues(draw: st.DrawFn) -> list[Rule]:
    """Rules for s0; the same rules for s1 under other ids and versions (one shape
    with s0); for s2 the same with booleans and 0/1 swapped in the predicates."""
    base = [attrs.evolve(r, specification="s0") for r in draw(rule_sets())]
    return [
        *base,
        *(attrs.evolve(r, id=f"s1-{r.id}", specification="s1", version="2") for r in base),
        *(attrs.evolve(r, id=f"s2-{r.id}", specification="s2", when=_kin(r.when)) for r in base),
    ]


@settings(max_examples=200)
@given(rules=catalogues(), batch=requests())
def test_buckets_of_one_shape_issue_what_the_general_path_issues(
    rules: list[Rule], batch: list[InitiatingRequest]
) -> None:
    general = _outcomes(_issuer(rules, generated=False), batch, 1)
    assert _outcomes(_issuer(rules, generated=True), batch, 1) == general  # compiled at once
    assert _outcomes(_issuer(rules, generated=True), batch, 10**9) == general  # interpreted
    assert _outcomes(_issuer(rules, generated=True), batch, 2) == general  # both
    adds = RuleSet(rules).index.adds
    if "s0" in adds:
        assert adds["s1"][0] is adds["s0"][0]  # one shape
        assert adds["s1"][1] == tuple((RuleRef(f"s1-{r.id}", "2"),) for (r,) in adds["s0"][1])


def test_predicates_share_a_key_only_when_they_test_alike() -> None:
    assert predicate_key(Eq("c", True)) == predicate_key(Eq("c", True))
    assert predicate_key(Eq("c", True)) != predicate_key(Eq("c", 1))
    assert predicate_key(Eq("b", 1)) != predicate_key(Eq("b", 1.0))
    assert predicate_key(In("a", ["p", "q"])) != predicate_key(In("a", ["p"]))
    assert predicate_key(Range(characteristic="b", min=1)) != predicate_key(
        Range(characteristic="b", min=1, min_exclusive=True)
    )
    assert predicate_key(Regex("a", "^p")) == predicate_key(Regex("a", "^p"))
    assert predicate_key(AllOf([Eq("a", "p")])) != predicate_key(AnyOf([Eq("a", "p")]))
    assert predicate_key(Not(Eq("a", "p"))) == predicate_key(Not(Eq("a", "p")))

    @attrs.frozen
    class Odd(Eq):
        pass

    assert predicate_key(Odd("a", "p")) != predicate_key(Odd("a", "p"))  # its own
    assert predicate_key(Eq("a", ("p",))) != predicate_key(Eq("a", ("p",)))  # not a scalar


def _rule(spec: str, rule_id: str, **changes: Any) -> Rule:
    template = ItemTemplate(
        resource_specification="r0", characteristics={"x": FromService("a", map={"p": "q"})}
    )
    fields: dict[str, Any] = {"when": Eq("c", True), "produces": [template], **changes}
    return Rule(id=rule_id, specification=spec, **fields)


def test_only_buckets_alike_but_for_their_refs_share_a_shape() -> None:
    index = RuleSet(
        [
            _rule("s0", "a"),
            _rule("s1", "b", version="7"),  # another id and version: the same shape
            _rule("s2", "c", when=Eq("c", 1)),
            _rule("s3", "d", specification_version="2"),
            _rule("s4", "e", final=True),
            _rule("s5", "f", requires_feasibility=True),
            _rule("s6", "g", produces=[ItemTemplate(resource_specification="r0")]),
        ]
    ).index
    shapes = [index.adds[f"s{n}"][0] for n in range(7)]
    assert shapes[1] is shapes[0]
    assert len({id(s) for s in shapes}) == 6 == len(index.shapes)
    assert index.adds["s1"][1] == ((RuleRef("b", "7"),),)


@mock.patch.object(fastpath, "COMPILE_AFTER", 1)
def test_a_shared_plan_names_the_rules_of_the_item_it_issues() -> None:
    issuer = _issuer([_rule("s0", "a"), _rule("s1", "b", version="7")], generated=True)

    def one(n: int, spec: str, value: str) -> InitiatingRequest:
        item = request_item("1", "add", spec, {"a": value, "c": True})
        return InitiatingRequest(kind="serviceOrder", id=f"SO-{n}", items=(item,))

    first = issuer.issue(one(1, "s0", "p"))  # compiles the shape
    assert first.record.items[0].rules == (RuleRef("a", "1"),)
    second = issuer.issue(one(2, "s1", "p"))
    assert second.record.items[0].rules == (RuleRef("b", "7"),)
    assert second.orders[0].order_item[0].characteristics == {"x": "q"}
    with pytest.raises(ek.ValidationError, match=r"rule b@7 has no mapping"):
        issuer.issue(one(3, "s1", "z"))
    again = issuer.issue(one(4, "s1", "p"))
    assert again.record.items[0].rules is second.record.items[0].rules  # one tuple kept


def test_interpreted_buckets_keep_one_tuple_of_refs_per_rule_too() -> None:
    issuer = _issuer([_rule("s0", "a")], generated=True)
    first, second = (
        issuer.issue(
            InitiatingRequest(
                kind="serviceOrder",
                id=f"SO-{n}",
                items=(request_item("1", "add", "s0", {"a": "p", "c": True}),),
            )
        )
        for n in (1, 2)
    )
    assert issuer._planner._codes[0].checks is None  # type: ignore[union-attr]  # interpreted
    assert first.record.items[0].rules is second.record.items[0].rules


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (FromService("a", map={"p": 1}), FromService("a", map={"p": True})),
        (FromService("a", map={"p": 1}), FromService("a", map={"p": 1.0})),
        (FromService("a", default=0), FromService("a", default=False)),
        (FromService("a", map={1: "q"}), FromService("a", map={True: "r"})),
    ],
)
@pytest.mark.parametrize("generated", [False, True])
def test_templates_whose_values_differ_only_in_type_are_never_shared(
    one: FromService, other: FromService, generated: bool
) -> None:
    """``1 == True == 1.0`` in Python: a template key blind to types let the second
    rule issue the first rule's value (r2 constrains no characteristic)."""

    def rule(spec: str, rule_id: str, source: FromService) -> Rule:
        template = ItemTemplate(resource_specification="r2", characteristics={"x": source})
        return _rule(spec, rule_id, produces=[template])

    issuer = _issuer([rule("s0", "a", one), rule("s1", "b", other)], generated=generated)
    service_value = {"a": 1} if 1 in (one.map or {}) else {"a": "p"} if one.map else {}
    issued = []
    for n, spec in enumerate(["s0", "s1"] * 3):
        item = request_item("1", "add", spec, {**service_value, "c": True})
        request = InitiatingRequest(kind="serviceOrder", id=f"SO-{n}", items=(item,))
        with mock.patch.object(fastpath, "COMPILE_AFTER", 1):
            orders = issuer.issue(request).orders
        chars = [c for o in orders for i in o.order_item for c in i.characteristic if c.name == "x"]
        issued.append([(type(c.value), c.value) for c in chars])
    key = next(iter(service_value.values()), None)
    wanted = [
        [(type(v), v)]
        for v in (
            (source.map or {}).get(key, source.default) if source.map else source.default
            for source in (one, other)
        )
    ]
    assert issued == wanted * 3
