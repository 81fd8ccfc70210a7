"""Information requirements as data: what must be captured, and whether a set of them
is usable (every problem listed). :mod:`etomkit.inventory.requirements` checks
entities against them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import attrs

from etomkit.errors import Problem
from etomkit.model.offering import VALUE_TYPES, ProductOffering
from etomkit.model.product import Product
from etomkit.tmf import camel

__all__ = [
    "ENTITY_TYPES",
    "Gap",
    "InformationRequirement",
    "ValueRequirement",
    "requirement_problems",
]

_SEPARATORS = re.compile(r"[\s_\-]+")


def _state_key(state: str) -> str:
    """A state name as lifecycles read it: case, spaces, ``_`` and ``-`` ignored."""
    return _SEPARATORS.sub("", state).lower()


ENTITY_TYPES = ("ProductOffering", "Product")


_FIELDS: dict[str, frozenset[str]] = {
    "ProductOffering": frozenset(a.name for a in attrs.fields(ProductOffering)),
    "Product": frozenset(a.name for a in attrs.fields(Product)),
}
_NOT_FIELDS = frozenset({"extras", "revision"})


class Gap(NamedTuple):
    """Where an entity falls short of a requirement: ``kind`` is ``"missing"`` or ``"invalid"``."""

    requirement: str
    kind: Literal["missing", "invalid"]
    path: str
    message: str

    @property
    def problem(self) -> Problem:
        """As a ``(path, message)`` validation problem."""
        return (self.path, f"{self.message} (information requirement {self.requirement!r})")


@attrs.frozen(kw_only=True)
class ValueRequirement:
    """A required (or optional but constrained) field or characteristic.

    ``value_type`` is for characteristics only (fields are typed by the model);
    ``allowed``, ``minimum``/``maximum`` (numbers) and ``pattern`` (a regular
    expression the whole text must match) constrain the value when present.
    For reference fields (``product_specification``, ``category``) the
    constraints apply to the referenced ids.
    """

    name: str
    required: bool = True
    value_type: str | None = None
    allowed: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


@attrs.frozen(kw_only=True)
class InformationRequirement:
    """What must be captured for the offerings or products of a category/specification.

    ``entity`` is ``"ProductOffering"`` or ``"Product"``. ``category`` (an
    offering category id; for products, their offering's) and
    ``specification`` (a product specification id) narrow it; leave both
    unset to cover every entity of the type. ``states`` narrows it to entities
    in those lifecycle states (``lifecycle_status`` of offerings, ``status`` of
    products; any spelling the lifecycle reads: ``"In test"``, ``"in_test"``);
    empty means every state. ``required_fields`` is shorthand for ``fields``
    entries that only require a value.
    """

    id: str
    entity: str = "ProductOffering"
    category: str | None = None
    specification: str | None = None
    required_fields: tuple[str, ...] = ()
    fields: tuple[ValueRequirement, ...] = ()
    characteristics: tuple[ValueRequirement, ...] = ()
    description: str | None = None
    states: tuple[str, ...] = ()

    def applies_in(self, status: object) -> bool:
        """True if it covers an entity in lifecycle state ``status``."""
        if not self.states:
            return True
        if not isinstance(status, str):
            return False
        return _state_key(status) in {_state_key(s) for s in self.states}

    def applies(self, category_ids: Iterable[str], specification_id: str | None) -> bool:
        """True if it covers an entity in those categories with that specification."""
        if self.specification is not None and self.specification != specification_id:
            return False
        return self.category is None or self.category in category_ids


# ----------------------------------------------------------------------- validation


def _field_name(entity: str, name: object) -> str | None:
    """The attribute ``name`` (snake_case or TMF camelCase) stands for, or None."""
    if not isinstance(name, str):
        return None
    fields = _FIELDS.get(entity, frozenset()) - _NOT_FIELDS
    if name in fields:
        return name
    for field in fields:
        if camel(field) == name:
            return field
    return None


def _where(i: int, req: object) -> str:
    rid = getattr(req, "id", None)
    return f"requirement[{i}]" + (f"({rid})" if isinstance(rid, str) else "")


def _value_problems(path: str, spec: ValueRequirement, *, is_field: bool) -> list[Problem]:
    problems: list[Problem] = []
    if spec.value_type is not None:
        if is_field:
            problems.append(
                (
                    f"{path}.value_type",
                    "fields are typed by the model; only characteristics take one",
                )
            )
        elif spec.value_type not in VALUE_TYPES:
            allowed = ", ".join(VALUE_TYPES)
            problems.append(
                (f"{path}.value_type", f"unknown {spec.value_type!r}; allowed: {allowed}")
            )
    if not isinstance(spec.required, bool):
        problems.append((f"{path}.required", "must be true or false"))
    if not isinstance(spec.allowed, tuple):
        problems.append((f"{path}.allowed", "must be a list of values"))
    for bound in ("minimum", "maximum"):
        value = getattr(spec, bound)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            problems.append((f"{path}.{bound}", f"must be a finite number, got {value!r}"))
    low, high = spec.minimum, spec.maximum
    if (
        isinstance(low, (int, float))
        and isinstance(high, (int, float))
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and low > high
    ):
        problems.append((f"{path}.maximum", f"must not be below minimum ({low})"))
    if spec.pattern is not None:
        if not isinstance(spec.pattern, str):
            problems.append((f"{path}.pattern", "must be a regular expression (text)"))
        else:
            try:
                re.compile(spec.pattern)
            except re.error as exc:
                problems.append((f"{path}.pattern", f"not a valid regular expression: {exc}"))
    return problems


def requirement_problems(
    requirements: Sequence[object], positions: Sequence[int] | None = None
) -> list[Problem]:
    """Every problem of a sequence of requirements (empty if they are all usable);
    ``positions``: where each stands in its file (default: its index)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, req in enumerate(requirements):
        i = index if positions is None else positions[index]
        where = _where(i, req)
        if not isinstance(req, InformationRequirement):
            problems.append((where, f"must be an InformationRequirement, got {type(req).__name__}"))
            continue
        if not isinstance(req.id, str) or not req.id.strip():
            problems.append((f"{where}.id", "is required (a non-blank string)"))
        elif req.id in seen:
            problems.append((f"{where}.id", f"{req.id!r} is used by another requirement"))
        else:
            seen.add(req.id)
        if req.entity not in ENTITY_TYPES:
            allowed = ", ".join(repr(e) for e in ENTITY_TYPES)
            problems.append(
                (f"{where}.entity", f"unknown entity {req.entity!r}; allowed: {allowed}")
            )
            continue
        for name in ("category", "specification", "description"):
            value = getattr(req, name)
            if value is not None and not isinstance(value, str):
                problems.append((f"{where}.{name}", "must be a string"))
        if not isinstance(req.states, tuple) or not all(
            isinstance(s, str) and s.strip() for s in req.states
        ):
            problems.append((f"{where}.states", "must be a list of lifecycle state names"))
        fields = _FIELDS[req.entity] - _NOT_FIELDS
        specs = [
            (f"{where}.required_fields[{j}]", ValueRequirement(name=n))
            for j, n in enumerate(req.required_fields)
        ] + [(f"{where}.fields[{j}]", s) for j, s in enumerate(req.fields)]
        for path, spec in specs:
            if _field_name(req.entity, spec.name) != spec.name:
                known = ", ".join(sorted(fields))
                problems.append((path, f"unknown {req.entity} field {spec.name!r}; known: {known}"))
            problems.extend(_value_problems(path, spec, is_field=True))
        for j, spec in enumerate(req.characteristics):
            path = f"{where}.characteristics[{j}]"
            if not isinstance(spec.name, str) or not spec.name.strip():
                problems.append((f"{path}.name", "is required (a non-blank string)"))
            problems.extend(_value_problems(path, spec, is_field=False))
    return problems
