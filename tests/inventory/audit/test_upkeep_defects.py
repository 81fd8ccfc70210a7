"""Regression tests for the upkeep defects of issue #16: each fails on 0.1.0."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.inventory.audit.helpers import NOW, auditor, clean_base, found, offering, product

import etomkit as ek
from etomkit.inventory.requirements import (
    InformationRequirement,
    InformationRequirements,
    ValueRequirement,
)
from etomkit.inventory.shortcomings import identify_shortcomings


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield ek.InMemoryStore()
    else:
        with ek.FileStore(tmp_path / "store", durability="none") as file_store:
            yield file_store


# ------------------------------------------------------------------ requirement files


def test_problems_after_a_requirement_without_an_id_keep_their_own_position() -> None:
    text = """
[[requirement]]
entity = "Product"

[[requirement]]
id = "fine"

[[requirement]]
id = "bad-types"
[[requirement.characteristic]]
name = "speed"
value_type = "int"
maximum = 1
minimum = 2
"""
    with pytest.raises(ek.ValidationError) as caught:
        InformationRequirements.from_toml_text(text)
    paths = [path for path, _ in caught.value.problems]
    assert "requirement[0].id" in paths
    assert "requirement[2](bad-types).characteristics[0].value_type" in paths
    assert "requirement[2](bad-types).characteristics[0].maximum" in paths
    assert not any(p.startswith("requirement[1](bad-types)") for p in paths)


# ------------------------------------------------------------------ declared value types


@pytest.mark.parametrize("value", ["twelve", 12.5, "24", True])
def test_an_integer_characteristic_cannot_list_values_of_another_type(value: object) -> None:
    inventory = ek.ProductOfferingInventory(ek.InMemoryStore())
    use = ek.CharacteristicValueUse(
        name="contractMonths",
        value_type="integer",
        product_spec_characteristic_value=({"value": 12}, {"value": value}),
    )
    with pytest.raises(ek.ValidationError) as caught:
        inventory.create_offering(ek.ProductOffering(name="Fibre", prod_spec_char_value_use=(use,)))
    ((path, message),) = caught.value.problems
    assert path == "prod_spec_char_value_use[0].product_spec_characteristic_value[1].value"
    assert "integer" in message and repr(value) in message
    assert len(inventory.store.offerings) == 0


def test_an_audit_flags_stored_values_that_break_their_declared_type(store: Any) -> None:
    requirements = InformationRequirements(
        [
            InformationRequirement(
                id="contract",
                characteristics=(ValueRequirement(name="contractMonths", value_type="integer"),),
            )
        ]
    )
    use = ek.CharacteristicValueUse(
        name="contractMonths",
        value_type="integer",
        product_spec_characteristic_value=({"value": 12}, {"value": "24"}),
    )
    store.offerings.add(offering("po-typed", prod_spec_char_value_use=(use,)))
    run = auditor(store, requirements=requirements).run()
    assert found(run) == [("value-validity", "ProductOffering", "po-typed")]
    assert "'24'" in run.findings[0].detail


# ------------------------------------------------------------------ booleans vs numbers


def _roaming_requirements() -> InformationRequirements:
    return InformationRequirements(
        [
            InformationRequirement(
                id="roaming",
                entity="Product",
                characteristics=(ValueRequirement(name="roaming", allowed=(0, 1)),),
            ),
            InformationRequirement(
                id="speed",
                entity="Product",
                characteristics=(
                    ValueRequirement(name="downloadSpeed", required=False, allowed=(1000,)),
                ),
            ),
        ]
    )


@pytest.mark.parametrize("value", [True, False, "1"])
def test_a_boolean_or_text_does_not_pass_numeric_allowed_values(store: Any, value: object) -> None:
    chars = (ek.Characteristic(name="roaming", value=value),)
    store.offerings.add(offering("po-base"))
    store.products.add(product("p-roaming", product_characteristic=chars))
    run = auditor(store, requirements=_roaming_requirements()).run()
    assert found(run) == [("value-validity", "Product", "p-roaming")]


def test_numbers_pass_numeric_allowed_values_whatever_their_spelling(store: Any) -> None:
    store.offerings.add(offering("po-base"))
    for i, value in enumerate((1, 0, 1.0)):
        chars = (ek.Characteristic(name="roaming", value=value),)
        store.products.add(product(f"p-{i}", product_characteristic=chars))
    assert found(auditor(store, requirements=_roaming_requirements()).run()) == []


def test_the_inventory_refuses_a_boolean_for_numeric_allowed_values() -> None:
    inventory = ek.ProductOfferingInventory(
        ek.InMemoryStore(), requirements=_roaming_requirements()
    )
    gaps = inventory.requirements.product_gaps(  # type: ignore[union-attr]
        product("p", product_characteristic=(ek.Characteristic(name="roaming", value=True),)),
        None,
    )
    assert [g.path for g in gaps] == ["product_characteristic[roaming]"]


# ------------------------------------------------------------------ manual audits


@pytest.mark.parametrize("kind", ["productOffering", "Offering", "product", "Customer"])
def test_a_manual_audit_of_an_unknown_entity_type_is_refused(store: Any, kind: str) -> None:
    clean_base(store, products=0)
    audits = auditor(store)
    with pytest.raises(ek.ValidationError) as caught:
        audits.record_manual_audit(
            entity_type=kind, entity_id="po-base", auditor="ann", outcome="failed"
        )
    (path, message), *_ = caught.value.problems
    assert path == "entity_type" and "'ProductOffering'" in message and "'Product'" in message
    assert audits.manual_audits_of(kind, "po-base") == []


def test_a_manual_audit_of_an_offering_that_does_not_exist_is_refused(store: Any) -> None:
    audits = auditor(store)
    with pytest.raises(ek.NotFoundError):
        audits.record_manual_audit(
            entity_type="ProductOffering", entity_id="po-42", auditor="ann", outcome="passed"
        )


def test_deleting_an_offering_resolves_its_failed_manual_audit(store: Any) -> None:
    clock = ek.ManualClock(NOW)
    inventory = ek.ProductOfferingInventory(store, clock=clock, ids=ek.SequentialIdFactory())
    gone = inventory.create_offering(ek.ProductOffering(name="Old TV"))
    assert gone.id is not None
    audits = auditor(store, requirements=None)
    audits.record_manual_audit(
        entity_type="ProductOffering", entity_id=gone.id, auditor="ann", outcome="failed"
    )
    assert ("manual-audit", "ProductOffering", gone.id) in found(audits.run())
    inventory.delete_offering(gone.id)
    after = audits.run()
    assert [f for f in after.findings if f.entity.id == gone.id] == []
    assert after.manual_audits == ()
    # the auditor may still close it, and the history keeps both audits
    audits.record_manual_audit(
        entity_type="ProductOffering", entity_id=gone.id, auditor="ann", outcome="passed"
    )
    history = audits.history("ProductOffering", gone.id)
    assert [m.outcome for m in history.manual_audits] == ["failed", "passed"]


# ------------------------------------------------------------------ comparisons


def _defective(store: Any) -> None:
    clean_base(store, products=1)
    store.products.add(product("p-orphan", related_party=(ek.RelatedParty(id="x", role="owner"),)))
    store.offerings.add(offering("po-undescribed", description=None))
    store.offerings.add(offering("po-other", category=()))
    store.products.add(
        product("p-other-orphan", "po-other", related_party=(ek.RelatedParty(id="y", role="o"),))
    )


def test_comparing_with_an_orphans_only_run_invents_no_fixes(store: Any) -> None:
    _defective(store)
    whole = auditor(store).run()
    orphans = auditor(store, rules=["orphans"]).run(store=False)
    comparison = ek.InventoryAuditor(store).compare(whole, orphans)
    assert comparison.fixed == () and comparison.new == ()
    assert {f.entity.id for f in comparison.persisting} == {"p-orphan", "p-other-orphan"}
    assert [f.rule for f in comparison.left_out] == ["completeness"]
    assert comparison.note is not None and "completeness" in comparison.note


def test_comparing_with_a_scoped_run_classifies_only_what_both_covered(store: Any) -> None:
    _defective(store)
    audits = auditor(store)
    whole = audits.run()
    scoped = audits.run(products=ek.ProductFilter(offering_id="po-base"))
    forward = audits.compare(whole, scoped)
    assert forward.fixed == ()  # the other offering's orphan was not checked, not fixed
    assert {f.entity.id for f in forward.left_out} == {"p-other-orphan"}
    assert "po-undescribed" in {f.entity.id for f in forward.persisting}  # offerings: all
    assert forward.note is not None and "scopes differ" in forward.note
    # a scoped run before a whole one: what the whole run finds outside the scope is not new
    backward = audits.compare(scoped, whole)
    assert backward.new == ()
    assert {f.entity.id for f in backward.persisting} >= {"p-orphan"}


def test_same_scope_comparisons_still_classify_every_finding(store: Any) -> None:
    _defective(store)
    audits = auditor(store)
    before = audits.run()
    store.products.replace(
        attrs_evolve(store.products.get("p-orphan"), related_party=product("x").related_party)
    )
    comparison = audits.compare(before, audits.run())
    assert [f.entity.id for f in comparison.fixed] == ["p-orphan"]
    assert comparison.left_out == () and comparison.note is None


def attrs_evolve(entity: Any, **changes: Any) -> Any:
    import attrs

    return attrs.evolve(entity, **changes)


# ------------------------------------------------------------------ latency budgets


def _timed(n: int, ns: int) -> list[ek.UsageRecord]:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    return [
        ek.UsageRecord(
            at=at + timedelta(seconds=i),
            client_id="crm",
            operation="get_offering",
            action="read",
            entity_type="offering",
            duration_ns=ns,
        )
        for i in range(n)
    ]


def test_sub_microsecond_samples_are_compared_with_their_budget_unrounded() -> None:
    policy = ek.ShortcomingPolicy(latency_budget_ms={"get_offering": 0.0001})  # 100 ns
    clock = ek.ManualClock(NOW)
    (slow,) = identify_shortcomings(_timed(30, ns=400), policy=policy, clock=clock).shortcomings
    assert (slow.kind, slow.severity) == ("latencyOverBudget", "critical")
    assert slow.evidence["p95_ms"] == 0.0004
    quick = identify_shortcomings(_timed(30, ns=90), policy=policy, clock=clock)
    assert quick.shortcomings == ()


def test_a_median_a_hair_over_the_budget_is_critical_not_jitter() -> None:
    policy = ek.ShortcomingPolicy(latency_budget_ms={"get_offering": 0.0003})
    clock = ek.ManualClock(NOW)
    (slow,) = identify_shortcomings(_timed(30, ns=301), policy=policy, clock=clock).shortcomings
    assert slow.severity == "critical"


# ------------------------------------------------------------------ usage rows


def test_a_failed_sign_in_row_never_puts_the_claimed_id_where_the_name_goes() -> None:
    """A failed sign-in is recorded as the unauthenticated caller (usage records carry
    authenticated identities only, #12), with the claimed client id as its entity."""
    clock = ek.ManualClock(NOW)
    store = ek.InMemoryStore()
    access = ek.AccessControl(store.clients, clock=clock, scrypt_n=16, insecure_low_cost=True)
    meter = ek.UsageMeter(clock=clock)
    inventory = ek.ProductOfferingInventory(store, clock=clock, access=access, usage=meter)
    crm = access.bootstrap("crm")
    with pytest.raises(ek.AccessDeniedError):
        inventory.as_client(f"{crm.client.id}.wrong")
    with pytest.raises(ek.AccessDeniedError):
        inventory.as_client("nobody.wrong")
    rows = [r for r in meter.report().rows() if r["operation"] == "as_client"]
    assert {(r["client_id"], r["client"]) for r in rows} == {
        ("anonymous", "unauthenticated caller")
    }
    claimed = {tuple(r.entity_ids) for r in meter.records() if r.operation == "as_client"}
    assert claimed == {(crm.client.id,), ("nobody",)}
