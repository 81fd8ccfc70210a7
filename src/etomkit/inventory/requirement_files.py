"""Reading information requirement files (TOML or JSON data), every problem collected.

Paths name the requirement and the key: ``requirement[1](fibre).characteristics[0].pattern``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from etomkit.errors import Problem
from etomkit.inventory.requirement_specs import (
    InformationRequirement,
    ValueRequirement,
    _field_name,
)

__all__ = ["read_requirements"]

_REQUIREMENT_KEYS = {
    "id", "entity", "category", "specification", "required_fields", "field", "fields",
    "characteristic", "characteristics", "description", "states",
}  # fmt: skip
_VALUE_KEYS = {"name", "required", "value_type", "allowed", "minimum", "maximum", "pattern"}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def read_requirements(
    data: object,
) -> tuple[list[InformationRequirement], list[Problem], list[int]]:
    """The requirements read, every problem, and each requirement's position in the file
    (tables without an id are skipped, so later problems name their own position)."""
    problems: list[Problem] = []
    if isinstance(data, Mapping):
        keys = [k for k in ("requirement", "requirements") if k in data]
        for key in sorted(set(data) - {"requirement", "requirements"}):
            problems.append((key, "unknown top-level key; requirements go in [[requirement]]"))
        if len(keys) != 1:
            problems.append(
                ("requirement", "needs exactly one list: [[requirement]] or 'requirements'")
            )
            return [], problems, []
        items = data[keys[0]]
    else:
        items = data
    if not isinstance(items, list):
        problems.append(("requirement", f"must be a list of tables, got {type(items).__name__}"))
        return [], problems, []
    requirements = []
    positions = []
    for i, raw in enumerate(items):
        req = _read_requirement(f"requirement[{i}]", raw, problems)
        if req is not None:
            requirements.append(req)
            positions.append(i)
    return requirements, problems, positions


def _read_table(
    path: str, raw: object, known: set[str], problems: list[Problem]
) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        problems.append((path, f"must be a table, got {type(raw).__name__}"))
        return None
    table: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(str(key))
        if name not in known:
            problems.append((f"{path}.{key}", f"unknown key; allowed: {', '.join(sorted(known))}"))
        else:
            table[name] = value
    return table


def _read_values(path: str, raw: object, problems: list[Problem]) -> tuple[ValueRequirement, ...]:
    if not isinstance(raw, list):
        problems.append((path, f"must be a list of tables, got {type(raw).__name__}"))
        return ()
    specs = []
    for j, item in enumerate(raw):
        table = _read_table(f"{path}[{j}]", item, _VALUE_KEYS, problems)
        if table is None:
            continue
        if not isinstance(table.get("name"), str):
            problems.append((f"{path}[{j}].name", "is required (a string)"))
            continue
        allowed = table.pop("allowed", [])
        if not isinstance(allowed, list):
            problems.append((f"{path}[{j}].allowed", "must be a list of values"))
            allowed = []
        for key in ("value_type", "pattern"):
            if key in table and not isinstance(table[key], str):
                problems.append((f"{path}[{j}].{key}", "must be a string"))
                del table[key]
        specs.append(ValueRequirement(allowed=tuple(allowed), **table))
    return tuple(specs)


def _read_requirement(
    where: str, raw: object, problems: list[Problem]
) -> InformationRequirement | None:
    table = _read_table(where, raw, _REQUIREMENT_KEYS, problems)
    if table is None:
        return None
    rid = table.get("id")
    if isinstance(rid, str):
        where = f"{where}({rid})"
    else:
        problems.append((f"{where}.id", "is required (a string)"))
        return None
    for single, plural in (("field", "fields"), ("characteristic", "characteristics")):
        if single in table:
            table[plural] = table.pop(single)
        table[plural] = _read_values(f"{where}.{plural}", table.get(plural, []), problems)
    required = table.get("required_fields", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        problems.append((f"{where}.required_fields", "must be a list of field names"))
        required = []
    entity = table.get("entity", "ProductOffering")
    if isinstance(entity, str):  # camelCase field names as in TMF JSON are fine too
        required = [_field_name(entity, n) or n for n in required]
        table["fields"] = tuple(
            attrs.evolve(s, name=_field_name(entity, s.name) or s.name) for s in table["fields"]
        )
    table["required_fields"] = tuple(required)
    states = table.get("states", [])
    if not isinstance(states, list) or not all(isinstance(n, str) for n in states):
        problems.append((f"{where}.states", "must be a list of lifecycle state names"))
        states = []
    table["states"] = tuple(states)
    return InformationRequirement(**table)
