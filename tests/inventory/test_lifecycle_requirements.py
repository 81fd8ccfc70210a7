"""Information requirements by lifecycle state (issue #16): enforced on every
transition into the state, in every store, and reported by the audit."""

from __future__ import annotations

from typing import Any

import pytest

import etomkit as ek
from etomkit.inventory.requirements import InformationRequirements

REQUIREMENTS = """
[[requirement]]
id = "spec-from-test"
states = ["In test", "Active", "Launched"]
required_fields = ["productSpecification"]

[[requirement]]
id = "priced-once-launched"
states = ["launched"]
required_fields = ["product_offering_price", "description"]

[[requirement]]
id = "active-products-billed"
entity = "Product"
states = ["active"]
required_fields = ["billing_account"]
"""

SPEC = ek.EntityRef(id="spec-fibre")
PRICE = (ek.EntityRef(id="price-fibre"),)


@pytest.fixture
def inventory(store: Any, clock: ek.ManualClock) -> ek.ProductOfferingInventory:
    return ek.ProductOfferingInventory(
        store,
        clock=clock,
        ids=ek.SequentialIdFactory(),
        requirements=InformationRequirements.from_toml_text(REQUIREMENTS),
    )


def _designed(inventory: ek.ProductOfferingInventory, **fields: Any) -> str:
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre", **fields))
    assert offering.id is not None
    inventory.transition_offering(offering.id, "In design")
    return offering.id


def test_an_offering_without_a_specification_cannot_enter_test(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offering_id = _designed(inventory)
    with pytest.raises(ek.ValidationError) as caught:
        inventory.transition_offering(offering_id, "In test")
    assert [p for p, _ in caught.value.problems] == ["product_specification"]
    assert "spec-from-test" in caught.value.problems[0][1]
    assert "'In test'" in str(caught.value)
    assert inventory.get_offering(offering_id).lifecycle_status == "In design"


def test_launching_lists_every_missing_field(inventory: ek.ProductOfferingInventory) -> None:
    offering_id = _designed(inventory, product_specification=SPEC)
    for state in ("In test", "Active"):
        inventory.transition_offering(offering_id, state)
    before = inventory.get_offering(offering_id)
    with pytest.raises(ek.ValidationError) as caught:
        inventory.transition_offering(offering_id, "Launched")
    assert sorted(p for p, _ in caught.value.problems) == ["description", "product_offering_price"]
    assert inventory.get_offering(offering_id) == before  # nothing stored


def test_a_complete_offering_is_launched_and_may_retire_without_a_price_rule(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offering_id = _designed(
        inventory, product_specification=SPEC, product_offering_price=PRICE, description="1 Gbit/s"
    )
    for state in ("In test", "Active", "Launched", "Retired"):
        assert inventory.transition_offering(offering_id, state).lifecycle_status == state


def test_a_state_change_by_modify_meets_the_same_requirements(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offering_id = _designed(inventory)
    with pytest.raises(ek.ValidationError) as caught:
        inventory.modify_offering(offering_id, {"lifecycle_status": "In test"})
    assert [p for p, _ in caught.value.problems] == ["product_specification"]
    changed = inventory.modify_offering(
        offering_id, {"lifecycle_status": "In test", "product_specification": SPEC}
    )
    assert changed.lifecycle_status == "In test"


def _launched(inventory: ek.ProductOfferingInventory) -> str:
    offering_id = _designed(
        inventory, product_specification=SPEC, product_offering_price=PRICE, description="fast"
    )
    for state in ("In test", "Active", "Launched"):
        inventory.transition_offering(offering_id, state)
    return offering_id


def test_a_product_cannot_be_activated_without_a_billing_account(
    inventory: ek.ProductOfferingInventory,
) -> None:
    offering_id = _launched(inventory)
    item = ek.OrderItemRef(order_id="o-1", item_id="1")
    product = inventory.record_purchase(
        customer=ek.PartyRef(id="c-1"), offering_id=offering_id, order_item=item
    )
    assert product.id is not None
    with pytest.raises(ek.ValidationError) as caught:
        inventory.transition_product(product.id, "active")
    assert [p for p, _ in caught.value.problems] == ["billing_account"]
    assert inventory.get_product(product.id).status == "created"
    with pytest.raises(ek.ValidationError):
        inventory.record_purchase(
            customer=ek.PartyRef(id="c-2"),
            offering_id=offering_id,
            order_item=ek.OrderItemRef(order_id="o-2", item_id="1"),
            status="active",
        )
    assert len(inventory.list_products().items) == 1
    billed = inventory.record_purchase(
        customer=ek.PartyRef(id="c-3"),
        offering_id=offering_id,
        order_item=ek.OrderItemRef(order_id="o-3", item_id="1"),
        status="active",
        billing_account=ek.EntityRef(id="ba-3"),
    )
    assert billed.status == "active"


def test_the_audit_reports_records_that_reached_a_state_before_its_requirement(
    store: Any, clock: ek.ManualClock
) -> None:
    open_inventory = ek.ProductOfferingInventory(store, clock=clock, ids=ek.SequentialIdFactory())
    offering = open_inventory.create_offering(ek.ProductOffering(name="Fibre"))
    assert offering.id is not None
    for state in ("In design", "In test", "Active", "Launched"):
        open_inventory.transition_offering(offering.id, state)
    draft = open_inventory.create_offering(ek.ProductOffering(name="Draft"))  # In study: fine
    requirements = InformationRequirements.from_toml_text(REQUIREMENTS)
    run = ek.InventoryAuditor(store, requirements=requirements, clock=clock).run()
    (gap,) = run.findings
    assert (gap.rule, gap.entity.id) == ("completeness", offering.id)
    for missing in ("product_specification", "product_offering_price", "description"):
        assert missing in gap.detail
    assert draft.id not in {f.entity.id for f in run.findings}


def test_requirement_states_must_be_names() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        InformationRequirements.from_toml_text('[[requirement]]\nid = "x"\nstates = "Launched"\n')
    assert [p for p, _ in caught.value.problems] == ["requirement[0](x).states"]
