"""Data-quality audits of the product offering inventory (eTOM 1.2.4.2, issue #6).

:class:`InventoryAuditor` runs the built-in rules (and custom ones) over the
inventory in one streaming pass, stores each :class:`AuditRun` with its
findings and scores, records :class:`ManualAudit` checks, and compares runs.
"""

from etomkit.inventory.audit.auditor import AuditHistory, InventoryAuditor
from etomkit.inventory.audit.compare import compare_runs, score_trend
from etomkit.inventory.audit.rules import (
    BUILTIN_RULES,
    NOT_APPLICABLE,
    AuditContext,
    AuditRule,
    OfferingFacts,
    Violation,
    audit_rule,
)
from etomkit.model.audit import (
    AuditComparison,
    AuditFinding,
    AuditRun,
    AuditRunFilter,
    ManualAudit,
    ManualAuditFilter,
    RuleScore,
)

__all__ = [
    "BUILTIN_RULES",
    "NOT_APPLICABLE",
    "AuditComparison",
    "AuditContext",
    "AuditFinding",
    "AuditHistory",
    "AuditRule",
    "AuditRun",
    "AuditRunFilter",
    "InventoryAuditor",
    "ManualAudit",
    "ManualAuditFilter",
    "OfferingFacts",
    "RuleScore",
    "Violation",
    "audit_rule",
    "compare_runs",
    "score_trend",
]
