"""The standard path (ordering/fastpath.py: buckets interpreted, then compiled) issues
what the general path issues: the same orders, records, ids and errors, over generated
rule sets and requests."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.ordering.helpers import StubFeasibility, char_spec

import etomkit as ek
from etomkit.model.issuance import InitiatingRequest, request_item
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.model.values import EntityRef
from etomkit.ordering import (
    AllOf,
    AnyOf,
    Eq,
    Exists,
    FromService,
    In,
    InMemoryOrderingStore,
    ItemTemplate,
    Ne,
    Not,
    Range,
    ResourceOrderIssuer,
    Rule,
    RuleSet,
    fastpath,
)
from etomkit.ordering.fastpath import compile_bucket


def _specs() -> list[ResourceSpecification]:
    y = ResourceSpecificationCharacteristic(
        name="y",
        value_type="integer",
        resource_spec_characteristic_value=(
            CharacteristicValueSpecification(value_from=0, value_to=10),
        ),
    )
    w = ResourceSpecificationCharacteristic(
        name="w",
        value_type="number",
        min_cardinality=1,
        resource_spec_characteristic_value=(
            CharacteristicValueSpecification(value_from=2, value_to=9, range_interval="open"),
            CharacteristicValueSpecification(value_from=20, value_to=30),
        ),
    )
    return [
        ResourceSpecification(
            id="r0", resource_spec_characteristic=(char_spec("x", "string", ["p", "q"]),)
        ),
        ResourceSpecification(id="r1", version="1", resource_spec_characteristic=(y,)),
        ResourceSpecification(id="r2"),  # lists no characteristics: constrains none
        ResourceSpecification(
            id="r3", resource_spec_characteristic=(char_spec("z", "string", ["p"]), w)
        ),
    ]


MAP = {"p": "q", "q": "p", "z": "zz", "1": "p"}
TEMPLATES = st.one_of(
    # constants (accepted or not), one mapped value, copied values, unknown specifications
    st.builds(
        ItemTemplate,
        resource_specification=st.just("r0"),
        characteristics=st.fixed_dictionaries(
            {
                "x": st.one_of(
                    st.sampled_from(["p", "q", "z"]),
                    st.just(FromService("a")),
                    st.builds(
                        FromService,
                        st.just("a"),
                        map=st.just(MAP),
                        default=st.sampled_from(["p", "zz"]),
                    ),
                    st.just(FromService("a", map=MAP)),
                )
            }
        ),
        action=st.sampled_from([None, None, "modify"]),
    ),
    st.builds(
        ItemTemplate,
        resource_specification=st.sampled_from(["r1", EntityRef(id="r1", version="2")]),
        characteristics=st.one_of(
            st.just({}),
            st.fixed_dictionaries({"y": st.one_of(st.integers(-1, 11), st.just(FromService("b")))}),
        ),
    ),
    st.builds(
        ItemTemplate,
        resource_specification=st.sampled_from(["r2", "missing"]),
        quantity=st.integers(1, 3),
        characteristics=st.dictionaries(st.sampled_from(["k", "m"]), st.integers(0, 3)),
    ),
    st.builds(
        ItemTemplate,
        resource_specification=st.just("r3"),
        characteristics=st.fixed_dictionaries(
            {"w": st.sampled_from([FromService("b"), FromService("b", default=25)])},
            optional={"z": st.sampled_from(["p", "q"]), "b": st.just(FromService("b"))},
        ),
    ),
)
LEAVES = st.one_of(
    st.builds(Eq, st.just("a"), st.sampled_from(["p", "q"])),
    st.builds(Eq, st.just("c"), st.booleans()),
    st.builds(Eq, st.just("b"), st.integers(0, 3)),
    st.builds(Ne, st.just("a"), st.sampled_from(["p", "q"])),
    st.builds(In, st.just("a"), st.lists(st.sampled_from(["p", "q", "z"]), min_size=1)),
    st.builds(In, st.just("b"), st.lists(st.integers(0, 12), min_size=1, max_size=3)),
    st.builds(Exists, st.sampled_from(["a", "b"]), st.booleans()),
    st.builds(Range, characteristic=st.just("b"), min=st.integers(0, 6), max=st.integers(6, 12)),
)
CONDITIONS = st.one_of(
    st.none(),
    LEAVES,
    st.builds(AllOf, st.lists(LEAVES, max_size=3)),
    st.builds(AnyOf, st.lists(LEAVES, max_size=3)),
    st.builds(Not, LEAVES),
)


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    rules = []
    for n in range(draw(st.integers(1, 7))):
        special = draw(st.booleans()) and draw(st.booleans())
        rules.append(
            Rule(
                id=f"rule-{n}",
                specification=draw(st.sampled_from(["s0", "s1"])),
                action=draw(st.sampled_from([("add",), ("add",), ("add", "modify")])),
                when=draw(CONDITIONS),
                produces=draw(st.lists(TEMPLATES, min_size=0 if special else 1, max_size=3)),
                priority=draw(st.integers(0, 3)),
                special=special,
                final=draw(st.booleans()) and draw(st.booleans()),
                requires_feasibility=draw(st.booleans()) and draw(st.booleans()),
                specification_version=draw(st.sampled_from([None, None, "1"])),
            )
        )
    return rules


@st.composite
def requests(draw: st.DrawFn) -> list[InitiatingRequest]:
    out = []
    for r in range(draw(st.integers(1, 3))):
        items = []
        for n in range(draw(st.integers(1, 6))):
            chars: dict[str, Any] = draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "a": st.sampled_from(["p", "q", "z", 1, "w"]),
                        "b": st.one_of(st.integers(-1, 31), st.just(5.5), st.just("3")),
                        "c": st.booleans(),
                    },
                )
            )
            spec = EntityRef(
                id=draw(st.sampled_from(["s0", "s1", "s2"])),
                version=draw(st.sampled_from([None, "1", "2"])),
            )
            action = draw(st.sampled_from(["add", "add", "add", "add", "noChange"]))
            item_id = str(n + 1) if draw(st.integers(0, 9)) else "1"  # sometimes repeated
            service_id = None if action == "add" else "svc-1"
            items.append(request_item(item_id, action, spec, chars, service_id=service_id))
        out.append(InitiatingRequest(kind="serviceOrder", id=f"SO-{r}", items=tuple(items)))
    return out


def _issuer(rules: list[Rule], generated: bool) -> ResourceOrderIssuer:
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(_specs())
    issuer = ResourceOrderIssuer(
        store,
        RuleSet(rules),
        feasibility=StubFeasibility(feasible=True),
        clock=ek.ManualClock(),
        ids=ek.SequentialIdFactory(),
    )
    issuer._planner.generated = generated
    return issuer


def _outcomes(
    issuer: ResourceOrderIssuer, batch: list[InitiatingRequest], compile_after: int
) -> list[object]:
    out: list[object] = []
    for req in batch:
        try:
            with mock.patch.object(fastpath, "COMPILE_AFTER", compile_after):
                result = issuer.issue(req)
        except ek.EtomkitError as exc:
            out.append((type(exc), str(exc)))
        else:
            out.append((result.record, result.orders))
    return out


@settings(max_examples=300)
@given(rules=rule_sets(), batch=requests())
def test_generated_and_interpreted_buckets_issue_what_the_general_path_issues(
    rules: list[Rule], batch: list[InitiatingRequest]
) -> None:
    general = _outcomes(_issuer(rules, generated=False), batch, 1)
    assert _outcomes(_issuer(rules, generated=True), batch, 1) == general  # compiled at once
    assert _outcomes(_issuer(rules, generated=True), batch, 10**9) == general  # interpreted
    assert _outcomes(_issuer(rules, generated=True), batch, 3) == general  # both


@mock.patch.object(fastpath, "COMPILE_AFTER", 1)
def test_a_changed_specification_rebinds_the_generated_code() -> None:
    rules = [
        Rule(
            id="r",
            specification="s0",
            produces=[ItemTemplate(resource_specification="r0", characteristics={"x": "p"})],
        )
    ]
    issuer = _issuer(rules, generated=True)
    req = InitiatingRequest(kind="serviceOrder", id="SO-1", items=(request_item("1", "add", "s0"),))
    assert issuer.issue(req).orders[0].order_item[0].characteristics == {"x": "p"}
    shape, _ = issuer.rules.index.adds["s0"]
    bucket = issuer._planner._codes[shape.number]
    assert bucket is not None
    assert bucket.checks is not None  # compiled, bound to the check of 'r0' as it was
    specs = issuer.store.resource_specifications
    specs.replace(
        ResourceSpecification(
            id="r0",
            revision=specs.get("r0").revision,
            resource_spec_characteristic=(char_spec("x", "string", ["q"]),),
        )
    )
    again = InitiatingRequest(
        kind="serviceOrder", id="SO-2", items=(request_item("1", "add", "s0"),)
    )
    with pytest.raises(ek.ValidationError, match="'p' is not allowed by resource specification"):
        issuer.issue(again)


def test_a_bucket_of_too_many_rules_gets_no_generated_code() -> None:
    rules = [Rule(id=f"r{n}", specification="s0", special=True) for n in range(201)]
    index = RuleSet(rules).index
    builders: dict[Any, Any] = {}
    assert compile_bucket(index.candidates("s0", "add"), {}, builders) is None
    assert builders == {}  # nothing was bound either
