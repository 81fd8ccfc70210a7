"""Rules as data: match service order items, produce resource order item templates.

A :class:`Rule` matches a service specification (and optional version), one
or more item actions, and an optional predicate over the service
characteristics; it produces :class:`ItemTemplate` s. Rules are written in
Python or loaded with :meth:`RuleSet.from_toml` / :meth:`RuleSet.from_json`;
a bad rule set raises one ValidationError listing every problem as
``rule[<n>](<id>).<field path>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.inputs import file_limit_problems, guarded, parse_json, parse_toml, read_text
from etomkit.model.orders import ORDER_ITEM_ACTIONS, canonical_action
from etomkit.model.values import EntityRef
from etomkit.notebook.display import Tabular
from etomkit.ordering.predicates import (
    MISSING,
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
    _is_number,
)

__all__ = [
    "MISSING",
    "AllOf",
    "AnyOf",
    "Eq",
    "Exists",
    "FromService",
    "In",
    "ItemTemplate",
    "Ne",
    "Not",
    "Predicate",
    "Range",
    "Regex",
    "Rule",
    "RuleSet",
    "rule_problems",
]

# ---------------------------------------------------------------------- templates


@attrs.frozen
class FromService:
    """A characteristic value taken from the service item's characteristic ``characteristic``.

    ``map`` translates the value (rule-file keys are strings, so a number is
    looked up as itself, then as its text); ``default`` is used when the
    service lacks the characteristic or the map lacks the value. Without a
    default, an absent value leaves the characteristic out (the resource
    specification then decides whether the item is complete) and an unmapped
    value is a problem.
    """

    characteristic: str
    map: Mapping[Any, Any] | None = None
    default: Any = MISSING

    def to_data(self) -> dict[str, Any]:
        """The value source as rule-file data."""
        data: dict[str, Any] = {"from": self.characteristic}
        if self.map is not None:
            data["map"] = dict(self.map)
        if self.default is not MISSING:
            data["default"] = self.default
        return data


def _spec_ref(value: str | EntityRef) -> EntityRef:
    return EntityRef(id=value) if isinstance(value, str) else value


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen(kw_only=True)
class ItemTemplate:
    """A resource order item a rule produces.

    ``action``: None keeps the service item's action; a string is always
    used; a mapping translates it (``{"modify": "add"}``; unmapped actions keep
    their name). ``characteristics`` maps names to constants or
    :class:`FromService` sources.
    """

    resource_specification: EntityRef = attrs.field(converter=_spec_ref)
    action: str | Mapping[str, str] | None = None
    quantity: int = 1
    characteristics: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_map, hash=False
    )

    def resource_action(self, service_action: str) -> str:
        """The resource order item action for a service item ``service_action``."""
        action = self.action
        if action is None:
            return service_action
        if isinstance(action, str):
            return canonical_action(action) or action
        mapped = action.get(service_action, service_action)
        return canonical_action(mapped) or mapped

    def to_data(self) -> dict[str, Any]:
        """The template as rule-file data."""
        spec = self.resource_specification
        data: dict[str, Any] = {
            "resource_specification": spec.id
            if spec.version is None and spec.name is None
            else {
                k: v
                for k, v in (("id", spec.id), ("name", spec.name), ("version", spec.version))
                if v is not None
            }
        }
        if self.action is not None:
            data["action"] = self.action if isinstance(self.action, str) else dict(self.action)
        if self.quantity != 1:
            data["quantity"] = self.quantity
        if self.characteristics:
            data["characteristics"] = {
                k: v.to_data()
                if isinstance(v, FromService)
                else ({"value": v} if isinstance(v, Mapping) else v)
                for k, v in self.characteristics.items()
            }
        return data


def _actions(value: str | Iterable[str]) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    return tuple(canonical_action(a) or a for a in items)


def _when(value: Predicate | Iterable[Predicate] | None) -> Predicate | None:
    if value is None or isinstance(value, Predicate):
        return value
    items = tuple(value)
    if not items:
        return None
    return items[0] if len(items) == 1 else AllOf(items)


def _templates(value: Iterable[ItemTemplate]) -> tuple[ItemTemplate, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Rule:
    """One issuing rule.

    Matches items whose service specification is ``specification`` (and
    ``specification_version`` if set), whose action is in ``action``, and for
    which ``when`` holds. Every matching rule contributes its ``produces``, by
    descending ``priority`` (then id); a matching ``final`` rule stops the
    rules after it. ``special`` routes the item to special handling (with
    ``reason``); ``requires_feasibility`` makes the issuer consult a
    feasibility assessment first.
    """

    id: str
    specification: str
    action: tuple[str, ...] = attrs.field(default=("add",), converter=_actions)
    when: Predicate | None = attrs.field(default=None, converter=_when)
    produces: tuple[ItemTemplate, ...] = attrs.field(default=(), converter=_templates)
    version: str = "1"
    priority: int = 0
    specification_version: str | None = None
    requires_feasibility: bool = False
    special: bool = False
    reason: str | None = None
    final: bool = False
    description: str | None = None

    @property
    def ref(self) -> str:
        """``id@version``."""
        return f"{self.id}@{self.version}"

    def to_data(self) -> dict[str, Any]:
        """The rule as rule-file data (what :meth:`RuleSet.from_dict` reads)."""
        data: dict[str, Any] = {"id": self.id, "version": self.version}
        if self.description is not None:
            data["description"] = self.description
        if self.priority:
            data["priority"] = self.priority
        data["specification"] = self.specification
        if self.specification_version is not None:
            data["specification_version"] = self.specification_version
        data["action"] = self.action[0] if len(self.action) == 1 else list(self.action)
        if self.when is not None:
            data["when"] = (
                [p.to_data() for p in self.when.predicates]
                if isinstance(self.when, AllOf)
                else [self.when.to_data()]
            )
        for flag in ("requires_feasibility", "special", "final"):
            if getattr(self, flag):
                data[flag] = True
        if self.reason is not None:
            data["reason"] = self.reason
        if self.produces:
            data["produces"] = [t.to_data() for t in self.produces]
        return data


# ---------------------------------------------------------------------- checking rules

_ISSUABLE_ACTIONS = ("add", "modify", "delete")
_ALL_ACTIONS = ", ".join(repr(a) for a in ORDER_ITEM_ACTIONS)


def _check_text(problems: list[Problem], path: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        problems.append((path, f"must be a string, got {value!r}"))
    elif required and not value.strip():
        problems.append((path, "must not be blank"))


def _predicate_problems(predicate: object, path: str) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(predicate, AllOf | AnyOf):
        for i, child in enumerate(predicate.predicates):
            problems.extend(_predicate_problems(child, f"{path}[{i}]"))
    elif isinstance(predicate, Not):
        problems.extend(_predicate_problems(predicate.predicate, f"{path}.not"))
    elif isinstance(predicate, Eq | Ne | In | Range | Exists | Regex):
        _check_text(problems, f"{path}.characteristic", predicate.characteristic, required=True)
        if isinstance(predicate, In) and not predicate.values:
            problems.append((f"{path}.in", "needs at least one value"))
        if isinstance(predicate, Range):
            for bound in ("min", "max"):
                value = getattr(predicate, bound)
                if value is not None and not _is_number(value):
                    problems.append((f"{path}.range.{bound}", f"must be a number, got {value!r}"))
            low, high = predicate.min, predicate.max
            if _is_number(low) and _is_number(high) and low > high:  # type: ignore[operator]
                problems.append((f"{path}.range", f"min {low!r} is above max {high!r}"))
            if low is None and high is None:
                problems.append((f"{path}.range", "needs min, max or both"))
    elif not isinstance(predicate, Predicate):
        problems.append((path, f"must be a Predicate, got {type(predicate).__name__}"))
    return problems


def _template_problems(template: object, path: str) -> list[Problem]:
    if not isinstance(template, ItemTemplate):
        return [(path, f"must be an ItemTemplate, got {type(template).__name__}")]
    problems: list[Problem] = []
    spec = template.resource_specification
    if not isinstance(spec, EntityRef):
        problems.append((f"{path}.resource_specification", "must be an id or an EntityRef"))
    else:
        _check_text(problems, f"{path}.resource_specification", spec.id, required=True)
    quantity = template.quantity
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        problems.append((f"{path}.quantity", f"must be a whole number >= 1, got {quantity!r}"))
    action = template.action
    if isinstance(action, str):
        if canonical_action(action) is None:
            problems.append(
                (f"{path}.action", f"unknown action {action!r}; allowed: {_ALL_ACTIONS}")
            )
    elif isinstance(action, Mapping):
        for key, value in action.items():
            for text in (key, value):
                if canonical_action(text) is None:
                    problems.append(
                        (
                            f"{path}.action.{key}",
                            f"unknown action {text!r}; allowed: {_ALL_ACTIONS}",
                        )
                    )
    elif action is not None:
        problems.append((f"{path}.action", "must be an action or a mapping of actions"))
    for name, source in template.characteristics.items():
        where = f"{path}.characteristics.{name}"
        if not isinstance(name, str) or not name:
            problems.append((where, "characteristic names must be non-blank strings"))
        if isinstance(source, FromService):
            _check_text(problems, f"{where}.from", source.characteristic, required=True)
            if source.map is not None and not isinstance(source.map, Mapping):
                problems.append((f"{where}.map", "must be a mapping of service values"))
    return problems


def rule_problems(rule: object) -> list[Problem]:
    """Every problem of one rule, paths relative to the rule."""
    if not isinstance(rule, Rule):
        return [("", f"must be a Rule, got {type(rule).__name__}")]
    problems: list[Problem] = []
    _check_text(problems, "id", rule.id, required=True)
    _check_text(problems, "version", rule.version, required=True)
    _check_text(problems, "specification", rule.specification, required=True)
    _check_text(problems, "specification_version", rule.specification_version, required=False)
    _check_text(problems, "reason", rule.reason, required=False)
    if not isinstance(rule.priority, int) or isinstance(rule.priority, bool):
        problems.append(("priority", f"must be an integer, got {rule.priority!r}"))
    if not rule.action:
        problems.append(("action", "needs at least one action"))
    for i, action in enumerate(rule.action):
        where = "action" if len(rule.action) == 1 else f"action[{i}]"
        if action == "noChange":
            problems.append((where, "noChange items issue nothing; a rule cannot match them"))
        elif action not in _ISSUABLE_ACTIONS:
            allowed = ", ".join(repr(a) for a in _ISSUABLE_ACTIONS)
            problems.append((where, f"unknown action {action!r}; allowed: {allowed}"))
    if rule.when is not None:
        problems.extend(_predicate_problems(rule.when, "when"))
    if not rule.produces and not rule.special and "delete" not in rule.action:
        problems.append(("produces", "a rule that is not special must produce at least one item"))
    for i, template in enumerate(rule.produces):
        problems.extend(_template_problems(template, f"produces[{i}]"))
    return problems


# ---------------------------------------------------------------------- the rule set


class RuleSet(Tabular):
    """An immutable, validated set of rules with its (specification, action) index.

    >>> rules = RuleSet([Rule(id="r1", specification="fibre", produces=[
    ...     ItemTemplate(resource_specification="ont")])])
    >>> len(rules), rules.get("r1").ref
    (1, 'r1@1')
    """

    entity: ClassVar[str] = "RuleSet"

    def __init__(self, rules: Iterable[Rule], *, source: str = "rules") -> None:
        from etomkit.ordering.index import RuleIndex  # the index compiles rules

        self.source = source
        self.rules: tuple[Rule, ...] = tuple(rules)
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            rule_id = getattr(rule, "id", None)
            base = f"rule[{i}]({rule_id})"
            problems.extend((f"{base}.{p}" if p else base, m) for p, m in rule_problems(rule))
            if isinstance(rule_id, str):
                if rule_id in seen:
                    problems.append(
                        (f"{base}.id", f"{rule_id!r} is also the id of rule[{seen[rule_id]}]")
                    )
                else:
                    seen[rule_id] = i
        if problems:
            raise ValidationError(f"rule set {source}", problems)
        self._by_id = {rule.id: rule for rule in self.rules}
        self.index = RuleIndex(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per rule: what it matches and what it produces."""
        return [
            {
                "rule": r.ref,
                "priority": r.priority,
                "specification": r.specification,
                "action": ", ".join(r.action),
                "when": None if r.when is None else str(r.when),
                "produces": ", ".join(t.resource_specification.id for t in r.produces),
                "final": r.final,
                "special": r.special,
                "requires_feasibility": r.requires_feasibility,
                "description": r.description,
            }
            for r in self.rules
        ]

    def _display_title(self) -> str:
        return f"RuleSet {self.source}: {len(self.rules)} rule(s)"

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __repr__(self) -> str:
        return f"<RuleSet {self.source}: {len(self.rules)} rules>"

    def get(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``. Raises KeyError."""
        return self._by_id[rule_id]

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | Sequence[Any], *, source: str = "rules"
    ) -> RuleSet:
        """Rules from parsed data: ``{"rule": [...]}``, ``{"rules": [...]}`` or a list.

        Raises ValidationError listing every problem of every rule at once.
        """
        from etomkit.ordering.rulefile import read_rules  # it builds Rules from this module

        entity = f"rule set {source}"
        limits = file_limit_problems(data, "rule")
        if limits:
            raise ValidationError(entity, limits)
        rules, problems = guarded(entity, lambda: read_rules(data))
        if problems:
            raise ValidationError(entity, problems)
        return cls(rules, source=source)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> RuleSet:
        """Rules from a TOML file of ``[[rule]]`` tables (read as UTF-8)."""
        text = read_text(path, f"rule set {os.fspath(path)}")
        return cls.from_toml_text(text, source=os.fspath(path))

    @classmethod
    def from_toml_text(cls, text: str | bytes, *, source: str = "rules.toml") -> RuleSet:
        """Rules from TOML text (bytes: UTF-8)."""
        return cls.from_dict(parse_toml(text, f"rule set {source}", check=False), source=source)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> RuleSet:
        """Rules from a JSON file (``{"rules": [...]}`` or a list of rules; read as UTF-8)."""
        text = read_text(path, f"rule set {os.fspath(path)}")
        return cls.from_json_text(text, source=os.fspath(path))

    @classmethod
    def from_json_text(cls, text: str | bytes, *, source: str = "rules.json") -> RuleSet:
        """Rules from JSON text (bytes: UTF-8)."""
        return cls.from_dict(parse_json(text, f"rule set {source}", check=False), source=source)

    def to_dict(self) -> dict[str, Any]:
        """``{"rules": [...]}``: what :meth:`from_dict` (and JSON files) read."""
        return {"rules": [rule.to_data() for rule in self.rules]}
