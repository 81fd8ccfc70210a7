"""explain(): a dry run that shows, per item, the rules tried, why, and what would be issued."""

from __future__ import annotations

import pytest
from tests.ordering.helpers import fibre, request, stored

import etomkit as ek
from etomkit.model.issuance import RuleRef, request_item
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer


def test_explain_shows_each_candidate_rule_and_the_predicate_that_failed(
    issuer: ResourceOrderIssuer,
) -> None:
    explanation = issuer.explain(request(fibre("1", bandwidth="1G", staticIp=False)))
    item = explanation.item("1")
    assert item.outcome == "standard"
    assert [(str(c.rule), c.matched, c.reason) for c in item.candidates] == [
        ("fibre-new-build@1", False, "characteristic 'premisesType' is absent"),
        ("fibre-10g@1", False, "bandwidth is '1G', needs '10G'"),
        ("fibre-access@3", True, None),
        ("fibre-static-ip@1", False, "staticIp is False, needs True"),
    ]
    assert item.matched == (RuleRef("fibre-access", "3"),)
    assert [i.resource_specification.id for i in item.produced if i.resource_specification] == [
        "ont",
        "gpon-port",
        "vlan",
    ]
    assert explanation.would_issue


def test_explain_writes_nothing_and_hands_off_nothing(
    issuer: ResourceOrderIssuer,
    store: InMemoryOrderingStore,
    events: ek.InMemoryEventSink,
    tracker: ek.ordering.InMemoryProvisioningTracker,
) -> None:
    explanation = issuer.explain(request(fibre("1", premisesType="newBuild"), fibre("2")))
    assert [i.outcome for i in explanation.items] == ["special", "standard"]
    assert stored(store) == (0, 0, 0)
    assert events.events == [] and tracker.hand_offs == []
    assert not explanation.already_issued


def test_explain_agrees_with_what_issue_then_does(issuer: ResourceOrderIssuer) -> None:
    req = request(
        fibre("1", staticIp=True),
        fibre("2", premisesType="newBuild"),
        fibre("3", bandwidth="500M"),
        fibre("4", "noChange", service_id="svc-9"),
    )
    explanation = issuer.explain(req)
    result = issuer.issue(req)
    assert [i.outcome for i in explanation.items] == list(result.record.outcomes().values())
    assert [i.matched for i in explanation.items] == [e.rules for e in result.record.items]
    issued = [result.orders_for(e.item_id) for e in result.record.items]
    assert [i.produced for i in explanation.items] == [
        orders[0].order_item if orders else () for orders in issued
    ]
    assert issuer.explain(req).already_issued


def test_explain_says_when_a_final_rule_stopped_the_rest(issuer: ResourceOrderIssuer) -> None:
    item = issuer.explain(request(fibre(premisesType="newBuild"))).item("1")
    reasons = {str(c.rule): c.reason for c in item.candidates}
    assert (
        reasons["fibre-access@3"] == "not considered: fibre-new-build@1 matched first and is final"
    )
    assert item.reason == "new-build premises need a site survey"


def test_explain_hints_at_rules_for_other_actions(issuer: ResourceOrderIssuer) -> None:
    req = request(request_item("1", "delete", "fibre", service_id="svc-1"))
    item = issuer.explain(req).item("1")
    assert item.candidates == ()
    assert item.hints == ("rules for 'fibre' exist for action(s) add, modify, not 'delete'",)


def test_explain_lists_the_problems_issue_would_fail_with(issuer: ResourceOrderIssuer) -> None:
    explanation = issuer.explain(request(fibre("1", vlanId=9999)))
    assert not explanation.would_issue
    assert [p for p, _ in explanation.problems] == ["items[0].order_item[3].characteristic.vlanId"]
    assert explanation.item("1").problems == (
        (
            "order_item[3].characteristic.vlanId",
            "9999 is not allowed by resource specification 'vlan'; allowed: 2..4094 "
            "(produced by rule fibre-access@3)",
        ),
    )


def test_explain_reads_as_text(issuer: ResourceOrderIssuer) -> None:
    text = str(issuer.explain(request(fibre("1", bandwidth="100M"), fibre("2", bandwidth="10G"))))
    assert text.splitlines()[:8] == [
        "request serviceOrder:SO-1: 2 item(s)",
        "item 1: add fibre -> standard",
        "  rules considered (4):",
        "    - fibre-new-build@1 (priority 100, special): characteristic 'premisesType' is absent",
        "    - fibre-10g@1 (priority 10, requires feasibility): bandwidth is '100M', needs '10G'",
        "    + fibre-access@3 (priority 10)",
        "    - fibre-static-ip@1 (priority 0): characteristic 'staticIp' is absent",
        "  would issue 3 item(s):",
    ]
    assert "    2 add gpon-port {bandwidthProfile='BP-100'}" in text
    assert "  note: a FeasibilityChecker would be consulted before issuing" in text


def test_explain_gives_one_row_per_item_and_candidate_for_a_notebook_table(
    issuer: ResourceOrderIssuer,
) -> None:
    rows = issuer.explain(request(fibre("1"), fibre("2", "noChange", service_id="svc-1"))).rows()
    assert len(rows) == 5  # four candidates for item 1, one row for the noChange item
    assert set(rows[0]) == {
        "item",
        "action",
        "specification",
        "rule",
        "priority",
        "matched",
        "why",
        "outcome",
        "issues",
        "item_reason",
        "problems",
    }
    matched = [r for r in rows if r["matched"]]
    assert [(r["item"], r["rule"]) for r in matched] == [("1", "fibre-access@3")]
    assert rows[-1]["item"] == "2" and rows[-1]["rule"] is None
    assert rows[-1]["outcome"] == "noChange"


def test_explain_can_consult_the_feasibility_checker(issuer: ResourceOrderIssuer) -> None:
    assert issuer.feasibility is not None
    asked = issuer.feasibility.asked  # type: ignore[attr-defined]
    issuer.explain(request(fibre(bandwidth="10G")))
    assert asked == []
    issuer.explain(request(fibre(bandwidth="10G")), consult_feasibility=True)
    assert len(asked) == 1


def test_explaining_a_bad_request_is_a_validation_error(issuer: ResourceOrderIssuer) -> None:
    with pytest.raises(ek.ValidationError, match="must not be set on an 'add' item"):
        issuer.explain(request(fibre(service_id="svc-1")))


def test_explain_shows_an_unknown_earlier_order_that_issue_would_refuse(
    store: InMemoryOrderingStore, issuer: ResourceOrderIssuer
) -> None:
    strict = ResourceOrderIssuer(store, issuer.rules, unknown_earlier_order="error")
    explanation = strict.explain(request(fibre("1", "delete", service_id="svc-404")))
    assert not explanation.would_issue
    assert [p for p, _ in explanation.problems] == ["items[0].service.id"]
    item = explanation.item("1")
    assert item.problems[0][0] == "service.id"
    assert (item.reason or "").startswith("no resource order was issued for service 'svc-404'")


def test_explain_refuses_an_unstorable_request_exactly_as_issue_does(
    issuer: ResourceOrderIssuer,
) -> None:
    from datetime import datetime

    naive = request(fibre("1"), request_id="SO-naive", requested_start_date=datetime(2026, 1, 1))
    with pytest.raises(ek.ValidationError) as by_issue:
        issuer.issue(naive)
    with pytest.raises(ek.ValidationError) as by_explain:
        issuer.explain(naive)
    assert by_explain.value.problems == by_issue.value.problems
    assert [p for p, _ in by_issue.value.problems] == ["requested_start_date"]
