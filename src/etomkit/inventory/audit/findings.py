"""Findings of an audit pass: how each is worded, and the manual audits' part
(the latest audit of each entity, the confirmations passing ones give)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from etomkit.inventory.audit.rules import (
    NOT_APPLICABLE,
    AuditContext,
    AuditRule,
    BuiltinRule,
    Violation,
)
from etomkit.inventory.requirements import Gap
from etomkit.model.audit import AuditFinding, ManualAudit, ManualAuditFilter
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.model.values import EntityRef
from etomkit.ports import Store

__all__ = [
    "INVENTORY_TYPES",
    "Confirmations",
    "Findings",
    "future_finding",
    "manual_audits",
    "manual_pass",
    "run_custom_rule",
    "stale_finding",
    "twice_finding",
]

#: The entity types manual audits may name.
INVENTORY_TYPES = ("ProductOffering", "Product")

Confirmations = dict[tuple[str, str], datetime]
"""(entity type, id) -> when its latest passing manual audit was (it confirms the record)."""


class Findings:
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


def stale_finding(
    found: Findings,
    entity_type: str,
    entity_id: str,
    last: datetime | None,
    before: datetime,
    confirmed: Confirmations,
) -> None:
    if last is not None and last >= before:
        return
    passed = confirmed.get((entity_type, entity_id)) if confirmed else None
    if passed is not None and passed >= before:
        return  # a passing manual audit confirmed it within the period
    if last is None:
        found.add("staleness", entity_type, entity_id, "has never been dated (no lastUpdate)")
    elif last < before:
        found.add(
            "staleness",
            entity_type,
            entity_id,
            f"was last updated at {last.isoformat()}, before {before.isoformat()}",
        )


def future_finding(
    found: Findings, entity_type: str, entity_id: str, last: datetime, now: datetime
) -> None:
    found.add(
        "future-update",
        entity_type,
        entity_id,
        f"its lastUpdate {last.isoformat()} is after the audit's moment {now.isoformat()}",
    )


def twice_finding(found: Findings, entity_type: str, entity_id: str, what: str, items: Any) -> None:
    """A duplicate-characteristics finding if two of ``items`` share a name."""
    seen: set[Any] = set()
    twice: list[str] = []
    for item in items:
        name = item.name
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    if twice:
        found.add(
            "duplicate-characteristics",
            entity_type,
            entity_id,
            f"has more than one {what} named {', '.join(repr(n) for n in twice)} "
            "(readers take the first)",
        )


def run_custom_rule(
    found: Findings,
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


def manual_audits(
    store: Store, enabled: set[str]
) -> tuple[dict[tuple[str, str], ManualAudit], Confirmations]:
    """The latest manual audit of each existing offering and product, and when each
    last passed one. An entity deleted since has no open findings: its audits stay
    in its history, and no run reports them."""
    repo = getattr(store, "manual_audits", None)
    latest: dict[tuple[str, str], ManualAudit] = {}
    confirmed: Confirmations = {}
    if repo is None or not enabled & {"manual-audit", "staleness"}:
        return latest, confirmed
    exists: dict[tuple[str, str], bool] = {}
    for audit in repo.iterate(ManualAuditFilter()):
        kind, entity_id = audit.entity.referred_type, audit.entity.id
        if kind not in INVENTORY_TYPES or kind is None:
            continue  # names nothing the inventory holds
        key = (kind, entity_id)
        there = exists.get(key)
        if there is None:
            repository = store.offerings if kind == "ProductOffering" else store.products
            there = exists[key] = entity_id in repository
        if not there:
            continue
        known = latest.get(key)
        if known is None or audit.audited_at >= known.audited_at:
            latest[key] = audit
        if audit.outcome == "passed":
            when = confirmed.get(key)
            if when is None or audit.audited_at > when:
                confirmed[key] = audit.audited_at
    return latest, confirmed


def manual_pass(
    store: Store,
    latest: dict[tuple[str, str], ManualAudit],
    offerings: OfferingFilter | None,
    products: ProductFilter | None,
    enabled: set[str],
    found: Findings,
    checked: dict[str, int],
) -> tuple[ManualAudit, ...]:
    """The latest manual audit of each entity in scope; a failed one is a finding."""
    if "manual-audit" not in enabled:
        return ()
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
