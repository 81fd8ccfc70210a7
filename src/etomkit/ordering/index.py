"""The rule index: rules compiled once, looked up by (specification, action).

Matching an item costs one dict lookup plus the predicates of the few rules
for its specification and action, however many rules the set holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from etomkit.model.issuance import RuleRef
from etomkit.ordering.predicates import Test
from etomkit.ordering.produce import CompiledTemplate, template_key
from etomkit.ordering.rules import Rule

__all__ = ["CompiledRule", "RuleIndex"]


class CompiledRule:
    """A Rule with its predicate compiled and its templates prepared."""

    __slots__ = (
        "final",
        "id",
        "plain",
        "priority",
        "ref",
        "refs",
        "requires_feasibility",
        "rule",
        "special",
        "templates",
        "test",
        "version",
    )

    def __init__(self, rule: Rule, templates: tuple[CompiledTemplate, ...] | None = None) -> None:
        self.rule = rule
        self.id = rule.id
        self.ref = RuleRef(rule.id, rule.version)
        self.refs = (self.ref,)
        self.priority = rule.priority
        self.version = rule.specification_version
        self.test: Test | None = None if rule.when is None else rule.when.compile()
        self.templates = (
            templates
            if templates is not None
            else tuple(CompiledTemplate(t) for t in rule.produces)
        )
        self.special = rule.special
        self.requires_feasibility = rule.requires_feasibility
        self.final = rule.final
        # Issued by the standard path: not special, no feasibility check.
        self.plain = not rule.special and not rule.requires_feasibility

    def __repr__(self) -> str:
        return f"<CompiledRule {self.ref}>"


class RuleIndex:
    """Compiled rules keyed by (service specification id, action), best first.

    Rules with equal item templates share one compiled template, so the work
    done per template (binding it to its resource specification) grows with
    the distinct templates, not with the rules.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        buckets: dict[tuple[str, str], list[CompiledRule]] = {}
        by_spec: dict[str, list[CompiledRule]] = {}
        shared: dict[object, CompiledTemplate] = {}
        for rule in rules:
            templates = []
            for template in rule.produces:
                key = template_key(template)
                compiled_template = None if key is None else shared.get(key)
                if compiled_template is None:
                    compiled_template = CompiledTemplate(template)
                    if key is not None:
                        shared[key] = compiled_template
                templates.append(compiled_template)
            compiled = CompiledRule(rule, tuple(templates))
            by_spec.setdefault(rule.specification, []).append(compiled)
            for action in rule.action:
                buckets.setdefault((rule.specification, action), []).append(compiled)
        order = lambda c: (-c.priority, c.id)  # noqa: E731
        self.buckets: dict[tuple[str, str], tuple[CompiledRule, ...]] = {
            key: tuple(sorted(found, key=order)) for key, found in buckets.items()
        }
        self.by_spec = {key: tuple(sorted(v, key=order)) for key, v in by_spec.items()}

    def candidates(self, specification: str, action: str) -> tuple[CompiledRule, ...]:
        """The rules that could match, best first (empty if none)."""
        return self.buckets.get((specification, action), ())

    def match(
        self,
        specification: str,
        version: str | None,
        action: str,
        values: Mapping[str, Any],
    ) -> list[CompiledRule]:
        """The rules matching an item, best first, up to and including a final one."""
        matched: list[CompiledRule] = []
        for rule in self.buckets.get((specification, action), ()):
            if rule.version is not None and rule.version != version:
                continue
            test = rule.test
            if test is not None and not test(values):
                continue
            matched.append(rule)
            if rule.final:
                break
        return matched

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_spec.values())
