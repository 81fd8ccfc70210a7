"""The rule index: rules compiled once, looked up by (specification, action).

Matching an item costs one dict lookup plus the predicates of the few rules
for its specification and action, however many rules the set holds.

The index also groups the 'add' buckets by shape for the standard path
(fastpath.py): buckets whose rules differ only in their ids and versions
share one :class:`BucketShape` (its representative rules, their tests and
templates), so a catalogue of many specifications with the same kinds of
rules has a few shapes, each compiled once, and a bucket is just its shape
and its rule refs, built with the RuleSet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from etomkit.model.issuance import RuleRef
from etomkit.ordering.predicates import (
    AllOf,
    AnyOf,
    Eq,
    Exists,
    In,
    Ne,
    Not,
    Predicate,
    Range,
    Regex,
    Test,
)
from etomkit.ordering.produce import CompiledTemplate, template_key
from etomkit.ordering.rules import Rule

__all__ = ["BucketShape", "CompiledRule", "RuleIndex", "predicate_key"]

_SCALARS = frozenset({str, int, float, bool, type(None)})
_LEAVES: dict[type, tuple[str, ...]] = {
    Eq: ("characteristic", "value"),
    Ne: ("characteristic", "value"),
    Range: ("characteristic", "min", "max", "min_exclusive", "max_exclusive"),
    Exists: ("characteristic", "present"),
    Regex: ("characteristic", "pattern"),
}


def _scalar_key(value: object) -> object:
    if type(value) not in _SCALARS:
        raise TypeError(value)
    return (type(value), value)


def predicate_key(predicate: Predicate | None) -> object:
    """A key equal for predicates that test alike (types included: ``True`` is not
    ``1``); a predicate of another class, or with values other than scalars, gets a
    key of its own (its identity), so it shares with nothing."""
    if predicate is None:
        return None
    try:
        return _predicate_key(predicate)
    except TypeError:
        return ("own", id(predicate))


def _predicate_key(p: Predicate) -> object:
    kind = type(p)
    fields = _LEAVES.get(kind)
    if fields is not None:
        return (kind, *(_scalar_key(getattr(p, f)) for f in fields))
    if kind is In:
        assert isinstance(p, In)
        return (kind, _scalar_key(p.characteristic), *(_scalar_key(v) for v in p.values))
    if kind is AllOf or kind is AnyOf:
        assert isinstance(p, AllOf | AnyOf)
        return (kind, *(_predicate_key(c) for c in p.predicates))
    if kind is Not:
        assert isinstance(p, Not)
        return (kind, _predicate_key(p.predicate))
    raise TypeError(p)


class CompiledRule:
    """A Rule with its predicate compiled and its templates prepared."""

    __slots__ = (
        "final",
        "id",
        "plain",
        "priority",
        "ref",
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

    def shape_key(self) -> object:
        """What the standard path uses of the rule: equal for rules it runs alike."""
        return (
            self.plain,
            self.final,
            _scalar_key(self.version),
            predicate_key(self.rule.when),
            tuple(id(t) for t in self.templates),  # the index shares equal templates
        )


class BucketShape:
    """The rules of 'add' buckets alike but for their refs (the first bucket's, best
    first); ``number`` is its place in :attr:`RuleIndex.shapes`."""

    __slots__ = ("number", "rules")

    def __init__(self, number: int, rules: tuple[CompiledRule, ...]) -> None:
        self.number = number
        self.rules = rules

    def __repr__(self) -> str:
        return f"<BucketShape {self.number}: {len(self.rules)} rule(s)>"


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
        #: The standard path's 'add' buckets: specification id -> (shape, each rule's ref
        #: as a 1-tuple: a record's rules when that rule alone matches, shared).
        self.adds: dict[str, tuple[BucketShape, tuple[tuple[RuleRef], ...]]] = {}
        self.shapes: list[BucketShape] = []
        known: dict[object, BucketShape] = {}
        for (spec_id, action), bucket in self.buckets.items():
            if action != "add":
                continue
            key = tuple(c.shape_key() for c in bucket)
            shape = known.get(key)
            if shape is None:
                shape = known[key] = BucketShape(len(self.shapes), bucket)
                self.shapes.append(shape)
            self.adds[spec_id] = (shape, tuple((c.ref,) for c in bucket))

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
