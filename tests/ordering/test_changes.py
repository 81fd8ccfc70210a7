"""Modify and delete: change orders supersede, recovery orders recover, nothing is guessed."""

from __future__ import annotations

import pytest
from tests.ordering.helpers import fibre, request, stored

import etomkit as ek
from etomkit.model.orders import RelatedServiceOrderItem, ServiceRefOrValue
from etomkit.model.resource_order import ResourceOrder, ResourceRefOrValue
from etomkit.model.values import EntityRef
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer, RuleSet


@pytest.fixture
def added(issuer: ResourceOrderIssuer) -> ResourceOrder:
    """A fibre service added by SO-1 item 1 (1G, static IP) and linked to svc-1."""
    result = issuer.issue(request(fibre("1", staticIp=True), request_id="SO-1"))
    issuer.link_service("serviceOrder:SO-1", "1", "svc-1")
    return result.orders[0]


def relations(order: ResourceOrder) -> list[tuple[str, str, str, str]]:
    """(action, spec, relationship, earlier order/item) of each item."""
    out = []
    for item in order.order_item:
        (rel,) = item.order_item_relationship or (None,)
        target = f"{rel.order_item.resource_order_id}/{rel.order_item.item_id}" if rel else "-"
        spec = item.resource_specification.id if item.resource_specification else "?"
        out.append((item.action, spec, rel.relationship_type if rel else "-", target))
    return out


def test_modify_issues_a_change_order_that_supersedes_the_earlier_one(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    result = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", bandwidth="100M"), request_id="SO-2")
    )
    (change,) = result.orders
    assert result.outcome("1") == "standard"
    assert change.supersedes == (EntityRef(id=added.id or "", referred_type="ResourceOrder"),)
    assert result.record.item("1").supersedes == (added.id,)
    assert relations(change) == [
        ("modify", "gpon-port", "modifies", f"{added.id}/2"),
        ("noChange", "ont", "keeps", f"{added.id}/1"),
        ("noChange", "vlan", "keeps", f"{added.id}/3"),
        ("noChange", "ipv4", "keeps", f"{added.id}/4"),
    ]
    assert change.order_item[0].characteristics == {"bandwidthProfile": "BP-100"}
    assert change.order_item[2].characteristics == {"vlanType": "residential", "vlanId": 100}


def test_a_second_modify_supersedes_the_change_order_not_the_original(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    first = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", bandwidth="100M"), request_id="SO-2")
    )
    second = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", bandwidth="1G"), request_id="SO-3")
    )
    assert second.orders[0].superseded_ids == (first.orders[0].id,)
    assert second.orders[0].order_item[0].characteristics == {"bandwidthProfile": "BP-1000"}
    assert issuer.orders_of_service("svc-1") == [added, *first.orders, *second.orders]


def test_a_change_that_adds_a_resource_adds_it_next_to_the_kept_ones(
    issuer: ResourceOrderIssuer,
) -> None:
    issuer.issue(request(fibre("1"), request_id="SO-1"))
    issuer.link_service("serviceOrder:SO-1", "1", "svc-1")
    change = issuer.issue(
        request(
            fibre("1", "modify", service_id="svc-1", bandwidth="1G", staticIp=True),
            request_id="SO-2",
        )
    ).orders[0]
    assert [(a, s) for a, s, _, _ in relations(change)] == [
        ("modify", "gpon-port"),
        ("add", "ipv4"),
        ("noChange", "ont"),
        ("noChange", "vlan"),
    ]


def test_delete_issues_recovery_items_for_every_resource_of_the_service(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    issuer.record_delivery(added.id or "", {"1": "ont-4711", "4": ResourceRefOrValue(id="ip-9")})
    result = issuer.issue(request(fibre("1", "delete", service_id="svc-1"), request_id="SO-9"))
    (recovery,) = result.orders
    assert recovery.superseded_ids == (added.id,)
    assert [r[:2] + r[2:] for r in relations(recovery)] == [
        ("delete", "ont", "recovers", f"{added.id}/1"),
        ("delete", "gpon-port", "recovers", f"{added.id}/2"),
        ("delete", "vlan", "recovers", f"{added.id}/3"),
        ("delete", "ipv4", "recovers", f"{added.id}/4"),
    ]
    assert [i.resource.id if i.resource else None for i in recovery.order_item] == [
        "ont-4711",
        None,
        None,
        "ip-9",
    ]


def test_a_deleted_service_cannot_be_modified_and_goes_to_special_handling(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    recovery = issuer.issue(request(fibre("1", "delete", service_id="svc-1"), request_id="SO-2"))
    late = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", bandwidth="100M"), request_id="SO-3")
    )
    assert late.outcome("1") == "special"
    assert late.record.item("1").reason == (
        f"service 'svc-1' was deleted by resource order(s) {recovery.orders[0].id}"
    )
    assert late.orders[0].order_item == ()


def test_a_modify_of_a_service_never_ordered_goes_to_special_handling(
    issuer: ResourceOrderIssuer, tracker: ek.ordering.InMemoryProvisioningTracker
) -> None:
    result = issuer.issue(request(fibre("1", "modify", service_id="svc-404", bandwidth="1G")))
    (order,) = result.orders
    assert result.outcome("1") == "special"
    assert order.special_handling and order.order_item == () and order.supersedes == ()
    assert (order.special_handling_reason or "").startswith(
        "no resource order was issued for service 'svc-404'; cannot modify its resources"
    )
    assert tracker.orders == [order]


def test_with_the_error_policy_an_unknown_earlier_order_is_a_validation_error(
    store: InMemoryOrderingStore, rules: RuleSet
) -> None:
    issuer = ResourceOrderIssuer(store, rules, unknown_earlier_order="error")
    with pytest.raises(ek.ValidationError) as caught:
        issuer.issue(request(fibre("1"), fibre("2", "delete", service_id="svc-404")))
    ((path, message),) = caught.value.problems
    assert path == "items[1].service.id"
    assert message.startswith("no resource order was issued for service 'svc-404'")
    assert stored(store) == (0, 0, 0)


def test_a_modify_naming_the_order_item_that_added_the_service_finds_its_orders(
    issuer: ResourceOrderIssuer,
) -> None:
    added = issuer.issue(request(fibre("7"), request_id="SO-1")).orders[0]
    item = fibre("1", "modify", service_id="svc-new", bandwidth="100M")
    item = ek.model._copy.replace(
        item,
        service=ek.model._copy.replace(
            item.service,
            service_order_item=(
                RelatedServiceOrderItem(item_id="7", service_order_id="SO-1", item_action="add"),
            ),
        ),
    )
    change = issuer.issue(request(item, request_id="SO-2")).orders[0]
    assert change.superseded_ids == (added.id,)


def test_cancelled_change_orders_do_not_count_as_the_services_resources(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    change = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", bandwidth="100M"), request_id="SO-2")
    ).orders[0]
    for state in ("assessingCancellation", "pendingCancellation", "cancelled"):
        issuer.transition(change.id or "", state)
    again = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", bandwidth="100M"), request_id="SO-3")
    )
    assert again.orders[0].superseded_ids == (added.id,)


def test_a_change_rule_for_a_resource_the_service_never_had_is_not_guessed(
    issuer: ResourceOrderIssuer, store: InMemoryOrderingStore
) -> None:
    rules = RuleSet(
        [
            *issuer.rules,
            ek.ordering.Rule(
                id="vlan-retag",
                specification="fibre",
                action="modify",
                when=[ek.ordering.Eq("retag", True)],
                produces=[
                    ek.ordering.ItemTemplate(
                        resource_specification="ipv4", characteristics={"pool": "x"}
                    )
                ],
            ),
        ]
    )
    issuer = ResourceOrderIssuer(store, rules)
    issuer.issue(request(fibre("1"), request_id="SO-1"))
    issuer.link_service("serviceOrder:SO-1", "1", "svc-1")
    result = issuer.issue(
        request(fibre("1", "modify", service_id="svc-1", retag=True), request_id="SO-2")
    )
    assert result.outcome("1") == "special"
    assert result.record.item("1").reason == (
        "rule vlan-retag@1 would modify a 'ipv4' resource, but the service's earlier "
        "orders have none"
    )


def test_linking_a_service_twice_to_different_ids_is_a_conflict(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    issuer.link_service("serviceOrder:SO-1", "1", "svc-1")  # the same again is fine
    with pytest.raises(ek.ConflictError, match="already linked to service 'svc-1'"):
        issuer.link_service("serviceOrder:SO-1", "1", "svc-2")
    with pytest.raises(ek.NotFoundError):
        issuer.link_service("serviceOrder:SO-1", "9", "svc-2")


def test_recording_a_delivery_for_an_unknown_item_is_not_found(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    with pytest.raises(ek.NotFoundError, match="item of ResourceOrder"):
        issuer.record_delivery(added.id or "", {"99": "x"})


def test_a_request_item_built_directly_may_name_its_service(
    issuer: ResourceOrderIssuer, added: ResourceOrder
) -> None:
    item = ek.model.orders.ServiceOrderItem(
        id="t1",
        action="modify",
        service=ServiceRefOrValue(
            id="svc-1",
            service_specification=EntityRef(id="fibre"),
            service_characteristic=(ek.Characteristic(name="bandwidth", value="100M"),),
        ),
    )
    result = issuer.issue(request(item, kind="troubleRecovery", request_id="TT-5"))
    assert result.orders[0].superseded_ids == (added.id,)
    assert result.orders[0].request_key == "troubleRecovery:TT-5"
