"""Data-quality audits of the inventory (eTOM 1.2.4.2): findings, runs, manual audits.

Pure values. The :class:`~etomkit.inventory.audit.InventoryAuditor` makes
them; repositories store :class:`AuditRun` and :class:`ManualAudit`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import ValidationError
from etomkit.model.queries import _t
from etomkit.model.values import EntityRef
from etomkit.notebook.display import Tabular

__all__ = [
    "MANUAL_OUTCOMES",
    "SEVERITIES",
    "AuditComparison",
    "AuditFinding",
    "AuditRun",
    "AuditRunFilter",
    "ManualAudit",
    "ManualAuditFilter",
    "RuleScore",
    "audit_run_terms",
    "manual_audit_terms",
]

SEVERITIES = ("critical", "major", "minor", "info")
"""How much a finding matters, worst first."""

MANUAL_OUTCOMES = ("passed", "failed", "inconclusive")
"""What an auditor's check of an entity concluded."""


def _invalid(instance: Any, attribute: attrs.Attribute[Any], message: str) -> ValidationError:
    return ValidationError(type(instance).__name__, [(attribute.name, message)])


def _severity(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in SEVERITIES:
        allowed = ", ".join(SEVERITIES)
        raise _invalid(instance, attribute, f"severity must be one of {allowed}, not {value!r}")


def _fraction(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _invalid(instance, attribute, f"must be a number from 0 to 1, not {value!r}")


def _count(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(instance, attribute, f"must be a non-negative integer, not {value!r}")


@attrs.frozen(kw_only=True)
class AuditFinding:
    """One defect an audit rule found on one entity.

    ``entity`` is an :class:`EntityRef` whose ``referred_type`` is
    ``"ProductOffering"`` or ``"Product"``. ``key`` (rule + entity) identifies
    the finding across runs, whatever its detail says.
    """

    rule: str
    entity: EntityRef
    severity: str = attrs.field(default="minor", validator=_severity)
    detail: str = ""
    suggested_fix: str | None = None

    @property
    def key(self) -> str:
        """``"<rule>|<entity type>:<entity id>"``: stable from run to run."""
        return f"{self.rule}|{self.entity.referred_type}:{self.entity.id}"

    @property
    def entity_type(self) -> str | None:
        """The type of the entity found at fault."""
        return self.entity.referred_type

    @property
    def entity_id(self) -> str:
        """The id of the entity found at fault."""
        return self.entity.id

    def row(self) -> dict[str, Any]:
        """A flat dict for a notebook table."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "entity_type": self.entity.referred_type,
            "entity_id": self.entity.id,
            "detail": self.detail,
            "suggested_fix": self.suggested_fix,
        }


@attrs.frozen(kw_only=True)
class RuleScore:
    """How one rule fared: records ``checked``, records ``failed``, ``score`` = passed share."""

    rule: str
    checked: int = attrs.field(validator=_count)
    failed: int = attrs.field(validator=_count)
    score: float = attrs.field(validator=_fraction)

    @classmethod
    def of(cls, rule: str, checked: int, failed: int) -> RuleScore:
        """The score of ``failed`` out of ``checked`` (1.0 when nothing was checked)."""
        return cls(
            rule=rule,
            checked=checked,
            failed=failed,
            score=1.0 if not checked else round(1 - failed / checked, 6),
        )


@attrs.frozen(kw_only=True)
class ManualAudit:
    """An auditor's recorded check of one entity (who, when, outcome, notes, evidence).

    ``entity.referred_type`` names the entity's type (``"ProductOffering"``,
    ``"Product"``, …); ``evidence`` refers to documents, tickets or photos.
    """

    entity: EntityRef
    auditor: str
    audited_at: datetime
    outcome: str
    notes: str | None = None
    evidence: tuple[EntityRef, ...] = ()
    id: str | None = None
    revision: int = 0

    def row(self) -> dict[str, Any]:
        """A flat dict for a notebook table."""
        return {
            "id": self.id,
            "entity_type": self.entity.referred_type,
            "entity_id": self.entity.id,
            "auditor": self.auditor,
            "audited_at": self.audited_at,
            "outcome": self.outcome,
            "notes": self.notes,
            "evidence": ", ".join(e.href or e.id for e in self.evidence),
        }


@attrs.frozen(kw_only=True)
class AuditRun(Tabular):
    """One automated audit of the inventory, stored so runs can be compared.

    ``rule_scores`` has one entry per rule run; ``overall_score`` is the share
    of all (rule, record) checks that passed. ``findings`` lists every defect,
    offerings first, in the order the pass met them; ``manual_audits`` the
    latest manual audit of each manually audited entity in scope, as copies at
    revision 0 (a failed one is also a finding of rule ``manual-audit``). ``scope`` describes the
    filters the run was limited to (None: the whole inventory).
    """

    id: str | None = None
    started_at: datetime
    finished_at: datetime
    rules: tuple[str, ...] = ()
    rule_scores: tuple[RuleScore, ...] = ()
    overall_score: float = attrs.field(default=1.0, validator=_fraction)
    offerings_checked: int = 0
    products_checked: int = 0
    findings: tuple[AuditFinding, ...] = ()
    manual_audits: tuple[ManualAudit, ...] = ()
    scope: str | None = None
    revision: int = 0

    def score(self, rule: str) -> RuleScore:
        """The score of ``rule``. Raises KeyError if the run did not run it."""
        for score in self.rule_scores:
            if score.rule == rule:
                return score
        raise KeyError(rule)

    def findings_of(
        self, rule: str | None = None, *, entity_type: str | None = None
    ) -> list[AuditFinding]:
        """The findings of one rule and/or entity type."""
        return [
            f
            for f in self.findings
            if (rule is None or f.rule == rule)
            and (entity_type is None or f.entity.referred_type == entity_type)
        ]

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per finding (``pandas.DataFrame(run.rows())``)."""
        return [{"run": self.id, **f.row()} for f in self.findings]

    def score_rows(self) -> list[dict[str, Any]]:
        """One flat dict per rule, then an ``overall`` row."""
        rows: list[dict[str, Any]] = [
            {"run": self.id, "rule": s.rule, "checked": s.checked, "failed": s.failed,
             "score": s.score}
            for s in self.rule_scores
        ]  # fmt: skip
        rows.append(
            {
                "run": self.id,
                "rule": "overall",
                "checked": sum(s.checked for s in self.rule_scores),
                "failed": sum(s.failed for s in self.rule_scores),
                "score": self.overall_score,
            }
        )
        return rows

    def _display_title(self) -> str:
        return (
            f"AuditRun {self.id}: overall score {self.overall_score:.3f}, "
            f"{self.offerings_checked} offering(s) and {self.products_checked} product(s) "
            f"checked, {len(self.findings)} finding(s)"
        )

    def _display_rows(self) -> list[dict[str, Any]]:
        return self.score_rows()  # the findings: rows(), to_pandas()

    def manual_audit_rows(self) -> list[dict[str, Any]]:
        """One flat dict per manual audit the run included."""
        return [{"run": self.id, **m.row()} for m in self.manual_audits]


@attrs.frozen(kw_only=True)
class AuditComparison(Tabular):
    """Two runs compared by finding key: ``new`` in the later run only, ``fixed``
    in the earlier only, ``persisting`` in both (as the later run words them).

    Only what both runs checked is classified: findings of a rule one run did
    not run, and findings one run made on entities outside the other's scope
    (a scoped run against a wider one), are ``left_out``, and ``note`` says why.
    """

    before: str | None
    after: str | None
    new: tuple[AuditFinding, ...] = ()
    fixed: tuple[AuditFinding, ...] = ()
    persisting: tuple[AuditFinding, ...] = ()
    left_out: tuple[AuditFinding, ...] = ()
    note: str | None = None

    @classmethod
    def of(cls, before: AuditRun, after: AuditRun) -> AuditComparison:
        """Compare ``before`` with ``after`` (each finding classified exactly once, or left
        out when the other run did not check it)."""
        old = {f.key: f for f in before.findings}
        now = {f.key: f for f in after.findings}
        old_rules, new_rules = set(before.rules), set(after.rules)

        def both_ran(rule: str) -> bool:
            return (not old_rules or rule in old_rules) and (not new_rules or rule in new_rules)

        same_scope = (before.scope or None) == (after.scope or None)
        # a finding on one side only is classified if the other run covered its entity
        new_covered = same_scope or before.scope is None
        fixed_covered = same_scope or after.scope is None
        new, fixed, persisting, left_out = [], [], [], []
        for k, f in now.items():
            if not both_ran(f.rule):
                left_out.append(f)
            elif k in old:
                persisting.append(f)
            elif new_covered:
                new.append(f)
            else:
                left_out.append(f)
        for k, f in old.items():
            if k in now:
                continue
            if both_ran(f.rule) and fixed_covered:
                fixed.append(f)
            else:
                left_out.append(f)
        notes = []
        only = sorted(old_rules ^ new_rules) if old_rules and new_rules else []
        if only:
            notes.append(f"rules not run by both: {', '.join(only)}")
        if not same_scope:
            notes.append(
                f"scopes differ ({before.scope or 'whole inventory'} / "
                f"{after.scope or 'whole inventory'}): findings outside the narrower scope "
                "are not classified"
            )
        return cls(
            before=before.id,
            after=after.id,
            new=tuple(new),
            fixed=tuple(fixed),
            persisting=tuple(persisting),
            left_out=tuple(left_out),
            note="; ".join(notes) or None,
        )

    def counts(self) -> dict[str, int]:
        """``{"new": …, "fixed": …, "persisting": …}``."""
        return {"new": len(self.new), "fixed": len(self.fixed), "persisting": len(self.persisting)}

    def _display_title(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        return f"AuditComparison {self.before} -> {self.after}: {counts}"

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per finding, with its ``change``: new, fixed or persisting."""
        return [
            {"change": change, **f.row()}
            for change, findings in (
                ("new", self.new),
                ("fixed", self.fixed),
                ("persisting", self.persisting),
                ("left out", self.left_out),
            )
            for f in findings
        ]


def _as_set(value: str | Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


@attrs.frozen(kw_only=True)
class AuditRunFilter:
    """Select stored audit runs by scope (``""`` selects whole-inventory runs)."""

    scope: str | None = None

    def matches(self, run: AuditRun) -> bool:
        """True if ``run`` passes every set criterion."""
        return self.scope is None or (run.scope or "") == self.scope

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        return [] if self.scope is None else [[f"scope={_t(self.scope)}"]]


@attrs.frozen(kw_only=True)
class ManualAuditFilter:
    """Select manual audits by entity (type and/or id), auditor or outcome."""

    entity_type: str | None = None
    entity_id: str | None = None
    auditor: str | None = None
    outcome: frozenset[str] | None = attrs.field(default=None, converter=_as_set)

    def matches(self, audit: ManualAudit) -> bool:
        """True if ``audit`` passes every set criterion."""
        return (
            (self.entity_type is None or audit.entity.referred_type == self.entity_type)
            and (self.entity_id is None or audit.entity.id == self.entity_id)
            and (self.auditor is None or audit.auditor == self.auditor)
            and (self.outcome is None or audit.outcome in self.outcome)
        )

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.entity_type is not None:
            sets.append([f"type={_t(self.entity_type)}"])
        if self.entity_id is not None:
            sets.append([f"entity={_t(self.entity_id)}"])
        if self.auditor is not None:
            sets.append([f"auditor={_t(self.auditor)}"])
        if self.outcome is not None:
            sets.append([f"outcome={_t(o)}" for o in sorted(self.outcome)])
        return sets


def audit_run_terms(run: AuditRun) -> tuple[str, ...]:
    """Index terms of a run: its scope (``""`` for the whole inventory)."""
    return (f"scope={_t(run.scope or '')}",)


def manual_audit_terms(audit: ManualAudit) -> tuple[str, ...]:
    """Index terms of a manual audit: entity type, entity id, auditor and outcome."""
    return (
        f"type={_t(audit.entity.referred_type)}",
        f"entity={_t(audit.entity.id)}",
        f"auditor={_t(audit.auditor)}",
        f"outcome={_t(audit.outcome)}",
    )
