"""Rules: predicates, Python/TOML/JSON rule sets, every rule-file problem, the index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import etomkit as ek
from etomkit.ordering import (
    AllOf,
    AnyOf,
    Eq,
    Exists,
    FromService,
    In,
    ItemTemplate,
    Ne,
    Not,
    Predicate,
    Range,
    Regex,
    Rule,
    RuleSet,
)

EXAMPLE_RULES = Path(__file__).parents[2] / "examples" / "resource_orders" / "rules.toml"


# ------------------------------------------------------------------ predicates


@pytest.mark.parametrize(
    ("predicate", "values", "why"),
    [
        (Eq("bandwidth", "1G"), {"bandwidth": "1G"}, None),
        (Eq("bandwidth", "1G"), {"bandwidth": "10G"}, "bandwidth is '10G', needs '1G'"),
        (Eq("bandwidth", "1G"), {}, "characteristic 'bandwidth' is absent"),
        (Eq("staticIp", True), {"staticIp": 1}, "staticIp is 1, needs True"),
        (Eq("lines", 2), {"lines": 2.0}, None),
        (Eq("lines", 2), {"lines": "2"}, "lines is '2', needs 2"),
        (Ne("tier", "gold"), {}, None),
        (Ne("tier", "gold"), {"tier": "gold"}, "tier is 'gold', must not be"),
        (In("bw", ["1G", "10G"]), {"bw": "10G"}, None),
        (In("bw", ["1G", "10G"]), {"bw": "2G"}, "bw is '2G', needs one of ['1G', '10G']"),
        (In("n", [1, True]), {"n": True}, None),
        (In("n", [1]), {"n": True}, "n is True, needs one of [1]"),
        (In("n", [[1], [2]]), {"n": [2]}, None),
        (Range(characteristic="mbps", min=10, max=100), {"mbps": 100}, None),
        (
            Range(characteristic="mbps", min=10, max=100, max_exclusive=True),
            {"mbps": 100},
            "mbps is 100, needs [10, 100)",
        ),
        (
            Range(characteristic="mbps", min=10),
            {"mbps": "fast"},
            "mbps is 'fast', needs a number in [10, inf]",
        ),
        (Exists("staticIp"), {"staticIp": False}, None),
        (
            Exists("staticIp", present=False),
            {"staticIp": False},
            "characteristic 'staticIp' is present, must be absent",
        ),
        (Regex("site", "^SITE-[0-9]{4}$"), {"site": "SITE-0042"}, None),
        (Regex("site", "^SITE-"), {"site": 42}, "site is 42, does not match /^SITE-/"),
        (AllOf([Eq("a", 1), Eq("b", 2)]), {"a": 1, "b": 3}, "b is 3, needs 2"),
        (
            AnyOf([Eq("a", 1), Eq("b", 2)]),
            {"a": 0, "b": 0},
            "none of the alternatives holds: a is 0, needs 1; b is 0, needs 2",
        ),
        (Not(Eq("a", 1)), {"a": 1}, "must not hold: a == 1"),
        (AllOf([]), {}, None),
        (AnyOf([]), {}, "none of the alternatives holds: "),
    ],
)
def test_a_predicate_says_why_it_fails_and_its_compiled_form_agrees(
    predicate: Predicate, values: dict[str, Any], why: str | None
) -> None:
    assert predicate.failure(values) == why
    assert predicate.compile()(values) is (why is None)


VALUES = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["1", "x", "SITE-1"]), st.none()),
)
LEAVES = st.one_of(
    st.builds(
        Eq, st.sampled_from("abc"), st.one_of(st.booleans(), st.integers(-3, 3), st.just("x"))
    ),
    st.builds(Ne, st.sampled_from("abc"), st.one_of(st.integers(-3, 3), st.just("x"))),
    st.builds(
        In,
        st.sampled_from("abc"),
        st.lists(st.one_of(st.booleans(), st.integers(-3, 3), st.just("1")), min_size=1),
    ),
    st.builds(
        Range,
        characteristic=st.sampled_from("abc"),
        min=st.integers(-3, 0),  # a range needs at least one bound
        max=st.one_of(st.none(), st.integers(0, 3)),
        min_exclusive=st.booleans(),
        max_exclusive=st.booleans(),
    ),
    st.builds(Exists, st.sampled_from("abc"), st.booleans()),
    st.builds(Regex, st.sampled_from("abc"), st.sampled_from(["^SITE", "1", "x$"])),
)
PREDICATES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(AllOf, st.lists(children, max_size=3)),
        st.builds(AnyOf, st.lists(children, max_size=3)),
        st.builds(Not, children),
    ),
    max_leaves=6,
)


@given(predicate=PREDICATES, values=VALUES)
def test_compiled_predicates_agree_with_their_explanations(
    predicate: Predicate, values: dict[str, Any]
) -> None:
    assert predicate.compile()(values) is (predicate.failure(values) is None)


@given(predicate=PREDICATES, values=VALUES)
def test_a_predicate_means_the_same_after_the_trip_through_rule_file_data(
    predicate: Predicate, values: dict[str, Any]
) -> None:
    rule = Rule(id="r", specification="s", when=predicate, special=True)
    (back,) = RuleSet.from_dict(json.loads(json.dumps(RuleSet([rule]).to_dict()))).rules
    holds_after = back.when.holds(values) if back.when is not None else True
    assert holds_after is predicate.holds(values)


# ------------------------------------------------------------------ rule sets in Python


def test_a_rule_set_built_in_python_reports_every_problem_with_rule_and_field() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        RuleSet(
            [
                Rule(
                    id="a",
                    specification="fibre",
                    produces=[ItemTemplate(resource_specification="ont")],
                ),
                Rule(id="a", specification=" ", action="noChange", special=True),
                Rule(
                    id="c",
                    specification="fibre",
                    when=[In("bw", []), Range(characteristic="x", min=5, max=1)],
                    produces=[ItemTemplate(resource_specification="", quantity=0, action="grow")],
                ),
                Rule(id="d", specification="fibre"),
            ]
        )
    assert caught.value.problems == (
        ("rule[1](a).specification", "must not be blank"),
        ("rule[1](a).action", "noChange items issue nothing; a rule cannot match them"),
        ("rule[1](a).id", "'a' is also the id of rule[0]"),
        ("rule[2](c).when[0].in", "needs at least one value"),
        ("rule[2](c).when[1].range", "min 5 is above max 1"),
        ("rule[2](c).produces[0].resource_specification", "must not be blank"),
        ("rule[2](c).produces[0].quantity", "must be a whole number >= 1, got 0"),
        (
            "rule[2](c).produces[0].action",
            "unknown action 'grow'; allowed: 'add', 'modify', 'delete', 'noChange'",
        ),
        ("rule[3](d).produces", "a rule that is not special must produce at least one item"),
    )


def test_actions_are_read_in_any_tmf_spelling() -> None:
    rule = Rule(id="r", specification="s", action=["ADD", "Modify"], special=True)
    assert rule.action == ("add", "modify")
    template = ItemTemplate(resource_specification="x", action={"modify": "no_change"})
    assert template.resource_action("modify") == "noChange"
    assert template.resource_action("add") == "add"


# ------------------------------------------------------------------ rule files


def test_the_example_rule_file_loads_and_means_the_same_in_json() -> None:
    rules = RuleSet.from_toml(EXAMPLE_RULES)
    assert len(rules) == 8
    access = rules.get("fibre-access")
    assert (access.version, access.priority, access.action) == ("3", 10, ("add",))
    assert access.when == In("bandwidth", ["100M", "300M", "1G"])
    assert access.produces[1].characteristics["bandwidthProfile"] == FromService(
        "bandwidth", map={"100M": "BP-100", "300M": "BP-300", "1G": "BP-1000"}
    )
    as_json = json.dumps(rules.to_dict())
    assert RuleSet.from_json_text(as_json).rules == rules.rules


def test_a_json_rule_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([{"id": "r", "specification": "s", "special": True}]))
    assert RuleSet.from_json(path).get("r").special


BAD_FILE = """
[[rule]]
id = "ok"
specification = "fibre"
produces = [{ resource_specification = "ont" }]

[[rule]]
id = "fibre-access"
specification = "fibre"
action = "upgrade"
priority = "high"
colour = "blue"
when = [
  { characteristic = "bandwidth", in = [] },
  { characteristic = "circuit", regex = "(" },
  { characteristic = "speed", between = 1 },
  { any = [{ characteristic = "z", eq = 1, ne = 2 }] },
]
[[rule.produces]]
resource_specification = "gpon-port"
quantity = 0
characteristics = { profile = { from = "bandwidth", mapp = {} }, odd = { a = 1 } }

[[rule]]
specification = "sd-wan-site"
produces = [{ quantity = 2 }]

[[rule]]
id = "ok"
specification = "fibre"
version = 2
action = "noChange"
"""


def test_a_bad_rule_file_lists_every_problem_with_rule_id_and_field_path() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        RuleSet.from_toml_text(BAD_FILE, source="rules.toml")
    assert caught.value.entity == "rule set rules.toml"
    paths = [path for path, _ in caught.value.problems]
    assert paths == [
        "rule[1](fibre-access).priority",
        "rule[1](fibre-access).colour",
        "rule[1](fibre-access).action",
        "rule[1](fibre-access).when[0].in",
        "rule[1](fibre-access).when[1].regex",
        "rule[1](fibre-access).when[2].between",
        "rule[1](fibre-access).when[2]",
        "rule[1](fibre-access).when[3].any[0]",
        "rule[1](fibre-access).produces[0].characteristics.profile.mapp",
        "rule[1](fibre-access).produces[0].characteristics.odd",
        "rule[1](fibre-access).produces[0].quantity",
        "rule[2].id",
        "rule[2].produces[0].resource_specification",
        "rule[3](ok).version",
        "rule[3](ok).action",
        "rule[3](ok).produces",
        "rule[3](ok).id",
    ]
    messages = dict(caught.value.problems)
    assert messages["rule[1](fibre-access).priority"] == "expected an integer, got 'high'"
    assert messages["rule[1](fibre-access).colour"].startswith("unknown key; allowed: id,")
    assert messages["rule[1](fibre-access).when[1].regex"].startswith(
        "is not a valid regular expression"
    )
    assert messages["rule[2].id"] == "is required"
    assert messages["rule[3](ok).id"] == "'ok' is also the id of rule[0]"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[rule]\nid = 1", "not valid TOML"),
        ("rule = 3", "must be a list of rule tables, got int"),
        ("[other]\nx = 1", "unknown top-level key"),
    ],
)
def test_a_file_that_is_not_a_rule_file_says_so(text: str, problem: str) -> None:
    with pytest.raises(ek.ValidationError, match=problem):
        RuleSet.from_toml_text(text)


def test_bad_json_says_so() -> None:
    with pytest.raises(ek.ValidationError, match="not valid JSON"):
        RuleSet.from_json_text("{rules: []")


def test_a_table_value_must_say_whether_it_is_copied_or_constant() -> None:
    data = {
        "rules": [
            {
                "id": "r",
                "specification": "s",
                "produces": [
                    {
                        "resource_specification": "x",
                        "characteristics": {"cfg": {"value": {"mtu": 9000}}, "bad": {"mtu": 1}},
                    }
                ],
            }
        ]
    }
    with pytest.raises(ek.ValidationError) as caught:
        RuleSet.from_dict(data)
    assert [p for p, _ in caught.value.problems] == ["rule[0](r).produces[0].characteristics.bad"]
    del data["rules"][0]["produces"][0]["characteristics"]["bad"]  # type: ignore[index]
    rules = RuleSet.from_dict(data)
    assert rules.get("r").produces[0].characteristics == {"cfg": {"mtu": 9000}}


# ------------------------------------------------------------------ the index


def _rule(rule_id: str, **fields: Any) -> Rule:
    return Rule(
        id=rule_id,
        specification=fields.pop("specification", "fibre"),
        produces=[ItemTemplate(resource_specification=rule_id)],
        **fields,
    )


def test_matching_rules_come_best_priority_first_and_a_final_one_stops_the_rest() -> None:
    rules = RuleSet(
        [
            _rule("low", priority=1),
            _rule("high", priority=9),
            _rule("mid-b", priority=5),
            _rule("mid-a", priority=5, final=True, when=[Eq("stop", True)]),
        ]
    )
    match = rules.index.match
    assert [r.id for r in match("fibre", None, "add", {})] == ["high", "mid-b", "low"]
    assert [r.id for r in match("fibre", None, "add", {"stop": True})] == ["high", "mid-a"]


def test_a_rule_for_a_specification_version_matches_only_that_version() -> None:
    rules = RuleSet([_rule("v2", specification_version="2"), _rule("any")])
    assert [r.id for r in rules.index.match("fibre", "2", "add", {})] == ["any", "v2"]
    assert [r.id for r in rules.index.match("fibre", "1", "add", {})] == ["any"]


def test_only_the_rules_of_the_items_specification_and_action_are_candidates() -> None:
    rules = RuleSet(
        [
            _rule(f"r{n}", specification=f"spec-{n % 50}", action=("add", "modify"))
            for n in range(500)
        ]
    )
    candidates = rules.index.candidates("spec-7", "modify")
    assert {r.id for r in candidates} == {f"r{n}" for n in range(7, 500, 50)}
    assert rules.index.candidates("spec-7", "delete") == ()


def test_equal_templates_of_different_rules_are_compiled_once() -> None:
    template = ItemTemplate(resource_specification="ont", characteristics={"model": "X"})
    rules = RuleSet(
        [Rule(id=f"r{n}", specification=f"s{n}", produces=[template]) for n in range(3)]
    )
    compiled = {id(r.templates[0]) for bucket in rules.index.buckets.values() for r in bucket}
    assert len(compiled) == 1
