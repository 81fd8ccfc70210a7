"""Audit rules: the built-in data-quality rules and the API for custom ones.

Built-in rules (the names :class:`InventoryAuditor` takes in ``rules=``):

========================  =========================================================
``completeness``          required fields/characteristics of the information
                          requirements are present (offerings and products)
``value-validity``        present values meet the requirements' value type,
                          allowed values, range and pattern
``referential-integrity`` a product's offering exists; a bundle's members exist
``lifecycle-consistency`` no active product on a Retired/Obsolete offering, no
                          Active/Launched offering past its validFor end, no
                          terminated product without a termination date
``duplicates``            no two offerings with the same name (ignoring case and
                          spacing) and version
``orphans``               every product has a party in the ``customer`` role
``staleness``             every non-terminal record was updated (or passed a manual
                          audit) within ``stale_after``
``manual-audit``          the latest manual audit of an entity did not fail
``bundle-lifecycle``      no live bundle bundles a Retired or Obsolete offering
``unlaunched-offering``   no active product on an offering that was never launched
                          (In study, In design, In test or Rejected)
``date-order``            no termination date before the start date (products), no
                          validFor end before its start (offerings)
``future-update``         no lastUpdate later than the audit's moment
``duplicate-characteristics`` no two characteristics with the same name on one
                          offering (``prodSpecCharValueUse``) or product
========================  =========================================================

A custom rule checks one entity type and returns None (passed), a detail
string or a :class:`Violation` (failed), or :data:`NOT_APPLICABLE`::

    @audit_rule("fibre-has-speed", entity_type="Product", severity="major",
                suggested_fix="add the downloadSpeed characteristic")
    def fibre_has_speed(product, context):
        if product.characteristic("downloadSpeed") is None:
            return "no downloadSpeed characteristic"
        return None
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.inventory.requirements import InformationRequirements
from etomkit.model.audit import SEVERITIES
from etomkit.model.lifecycle import Lifecycle

__all__ = [
    "BUILTIN_RULES",
    "NOT_APPLICABLE",
    "AuditContext",
    "AuditRule",
    "BuiltinRule",
    "OfferingFacts",
    "Violation",
    "audit_rule",
    "resolve_rules",
]

AUDITED_TYPES = ("ProductOffering", "Product")


@attrs.frozen
class Violation:
    """What a failed check returns: the detail, and optionally how to fix it."""

    detail: str
    suggested_fix: str | None = None


class _NotApplicable:
    def __repr__(self) -> str:
        return "NOT_APPLICABLE"


NOT_APPLICABLE: Any = _NotApplicable()
"""What a custom rule returns for an entity it does not check (not counted as checked)."""


class OfferingFacts(NamedTuple):
    """What an audit keeps of each offering while it streams the products."""

    id: str
    name: str
    version: str | None
    lifecycle_status: str
    category_ids: tuple[str, ...]
    specification_id: str | None


@attrs.frozen(kw_only=True)
class AuditContext:
    """What a rule may consult besides the entity: the audit's moment, the staleness
    cut-off, the offerings seen (by id), the requirements and the lifecycles."""

    now: datetime
    stale_before: datetime
    offerings: Mapping[str, OfferingFacts]
    requirements: InformationRequirements | None
    offering_lifecycle: Lifecycle
    product_lifecycle: Lifecycle

    def offering(self, offering_id: str) -> OfferingFacts | None:
        """The facts of offering ``offering_id``, or None if it does not exist."""
        return self.offerings.get(offering_id)


@runtime_checkable
class AuditRule(Protocol):
    """A custom audit rule: ``name``, the ``entity_type`` it checks
    (``"ProductOffering"`` or ``"Product"``), the ``severity`` of its findings,
    a ``description``, and ``check``."""

    @property
    def name(self) -> str: ...

    @property
    def entity_type(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def description(self) -> str: ...

    def check(self, entity: Any, context: AuditContext) -> Violation | str | None: ...


@attrs.frozen(kw_only=True)
class FunctionRule:
    """A custom rule made of a function (see :func:`audit_rule`)."""

    name: str
    entity_type: str
    function: Callable[[Any, AuditContext], Violation | str | None]
    severity: str = "minor"
    description: str = ""
    suggested_fix: str | None = None

    def check(self, entity: Any, context: AuditContext) -> Violation | str | None:
        """Run the function; a bare detail string gets this rule's suggested fix."""
        result = self.function(entity, context)
        if isinstance(result, str):
            return Violation(result, self.suggested_fix)
        return result


def audit_rule(
    name: str,
    *,
    entity_type: str,
    severity: str = "minor",
    suggested_fix: str | None = None,
    description: str | None = None,
) -> Callable[[Callable[[Any, AuditContext], Violation | str | None]], FunctionRule]:
    """Decorator: turn ``function(entity, context)`` into a custom audit rule."""

    def wrap(function: Callable[[Any, AuditContext], Violation | str | None]) -> FunctionRule:
        return FunctionRule(
            name=name,
            entity_type=entity_type,
            function=function,
            severity=severity,
            description=description or (function.__doc__ or "").strip(),
            suggested_fix=suggested_fix,
        )

    return wrap


@attrs.frozen(kw_only=True)
class BuiltinRule:
    """A built-in rule: evaluated by the audit pass itself (fused, for speed)."""

    name: str
    severity: str
    description: str
    suggested_fix: str


BUILTIN_RULES: Mapping[str, BuiltinRule] = {
    r.name: r
    for r in (
        BuiltinRule(
            name="completeness",
            severity="major",
            description="required fields and characteristics of the information requirements",
            suggested_fix="capture the missing information",
        ),
        BuiltinRule(
            name="value-validity",
            severity="major",
            description="values meet the requirements' type, allowed values, range and pattern",
            suggested_fix="correct the value",
        ),
        BuiltinRule(
            name="referential-integrity",
            severity="critical",
            description="products refer to existing offerings; bundles to existing members",
            suggested_fix="restore the referenced offering or correct the reference",
        ),
        BuiltinRule(
            name="lifecycle-consistency",
            severity="major",
            description="product and offering states agree with each other and with dates",
            suggested_fix="move the record to the state its situation calls for",
        ),
        BuiltinRule(
            name="duplicates",
            severity="minor",
            description="no two offerings share a name (ignoring case and spacing) and version",
            suggested_fix="merge the duplicate into the first offering, or give it a new version",
        ),
        BuiltinRule(
            name="orphans",
            severity="major",
            description="every product has a related party in the customer role",
            suggested_fix="add the customer as a related party (role 'customer')",
        ),
        BuiltinRule(
            name="staleness",
            severity="minor",
            description="non-terminal records were updated within the staleness period",
            suggested_fix="review the record and confirm or update it",
        ),
        BuiltinRule(
            name="manual-audit",
            severity="major",
            description="the latest manual audit of an entity did not fail",
            suggested_fix="resolve what the auditor found, then record a passing manual audit",
        ),
        BuiltinRule(
            name="bundle-lifecycle",
            severity="major",
            description="no live bundle bundles a Retired or Obsolete offering",
            suggested_fix="replace the ended member in the bundle, or retire the bundle",
        ),
        BuiltinRule(
            name="unlaunched-offering",
            severity="major",
            description="no active product on an offering that was never launched",
            suggested_fix="launch the offering, or terminate the product",
        ),
        BuiltinRule(
            name="date-order",
            severity="major",
            description="no termination date before the start date, no validFor end before start",
            suggested_fix="correct the dates",
        ),
        BuiltinRule(
            name="future-update",
            severity="minor",
            description="no lastUpdate later than the audit's moment",
            suggested_fix="correct lastUpdate, and the clock of the system that wrote it",
        ),
        BuiltinRule(
            name="duplicate-characteristics",
            severity="major",
            description="no two characteristics with the same name on one entity",
            suggested_fix="merge the characteristics of the same name into one",
        ),
    )
}


def resolve_rules(
    rules: Iterable[str | AuditRule] | None,
) -> tuple[tuple[BuiltinRule, ...], tuple[AuditRule, ...]]:
    """Split ``rules`` (built-in names and custom rule objects) and check them all.

    None means every built-in rule. Raises ValidationError listing every
    unknown name, clash and malformed custom rule.
    """
    if rules is None:
        return tuple(BUILTIN_RULES.values()), ()
    if isinstance(rules, str):
        rules = [rules]
    builtin: list[BuiltinRule] = []
    custom: list[AuditRule] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        path = f"rules[{i}]"
        if isinstance(rule, str):
            found = BUILTIN_RULES.get(rule)
            if found is None:
                allowed = ", ".join(BUILTIN_RULES)
                problems.append((path, f"unknown rule {rule!r}; built-in rules: {allowed}"))
                continue
            name = rule
            builtin.append(found)
        else:
            custom_problems = _custom_problems(path, rule)
            if custom_problems:
                problems.extend(custom_problems)
                continue
            name = rule.name
            if name in BUILTIN_RULES:
                problems.append((f"{path}.name", f"{name!r} is a built-in rule's name"))
                continue
            custom.append(rule)
        if name in seen:
            problems.append((path, f"rule {name!r} is listed twice"))
        seen.add(name)
    if problems:
        raise ValidationError("InventoryAuditor", problems)
    return tuple(builtin), tuple(custom)


def _custom_problems(path: str, rule: object) -> list[Problem]:
    problems: list[Problem] = []
    name = getattr(rule, "name", None)
    if not isinstance(name, str) or not name.strip():
        problems.append((f"{path}.name", "a rule needs a non-blank name"))
    entity_type = getattr(rule, "entity_type", None)
    if entity_type not in AUDITED_TYPES:
        allowed = ", ".join(repr(t) for t in AUDITED_TYPES)
        problems.append((f"{path}.entity_type", f"must be one of {allowed}, not {entity_type!r}"))
    severity = getattr(rule, "severity", None)
    if severity not in SEVERITIES:
        problems.append((f"{path}.severity", f"must be one of {', '.join(SEVERITIES)}"))
    if not callable(getattr(rule, "check", None)):
        problems.append((path, "must have a check(entity, context) method"))
    return problems
