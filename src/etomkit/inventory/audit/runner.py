"""The audit pass: one stream over the offerings, one over the products.

Memory holds what the rules need, not the records: the facts of each
offering (id, name, version, status, categories, specification: about ten
thousand entries), the (name, version) keys seen, the bundles' member ids,
and the findings. The built-in product rules are evaluated by one fused loop
(local variables, one dict lookup for the offering, per-offering cached
requirement checks), so a clean product costs a handful of attribute reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from etomkit.inventory.audit.fused import OfferingEntry, compile_product_pass
from etomkit.inventory.audit.rules import (
    NOT_APPLICABLE,
    AuditContext,
    AuditRule,
    BuiltinRule,
    OfferingFacts,
    Violation,
)
from etomkit.inventory.requirements import Gap, InformationRequirements
from etomkit.model.audit import AuditFinding, ManualAudit, ManualAuditFilter, RuleScore
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.model.values import EntityRef
from etomkit.ports import Store

__all__ = ["AuditOutcome", "audit_pass"]

#: Offering states that sell (lifecycle-consistency: not past validFor's end).
SELLING_STATES = frozenset({"Active", "Launched"})
#: Offering states on which no product should still be active.
ENDED_STATES = frozenset({"Retired", "Obsolete"})


@attrs.frozen(kw_only=True)
class AuditOutcome:
    """What one pass found."""

    findings: tuple[AuditFinding, ...]
    rule_scores: tuple[RuleScore, ...]
    overall_score: float
    offerings_checked: int
    products_checked: int
    manual_audits: tuple[ManualAudit, ...]


class _Findings:
    """Collects findings; one per (rule, entity)."""

    def __init__(self, rules: Sequence[BuiltinRule | AuditRule]) -> None:
        self.items: list[AuditFinding] = []
        self.rules = {r.name: r for r in rules}

    def add(
        self, rule: str, entity_type: str, entity_id: str, detail: str, fix: str | None = None
    ) -> None:
        spec = self.rules[rule]
        self.items.append(
            AuditFinding(
                rule=rule,
                entity=EntityRef(id=entity_id, referred_type=entity_type),
                severity=spec.severity,
                detail=detail,
                suggested_fix=fix if fix is not None else getattr(spec, "suggested_fix", None),
            )
        )

    def gaps(self, entity_type: str, entity_id: str, gaps: list[Gap], enabled: set[str]) -> None:
        missing = [g for g in gaps if g.kind == "missing"]
        invalid = [g for g in gaps if g.kind == "invalid"]
        for rule, found, verb in (
            ("completeness", missing, "capture"),
            ("value-validity", invalid, "correct"),
        ):
            if found and rule in enabled:
                detail = "; ".join(f"{g.path}: {g.message} ({g.requirement})" for g in found)
                fix = f"{verb} " + ", ".join(dict.fromkeys(g.path for g in found))
                self.add(rule, entity_type, entity_id, detail, fix)

    def custom(self, rule: AuditRule, entity_type: str, entity_id: str, result: Any) -> None:
        if isinstance(result, Violation):
            self.add(rule.name, entity_type, entity_id, result.detail, result.suggested_fix)
        else:
            self.add(rule.name, entity_type, entity_id, str(result))


def audit_pass(
    store: Store,
    *,
    builtin: Sequence[BuiltinRule],
    custom: Sequence[AuditRule],
    requirements: InformationRequirements | None,
    now: datetime,
    stale_after: timedelta,
    offering_lifecycle: Lifecycle,
    product_lifecycle: Lifecycle,
    offerings: OfferingFilter | None = None,
    products: ProductFilter | None = None,
) -> AuditOutcome:
    """Audit the inventory (or the filtered part of it) in one streaming pass."""
    enabled = {r.name for r in builtin}
    found = _Findings([*builtin, *custom])
    names = [r.name for r in builtin] + [r.name for r in custom]
    checked: dict[str, int] = dict.fromkeys(names, 0)
    facts: dict[str, OfferingFacts] = {}
    context = AuditContext(
        now=now,
        stale_before=now - stale_after,
        offerings=facts,
        requirements=requirements,
        offering_lifecycle=offering_lifecycle,
        product_lifecycle=product_lifecycle,
    )
    n_offerings = _offering_pass(store, offerings, enabled, custom, context, found, checked)
    n_products = _product_pass(store, products, enabled, custom, context, found, checked)
    manual = _manual_pass(store, offerings, products, enabled, found, checked)
    failed = dict.fromkeys(checked, 0)
    for finding in found.items:
        failed[finding.rule] += 1
    scores = tuple(RuleScore.of(rule, checked[rule], failed[rule]) for rule in checked)
    total_checked = sum(checked.values())
    overall = 1.0 if not total_checked else round(1 - sum(failed.values()) / total_checked, 6)
    return AuditOutcome(
        findings=tuple(found.items),
        rule_scores=scores,
        overall_score=overall,
        offerings_checked=n_offerings,
        products_checked=n_products,
        manual_audits=manual,
    )


def _offering_pass(
    store: Store,
    where: OfferingFilter | None,
    enabled: set[str],
    custom: Sequence[AuditRule],
    ctx: AuditContext,
    found: _Findings,
    checked: dict[str, int],
) -> int:
    facts: dict[str, OfferingFacts] = ctx.offerings  # type: ignore[assignment]
    requirements = ctx.requirements
    reqs = requirements is not None and bool(requirements.applicable_any("ProductOffering"))
    terminal = ctx.offering_lifecycle.terminal_states
    stale_before = ctx.stale_before
    now = ctx.now
    rules = [r for r in custom if r.entity_type == "ProductOffering"]
    first_of: dict[tuple[str, str | None], str] = {}
    bundles: list[tuple[str, tuple[str, ...]]] = []
    n = req_checked = 0
    for o in store.offerings.iterate():
        oid: str = o.id  # type: ignore[assignment]  # stored entities have ids
        spec = o.product_specification
        facts[oid] = OfferingFacts(
            oid,
            o.name,
            o.version,
            o.lifecycle_status,
            tuple(c.id for c in o.category),
            None if spec is None else spec.id,
        )
        key = (o.name.strip(), o.version)
        first = first_of.setdefault(key, oid)
        if where is not None and not where.matches(o):
            continue
        n += 1
        status = o.lifecycle_status
        if reqs:
            assert requirements is not None
            mine = facts[oid]
            checks = requirements.checkers(
                "ProductOffering", mine.category_ids, mine.specification_id
            )
            if checks:
                req_checked += 1
                gaps = [g for check in checks for g in check(o)]
                if gaps:
                    found.gaps("ProductOffering", oid, gaps, enabled)
        if o.bundled_product_offering:
            bundles.append((oid, tuple(m.id for m in o.bundled_product_offering)))
        if "lifecycle-consistency" in enabled:
            end = None if o.valid_for is None else o.valid_for.end_date_time
            if status in SELLING_STATES and end is not None and end < now:
                found.add(
                    "lifecycle-consistency",
                    "ProductOffering",
                    oid,
                    f"is {status!r} but its validFor ended at {end.isoformat()}",
                    "retire the offering, or extend its validFor",
                )
        if "duplicates" in enabled and first != oid:
            found.add(
                "duplicates",
                "ProductOffering",
                oid,
                f"has the name {key[0]!r} and version {key[1]!r} of offering {first!r}",
            )
        if "staleness" in enabled and status not in terminal:
            _stale(found, "ProductOffering", oid, o.last_update, stale_before)
        for rule in rules:
            _custom(found, checked, rule, "ProductOffering", oid, o, ctx)
    if "referential-integrity" in enabled:
        for oid, members in bundles:
            missing = [m for m in members if m not in facts]
            if missing:
                shown = ", ".join(repr(m) for m in missing)
                found.add(
                    "referential-integrity",
                    "ProductOffering",
                    oid,
                    f"bundles offering(s) that do not exist: {shown}",
                    "remove the missing members from the bundle, or restore them",
                )
    for name in ("referential-integrity", "lifecycle-consistency", "duplicates", "staleness"):
        if name in enabled:
            checked[name] += n
    for name in ("completeness", "value-validity"):  # only counted where requirements apply
        if name in enabled:
            checked[name] += req_checked
    return n


def _stale(
    found: _Findings, entity_type: str, entity_id: str, last: datetime | None, before: datetime
) -> None:
    if last is None:
        found.add("staleness", entity_type, entity_id, "has never been dated (no lastUpdate)")
    elif last < before:
        found.add(
            "staleness",
            entity_type,
            entity_id,
            f"was last updated at {last.isoformat()}, before {before.isoformat()}",
        )


def _custom(
    found: _Findings,
    checked: dict[str, int],
    rule: AuditRule,
    entity_type: str,
    entity_id: str,
    entity: Any,
    ctx: AuditContext,
) -> None:
    result = rule.check(entity, ctx)
    if result is NOT_APPLICABLE:
        return
    checked[rule.name] += 1
    if result is not None:
        found.custom(rule, entity_type, entity_id, result)


def _product_pass(
    store: Store,
    where: ProductFilter | None,
    enabled: set[str],
    custom: Sequence[AuditRule],
    ctx: AuditContext,
    found: _Findings,
    checked: dict[str, int],
) -> int:
    """One compiled loop over products: the enabled built-in rules, then custom ones."""
    facts = ctx.offerings
    requirements = ctx.requirements
    reqs = requirements is not None and requirements.applicable_any("Product")
    by_spec = reqs and any(
        r.specification is not None
        for r in requirements.requirements  # type: ignore[union-attr]
        if r.entity == "Product"
    )
    entries: dict[str | None, OfferingEntry] = {}
    add = found.add
    stale_before = ctx.stale_before

    def checks_for(offering_id: str | None, spec_id: str | None) -> Any:
        if not reqs:
            return None
        offering = facts.get(offering_id)  # type: ignore[arg-type]
        categories = () if offering is None else offering.category_ids
        if spec_id is None and offering is not None:
            spec_id = offering.specification_id
        return requirements.check_function("Product", categories, spec_id)  # type: ignore[union-attr]

    def make_entry(offering_id: str | None) -> OfferingEntry:
        offering = facts.get(offering_id)  # type: ignore[arg-type]
        entry: OfferingEntry = (
            offering is not None,
            offering is not None and offering.lifecycle_status in ENDED_STATES,
            None if offering is None else offering.specification_id,
            checks_for(offering_id, None),
        )
        entries[offering_id] = entry
        return entry

    def missing_offering(p: Any, offering_id: str) -> None:
        add(
            "referential-integrity",
            "Product",
            p.id,
            f"its product offering {offering_id!r} does not exist",
        )

    def active_on_ended(p: Any, offering_id: str) -> None:
        status = facts[offering_id].lifecycle_status
        add(
            "lifecycle-consistency",
            "Product",
            p.id,
            f"is active on offering {offering_id!r}, which is {status!r}",
            "terminate the product, or migrate it to a live offering",
        )

    def terminated_undated(p: Any) -> None:
        add(
            "lifecycle-consistency",
            "Product",
            p.id,
            "is terminated but has no terminationDate",
            "set the termination date",
        )

    def orphan(p: Any) -> None:
        add("orphans", "Product", p.id, "has no related party in the 'customer' role")

    def stale(p: Any, last: datetime | None) -> None:
        _stale(found, "Product", p.id, last, stale_before)

    def gaps(p: Any, check: Any) -> None:
        found.gaps("Product", p.id, list(check(p)), enabled)

    def run_custom(rule: AuditRule, p: Any) -> None:
        _custom(found, checked, rule, "Product", p.id, p, ctx)

    rules = [r for r in custom if r.entity_type == "Product"]
    product_pass = compile_product_pass(
        enabled,
        requirements=reqs,
        specification_requirements=by_spec,
        custom=bool(rules),
        names={
            "entries": entries,
            "make_entry": make_entry,
            "checks_for": checks_for,
            "terminal": ctx.product_lifecycle.terminal_states,
            "stale_before": stale_before,
            "custom": rules,
            "missing_offering": missing_offering,
            "active_on_ended": active_on_ended,
            "terminated_undated": terminated_undated,
            "orphan": orphan,
            "stale": stale,
            "gaps": gaps,
            "run_custom": run_custom,
        },
    )
    n, req_checked = product_pass(store.products.iterate(where))
    for name in ("referential-integrity", "lifecycle-consistency", "orphans", "staleness"):
        if name in enabled:
            checked[name] += n
    for name in ("completeness", "value-validity"):
        if name in enabled:
            checked[name] += req_checked
    return n


def _manual_pass(
    store: Store,
    offerings: OfferingFilter | None,
    products: ProductFilter | None,
    enabled: set[str],
    found: _Findings,
    checked: dict[str, int],
) -> tuple[ManualAudit, ...]:
    """The latest manual audit of each entity in scope; a failed one is a finding."""
    repo = getattr(store, "manual_audits", None)
    if repo is None or "manual-audit" not in enabled:
        return ()
    latest: dict[tuple[str | None, str], ManualAudit] = {}
    for audit in repo.iterate(ManualAuditFilter()):
        key = (audit.entity.referred_type, audit.entity.id)
        known = latest.get(key)
        if known is None or audit.audited_at >= known.audited_at:
            latest[key] = audit
    kept = [
        attrs.evolve(a, revision=0)  # a copy, as the run's JSON keeps it
        for a in latest.values()
        if _in_scope(store, a, offerings, products)
    ]
    for audit in kept:
        checked["manual-audit"] += 1
        if audit.outcome == "failed":
            when = audit.audited_at.isoformat()
            notes = f": {audit.notes}" if audit.notes else ""
            found.add(
                "manual-audit",
                audit.entity.referred_type or "?",
                audit.entity.id,
                f"manual audit {audit.id} by {audit.auditor} at {when} failed{notes}",
            )
    return tuple(kept)


def _in_scope(
    store: Store,
    audit: ManualAudit,
    offerings: OfferingFilter | None,
    products: ProductFilter | None,
) -> bool:
    kind, entity_id = audit.entity.referred_type, audit.entity.id
    if kind == "ProductOffering" and offerings is not None:
        offering = store.offerings.find(entity_id)
        return offering is not None and offerings.matches(offering)
    if kind == "Product" and products is not None:
        product = store.products.find(entity_id)
        return product is not None and products.matches(product)
    if kind == "ProductOffering" or kind == "Product":
        return True  # that type is audited unfiltered
    return offerings is None and products is None


def scope_text(offerings: OfferingFilter | None, products: ProductFilter | None) -> str | None:
    """A readable description of the filters a run was limited to (None: everything)."""
    parts = []
    for label, where in (("offerings", offerings), ("products", products)):
        if where is not None:
            criteria = [
                f"{a.name}={_shown(getattr(where, a.name))}"
                for a in attrs.fields(type(where))
                if getattr(where, a.name) is not None
            ]
            parts.append(f"{label}: {', '.join(criteria) or 'all'}")
    return "; ".join(parts) or None


def _shown(value: Any) -> str:
    if isinstance(value, (frozenset, set)):
        return "|".join(sorted(value))
    return str(value)
