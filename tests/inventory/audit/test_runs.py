"""Audit runs are stored and compared; manual audits are recorded and queryable;
findings come as objects, rows and TMF-style JSON; custom rules plug in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given
from tests.inventory.audit.helpers import DEFECTS, NOW, auditor, clean_base, found, plant, product

import etomkit as ek
from etomkit import tmf
from etomkit.inventory.audit import (
    NOT_APPLICABLE,
    AuditContext,
    RuleScore,
    Violation,
    audit_rule,
    score_trend,
)
from etomkit.model.queries import OfferingFilter, ProductFilter


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield ek.InMemoryStore()
    else:
        with ek.FileStore(tmp_path / "store", durability="none") as file_store:
            yield file_store


def test_comparison_classifies_new_fixed_and_persisting_findings(store: Any) -> None:
    clean_base(store)
    audits = auditor(store)
    orphan = plant(store, "orphan-product", "1")
    stale = plant(store, "stale-product", "1")
    first = audits.run()
    store.products.remove(orphan[2])  # fixed
    store.products.replace(
        ek.model._copy.replace(store.products.get(stale[2]), status="pendingActive")
    )  # still stale (detail unchanged), so persisting
    dup = plant(store, "duplicate-offering", "2")  # new
    second = audits.run()
    comparison = audits.compare(first.id or "", second)
    assert [f.key for f in comparison.new] == [f"duplicates|ProductOffering:{dup[2]}"]
    assert [f.key for f in comparison.fixed] == [f"orphans|Product:{orphan[2]}"]
    assert [f.key for f in comparison.persisting] == [f"staleness|Product:{stale[2]}"]
    assert comparison.counts() == {"new": 1, "fixed": 1, "persisting": 1}
    assert [r["change"] for r in comparison.rows()] == ["new", "fixed", "persisting"]


@given(
    before=st.sets(st.sampled_from(DEFECTS[:-1])),
    after=st.sets(st.sampled_from(DEFECTS[:-1])),
)
def test_comparison_agrees_with_the_planted_sets(before: set[str], after: set[str]) -> None:
    """Defects planted only before are fixed, only after new, in both persisting."""
    store = ek.InMemoryStore()
    clean_base(store)
    audits = auditor(store)
    planted = {kind: plant(store, kind, "x") for kind in sorted(before)}
    first = audits.run()
    for kind in sorted(before - after):  # fix: remove what was planted
        _rule, entity_type, entity_id = planted[kind]
        repo = store.products if entity_type == "Product" else store.offerings
        repo.remove(entity_id)
        for extra in ("po-retired-x",) if kind == "active-on-retired" else ():
            store.offerings.remove(extra)
    for kind in sorted(after - before):
        planted[kind] = plant(store, kind, "x")
    comparison = audits.compare(first, audits.run())

    def keys(findings: tuple[ek.AuditFinding, ...]) -> set[tuple[str, str, str]]:
        return {(f.rule, f.entity.referred_type or "", f.entity.id) for f in findings}

    assert keys(comparison.new) == {planted[k] for k in after - before}
    assert keys(comparison.fixed) == {planted[k] for k in before - after}
    assert keys(comparison.persisting) == {planted[k] for k in before & after}


def test_runs_are_stored_and_survive_reopening_and_compaction(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    with ek.FileStore(directory, durability="none") as store:
        clean_base(store)
        audits = auditor(store)
        plant(store, "orphan-product", "1", audits)
        plant(store, "failed-manual-audit", "1", audits)
        run = audits.run()
    with ek.FileStore(directory, durability="none") as store:
        assert store.audit_runs.get(run.id or "") == run
        assert len(store.manual_audits) == 1
        store.compact()
    with ek.FileStore(directory, durability="none") as store:
        audits = auditor(store)
        assert audits.runs() == [run]
        assert audits.latest_run() == run
        assert audits.compare(run, run).counts() == {"new": 0, "fixed": 0, "persisting": 2}


def test_findings_and_runs_are_json_and_rows(store: Any) -> None:
    clean_base(store)
    audits = auditor(store)
    plant(store, "orphan-product", "1")
    run = audits.run()
    doc = tmf.to_json(run)
    assert doc["findings"][0]["entity"] == {"id": "p-orphan-product-1", "@referredType": "Product"}
    assert doc["findings"][0]["suggestedFix"].startswith("add the customer")
    assert tmf.from_json(ek.AuditRun, doc) == ek.model._copy.replace(run, revision=0)
    assert tmf.from_json(ek.AuditFinding, tmf.to_json(run.findings[0])) == run.findings[0]
    [row] = run.rows()
    assert row == {
        "run": run.id,
        "rule": "orphans",
        "severity": "major",
        "entity_type": "Product",
        "entity_id": "p-orphan-product-1",
        "detail": "has no related party in the 'customer' role",
        "suggested_fix": "add the customer as a related party (role 'customer')",
    }
    scores = {r["rule"]: r for r in run.score_rows()}
    assert scores["orphans"]["checked"] == 4 and scores["orphans"]["failed"] == 1
    assert scores["orphans"]["score"] == 0.75
    assert scores["overall"]["score"] == run.overall_score
    assert [r["findings"] for r in score_trend([run])] == [1]


def test_a_bad_finding_document_names_the_field() -> None:
    doc = {"rule": "x", "entity": {"id": "p"}, "severity": "urgent"}
    with pytest.raises(ek.ValidationError, match="severity must be one of"):
        tmf.from_json(ek.AuditFinding, doc)
    with pytest.raises(ek.ValidationError, match="score: must be a number from 0 to 1"):
        RuleScore(rule="x", checked=1, failed=0, score=2.0)


def test_manual_audits_are_recorded_included_and_form_the_entity_history(store: Any) -> None:
    clean_base(store)
    clock = ek.ManualClock(NOW)
    audits = ek.InventoryAuditor(store, clock=clock, ids=ek.SequentialIdFactory())
    first = audits.record_manual_audit(
        entity_type="Product", entity_id="p-clean-0", auditor="ann", outcome="failed",
        notes="serial number does not match the CPE", evidence=["https://tickets/T-1"],
    )  # fmt: skip
    run1 = audits.run()
    assert found(run1) == [("manual-audit", "Product", "p-clean-0")]
    assert [(m.id, m.outcome, m.auditor) for m in run1.manual_audits] == [
        (first.id, "failed", "ann")
    ]
    assert "serial number" in run1.findings[0].detail
    clock.advance(timedelta(days=1))
    second = audits.record_manual_audit(
        entity_type="Product", entity_id="p-clean-0", auditor="bob", outcome="passed"
    )
    run2 = audits.run()
    assert run2.findings == () and [m.id for m in run2.manual_audits] == [second.id]
    assert audits.compare(run1, run2).counts() == {"new": 0, "fixed": 1, "persisting": 0}
    history = audits.history("Product", "p-clean-0")
    assert history.manual_audits == (first, second)
    assert [(run_id, f.rule) for run_id, _, f in history.findings] == [(run1.id, "manual-audit")]
    assert [r["kind"] for r in history.rows()] == ["manual", "automated", "manual"]
    assert first.evidence == (ek.EntityRef(id="https://tickets/T-1", href="https://tickets/T-1"),)
    assert audits.history("Product", "p-clean-1").manual_audits == ()


def test_a_bad_manual_audit_lists_every_problem_and_stores_nothing(store: Any) -> None:
    clean_base(store)
    audits = ek.InventoryAuditor(store)
    with pytest.raises(ek.ValidationError) as caught:
        audits.record_manual_audit(
            entity_type="Product", entity_id="p-clean-0", auditor=" ", outcome="ok",
            evidence=[3],  # type: ignore[list-item]
        )  # fmt: skip
    assert [p for p, _ in caught.value.problems] == ["auditor", "outcome", "evidence[0]"]
    with pytest.raises(ek.NotFoundError):
        audits.record_manual_audit(
            entity_type="Product", entity_id="p-none", auditor="ann", outcome="passed"
        )
    assert len(store.manual_audits) == 0


def test_bad_auditor_configuration_is_one_validation_error() -> None:
    with pytest.raises(ek.ValidationError) as caught:
        ek.InventoryAuditor(
            ek.InMemoryStore(),
            rules=["orphans", "freshness", "orphans"],
            stale_after=timedelta(days=-1),
        )
    paths = [p for p, _ in caught.value.problems]
    assert paths == ["stale_after", "rules[1]", "rules[2]"]
    assert "built-in rules: completeness" in dict(caught.value.problems)["rules[1]"]
    with pytest.raises(ek.ValidationError, match="audit_runs and manual_audits"):
        ek.InventoryAuditor(object())  # type: ignore[arg-type]


def test_only_the_chosen_rules_run(store: Any) -> None:
    clean_base(store)
    plant(store, "orphan-product", "1")
    plant(store, "stale-product", "1")
    run = auditor(store, rules=["staleness"]).run()
    assert found(run) == [("staleness", "Product", "p-stale-product-1")]
    assert [s.rule for s in run.rule_scores] == ["staleness"]


def test_a_filtered_run_audits_only_the_selected_records(store: Any) -> None:
    clean_base(store)
    plant(store, "orphan-product", "1")
    plant(store, "stale-offering", "1")
    store.products.add(product("p-susp", status="suspended", related_party=()))
    run = auditor(store).run(
        products=ProductFilter(status="suspended"), offerings=OfferingFilter(name="none")
    )
    assert found(run) == [("orphans", "Product", "p-susp")]
    assert (run.offerings_checked, run.products_checked) == (0, 1)
    assert run.scope == "offerings: name=none; products: status=suspended"


def test_custom_rules_get_the_context_and_count_only_what_they_check(store: Any) -> None:
    clean_base(store, products=2)
    store.products.add(product("p-slow", product_characteristic=(
        ek.Characteristic(name="downloadSpeed", value=10),)))  # fmt: skip

    @audit_rule("fibre-is-fast", entity_type="Product", severity="info", suggested_fix="upsell")
    def fibre_is_fast(p: ek.Product, context: AuditContext) -> Violation | str | None:
        offering = context.offering(p.product_offering.id)
        assert offering is not None and context.now == NOW
        speed = p.characteristic("downloadSpeed")
        if p.id == "p-clean-0":
            return NOT_APPLICABLE  # type: ignore[no-any-return]
        return None if speed >= 100 else f"only {speed} Mb/s on {offering.name}"

    run = auditor(store, rules=["orphans", fibre_is_fast]).run()
    [finding] = run.findings
    assert (finding.rule, finding.entity.id, finding.severity) == (
        "fibre-is-fast",
        "p-slow",
        "info",
    )
    assert finding.detail == "only 10 Mb/s on Offer po-base" and finding.suggested_fix == "upsell"
    assert run.score("fibre-is-fast") == RuleScore.of("fibre-is-fast", 2, 1)
    with pytest.raises(ek.ValidationError, match="built-in rule's name"):
        ek.InventoryAuditor(
            store, rules=[audit_rule("orphans", entity_type="Product")(fibre_is_fast.function)]
        )
