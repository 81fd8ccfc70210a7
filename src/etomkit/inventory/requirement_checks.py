"""Compiled checks of information requirements: one function per required field or
characteristic, the common (clean) case costing a few comparisons."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from etomkit.inventory.requirement_specs import (
    Gap,
    InformationRequirement,
    ValueRequirement,
    _state_key,
)
from etomkit.model.offering import VALUE_TYPES

__all__ = ["Checker", "checkers_of"]

# ----------------------------------------------------------------------- checking

Checker = Callable[[Any], list[Gap]]
_STATUS_FIELDS = {"ProductOffering": "lifecycle_status", "Product": "status"}


def _kind(value: object) -> str:
    """The value's kind, as allowed values are compared: ``true`` is not ``1``, ``"1"`` is not
    ``1``, ``1`` is ``1.0``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _is_allowed(value: object, allowed: Iterable[object]) -> bool:
    kind = _kind(value)
    return any(_kind(a) == kind and a == value for a in allowed)


def _blank(value: object) -> bool:
    return value is None or value == () or (isinstance(value, str) and not value.strip())


def _value_gaps(req_id: str, spec: ValueRequirement, path: str, value: object) -> list[Gap]:
    """Gaps of one present value against its constraints."""
    gaps: list[Gap] = []
    if spec.value_type is not None and not VALUE_TYPES[spec.value_type](value):
        gaps.append(
            Gap(req_id, "invalid", path, f"must be of type {spec.value_type}, got {value!r}")
        )
        return gaps
    if spec.allowed and not _is_allowed(value, spec.allowed):
        allowed = ", ".join(repr(a) for a in spec.allowed)
        gaps.append(Gap(req_id, "invalid", path, f"{value!r} is not allowed; allowed: {allowed}"))
    if spec.minimum is not None or spec.maximum is not None:
        if not VALUE_TYPES["number"](value):
            gaps.append(Gap(req_id, "invalid", path, f"must be a number, got {value!r}"))
        elif (spec.minimum is not None and value < spec.minimum) or (  # type: ignore[operator]
            spec.maximum is not None and value > spec.maximum  # type: ignore[operator]
        ):
            low = "-inf" if spec.minimum is None else spec.minimum
            high = "inf" if spec.maximum is None else spec.maximum
            gaps.append(Gap(req_id, "invalid", path, f"{value!r} is outside [{low}, {high}]"))
    if spec.pattern is not None:
        if not isinstance(value, str):
            gaps.append(Gap(req_id, "invalid", path, f"must be text matching {spec.pattern!r}"))
        elif re.fullmatch(spec.pattern, value) is None:
            gaps.append(Gap(req_id, "invalid", path, f"{value!r} does not match {spec.pattern!r}"))
    return gaps


_EXACT_TYPES: Mapping[str, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float}),
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "object": frozenset({dict}),
    "array": frozenset({list, tuple}),
}
_NUMBERS = frozenset({int, float})
_KIND_TYPES: Mapping[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "number": (int, float),
    "string": (str,),
}
_NO_GAPS: list[Gap] = []  # shared, never appended to


def _constrained(spec: ValueRequirement) -> bool:
    return (
        bool(spec.value_type or spec.allowed or spec.pattern is not None)
        or spec.minimum is not None
        or spec.maximum is not None
    )


def _field_checker(req_id: str, spec: ValueRequirement) -> Checker:
    name, required, constrained = spec.name, spec.required, _constrained(spec)

    def check(entity: Any) -> list[Gap]:
        value = getattr(entity, name)
        if _blank(value):
            return [Gap(req_id, "missing", name, "is required")] if required else []
        if not constrained:
            return []
        if isinstance(value, tuple):  # references: constrain their ids
            gaps: list[Gap] = []
            for i, ref in enumerate(value):
                gaps.extend(_value_gaps(req_id, spec, f"{name}[{i}].id", getattr(ref, "id", ref)))
            return gaps
        if hasattr(value, "id") and not isinstance(value, str):
            return _value_gaps(req_id, spec, f"{name}.id", value.id)
        return _value_gaps(req_id, spec, name, value)

    return check


def _product_characteristic_checker(req_id: str, spec: ValueRequirement) -> Checker:
    """The check of one product characteristic, compiled with its common case inline
    (audits run it on every product): a clean value costs a few comparisons."""
    path = f"product_characteristic[{spec.name}]"
    conditions = []
    if spec.value_type is not None:
        conditions.append("type(value) in TYPES")
    if spec.allowed:
        conditions.append("value in ALLOWED and type(value) in ALLOWED_TYPES")
    if spec.minimum is not None or spec.maximum is not None:
        conditions.append("type(value) in NUMBERS")
        if spec.minimum is not None:
            conditions.append("value >= LOW")
        if spec.maximum is not None:
            conditions.append("value <= HIGH")
    if spec.pattern is not None:
        conditions.append("type(value) is str and MATCH(value) is not None")
    try:
        allowed: Any = frozenset(spec.allowed)
    except TypeError:  # unhashable allowed values: always the close look
        allowed, conditions = (), ["False"]
    allowed_types = {t for a in spec.allowed for t in _KIND_TYPES.get(_kind(a), (type(a),))}
    source = f"""\
def check(product):
    for char in product.product_characteristic:
        if char.name == NAME:
            value = char.value
            if value is None:
                break
            try:
                if {" and ".join(conditions) or "True"}:
                    return NO_GAPS
            except TypeError:
                pass
            return slow(value)
    return MISSING
"""
    namespace: dict[str, Any] = {
        "NAME": spec.name,
        "TYPES": _EXACT_TYPES.get(spec.value_type or "", frozenset()),
        "ALLOWED": allowed,
        "ALLOWED_TYPES": frozenset(allowed_types),
        "NUMBERS": _NUMBERS,
        "LOW": spec.minimum,
        "HIGH": spec.maximum,
        "MATCH": None if spec.pattern is None else re.compile(spec.pattern).fullmatch,
        "NO_GAPS": _NO_GAPS,
        "MISSING": [Gap(req_id, "missing", path, "is required")] if spec.required else _NO_GAPS,
        "slow": lambda value: _value_gaps(req_id, spec, path, value),
    }
    exec(compile(source, f"<requirement {req_id} {path}>", "exec"), namespace)
    check: Checker = namespace["check"]
    return check


def _offering_characteristic_checker(req_id: str, spec: ValueRequirement) -> Checker:
    name, required = spec.name, spec.required
    path = f"prod_spec_char_value_use[{name}]"
    values_spec = attrs.evolve(spec, value_type=None)  # the use declares its value type
    constrained = _constrained(values_spec)

    def check(offering: Any) -> list[Gap]:
        for use in offering.prod_spec_char_value_use:
            if use.name == name:
                gaps: list[Gap] = _declared_type_gaps(req_id, path, use)
                if spec.value_type is not None and use.value_type != spec.value_type:
                    gaps.append(
                        Gap(
                            req_id,
                            "invalid" if use.value_type else "missing",
                            f"{path}.value_type",
                            f"must be {spec.value_type!r}, got {use.value_type!r}",
                        )
                    )
                if constrained:
                    for i, entry in enumerate(use.product_spec_characteristic_value):
                        if isinstance(entry, Mapping) and "value" in entry:
                            gaps.extend(
                                _value_gaps(
                                    req_id,
                                    values_spec,
                                    f"{path}.product_spec_characteristic_value[{i}].value",
                                    entry["value"],
                                )
                            )
                return gaps
        return [Gap(req_id, "missing", path, "is required")] if required else []

    return check


def _declared_type_gaps(req_id: str, path: str, use: Any) -> list[Gap]:
    """Listed values that are not of the use's own declared (known) value type."""
    is_type = VALUE_TYPES.get(use.value_type) if isinstance(use.value_type, str) else None
    if is_type is None:
        return []
    return [
        Gap(
            req_id,
            "invalid",
            f"{path}.product_spec_characteristic_value[{i}].value",
            f"must be of its declared type {use.value_type}, got {entry['value']!r}",
        )
        for i, entry in enumerate(use.product_spec_characteristic_value)
        if isinstance(entry, Mapping) and "value" in entry and not is_type(entry["value"])
    ]


def checkers_of(req: InformationRequirement) -> list[Checker]:
    specs = [ValueRequirement(name=n) for n in req.required_fields] + list(req.fields)
    checkers = [_field_checker(req.id, s) for s in specs]
    make = (
        _product_characteristic_checker
        if req.entity == "Product"
        else _offering_characteristic_checker
    )
    checkers.extend(make(req.id, s) for s in req.characteristics)
    if req.states:
        checkers = [_in_states(req, c) for c in checkers]
    return checkers


def _in_states(req: InformationRequirement, inner: Checker) -> Checker:
    """``inner`` for entities in one of the requirement's states only (memoised per status)."""
    field = _STATUS_FIELDS[req.entity]
    wanted = frozenset(_state_key(s) for s in req.states)
    memo: dict[str, bool] = {}

    def check(entity: Any) -> list[Gap]:
        status = getattr(entity, field)
        applies = memo.get(status)
        if applies is None:
            applies = isinstance(status, str) and _state_key(status) in wanted
            if len(memo) < 1000:
                memo[status] = applies
        return inner(entity) if applies else _NO_GAPS

    return check
