"""Reading rule files (TOML or JSON): cattrs for the structure, every problem collected.

Paths name the rule and the field: ``rule[3](fibre-add).produces[0].quantity``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs
from cattrs.errors import BaseValidationError, ForbiddenExtraKeysError

from etomkit.errors import Problem
from etomkit.model.orders import canonical_action
from etomkit.model.values import EntityRef
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
from etomkit.ordering.rules import (
    _ALL_ACTIONS,
    FromService,
    ItemTemplate,
    Rule,
    _predicate_problems,
    rule_problems,
)

__all__ = ["read_rules"]


# The shape cattrs checks (types, required and unknown keys); the polymorphic
# parts typed Any (conditions, actions, characteristic sources) are read by
# _Reader from the raw data, so their problems are found even when cattrs
# rejects something else in the same rule.


@attrs.define
class _TemplateDoc:
    resource_specification: Any
    action: Any = None
    quantity: int = 1
    characteristics: Any = attrs.Factory(dict)


@attrs.define
class _RuleDoc:
    id: str
    specification: str
    action: Any = "add"
    when: Any = attrs.Factory(list)
    produces: list[_TemplateDoc] = attrs.Factory(list)
    version: str = "1"
    priority: int = 0
    specification_version: str | None = None
    requires_feasibility: bool = False
    special: bool = False
    reason: str | None = None
    final: bool = False
    description: str | None = None


def _strict(kind: type, label: str) -> Callable[[Any, type], Any]:
    def structure(value: Any, _: type) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"expected {label}, got {value!r}")
        return value

    return structure


def _make_rule_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(Any, lambda value, _: value)
    return conv


_CONVERTER = _make_rule_converter()

_OPERATORS = ("eq", "ne", "in", "range", "exists", "regex")


class _Reader:
    """Turns rule-file data into Rules, collecting every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def rules(self, data: Any) -> list[Rule]:
        if isinstance(data, Mapping):
            keys = [k for k in ("rule", "rules") if k in data]
            extra = sorted(set(data) - {"rule", "rules"})
            for key in extra:
                self.problem(key, "unknown top-level key; rules go in [[rule]] (or 'rules')")
            if len(keys) != 1:
                self.problem(
                    "rule", "the file needs exactly one list of rules: [[rule]] or 'rules'"
                )
                return []
            items = data[keys[0]]
        else:
            items = data
        if not isinstance(items, list):
            self.problem("rule", f"must be a list of rule tables, got {type(items).__name__}")
            return []
        rules = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(items):
            rule = self.rule(raw, i)
            if rule is not None:
                rules.append(rule)
            rule_id = raw.get("id") if isinstance(raw, Mapping) else None
            if isinstance(rule_id, str):
                if rule_id in seen:
                    self.problem(
                        f"rule[{i}]({rule_id}).id",
                        f"{rule_id!r} is also the id of rule[{seen[rule_id]}]",
                    )
                else:
                    seen[rule_id] = i
        return rules

    def rule(self, raw: Any, index: int) -> Rule | None:
        rule_id = raw.get("id") if isinstance(raw, Mapping) else None
        base = f"rule[{index}]({rule_id})" if isinstance(rule_id, str) else f"rule[{index}]"
        if not isinstance(raw, Mapping):
            self.problem(base, f"must be a table, got {type(raw).__name__}")
            return None
        mark = len(self.problems)
        doc: _RuleDoc | None = None
        try:
            doc = _CONVERTER.structure(dict(raw), _RuleDoc)
        except BaseValidationError as exc:
            for line in cattrs.transform_error(exc, path="", format_exception=_format_exception):
                message, _, path = line.rpartition(" @ ")
                where = f"{base}{_dotted(path)}"
                if message.startswith(_UNKNOWN):
                    fields = _TEMPLATE_FIELDS if path.endswith("]") else _RULE_FIELDS
                    for key in message[len(_UNKNOWN) :].split(", "):
                        self.problem(f"{where}.{key}", f"unknown key; allowed: {fields}")
                else:
                    self.problem(where, message)
        actions = self.actions(raw.get("action", "add"), f"{base}.action")
        when: list[Predicate | None] = []
        conditions = raw.get("when", [])
        if isinstance(conditions, list):
            when = [self.predicate(p, f"{base}.when[{i}]") for i, p in enumerate(conditions)]
        else:
            self.problem(f"{base}.when", "must be a list of conditions (all must hold)")
        templates: list[ItemTemplate] = []
        produces = raw.get("produces", [])
        if isinstance(produces, list):  # else cattrs said so
            templates = [
                self.template(t if isinstance(t, Mapping) else {}, f"{base}.produces[{i}]")
                for i, t in enumerate(produces)
            ]
        # A best-effort rule (placeholders where the file is wrong), so its semantic
        # problems are found too; a problem at a path already reported is left out.
        candidate = Rule(
            id=_text(raw.get("id")),
            specification=_text(raw.get("specification")),
            action=actions or ("add",),
            when=[p for p in when if p is not None],
            produces=templates,
            version=_text(raw.get("version", "1")),
            priority=raw.get("priority", 0),
            specification_version=raw.get("specification_version"),
            requires_feasibility=raw.get("requires_feasibility") is True,
            special=raw.get("special") is True,
            reason=raw.get("reason"),
            final=raw.get("final") is True,
            description=raw.get("description"),
        )
        reported = [path[len(base) + 1 :] for path, _ in self.problems[mark:]]
        # conditions at their place in the file: a single one is still when[0]
        semantic = rule_problems(attrs.evolve(candidate, when=None))
        for i, predicate in enumerate(when):
            if predicate is not None:
                semantic.extend(_predicate_problems(predicate, f"when[{i}]"))
        for path, message in semantic:
            if not path.startswith("action") and not any(_related(path, r) for r in reported):
                self.problem(f"{base}.{path}" if path else base, message)
        if doc is None or len(self.problems) > mark:
            return None
        return candidate

    def actions(self, value: Any, path: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(a, str) for a in items):
            self.problem(path, f"must be an action or a list of actions, got {value!r}")
            return ()
        found = []
        for i, text in enumerate(items):
            where = path if isinstance(value, str) else f"{path}[{i}]"
            action = canonical_action(text)
            if action == "noChange":
                self.problem(where, "noChange items issue nothing; a rule cannot match them")
            elif action is None:
                self.problem(where, f"unknown action {text!r}; allowed: 'add', 'modify', 'delete'")
            else:
                found.append(action)
        return tuple(found)

    def predicate(self, raw: Any, path: str) -> Predicate | None:
        if not isinstance(raw, Mapping):
            self.problem(
                path, f"must be a table such as {{characteristic = 'x', eq = 1}}, got {raw!r}"
            )
            return None
        combinators = [k for k in ("all", "any", "not") if k in raw]
        if combinators:
            if len(raw) != 1:
                self.problem(path, f"{combinators[0]!r} must be the only key of its table")
                return None
            key = combinators[0]
            value = raw[key]
            if key == "not":
                inner = self.predicate(value, f"{path}.not")
                return None if inner is None else Not(inner)
            if not isinstance(value, list):
                self.problem(f"{path}.{key}", "must be a list of conditions")
                return None
            parts = [self.predicate(p, f"{path}.{key}[{i}]") for i, p in enumerate(value)]
            if any(p is None for p in parts):
                return None
            kept = [p for p in parts if p is not None]
            return AllOf(kept) if key == "all" else AnyOf(kept)
        name = raw.get("characteristic")
        if not isinstance(name, str) or not name:
            self.problem(f"{path}.characteristic", "is required (the service characteristic name)")
        operators = [k for k in _OPERATORS if k in raw]
        unknown = sorted(set(raw) - {"characteristic", *_OPERATORS})
        for key in unknown:
            allowed = ", ".join((*_OPERATORS, "all", "any", "not"))
            self.problem(f"{path}.{key}", f"unknown condition; allowed: {allowed}")
        if len(operators) != 1:
            found = ", ".join(operators) or "none"
            self.problem(path, f"needs exactly one of {', '.join(_OPERATORS)} (found: {found})")
            return None
        if not isinstance(name, str) or not name or unknown:
            return None
        op = operators[0]
        value = raw[op]
        where = f"{path}.{op}"
        if op == "eq":
            return Eq(name, value)
        if op == "ne":
            return Ne(name, value)
        if op == "in":
            if not isinstance(value, list) or not value:
                self.problem(where, "must be a non-empty list of values")
                return None
            return In(name, value)
        if op == "exists":
            if not isinstance(value, bool):
                self.problem(where, "must be true or false")
                return None
            return Exists(name, value)
        if op == "regex":
            if not isinstance(value, str):
                self.problem(where, "must be a regular expression string")
                return None
            try:
                return Regex(name, value)
            except re.error as exc:
                self.problem(where, f"is not a valid regular expression: {exc}")
                return None
        return self.range(name, value, where)

    def range(self, name: str, value: Any, path: str) -> Predicate | None:
        if isinstance(value, list):
            if len(value) != 2 or not all(_is_number(v) for v in value):
                self.problem(path, "must be [min, max] (two numbers) or a table {min, max}")
                return None
            return Range(characteristic=name, min=value[0], max=value[1])
        if not isinstance(value, Mapping):
            self.problem(path, "must be [min, max] (two numbers) or a table {min, max}")
            return None
        allowed = {"min", "max", "min_exclusive", "max_exclusive"}
        ok = True
        for key in sorted(set(value) - allowed):
            self.problem(
                f"{path}.{key}", "unknown key; allowed: min, max, min_exclusive, max_exclusive"
            )
            ok = False
        for key in ("min", "max"):
            if key in value and not _is_number(value[key]):
                self.problem(f"{path}.{key}", f"must be a number, got {value[key]!r}")
                ok = False
        for key in ("min_exclusive", "max_exclusive"):
            if key in value and not isinstance(value[key], bool):
                self.problem(f"{path}.{key}", "must be true or false")
                ok = False
        if not ok:
            return None
        return Range(
            characteristic=name,
            min=value.get("min"),
            max=value.get("max"),
            min_exclusive=value.get("min_exclusive", False),
            max_exclusive=value.get("max_exclusive", False),
        )

    def template(self, raw: Mapping[str, Any], path: str) -> ItemTemplate:
        """The template (with placeholders where the data is wrong; problems noted)."""
        spec = raw.get("resource_specification")
        ref: EntityRef | None = None
        if isinstance(spec, str):
            ref = EntityRef(id=spec)
        elif isinstance(spec, Mapping):
            extra = sorted(set(spec) - {"id", "name", "version"})
            for key in extra:
                self.problem(
                    f"{path}.resource_specification.{key}",
                    "unknown key; allowed: id, name, version",
                )
            fields = {k: spec.get(k) for k in ("id", "name", "version")}
            bad = [k for k, v in fields.items() if v is not None and not isinstance(v, str)]
            for key in bad:
                self.problem(f"{path}.resource_specification.{key}", "must be a string")
            if not isinstance(fields["id"], str):
                self.problem(f"{path}.resource_specification.id", "is required")
            elif not extra and not bad:
                ref = EntityRef(id=fields["id"], name=fields["name"], version=fields["version"])
        elif spec is not None:  # absent: cattrs reports it
            self.problem(
                f"{path}.resource_specification",
                f"must be an id or a table {{id, name, version}}, got {spec!r}",
            )
        action = raw.get("action")
        if isinstance(action, str):
            if canonical_action(action) is None:
                self.problem(
                    f"{path}.action", f"unknown action {action!r}; allowed: {_ALL_ACTIONS}"
                )
        elif isinstance(action, Mapping):
            for key, value in action.items():
                if canonical_action(key) is None or canonical_action(value) is None:
                    self.problem(
                        f"{path}.action.{key}",
                        f"maps service action {key!r} to {value!r}; both must be one of "
                        f"{_ALL_ACTIONS}",
                    )
        elif action is not None:
            self.problem(
                f"{path}.action", "must be an action or a table of service -> resource actions"
            )
        chars: dict[str, Any] = {}
        sources = raw.get("characteristics", {})
        if not isinstance(sources, Mapping):
            self.problem(f"{path}.characteristics", "must be a table of name = value or source")
            sources = {}
        for name, source in sources.items():
            value = self.characteristic(source, f"{path}.characteristics.{name}")
            if value is not MISSING:
                chars[name] = value
        return ItemTemplate(
            resource_specification=ref or EntityRef(id=""),
            action=action if isinstance(action, str | Mapping) else None,
            quantity=raw.get("quantity", 1),
            characteristics=chars,
        )

    def characteristic(self, raw: Any, path: str) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        if "from" in raw:
            extra = sorted(set(raw) - {"from", "map", "default"})
            for key in extra:
                self.problem(f"{path}.{key}", "unknown key; allowed: from, map, default")
            source, mapping = raw["from"], raw.get("map")
            if not isinstance(source, str) or not source:
                self.problem(f"{path}.from", "must name a service characteristic")
            if mapping is not None and not isinstance(mapping, Mapping):
                self.problem(f"{path}.map", "must be a table of service value -> resource value")
            if extra or not isinstance(source, str) or not source:
                return MISSING
            return FromService(
                source,
                map=mapping if isinstance(mapping, Mapping) else None,
                default=raw.get("default", MISSING),
            )
        if "value" in raw:
            if len(raw) != 1:
                self.problem(path, "a {value = ...} table holds only 'value'")
                return MISSING
            return raw["value"]
        self.problem(
            path,
            "a table value needs 'from' (copy a service characteristic) or 'value' (a constant)",
        )
        return MISSING


def _text(value: Any) -> Any:
    """A placeholder for a missing text field (its absence is reported elsewhere)."""
    return "?" if value is None else value


def _related(path: str, reported: str) -> bool:
    """True if one path is the other or lies inside it."""
    if path == reported:
        return True
    for outer, inner in ((path, reported), (reported, path)):
        if inner.startswith(outer) and inner[len(outer) : len(outer) + 1] in (".", "["):
            return True
    return False


_UNKNOWN = "unknown key(s) "
_RULE_FIELDS = ", ".join(a.name for a in attrs.fields(_RuleDoc))
_TEMPLATE_FIELDS = ", ".join(a.name for a in attrs.fields(_TemplateDoc))


def _format_exception(exc: BaseException, _type: type | None) -> str:
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"{_UNKNOWN}{', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, KeyError):
        return "is required"
    if isinstance(exc, TypeError | ValueError):
        return str(exc)
    return f"invalid value ({exc})"


def _dotted(path: str) -> str:
    return path if not path or path.startswith((".", "[")) else f".{path}"


def read_rules(data: Any) -> tuple[list[Rule], list[Problem]]:
    """Rules from parsed rule-file data, and every problem found in it."""
    reader = _Reader()
    rules = reader.rules(data)
    return rules, reader.problems
