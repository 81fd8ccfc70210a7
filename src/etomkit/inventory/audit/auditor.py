"""InventoryAuditor: automated and manual audits of the product offering inventory
(eTOM 1.2.4.2 "ensure the repository accurately captures and records all
identified details")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from etomkit.adapters.runtime import RandomIdFactory, SystemClock
from etomkit.errors import NotFoundError, Problem, ValidationError
from etomkit.inventory.audit.compare import compare_runs
from etomkit.inventory.audit.rules import AuditRule, resolve_rules
from etomkit.inventory.audit.runner import audit_pass, scope_text
from etomkit.inventory.requirements import InformationRequirements
from etomkit.model.audit import (
    MANUAL_OUTCOMES,
    AuditComparison,
    AuditFinding,
    AuditRun,
    AuditRunFilter,
    ManualAudit,
    ManualAuditFilter,
)
from etomkit.model.lifecycle import OFFERING_LIFECYCLE, PRODUCT_LIFECYCLE, Lifecycle
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.model.values import EntityRef
from etomkit.ports import AuditRunRepository, Clock, IdFactory, ManualAuditRepository, Store

__all__ = ["AuditHistory", "InventoryAuditor"]

_INVENTORY_TYPES = {"ProductOffering": "offerings", "Product": "products"}


@attrs.frozen(kw_only=True)
class AuditHistory:
    """Everything audits said about one entity: its manual audits (oldest first)
    and, per stored run (oldest first), the findings on it."""

    entity: EntityRef
    manual_audits: tuple[ManualAudit, ...] = ()
    findings: tuple[tuple[str, datetime, AuditFinding], ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per manual audit and per finding, in time order."""
        rows: list[dict[str, Any]] = [
            {"when": m.audited_at, "kind": "manual", "by": m.auditor, "outcome": m.outcome,
             "rule": None, "detail": m.notes, "run": None}
            for m in self.manual_audits
        ]  # fmt: skip
        rows.extend(
            {"when": when, "kind": "automated", "by": None, "outcome": "failed",
             "rule": f.rule, "detail": f.detail, "run": run_id}
            for run_id, when, f in self.findings
        )  # fmt: skip
        rows.sort(key=lambda r: r["when"])
        return rows


class InventoryAuditor:
    """Audits the inventory's data quality and keeps the runs and manual audits.

    ``rules``: built-in rule names and custom :class:`AuditRule` objects
    (default: every built-in rule). ``requirements``: what completeness and
    value-validity check against (without them those rules check nothing).
    ``stale_after``: how long a non-terminal record may go without an update.
    The store needs ``audit_runs`` and ``manual_audits`` repositories
    (``InMemoryStore`` and ``FileStore`` have them).
    Raises ValidationError listing every bad argument.
    """

    def __init__(
        self,
        store: Store,
        *,
        requirements: InformationRequirements | None = None,
        rules: Iterable[str | AuditRule] | None = None,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        stale_after: timedelta = timedelta(days=365),
        offering_lifecycle: Lifecycle = OFFERING_LIFECYCLE,
        product_lifecycle: Lifecycle = PRODUCT_LIFECYCLE,
    ) -> None:
        problems: list[Problem] = []
        runs = getattr(store, "audit_runs", None)
        manual = getattr(store, "manual_audits", None)
        if not isinstance(runs, AuditRunRepository) or not isinstance(
            manual, ManualAuditRepository
        ):
            problems.append(
                ("store", "needs audit_runs and manual_audits repositories (see etomkit.ports)")
            )
        if requirements is not None and not isinstance(requirements, InformationRequirements):
            problems.append(("requirements", "must be InformationRequirements or None"))
        if not isinstance(stale_after, timedelta) or stale_after <= timedelta(0):
            problems.append(("stale_after", f"must be a positive timedelta, got {stale_after!r}"))
        try:
            builtin, custom = resolve_rules(rules)
        except ValidationError as exc:
            problems.extend(exc.problems)
        if problems:
            raise ValidationError("InventoryAuditor", problems)
        self.store = store
        self.audit_runs: AuditRunRepository = runs  # type: ignore[assignment]
        self.manual_audits: ManualAuditRepository = manual  # type: ignore[assignment]
        self.requirements = requirements
        self.rules: tuple[str, ...] = tuple([r.name for r in builtin] + [r.name for r in custom])
        self._builtin = builtin
        self._custom = custom
        self.stale_after = stale_after
        self.offering_lifecycle = offering_lifecycle
        self.product_lifecycle = product_lifecycle
        self._clock = clock or SystemClock()
        self._ids = ids or RandomIdFactory()

    # ------------------------------------------------------------------ automated

    def run(
        self,
        *,
        offerings: OfferingFilter | None = None,
        products: ProductFilter | None = None,
        store: bool = True,
    ) -> AuditRun:
        """Audit the whole inventory, or the offerings/products the filters select,
        in one streaming pass; store the run (unless ``store=False``) and return it.

        Every offering is read (products are checked against all of them);
        only the selected ones are audited.
        """
        for name, where, cls in (
            ("offerings", offerings, OfferingFilter),
            ("products", products, ProductFilter),
        ):
            if where is not None and not isinstance(where, cls):
                raise ValidationError("audit run", [(name, f"must be a {cls.__name__} or None")])
        started = self._clock.now()
        outcome = audit_pass(
            self.store,
            builtin=self._builtin,
            custom=self._custom,
            requirements=self.requirements,
            now=started,
            stale_after=self.stale_after,
            offering_lifecycle=self.offering_lifecycle,
            product_lifecycle=self.product_lifecycle,
            offerings=offerings,
            products=products,
        )
        run = AuditRun(
            id=self._ids.new_id("AuditRun"),
            started_at=started,
            finished_at=self._clock.now(),
            rules=self.rules,
            rule_scores=outcome.rule_scores,
            overall_score=outcome.overall_score,
            offerings_checked=outcome.offerings_checked,
            products_checked=outcome.products_checked,
            findings=outcome.findings,
            manual_audits=outcome.manual_audits,
            scope=scope_text(offerings, products),
        )
        return self.audit_runs.add(run) if store else run

    def get_run(self, run_id: str) -> AuditRun:
        """A stored run. Raises NotFoundError."""
        return self.audit_runs.get(run_id)

    def runs(self, *, scope: str | None = None) -> list[AuditRun]:
        """The stored runs, oldest first (``scope=""``: whole-inventory runs only)."""
        return list(self.audit_runs.iterate(AuditRunFilter(scope=scope)))

    def latest_run(self, *, scope: str | None = None) -> AuditRun | None:
        """The most recently stored run (of that scope), or None."""
        latest = None
        for run in self.audit_runs.iterate(AuditRunFilter(scope=scope)):
            latest = run
        return latest

    def compare(self, before: AuditRun | str, after: AuditRun | str) -> AuditComparison:
        """New, fixed and persisting findings from ``before`` to ``after`` (runs or ids)."""
        return compare_runs(self._run(before), self._run(after))

    def _run(self, run: AuditRun | str) -> AuditRun:
        return run if isinstance(run, AuditRun) else self.audit_runs.get(run)

    # ------------------------------------------------------------------ manual

    def record_manual_audit(
        self,
        *,
        entity_type: str,
        entity_id: str,
        auditor: str,
        outcome: str,
        notes: str | None = None,
        evidence: Sequence[EntityRef | str] = (),
        audited_at: datetime | None = None,
    ) -> ManualAudit:
        """Record an auditor's check of an entity; ``audited_at`` defaults to now.

        ``evidence`` refers to documents, tickets or photos (an id or href
        string becomes an ``EntityRef``). ``entity_type`` is ``"ProductOffering"``
        or ``"Product"``, and the entity must exist (NotFoundError), unless it
        was deleted after an earlier manual audit: the auditor may then still
        close it (its open findings were resolved by the deletion).
        Raises ValidationError listing every bad argument.
        """
        problems: list[Problem] = []
        for name, value in (("entity_type", entity_type), ("entity_id", entity_id),
                            ("auditor", auditor)):  # fmt: skip
            if not isinstance(value, str) or not value.strip():
                problems.append((name, "is required (a non-blank string)"))
        if isinstance(entity_type, str) and entity_type not in _INVENTORY_TYPES:
            allowed = ", ".join(repr(t) for t in _INVENTORY_TYPES)
            problems.append(
                ("entity_type", f"unknown entity type {entity_type!r}; allowed: {allowed}")
            )
        if outcome not in MANUAL_OUTCOMES:
            problems.append(
                ("outcome", f"must be one of {', '.join(MANUAL_OUTCOMES)}, not {outcome!r}")
            )
        if notes is not None and not isinstance(notes, str):
            problems.append(("notes", "must be a string"))
        if audited_at is not None and (
            not isinstance(audited_at, datetime) or audited_at.tzinfo is None
        ):
            problems.append(("audited_at", "must be a timezone-aware datetime"))
        refs: list[EntityRef] = []
        if isinstance(evidence, (str, EntityRef)):
            evidence = [evidence]
        for i, item in enumerate(evidence):
            if isinstance(item, EntityRef):
                refs.append(item)
            elif isinstance(item, str) and item.strip():
                refs.append(EntityRef(id=item, href=item if "://" in item else None))
            else:
                problems.append((f"evidence[{i}]", "must be an EntityRef or a non-blank string"))
        if problems:
            raise ValidationError(f"manual audit of {entity_type} {entity_id!r}", problems)
        repository = getattr(self.store, _INVENTORY_TYPES[entity_type])
        if entity_id not in repository and not self.manual_audits_of(entity_type, entity_id):
            raise NotFoundError(entity_type, entity_id)
        audit = ManualAudit(
            id=self._ids.new_id("ManualAudit"),
            entity=EntityRef(id=entity_id, referred_type=entity_type),
            auditor=auditor,
            audited_at=audited_at or self._clock.now(),
            outcome=outcome,
            notes=notes,
            evidence=tuple(refs),
        )
        return self.manual_audits.add(audit)

    def manual_audits_of(self, entity_type: str, entity_id: str) -> list[ManualAudit]:
        """The entity's manual audits, oldest first."""
        found = self.manual_audits.iterate(
            ManualAuditFilter(entity_type=entity_type, entity_id=entity_id)
        )
        return sorted(found, key=lambda a: a.audited_at)

    def history(self, entity_type: str, entity_id: str) -> AuditHistory:
        """The entity's audit history: its manual audits and the findings on it in
        every stored run."""
        findings = tuple(
            (run.id or "", run.finished_at, f)
            for run in self.audit_runs.iterate()
            for f in run.findings
            if f.entity.id == entity_id and f.entity.referred_type == entity_type
        )
        return AuditHistory(
            entity=EntityRef(id=entity_id, referred_type=entity_type),
            manual_audits=tuple(self.manual_audits_of(entity_type, entity_id)),
            findings=findings,
        )
