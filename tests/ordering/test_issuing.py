"""Issuing resource orders: each outcome, idempotency, atomicity, completeness checks."""

from __future__ import annotations

import pytest
from tests.ordering.helpers import StubFeasibility, fibre, request, stored

import etomkit as ek
from etomkit.model.issuance import FeasibilityAssessment, RuleRef
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.values import Characteristic, EntityRef
from etomkit.ordering import (
    InMemoryOrderingStore,
    InMemoryProvisioningTracker,
    ResourceOrderIssuer,
    RuleSet,
)


def specs_of(order: ek.model.resource_order.ResourceOrder) -> list[str]:
    return [i.resource_specification.id for i in order.order_item if i.resource_specification]


# ------------------------------------------------------------------ standard


def test_a_standard_fibre_add_issues_the_ont_port_and_vlan_set(
    issuer: ResourceOrderIssuer,
) -> None:
    result = issuer.issue(request(fibre(bandwidth="1G", vlanId=300)))
    (order,) = result.orders
    assert result.outcome("1") == "standard"
    assert specs_of(order) == ["ont", "gpon-port", "vlan"]
    assert [i.id for i in order.order_item] == ["1", "2", "3"]
    assert [i.action for i in order.order_item] == ["add", "add", "add"]
    assert order.order_item[1].characteristics == {"bandwidthProfile": "BP-1000"}
    assert order.order_item[2].characteristics == {"vlanType": "residential", "vlanId": 300}
    assert order.state == "acknowledged"
    assert not order.special_handling
    assert order.request_key == "serviceOrder:SO-1"


def test_the_record_names_the_rules_and_versions_that_produced_each_item(
    issuer: ResourceOrderIssuer,
) -> None:
    result = issuer.issue(request(fibre("1", staticIp=True), fibre("2", bandwidth="100M")))
    first, second = result.record.items
    assert first.rules == (RuleRef("fibre-access", "3"), RuleRef("fibre-static-ip", "1"))
    assert second.rules == (RuleRef("fibre-access", "3"),)
    assert specs_of(result.orders_for("1")[0]) == ["ont", "gpon-port", "vlan", "ipv4"]
    assert result.orders_for("2")[0].order_item[1].characteristics == {"bandwidthProfile": "BP-100"}


def test_orders_and_record_are_stored_together_and_events_published(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore, events: ek.InMemoryEventSink
) -> None:
    result = issuer.issue(request(fibre("1"), fibre("2")))
    assert stored(store) == (2, 1, 0)
    assert store.issuance_records.get("serviceOrder:SO-1") == result.record
    assert [store.resource_orders.get(o.id or "") for o in result.orders] == list(result.orders)
    assert [e.event_type for e in events.events] == ["ResourceOrderCreateEvent"] * 2
    assert [e.entity for e in events.events] == list(result.orders)


# ------------------------------------------------------------------ special handling


def test_a_special_rule_issues_an_order_marked_special_and_hands_it_off(
    issuer: ResourceOrderIssuer, tracker: InMemoryProvisioningTracker
) -> None:
    result = issuer.issue(request(fibre(premisesType="newBuild")))
    (order,) = result.orders
    assert result.outcome("1") == "special"
    assert order.special_handling
    assert order.special_handling_reason == "new-build premises need a site survey"
    assert order.order_item == ()  # the final special rule stopped the standard set
    assert tracker.reasons() == {order.id: "new-build premises need a site survey"}
    assert issuer.open_special_orders() == [order]


def test_an_item_no_rule_matches_goes_to_special_handling_with_the_reason(
    issuer: ResourceOrderIssuer, tracker: InMemoryProvisioningTracker
) -> None:
    result = issuer.issue(request(fibre(bandwidth="500M")))
    entry = result.record.item("1")
    assert entry.outcome == "special"
    assert entry.rules == ()
    assert "none of the rules for service specification 'fibre'" in (entry.reason or "")
    assert [h.order for h in tracker.hand_offs] == list(result.orders)


def test_an_item_of_an_unknown_specification_goes_to_special_handling(
    issuer: ResourceOrderIssuer,
) -> None:
    item = ek.model.issuance.request_item("1", "add", "copper-dsl", {"bandwidth": "20M"})
    result = issuer.issue(request(item))
    assert result.outcome("1") == "special"
    assert result.record.item("1").reason == (
        "no rule for service specification 'copper-dsl' and action 'add'"
    )


def test_a_request_flagged_special_hands_off_even_a_standard_item(
    issuer: ResourceOrderIssuer, tracker: InMemoryProvisioningTracker
) -> None:
    result = issuer.issue(request(fibre(), special=True, special_reason="VIP customer"))
    (order,) = result.orders
    assert result.outcome("1") == "special"
    assert order.special_handling_reason == "VIP customer"
    assert specs_of(order) == ["ont", "gpon-port", "vlan"]  # what the rules would issue
    assert tracker.orders == [order]


def test_a_prior_feasibility_assessment_turns_special_into_the_preassessed_set(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore, tracker: InMemoryProvisioningTracker
) -> None:
    survey_items = (
        ResourceOrderItem(
            id="1",
            resource_specification=EntityRef(id="ont"),
            characteristic=(Characteristic(name="model", value="XS-2426G"),),
        ),
    )
    store.feasibility_assessments.add(
        FeasibilityAssessment(id="FA-9", request_id="SO-1", item_id="1", order_item=survey_items)
    )
    result = issuer.issue(request(fibre(premisesType="newBuild")))
    (order,) = result.orders
    assert result.outcome("1") == "preassessed"
    assert order.order_item == survey_items
    assert order.feasibility_assessment == EntityRef(
        id="FA-9", referred_type="FeasibilityAssessment"
    )
    assert not order.special_handling
    assert result.record.item("1").feasibility_assessment == "FA-9"
    assert tracker.hand_offs == []


def test_an_assessment_for_the_whole_request_applies_to_each_special_item(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    items = (
        ResourceOrderItem(
            id="1",
            resource_specification=EntityRef(id="ipv4"),
            characteristic=(Characteristic(name="pool", value="survey"),),
        ),
    )
    store.feasibility_assessments.add(
        FeasibilityAssessment(id="FA-1", request_id="SO-1", order_item=items)
    )
    result = issuer.issue(request(fibre("1", premisesType="newBuild"), fibre("2")))
    assert result.record.outcomes() == {"1": "preassessed", "2": "standard"}


# ------------------------------------------------------------------ feasibility


def test_a_rule_requiring_feasibility_consults_the_checker_and_records_the_assessment(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore, feasibility: StubFeasibility
) -> None:
    result = issuer.issue(request(fibre(bandwidth="10G")))
    assert feasibility.asked == [("serviceOrder:SO-1", "1", 2)]
    assert result.outcome("1") == "standard"
    (assessment,) = store.feasibility_assessments.iterate()
    assert (assessment.request_key, assessment.item_id) == ("serviceOrder:SO-1", "1")
    assert result.record.item("1").feasibility_assessment == assessment.id
    assert result.orders[0].feasibility_assessment == EntityRef(
        id=assessment.id or "", referred_type="FeasibilityAssessment"
    )
    assert specs_of(result.orders[0]) == ["ont", "gpon-port"]


def test_an_infeasible_item_issues_nothing_and_says_why(
    store: InMemoryOrderingStore, rules: RuleSet, tracker: InMemoryProvisioningTracker
) -> None:
    issuer = ResourceOrderIssuer(
        store, rules, feasibility=StubFeasibility(feasible=False), provisioning=tracker
    )
    result = issuer.issue(request(fibre("1", bandwidth="10G"), fibre("2")))
    entry = result.record.item("1")
    assert entry.outcome == "infeasible"
    assert entry.reason == "XGS-PON not available in LDN-04"
    assert entry.resource_orders == ()
    assert [o.id for o in result.orders] == list(result.record.item("2").resource_orders)
    assert tracker.hand_offs == []


def test_a_checker_may_determine_the_items_itself(
    store: InMemoryOrderingStore, rules: RuleSet
) -> None:
    own = (
        ResourceOrderItem(
            id="1",
            resource_specification=EntityRef(id="gpon-port"),
            characteristic=(Characteristic(name="bandwidthProfile", value="BP-10000"),),
        ),
    )
    issuer = ResourceOrderIssuer(store, rules, feasibility=StubFeasibility(items=own))
    result = issuer.issue(request(fibre(bandwidth="10G")))
    assert result.outcome("1") == "preassessed"
    assert result.orders[0].order_item == own


def test_without_a_checker_a_rule_requiring_feasibility_goes_to_special_handling(
    store: InMemoryOrderingStore, rules: RuleSet
) -> None:
    issuer = ResourceOrderIssuer(store, rules)
    result = issuer.issue(request(fibre(bandwidth="10G")))
    assert result.outcome("1") == "special"
    assert "requires a feasibility assessment" in (result.record.item("1").reason or "")
    assert issuer.provisioning.orders == list(result.orders)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ noChange


def test_a_no_change_item_issues_nothing_but_is_recorded(issuer: ResourceOrderIssuer) -> None:
    result = issuer.issue(request(fibre("1"), fibre("2", "no_change", service_id="svc-1")))
    entry = result.record.item("2")
    assert (entry.action, entry.outcome, entry.resource_orders) == ("noChange", "noChange", ())
    assert len(result.orders) == 1


# ------------------------------------------------------------------ idempotency


def test_issuing_the_same_request_again_returns_the_same_record_and_orders(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore, events: ek.InMemoryEventSink
) -> None:
    first = issuer.issue(request(fibre("1"), fibre("2", premisesType="newBuild")))
    again = issuer.issue(request(fibre("1"), fibre("2", premisesType="newBuild")))
    assert again.replayed and not first.replayed
    assert again.record == first.record
    assert again.orders == first.orders
    assert stored(store) == (2, 1, 0)
    assert len(events.events) == 2
    assert len(issuer.provisioning.hand_offs) == 1  # type: ignore[attr-defined]


def test_a_replay_returns_the_orders_as_they_are_now(issuer: ResourceOrderIssuer) -> None:
    first = issuer.issue(request())
    issuer.transition(first.orders[0].id or "", "inProgress")
    again = issuer.issue(request())
    assert [o.state for o in again.orders] == ["inProgress"]


def test_a_different_payload_under_the_same_request_id_is_a_conflict(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    issuer.issue(request(fibre(bandwidth="1G")))
    with pytest.raises(ek.ConflictError, match="different payload"):
        issuer.issue(request(fibre(bandwidth="100M")))
    assert stored(store) == (1, 1, 0)


def test_the_same_id_of_another_request_kind_is_another_request(
    issuer: ResourceOrderIssuer,
) -> None:
    issuer.issue(request())
    other = issuer.issue(request(kind="troubleRecovery"))
    assert not other.replayed
    assert other.record.id == "troubleRecovery:SO-1"


# ------------------------------------------------------------------ completeness


def test_an_item_that_would_miss_a_required_characteristic_is_never_issued(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore, events: ek.InMemoryEventSink
) -> None:
    spec = store.resource_specifications.get("vlan")
    store.resource_specifications.replace(
        ek.model._copy.replace(
            spec,
            resource_spec_characteristic=(
                *spec.resource_spec_characteristic,
                ek.model.resource_spec.ResourceSpecificationCharacteristic(
                    name="svlan", value_type="integer", min_cardinality=1
                ),
            ),
        )
    )
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre("1"), fibre("2")))
    assert caught.value.problems == (
        (
            "items[0].order_item[3].characteristic.svlan",
            "is required by resource specification 'vlan' and the rule's template does not set it "
            "(produced by rule fibre-access@3)",
        ),
        (
            "items[1].order_item[3].characteristic.svlan",
            "is required by resource specification 'vlan' and the rule's template does not set it "
            "(produced by rule fibre-access@3)",
        ),
    )
    assert stored(store) == (0, 0, 0)
    assert events.events == []


def test_a_copied_value_outside_the_allowed_range_is_reported_with_its_path(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre("1", vlanId=5000), fibre("2", vlanId="100")))
    assert [p for p, _ in caught.value.problems] == [
        "items[0].order_item[3].characteristic.vlanId",
        "items[1].order_item[3].characteristic.vlanId",
    ]
    first, second = (m for _, m in caught.value.problems)
    assert "5000 is not allowed by resource specification 'vlan'; allowed: 2..4094" in first
    assert "must be an integer" in second
    assert stored(store) == (0, 0, 0)


def test_an_unknown_resource_specification_makes_the_item_incomplete(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    store.resource_specifications.remove("ipv4")
    with pytest.raises(ek.ValidationError, match="no ResourceSpecification 'ipv4'"):
        issuer.issue(request(fibre(staticIp=True)))
    assert stored(store) == (0, 0, 0)


def test_a_service_value_the_rule_cannot_map_is_reported_not_guessed(
    store: InMemoryOrderingStore,
) -> None:
    rules = RuleSet(
        [
            ek.ordering.Rule(
                id="r",
                specification="fibre",
                produces=[
                    ek.ordering.ItemTemplate(
                        resource_specification="gpon-port",
                        characteristics={
                            "bandwidthProfile": ek.ordering.FromService(
                                "bandwidth", map={"1G": "BP-1000"}
                            )
                        },
                    )
                ],
            )
        ]
    )
    issuer = ResourceOrderIssuer(store, rules)
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre(bandwidth="2G")))
    ((path, message),) = caught.value.problems
    assert path == "items[0].order_item[1].characteristic.bandwidthProfile"
    assert message == (
        "rule r@1 has no mapping for service characteristic bandwidth='2G' (mapped: '1G')"
    )


def test_a_failure_while_storing_rolls_back_the_orders_already_written(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore, events: ek.InMemoryEventSink
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise OSError("disk full")

    store.issuance_records.add = broken  # type: ignore[method-assign,assignment]
    store.issuance_records.add_all = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(OSError, match="disk full"):
        issuer.issue(request(fibre("1"), fibre("2")))
    assert len(store.resource_orders) == 0
    assert events.events == []
    with pytest.raises(OSError, match="disk full"):
        issuer.issue_many([request(fibre("1"), request_id="SO-2")])
    assert len(store.resource_orders) == 0
    assert len(store.issuance_records) == 0
    assert events.events == []


# ------------------------------------------------------------------ bad requests


def test_a_bad_request_is_rejected_with_every_problem_and_nothing_stored(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    bad = request(
        fibre("1", service_id="svc-1"),
        fibre("2", "modify"),
        fibre("1"),
        ek.model.issuance.request_item("3", "upgrade", "fibre"),
    )
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(bad)
    assert caught.value.entity == "InitiatingRequest serviceOrder:SO-1"
    assert caught.value.problems == (
        ("items[0].service.id", "must not be set on an 'add' item (the service is new)"),
        ("items[1].service.id", "is required on a 'modify' item (names the service to change)"),
        ("items[2].id", "'1' is used by another item"),
        (
            "items[3].action",
            "unknown action 'upgrade'; allowed: 'add', 'modify', 'delete', 'noChange'",
        ),
    )
    assert stored(store) == (0, 0, 0)


def test_a_request_of_an_unknown_kind_or_without_items_is_rejected(
    issuer: ResourceOrderIssuer,
) -> None:
    bad = ek.model.issuance.InitiatingRequest(kind="whim", id=" ", items=())
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(bad)
    assert [p for p, _ in caught.value.problems] == ["kind", "id", "items"]


def test_something_that_is_not_a_request_is_a_validation_error(
    issuer: ResourceOrderIssuer,
) -> None:
    with pytest.raises(ek.ValidationError, match="must be an InitiatingRequest, got dict"):
        issuer.issue({"id": "SO-1"})  # type: ignore[arg-type]


# ------------------------------------------------------------------ queries


def test_the_orders_of_a_request_and_the_request_of_an_order_are_found(
    issuer: ResourceOrderIssuer,
) -> None:
    req = request(fibre("1"), fibre("2", premisesType="newBuild"))
    result = issuer.issue(req)
    assert issuer.orders_of_request(req) == list(result.orders)
    assert issuer.orders_of_request("serviceOrder:SO-1") == list(result.orders)
    assert issuer.orders_of_request("serviceOrder:SO-404") == []
    assert all(issuer.request_of_order(o.id or "") == req for o in result.orders)
    assert issuer.record_of(req) == result.record
    with pytest.raises(ek.NotFoundError):
        issuer.request_of_order("nope")


def test_open_special_orders_leave_out_those_that_are_done(issuer: ResourceOrderIssuer) -> None:
    first = issuer.issue(request(fibre(premisesType="newBuild"), request_id="SO-1"))
    second = issuer.issue(request(fibre(premisesType="newBuild"), request_id="SO-2"))
    done = first.orders[0].id or ""
    issuer.transition(done, "inProgress")
    issuer.transition(done, "completed")
    assert issuer.open_special_orders() == list(second.orders)


def test_an_issuer_wants_a_known_policy_for_unknown_earlier_orders(
    store: InMemoryOrderingStore, rules: RuleSet
) -> None:
    with pytest.raises(ek.ValidationError, match="'special' or 'error'"):
        ResourceOrderIssuer(store, rules, unknown_earlier_order="guess")  # type: ignore[arg-type]


def test_a_failing_hand_off_leaves_the_special_order_issued_and_listed(
    store: InMemoryOrderingStore, rules: RuleSet
) -> None:
    class Unreachable:
        def hand_off(self, order: object, reason: str) -> None:
            raise ConnectionError("tracker down")

    issuer = ResourceOrderIssuer(store, rules, provisioning=Unreachable())
    req = request(fibre(premisesType="newBuild"))
    with pytest.raises(ConnectionError):
        issuer.issue(req)
    (order,) = issuer.open_special_orders()
    assert issuer.issue(req).orders == (order,)  # replayed, not handed off again
