"""Explanations of a dry run: which rules were tried for each item, why, and the result.

``issuer.explain(request)`` returns an :class:`Explanation`: ``print`` it, or
turn ``explanation.rows()`` into a table (``pandas.DataFrame(rows)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from etomkit.errors import Problem
from etomkit.model.issuance import InitiatingRequest, IssuanceRecord, RuleRef
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.notebook.display import Tabular

if TYPE_CHECKING:
    from etomkit.ordering.planner import _Detail
    from etomkit.ordering.rules import RuleSet

__all__ = ["CandidateRule", "Explanation", "ItemExplanation", "build_explanation"]


@attrs.frozen(kw_only=True)
class CandidateRule:
    """A rule indexed under the item's (specification, action), and how it fared."""

    rule: RuleRef
    priority: int
    matched: bool
    reason: str | None = None
    special: bool = False
    requires_feasibility: bool = False
    produces: tuple[str, ...] = ()

    def text(self) -> str:
        """One line: ``+ id@version (priority p)`` or ``- id@version (priority p): why``."""
        flags = [
            f
            for f, on in (
                ("special", self.special),
                ("requires feasibility", self.requires_feasibility),
            )
            if on
        ]
        extra = f", {', '.join(flags)}" if flags else ""
        head = f"{'+' if self.matched else '-'} {self.rule} (priority {self.priority}{extra})"
        return head if self.reason is None else f"{head}: {self.reason}"


def _item_line(item: ResourceOrderItem) -> str:
    spec = item.resource_specification.id if item.resource_specification else "?"
    chars = ", ".join(f"{c.name}={c.value!r}" for c in item.characteristic)
    qty = f" x{item.quantity}" if item.quantity != 1 else ""
    ref = ""
    if item.order_item_relationship:
        rel = item.order_item_relationship[0]
        target = f"{rel.order_item.resource_order_id}/{rel.order_item.item_id}"
        ref = f" ({rel.relationship_type} {target})"
    return f"{item.id} {item.action} {spec}{qty} {{{chars}}}{ref}"


@attrs.frozen(kw_only=True)
class ItemExplanation:
    """One request item: the rules considered, the outcome, what would be issued."""

    item_id: str
    action: str
    specification: str | None
    specification_version: str | None
    service_id: str | None
    candidates: tuple[CandidateRule, ...]
    outcome: str
    reason: str | None
    produced: tuple[ResourceOrderItem, ...]
    supersedes: tuple[str, ...] = ()
    feasibility_assessment: str | None = None
    problems: tuple[Problem, ...] = ()
    note: str | None = None
    hints: tuple[str, ...] = ()

    @property
    def matched(self) -> tuple[RuleRef, ...]:
        """The rules that matched, best first."""
        return tuple(c.rule for c in self.candidates if c.matched)

    def text(self) -> str:
        """A few indented lines for this item."""
        spec = self.specification or "(no specification)"
        if self.specification_version:
            spec += f"@{self.specification_version}"
        service = f" service {self.service_id}" if self.service_id else ""
        lines = [f"item {self.item_id}: {self.action} {spec}{service} -> {self.outcome}"]
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        if self.candidates:
            lines.append(f"  rules considered ({len(self.candidates)}):")
            lines.extend(f"    {c.text()}" for c in self.candidates)
        elif self.action != "noChange":
            lines.append("  rules considered: none indexed for this specification and action")
        lines.extend(f"  hint: {h}" for h in self.hints)
        if self.supersedes:
            lines.append(f"  supersedes: {', '.join(self.supersedes)}")
        if self.feasibility_assessment:
            lines.append(f"  feasibility assessment: {self.feasibility_assessment}")
        if self.note:
            lines.append(f"  note: {self.note}")
        if self.produced:
            lines.append(f"  would issue {len(self.produced)} item(s):")
            lines.extend(f"    {_item_line(i)}" for i in self.produced)
        for path, message in self.problems:
            lines.append(f"  PROBLEM {path}: {message}")
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class Explanation(Tabular):
    """A dry run of :meth:`ResourceOrderIssuer.issue` for one request.

    ``already_issued``: a record exists under the request's key; ``issue()``
    then returns it when the payload is the same, and raises ConflictError
    when it differs (``conflict`` says why).
    """

    request_key: str
    items: tuple[ItemExplanation, ...]
    problems: tuple[Problem, ...] = ()
    already_issued: bool = False
    conflict: str | None = None

    @property
    def would_issue(self) -> bool:
        """True if ``issue()`` would succeed: it would replay the stored record, or
        issue with no problem found."""
        if self.already_issued:
            return self.conflict is None
        return not self.problems

    @property
    def would_replay(self) -> bool:
        """True if ``issue()`` would return the stored record (same payload)."""
        return self.already_issued and self.conflict is None

    def item(self, item_id: str) -> ItemExplanation:
        """The explanation of request item ``item_id``. Raises KeyError."""
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise KeyError(item_id)

    def text(self) -> str:
        """The whole explanation as readable text."""
        head = f"request {self.request_key}: {len(self.items)} item(s)"
        lines = []
        if self.conflict is not None:
            head += " (already issued: issue() would raise ConflictError)"
            lines.append(f"  conflict: {self.conflict}")
        elif self.already_issued:
            head += " (already issued: issue() would return the stored record)"
        elif self.problems:
            head += f"; issue() would fail with {len(self.problems)} problem(s)"
        if self.already_issued and self.problems:
            lines.append(f"  issuing it anew would find {len(self.problems)} problem(s)")
        return "\n".join([head, *lines, *(i.text() for i in self.items)])

    def __str__(self) -> str:
        return self.text()

    def _display_title(self) -> str:
        return f"Explanation of {self.request_key}"

    def _display_text(self) -> str:
        return self.text()

    def rows(self) -> list[dict[str, Any]]:
        """One row per (item, candidate rule); items with no candidate get one row."""
        rows: list[dict[str, Any]] = []
        for item in self.items:
            common = {
                "item": item.item_id,
                "action": item.action,
                "specification": item.specification,
                "outcome": item.outcome,
                "issues": ", ".join(_item_line(i) for i in item.produced),
                "item_reason": item.reason,
                "problems": "; ".join(f"{p}: {m}" for p, m in item.problems),
            }
            if not item.candidates:
                rows.append(
                    {**common, "rule": None, "priority": None, "matched": None, "why": None}
                )
            for cand in item.candidates:
                rows.append(
                    {
                        **common,
                        "rule": str(cand.rule),
                        "priority": cand.priority,
                        "matched": cand.matched,
                        "why": cand.reason,
                    }
                )
        return rows


def build_explanation(
    rules: RuleSet,
    request: InitiatingRequest,
    details: Sequence[_Detail],
    problems: Sequence[Problem],
    existing: IssuanceRecord | None,
    conflict: str | None = None,
) -> Explanation:
    """Turn a dry run's per-item details into an Explanation."""
    index = rules.index
    items = []
    for detail in details:
        item = detail.item
        spec = item.service.service_specification
        spec_id = spec.id if spec is not None else None
        version = spec.version if spec is not None else None
        candidates: list[CandidateRule] = []
        hints: list[str] = []
        if spec_id is not None and item.action != "noChange":
            matched = {id(r) for r in detail.matched}
            stopped_by: RuleRef | None = None
            for cand in index.candidates(spec_id, item.action):
                reason: str | None = None
                is_match = id(cand) in matched
                if not is_match:
                    if stopped_by is not None:
                        reason = f"not considered: {stopped_by} matched first and is final"
                    elif cand.version is not None and cand.version != version:
                        reason = (
                            f"needs service specification version {cand.version!r}, "
                            f"the item has {version!r}"
                        )
                    elif cand.rule.when is not None:
                        reason = cand.rule.when.failure(detail.values)
                elif cand.final:
                    stopped_by = cand.ref
                candidates.append(
                    CandidateRule(
                        rule=cand.ref,
                        priority=cand.priority,
                        matched=is_match,
                        reason=reason,
                        special=cand.special,
                        requires_feasibility=cand.requires_feasibility,
                        produces=tuple(t.spec_id for t in cand.templates),
                    )
                )
            if not candidates:
                others = sorted({a for r in index.by_spec.get(spec_id, ()) for a in r.rule.action})
                if others:
                    hints.append(
                        f"rules for {spec_id!r} exist for action(s) {', '.join(others)}, "
                        f"not {item.action!r}"
                    )
                else:
                    hints.append(f"no rule names service specification {spec_id!r}")
        entry = detail.entry
        items.append(
            ItemExplanation(
                item_id=item.id,
                action=item.action,
                specification=spec_id,
                specification_version=version,
                service_id=item.service.id,
                candidates=tuple(candidates),
                outcome=entry.outcome,
                reason=entry.reason,
                produced=detail.produced,
                supersedes=entry.supersedes,
                feasibility_assessment=entry.feasibility_assessment,
                problems=detail.problems,
                note=detail.note,
                hints=tuple(hints),
            )
        )
    return Explanation(
        request_key=request.key,
        items=tuple(items),
        problems=tuple(problems),
        already_issued=existing is not None,
        conflict=conflict,
    )
