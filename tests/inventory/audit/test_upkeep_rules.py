"""The lifecycle and consistency audit rules of issue #16, and manual confirmation.

Each rule: a planted defect is found exactly once, with the right rule and
entity, and a clean inventory gives no finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.inventory.audit.helpers import (
    LONG_AGO,
    NOW,
    Planted,
    auditor,
    clean_base,
    found,
    offering,
    product,
)

import etomkit as ek


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield ek.InMemoryStore()
    else:
        with ek.FileStore(tmp_path / "store", durability="none") as file_store:
            yield file_store


def _bundle_of_retired(store: Any) -> Planted:
    store.offerings.add(offering("po-old", lifecycle_status="Retired"))
    members = (ek.EntityRef(id="po-base"), ek.EntityRef(id="po-old"))
    store.offerings.add(offering("po-bundle", is_bundle=True, bundled_product_offering=members))
    return ("bundle-lifecycle", "ProductOffering", "po-bundle")


def _active_on_unlaunched(store: Any) -> Planted:
    store.offerings.add(offering("po-draft", lifecycle_status="In test"))
    store.products.add(product("p-early", "po-draft"))
    return ("unlaunched-offering", "Product", "p-early")


def _terminated_before_start(store: Any) -> Planted:
    store.products.add(
        product("p-misdated", status="terminated", termination_date=NOW - timedelta(days=20))
    )  # started 10 days ago
    return ("date-order", "Product", "p-misdated")


def _offering_ends_before_it_starts(store: Any) -> Planted:
    period = ek.TimePeriod(start_date_time=NOW, end_date_time=NOW - timedelta(days=1))
    store.offerings.add(offering("po-misdated", lifecycle_status="In design", valid_for=period))
    return ("date-order", "ProductOffering", "po-misdated")


def _product_updated_in_future(store: Any) -> Planted:
    store.products.add(product("p-future", last_update=NOW + timedelta(days=3)))
    return ("future-update", "Product", "p-future")


def _offering_updated_in_future(store: Any) -> Planted:
    store.offerings.add(offering("po-future", last_update=NOW + timedelta(hours=1)))
    return ("future-update", "ProductOffering", "po-future")


def _duplicate_in_another_case(store: Any) -> Planted:
    store.offerings.add(offering("po-shouty", name="OFFER  PO-BASE", version="1.0"))
    return ("duplicates", "ProductOffering", "po-shouty")


def _product_characteristic_twice(store: Any) -> Planted:
    chars = (
        ek.Characteristic(name="downloadSpeed", value=1000),
        ek.Characteristic(name="colour", value="red"),
        ek.Characteristic(name="downloadSpeed", value=50),
    )
    store.products.add(product("p-twice", product_characteristic=chars))
    return ("duplicate-characteristics", "Product", "p-twice")


def _offering_characteristic_twice(store: Any) -> Planted:
    uses = (ek.CharacteristicValueUse(name="speed"), ek.CharacteristicValueUse(name="speed"))
    store.offerings.add(offering("po-twice", prod_spec_char_value_use=uses))
    return ("duplicate-characteristics", "ProductOffering", "po-twice")


PLANTERS: dict[str, Callable[[Any], Planted]] = {
    "bundle of a retired offering": _bundle_of_retired,
    "active product on an offering in test": _active_on_unlaunched,
    "termination before start": _terminated_before_start,
    "validFor ending before it starts": _offering_ends_before_it_starts,
    "product updated in the future": _product_updated_in_future,
    "offering updated in the future": _offering_updated_in_future,
    "duplicate differing only in case": _duplicate_in_another_case,
    "product characteristic twice": _product_characteristic_twice,
    "offering characteristic twice": _offering_characteristic_twice,
}


@pytest.mark.parametrize("defect", list(PLANTERS))
def test_each_planted_defect_is_found_exactly_once(store: Any, defect: str) -> None:
    clean_base(store)
    planted = PLANTERS[defect](store)
    run = auditor(store).run()
    assert found(run) == [planted]
    assert run.score(planted[0]).failed == 1


def test_all_defects_planted_together_are_each_found_once(store: Any) -> None:
    clean_base(store)
    planted = [plant(store) for plant in PLANTERS.values()]
    assert sorted(found(auditor(store).run())) == sorted(planted)


NEW_RULES = (
    "bundle-lifecycle",
    "unlaunched-offering",
    "date-order",
    "future-update",
    "duplicate-characteristics",
)


def test_a_clean_inventory_gives_the_new_rules_nothing_to_find(store: Any) -> None:
    clean_base(store, products=5)
    # clean edge cases: a retired bundle of a retired offering, a suspended product on an
    # offering in test, a terminated product ended after its start, an update at "now"
    store.offerings.add(offering("po-gone", lifecycle_status="Retired"))
    members = (ek.EntityRef(id="po-gone"),)
    store.offerings.add(
        offering("po-gone-bundle", lifecycle_status="Retired", bundled_product_offering=members)
    )
    store.offerings.add(offering("po-draft", lifecycle_status="In test", name="Draft"))
    store.products.add(product("p-waiting", "po-draft", status="suspended"))
    store.products.add(product("p-ended", status="terminated", termination_date=NOW))
    store.offerings.add(offering("po-v2", name="Offer po-base", version="2.0"))
    run = auditor(store).run()
    assert found(run) == []
    for rule in NEW_RULES:
        assert run.score(rule).checked > 0 and run.score(rule).failed == 0


def test_each_new_rule_can_run_on_its_own(store: Any) -> None:
    clean_base(store)
    planted = [plant(store) for plant in PLANTERS.values()]
    for rule in NEW_RULES:
        run = auditor(store, rules=[rule]).run(store=False)
        assert sorted(found(run)) == sorted(p for p in planted if p[0] == rule)


# ------------------------------------------------------------------ input refusal


def test_a_product_with_two_characteristics_of_one_name_is_refused(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    chars = (ek.Characteristic(name="speed", value=1), ek.Characteristic(name="speed", value=2))
    with pytest.raises(ek.ValidationError) as caught:
        inventory.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id=launched.id or "",
            order_item=ek.OrderItemRef(order_id="o-1", item_id="1"),
            characteristics=chars,
        )
    assert caught.value.problems[0][0] == "product_characteristic[1].name"
    assert "product_characteristic[0]" in caught.value.problems[0][1]
    assert len(inventory.store.products) == 0


def test_an_offering_using_one_characteristic_twice_is_refused(
    inventory: ek.ProductOfferingInventory,
) -> None:
    uses = (ek.CharacteristicValueUse(name="speed"), ek.CharacteristicValueUse(name="speed"))
    with pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(ek.ProductOffering(name="Fibre", prod_spec_char_value_use=uses))
    assert [p for p, _ in caught.value.problems] == ["prod_spec_char_value_use[1].name"]


# ------------------------------------------------------------------ confirmation


def test_a_passing_manual_audit_confirms_a_record_until_the_next_period(store: Any) -> None:
    clean_base(store, products=0)
    store.products.add(product("p-old", last_update=LONG_AGO))
    clock = ek.ManualClock(NOW)
    audits = ek.InventoryAuditor(
        store, clock=clock, ids=ek.SequentialIdFactory(), stale_after=timedelta(days=365)
    )
    assert found(audits.run()) == [("staleness", "Product", "p-old")]
    audits.record_manual_audit(
        entity_type="Product", entity_id="p-old", auditor="ann", outcome="passed"
    )
    assert found(audits.run()) == []
    clock.advance(timedelta(days=364))
    assert found(audits.run()) == []
    clock.advance(timedelta(days=2))  # a year after the confirmation (po-base is stale too)
    assert ("staleness", "Product", "p-old") in found(audits.run())


def test_a_failed_or_inconclusive_manual_audit_confirms_nothing(store: Any) -> None:
    clean_base(store, products=0)
    store.offerings.add(offering("po-old", last_update=LONG_AGO, name="Old"))
    audits = auditor(store)
    audits.record_manual_audit(
        entity_type="ProductOffering", entity_id="po-old", auditor="ann", outcome="inconclusive"
    )
    assert found(audits.run()) == [("staleness", "ProductOffering", "po-old")]


def test_a_product_cannot_be_terminated_before_it_started(
    inventory: ek.ProductOfferingInventory, launched: ek.ProductOffering
) -> None:
    bought = inventory.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=launched.id or "",
        order_item=ek.OrderItemRef(order_id="o-1", item_id="1"),
        status="active",
    )
    assert bought.id is not None and bought.start_date is not None
    with pytest.raises(ek.ValidationError) as caught:
        inventory.transition_product(
            bought.id, "terminated", when=bought.start_date - timedelta(days=1)
        )
    assert [p for p, _ in caught.value.problems] == ["termination_date"]
    assert inventory.get_product(bought.id).status == "active"
