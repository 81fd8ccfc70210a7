"""Issuing tells the truth (#10 part 6): problems name the rule that produced the item,
predicates answer for JSON arrays and objects, explain() predicts issue() exactly
(also for a request id issued before), and unknown TMF641 states are refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.ordering.helpers import (
    StubFeasibility,
    char_spec,
    fibre,
    fibre_rules,
    request,
    stored,
)
from tests.ordering.test_properties import ANSWERS, fresh_issuer, items, rule_sets
from tests.tmf.swagger import load_spec

import etomkit as ek
from etomkit import tmf
from etomkit.model._copy import replace
from etomkit.model.issuance import request_item
from etomkit.model.orders import (
    SERVICE_ORDER_STATES,
    ServiceOrder,
    ServiceOrderItem,
    ServiceRefOrValue,
)
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.values import Characteristic, EntityRef
from etomkit.ordering import (
    Eq,
    In,
    InMemoryOrderingStore,
    ItemTemplate,
    Ne,
    ResourceOrderIssuer,
    Rule,
    RuleSet,
)

TMF641 = "TMF641-ServiceOrdering-v4.1.0.swagger.json"


def issuer_with(store: InMemoryOrderingStore, rules: list[Rule]) -> ResourceOrderIssuer:
    """An issuer over ``store`` with ``rules`` and readable ids."""
    return ResourceOrderIssuer(store, RuleSet(rules), ids=ek.SequentialIdFactory())


# ------------------------------------------------------------------ problems name their rule


def vlan_rule(rule_id: str, version: str, vlan_type: str) -> Rule:
    """A rule for fibre adds producing one VLAN of ``vlan_type``."""
    return Rule(
        id=rule_id,
        version=version,
        specification="fibre",
        produces=[
            ItemTemplate(resource_specification="vlan", characteristics={"vlanType": vlan_type})
        ],
    )


def test_a_specification_problem_names_the_rule_that_produced_the_item(
    store: InMemoryOrderingStore,
) -> None:
    issuer = issuer_with(
        store, [vlan_rule("vlan-home", "2", "residential"), vlan_rule("vlan-odd", "7", "odd")]
    )
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre()))
    assert caught.value.problems == (
        (
            "items[0].order_item[2].characteristic.vlanType",
            "'odd' is not allowed by resource specification 'vlan'; allowed: 'residential', "
            "'business' (produced by rule vlan-odd@7)",
        ),
    )
    assert stored(store) == (0, 0, 0)


def test_a_copied_value_the_specification_refuses_names_the_rule(
    issuer: ResourceOrderIssuer,
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre(vlanId=5000)))
    ((path, message),) = caught.value.problems
    assert path == "items[0].order_item[3].characteristic.vlanId"
    assert message.endswith("(produced by rule fibre-access@3)")


def test_a_changed_resource_the_specification_refuses_names_the_rule_that_changed_it(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    issuer.issue(request(fibre("1"), request_id="SO-1"))
    issuer.link_service("serviceOrder:SO-1", "1", "svc-1")
    port = store.resource_specifications.get("gpon-port")
    store.resource_specifications.replace(
        replace(
            port,
            resource_spec_characteristic=(
                *port.resource_spec_characteristic,
                char_spec("svlan", "integer"),
            ),
        )
    )
    change = request(fibre("1", "modify", service_id="svc-1", bandwidth="100M"), request_id="SO-2")
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(change)
    assert caught.value.problems == (
        (
            "items[0].order_item[1].characteristic.svlan",
            "is required by resource specification 'gpon-port' and missing "
            "(produced by rule fibre-speed-change@1)",
        ),
    )
    assert issuer.explain(change).problems == caught.value.problems


def test_an_assessed_item_the_specification_refuses_names_the_assessment(
    store: InMemoryOrderingStore,
) -> None:
    bad = ResourceOrderItem(
        id="1",
        resource_specification=EntityRef(id="ont"),
        characteristic=(Characteristic(name="model", value="XS-9999"),),
    )
    issuer = ResourceOrderIssuer(
        store,
        RuleSet(fibre_rules()),
        feasibility=StubFeasibility(items=[bad]),
        ids=ek.SequentialIdFactory(),
    )
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre(bandwidth="10G")))
    ((path, message),) = caught.value.problems
    assert path == "items[0].order_item[1].characteristic.model"
    assert message.endswith("(produced by feasibility assessment FeasibilityAssessment-1)")


# ------------------------------------------------------------------ JSON arrays and objects


def tagged(values: Any) -> Rule:
    """A rule for fibre adds matching ``tags in values``, producing an ONT."""
    return Rule(
        id="tagged",
        specification="fibre",
        when=[In("tags", values)],
        produces=[ItemTemplate(resource_specification="ont", characteristics={"model": "HG8245H"})],
    )


@pytest.mark.parametrize("value", [["gold", "silver"], {"tier": "gold"}, [], {}])
def test_an_in_condition_on_an_array_or_object_value_does_not_match_strings(
    store: InMemoryOrderingStore, value: Any
) -> None:
    issuer = issuer_with(store, [tagged(["gold", "silver"])])
    req = request(fibre(tags=value))
    item = issuer.explain(req).item("1")
    assert item.outcome == "special"
    assert item.candidates[0].reason == (f"tags is {value!r}, needs one of ['gold', 'silver']")
    assert issuer.issue(req).outcome("1") == "special"


def test_an_in_condition_matches_an_equal_array_or_object(store: InMemoryOrderingStore) -> None:
    issuer = issuer_with(store, [tagged([["gold", "silver"], {"tier": 1}, 7])])
    value: Any
    for value in (["gold", "silver"], {"tier": 1}, 7, 7.0):
        req = request(fibre(tags=value), request_id=f"SO-{value}")
        assert issuer.explain(req).item("1").outcome == "standard"
        assert issuer.issue(req).outcome("1") == "standard"
    for value in (["silver", "gold"], {"tier": True}, {"tier": "1"}, True, "7"):
        req = request(fibre(tags=value), request_id=f"SO-not-{value}")
        assert issuer.issue(req).outcome("1") == "special"


@pytest.mark.parametrize(
    ("want", "got"),
    [([1], [True]), ([1], ["1"]), ({"a": 1}, {"a": True}), ([[0]], [[False]]), ((1,), (True,))],
)
def test_arrays_and_objects_compare_by_kind_like_scalars(want: Any, got: Any) -> None:
    for predicate in (Eq("x", want), In("x", [want])):
        assert not predicate.compile()({"x": got})
        assert not predicate.holds({"x": got})
    assert Ne("x", want).compile()({"x": got})
    assert Eq("x", want).compile()({"x": want})


def _arrays_and_objects(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text("ab", max_size=1), inner)


#: JSON values from a small pool, so that equal values (and 1 vs True vs 1.0) occur.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text("ab1", max_size=2),
    _arrays_and_objects,
    max_leaves=6,
)


@given(
    options=st.lists(json_values, max_size=4),
    value=json_values,
    present=st.booleans(),
)
def test_the_compiled_predicates_agree_with_their_explanations(
    options: list[Any], value: Any, present: bool
) -> None:
    values = {"x": value} if present else {}
    predicates = [In("x", options), *(Eq("x", o) for o in options), *(Ne("x", o) for o in options)]
    for predicate in predicates:
        assert predicate.compile()(values) == predicate.holds(values), predicate


# ------------------------------------------------------------------ explain predicts issue


def test_explain_of_a_changed_payload_under_an_issued_id_predicts_the_conflict(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    issuer.issue(request(fibre("1")))
    changed = request(fibre("1", bandwidth="100M"))
    explanation = issuer.explain(changed)
    assert explanation.already_issued
    assert not explanation.would_issue
    assert not explanation.would_replay
    assert explanation.conflict is not None
    assert "would raise ConflictError" in explanation.text()
    assert "would return the stored record" not in explanation.text()
    with pytest.raises(ek.ConflictError) as caught:
        issuer.issue(changed)
    assert str(caught.value) == explanation.conflict
    assert stored(store) == (1, 1, 0)


def test_explain_of_the_same_payload_predicts_the_replay(issuer: ResourceOrderIssuer) -> None:
    req = request(fibre("1"))
    issuer.issue(req)
    explanation = issuer.explain(req)
    assert explanation.would_issue and explanation.would_replay
    assert explanation.conflict is None
    assert "issue() would return the stored record" in explanation.text()
    assert issuer.issue(req).replayed


def test_explain_of_an_invalid_changed_payload_predicts_the_conflict_not_a_validation_error(
    issuer: ResourceOrderIssuer,
) -> None:
    issuer.issue(request(fibre("1")))
    bad = request(request_item("1", "modify", "fibre", {"bandwidth": "1G"}))  # no service id
    explanation = issuer.explain(bad)
    assert not explanation.would_issue
    assert explanation.conflict is not None
    assert [p for p, _ in explanation.problems] == ["items[0].service.id"]
    with pytest.raises(ek.ConflictError, match="different payload"):
        issuer.issue(bad)


def test_explain_predicts_a_replay_even_when_the_rules_now_find_problems(
    store: InMemoryOrderingStore,
) -> None:
    req = request(fibre("1"))
    issuer_with(store, [vlan_rule("vlan", "1", "residential")]).issue(req)
    stricter = issuer_with(store, [vlan_rule("vlan", "2", "odd")])
    explanation = stricter.explain(req)
    assert explanation.problems  # issuing it anew would fail…
    assert explanation.would_issue and explanation.would_replay  # …but issue() replays
    assert "issuing it anew would find 1 problem(s)" in explanation.text()
    assert stricter.issue(req).replayed


@given(
    rules=rule_sets(),
    sequence=st.lists(st.tuples(st.sampled_from(["SO-1", "SO-2"]), items()), max_size=4),
    answer=ANSWERS,
)
def test_explain_predicts_what_issue_does_for_ids_used_before(
    rules: list[Rule], sequence: list[tuple[str, list[ServiceOrderItem]]], answer: str
) -> None:
    issuer = fresh_issuer(RuleSet(rules), answer)
    for request_id, batch in sequence:
        req = ek.InitiatingRequest(kind="serviceOrder", id=request_id, items=tuple(batch))
        explanation = issuer.explain(req, consult_feasibility=True)
        if explanation.conflict is not None:
            assert not explanation.would_issue
            with pytest.raises(ek.ConflictError) as conflict:
                issuer.issue(req)
            assert str(conflict.value) == explanation.conflict
        elif explanation.would_replay:
            assert explanation.would_issue
            assert issuer.issue(req).replayed
        elif not explanation.would_issue:
            with pytest.raises(ek.ValidationError) as invalid:
                issuer.issue(req)
            assert invalid.value.problems == explanation.problems
        else:
            result = issuer.issue(req)
            assert not result.replayed
            assert [i.outcome for i in explanation.items] == [
                e.outcome for e in result.record.items
            ]


# ------------------------------------------------------------------ TMF641 states


def test_etomkit_knows_exactly_the_tmf641_order_and_item_states() -> None:
    definitions = load_spec(TMF641)["definitions"]
    assert list(SERVICE_ORDER_STATES) == definitions["ServiceOrderStateType"]["enum"]
    assert set(SERVICE_ORDER_STATES) == set(definitions["ServiceOrderItemStateType"]["enum"])


def service_order(state: Any = None, item_state: Any = None) -> dict[str, Any]:
    """A TMF641 ServiceOrder document with one fibre add."""
    item: dict[str, Any] = {
        "id": "1",
        "action": "add",
        "service": {"serviceSpecification": {"id": "fibre"}},
    }
    if item_state is not None:
        item["state"] = item_state
    doc: dict[str, Any] = {"id": "SO-9", "serviceOrderItem": [item]}
    if state is not None:
        doc["state"] = state
    return doc


@pytest.mark.parametrize(
    ("doc", "path", "bad"),
    [
        (service_order(state="bogus"), "$.state", "'bogus'"),
        (service_order(state=7), "$.state", "7"),
        (service_order(item_state="done"), "$.serviceOrderItem[0].state", "'done'"),
    ],
)
def test_a_service_order_in_an_unknown_state_is_refused_at_its_path(
    doc: dict[str, Any], path: str, bad: str
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        tmf.from_json(ServiceOrder, doc)
    ((where, message),) = caught.value.problems
    assert where == path
    assert message.startswith(f"unknown state {bad}; allowed: 'acknowledged', 'rejected'")
    assert all(repr(state) in message for state in SERVICE_ORDER_STATES)


def test_service_order_states_are_read_in_any_spelling_and_written_as_tmf_spells_them() -> None:
    order = tmf.from_json(ServiceOrder, service_order("IN_PROGRESS", "assessing cancellation"))
    assert order.state == "inProgress"
    assert order.service_order_item[0].state == "assessingCancellation"
    assert tmf.to_json(order) == {
        **service_order("inProgress", "assessingCancellation"),
        "@type": "ServiceOrder",
    }


def test_a_service_order_built_in_python_in_an_unknown_state_cannot_be_issued(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    item = ServiceOrderItem(
        id="1",
        action="add",
        service=ServiceRefOrValue(service_specification=EntityRef(id="fibre")),
    )
    with pytest.raises(ek.ValidationError) as caught:
        ek.InitiatingRequest.from_service_order(
            ServiceOrder(id="SO-9", state="bogus", service_order_item=(item,))
        )
    assert [p for p, _ in caught.value.problems] == ["state"]
    odd = replace(fibre("1"), state="bogus")
    with pytest.raises(ek.ValidationError) as order_caught:
        ek.InitiatingRequest.from_service_order(ServiceOrder(id="SO-9", service_order_item=(odd,)))
    assert [p for p, _ in order_caught.value.problems] == ["service_order_item[0].state"]
    with pytest.raises(ek.ValidationError) as issue_caught:
        issuer.issue(request(odd))
    assert [p for p, _ in issue_caught.value.problems] == ["items[0].state"]
    with pytest.raises(ek.ValidationError):
        issuer.explain(request(odd))
    assert stored(store) == (0, 0, 0)


def test_a_service_order_item_in_a_known_state_is_issued(issuer: ResourceOrderIssuer) -> None:
    result = issuer.issue(request(replace(fibre("1"), state="acknowledged")))
    assert result.outcome("1") == "standard"
