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

from etomkit.inventory.audit.findings import (
    Confirmations,
    Findings,
    future_finding,
    manual_audits,
    manual_pass,
    run_custom_rule,
    stale_finding,
    twice_finding,
)
from etomkit.inventory.audit.fused import OfferingEntry, compile_product_pass
from etomkit.inventory.audit.rules import (
    AuditContext,
    AuditRule,
    BuiltinRule,
    OfferingFacts,
)
from etomkit.inventory.helpers import _stream
from etomkit.inventory.requirements import InformationRequirements
from etomkit.model.audit import AuditFinding, ManualAudit, RuleScore
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.ports import Store

__all__ = ["AuditOutcome", "audit_pass"]

#: Offering states that sell (lifecycle-consistency: not past validFor's end).
SELLING_STATES = frozenset({"Active", "Launched"})
#: Offering states on which no product should still be active.
ENDED_STATES = frozenset({"Retired", "Obsolete"})
#: Offering states of an offering that was never launched (unlaunched-offering).
PRE_LAUNCH_STATES = frozenset({"In study", "In design", "In test", "Rejected"})

#: The built-in rules that check every offering, and every product, they see.
_OFFERING_RULES = (
    "referential-integrity",
    "lifecycle-consistency",
    "duplicates",
    "staleness",
    "bundle-lifecycle",
    "date-order",
    "future-update",
    "duplicate-characteristics",
)
_PRODUCT_RULES = (
    "referential-integrity",
    "lifecycle-consistency",
    "orphans",
    "staleness",
    "unlaunched-offering",
    "date-order",
    "future-update",
    "duplicate-characteristics",
)


@attrs.frozen(kw_only=True)
class AuditOutcome:
    """What one pass found."""

    findings: tuple[AuditFinding, ...]
    rule_scores: tuple[RuleScore, ...]
    overall_score: float
    offerings_checked: int
    products_checked: int
    manual_audits: tuple[ManualAudit, ...]


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
    found = Findings([*builtin, *custom])
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
    latest, confirmed = manual_audits(store, enabled)
    n_offerings = _offering_pass(
        store, offerings, enabled, custom, context, found, checked, confirmed
    )
    n_products = _product_pass(store, products, enabled, custom, context, found, checked, confirmed)
    manual = manual_pass(store, latest, offerings, products, enabled, found, checked)
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
    found: Findings,
    checked: dict[str, int],
    confirmed: Confirmations,
) -> int:
    facts: dict[str, OfferingFacts] = ctx.offerings  # type: ignore[assignment]
    requirements = ctx.requirements
    reqs = requirements is not None and bool(requirements.applicable_any("ProductOffering"))
    terminal = ctx.offering_lifecycle.terminal_states
    stale_before = ctx.stale_before
    now = ctx.now
    rules = [r for r in custom if r.entity_type == "ProductOffering"]
    first_of: dict[tuple[str, str | None], tuple[str, str]] = {}
    bundles: list[tuple[str, str, tuple[str, ...]]] = []
    n = req_checked = 0
    for o in _stream(store.offerings):  # a full pass: decoded records are not kept
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
        key = (" ".join(o.name.split()).casefold(), o.version)
        first, first_name = first_of.setdefault(key, (oid, o.name))
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
            bundles.append((oid, status, tuple(m.id for m in o.bundled_product_offering)))
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
            how = (
                "" if o.name == first_name else f" (differing only in case or spacing: {o.name!r})"
            )
            found.add(
                "duplicates",
                "ProductOffering",
                oid,
                f"has the name {first_name!r} and version {key[1]!r} of offering {first!r}{how}",
            )
        if "staleness" in enabled and status not in terminal:
            stale_finding(found, "ProductOffering", oid, o.last_update, stale_before, confirmed)
        if "future-update" in enabled and o.last_update is not None and o.last_update > now:
            future_finding(found, "ProductOffering", oid, o.last_update, now)
        if "date-order" in enabled and o.valid_for is not None:
            start, end = o.valid_for.start_date_time, o.valid_for.end_date_time
            if start is not None and end is not None and end < start:
                found.add(
                    "date-order",
                    "ProductOffering",
                    oid,
                    f"its validFor ends at {end.isoformat()}, before it starts at "
                    f"{start.isoformat()}",
                )
        if "duplicate-characteristics" in enabled and len(o.prod_spec_char_value_use) > 1:
            twice_finding(
                found, "ProductOffering", oid, "prodSpecCharValueUse", o.prod_spec_char_value_use
            )
        for rule in rules:
            run_custom_rule(found, checked, rule, "ProductOffering", oid, o, ctx)
    if "bundle-lifecycle" in enabled:
        for oid, status, members in bundles:
            if status in ENDED_STATES or status in terminal:
                continue
            ended = [f"{m!r} ({facts[m].lifecycle_status})" for m in members
                     if m in facts and facts[m].lifecycle_status in ENDED_STATES]  # fmt: skip
            if ended:
                found.add(
                    "bundle-lifecycle",
                    "ProductOffering",
                    oid,
                    f"is {status!r} but bundles ended offering(s): {', '.join(ended)}",
                )
    if "referential-integrity" in enabled:
        for oid, _, members in bundles:
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
    for name in _OFFERING_RULES:
        if name in enabled:
            checked[name] += n
    for name in ("completeness", "value-validity"):  # only counted where requirements apply
        if name in enabled:
            checked[name] += req_checked
    return n


def _product_pass(
    store: Store,
    where: ProductFilter | None,
    enabled: set[str],
    custom: Sequence[AuditRule],
    ctx: AuditContext,
    found: Findings,
    checked: dict[str, int],
    confirmed: Confirmations,
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

    lifecycle = "lifecycle-consistency" in enabled
    unlaunched = "unlaunched-offering" in enabled
    staleness = "staleness" in enabled
    future = "future-update" in enabled
    terminal = ctx.product_lifecycle.terminal_states
    now = ctx.now

    def make_entry(offering_id: str | None) -> OfferingEntry:
        offering = facts.get(offering_id)  # type: ignore[arg-type]
        state = None if offering is None else offering.lifecycle_status
        wrong = (
            "ended"
            if lifecycle and state in ENDED_STATES
            else "unlaunched"
            if unlaunched and state in PRE_LAUNCH_STATES
            else None
        )
        entry: OfferingEntry = (
            offering is not None,
            wrong,
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

    def active_on(p: Any, offering_id: str, wrong: str) -> None:
        status = facts[offering_id].lifecycle_status
        if wrong == "ended":
            add(
                "lifecycle-consistency",
                "Product",
                p.id,
                f"is active on offering {offering_id!r}, which is {status!r}",
                "terminate the product, or migrate it to a live offering",
            )
        else:
            add(
                "unlaunched-offering",
                "Product",
                p.id,
                f"is active on offering {offering_id!r}, which was never launched "
                f"(it is {status!r})",
            )

    def misdated(p: Any, start: datetime, end: datetime) -> None:
        add(
            "date-order",
            "Product",
            p.id,
            f"its terminationDate {end.isoformat()} is before its startDate {start.isoformat()}",
        )

    def twice(p: Any, chars: Any) -> None:
        twice_finding(found, "Product", p.id, "productCharacteristic", chars)

    def dated(p: Any, last: datetime | None, status: str) -> None:
        if last is not None and last > now:
            if future:
                future_finding(found, "Product", p.id, last, now)
        elif staleness and status not in terminal:
            stale_finding(found, "Product", p.id, last, stale_before, confirmed)

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
        stale_finding(found, "Product", p.id, last, stale_before, confirmed)

    def gaps(p: Any, check: Any) -> None:
        found.gaps("Product", p.id, list(check(p)), enabled)

    def run_custom(rule: AuditRule, p: Any) -> None:
        run_custom_rule(found, checked, rule, "Product", p.id, p, ctx)

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
            "terminal": terminal,
            "stale_before": stale_before,
            "now": now,
            "custom": rules,
            "missing_offering": missing_offering,
            "active_on": active_on,
            "terminated_undated": terminated_undated,
            "misdated": misdated,
            "orphan": orphan,
            "twice": twice,
            "stale": stale,
            "dated": dated,
            "gaps": gaps,
            "run_custom": run_custom,
        },
    )
    n, req_checked = product_pass(_stream(store.products, where))
    for name in _PRODUCT_RULES:
        if name in enabled:
            checked[name] += n
    for name in ("completeness", "value-validity"):
        if name in enabled:
            checked[name] += req_checked
    return n


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
