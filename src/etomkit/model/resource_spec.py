"""ResourceSpecification (TMF634 v4.1): what a complete resource order item must carry."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import Problem
from etomkit.model.lifecycle import _normalise
from etomkit.model.values import EntityRef, RelatedParty, TimePeriod, _extras

__all__ = [
    "CharacteristicValueSpecification",
    "ResourceSpecification",
    "ResourceSpecificationCharacteristic",
    "SpecificationCheck",
]


@attrs.frozen(kw_only=True)
class CharacteristicValueSpecification:
    """TMF634 CharacteristicValueSpecification: one allowed value, range or pattern."""

    value: Any = attrs.field(default=None, hash=False)
    value_type: str | None = None
    is_default: bool | None = None
    value_from: int | None = None
    value_to: int | None = None
    range_interval: str | None = None
    regex: str | None = None
    unit_of_measure: str | None = None
    valid_for: TimePeriod | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ResourceSpecificationCharacteristic:
    """TMF634 ResourceSpecificationCharacteristic: a characteristic a resource may carry.

    Required when ``min_cardinality >= 1``; ``value_type`` (``string``,
    ``integer``, ``number``, ``boolean``, ``object``, ``array``) is checked;
    the allowed values are ``resource_spec_characteristic_value`` (discrete
    values, ``value_from``..``value_to`` ranges, patterns) unless ``extensible``.
    Patterns (``regex``) are searched for, as JSON Schema's ``pattern``: anchor
    them with ``^…$`` to match the whole value.
    """

    name: str
    value_type: str | None = None
    description: str | None = None
    configurable: bool | None = None
    extensible: bool | None = None
    is_unique: bool | None = None
    min_cardinality: int | None = None
    max_cardinality: int | None = None
    regex: str | None = None
    resource_spec_characteristic_value: tuple[CharacteristicValueSpecification, ...] = ()
    id: str | None = None
    valid_for: TimePeriod | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()

    @property
    def required(self) -> bool:
        """True if a resource of this specification must carry the characteristic."""
        return (self.min_cardinality or 0) >= 1


@attrs.frozen(kw_only=True)
class ResourceSpecification:
    """A TMF634 ResourceSpecification (``@type`` often Logical/PhysicalResourceSpecification)."""

    id: str | None = None
    href: str | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None
    category: str | None = None
    lifecycle_status: str | None = None
    is_bundle: bool | None = None
    last_update: datetime | None = None
    valid_for: TimePeriod | None = None
    resource_spec_characteristic: tuple[ResourceSpecificationCharacteristic, ...] = ()
    related_party: tuple[RelatedParty, ...] = ()
    type: str | None = "ResourceSpecification"
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()
    revision: int = 0

    def characteristic_spec(self, name: str) -> ResourceSpecificationCharacteristic | None:
        """The named characteristic specification, or None."""
        for char in self.resource_spec_characteristic:
            if char.name == name:
                return char
        return None

    @property
    def required_characteristics(self) -> tuple[str, ...]:
        """Names of the characteristics every resource of this specification must carry."""
        return tuple(c.name for c in self.resource_spec_characteristic if c.required)

    def ref(self) -> EntityRef:
        """A ResourceSpecificationRef to this specification."""
        return EntityRef(
            id=self.id or "",
            href=self.href,
            name=self.name,
            version=self.version,
            referred_type=self.type,
        )

    def problems(self, characteristics: Mapping[str, Any], path: str = "") -> list[Problem]:
        """Every way ``{name: value}`` falls short of this specification (empty if complete)."""
        return SpecificationCheck(self).problems(characteristics, path)


# ---------------------------------------------------------------------- checking

_Check = Callable[[Any], "str | None"]

_TYPE_NAMES: dict[str, tuple[str, Callable[[Any], bool]]] = {}
_PLAIN_NUMBERS = frozenset({int, float})


_NUMBER = (int, float)  # a tuple: `int | float` would build a UnionType per call
_ARRAY = (list, tuple)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


for _names, _label, _test in (
    (("string", "text", "str"), "a string", lambda v: isinstance(v, str)),
    (("integer", "int", "long"), "an integer", _is_int),
    (("number", "float", "decimal", "double", "numeric"), "a number", _is_number),
    (("boolean", "bool"), "a boolean", lambda v: isinstance(v, bool)),
    (("object", "map"), "an object", lambda v: isinstance(v, Mapping)),
    (("array", "list"), "an array", lambda v: isinstance(v, _ARRAY)),
):
    for _name in _names:
        _TYPE_NAMES[_name] = (_label, _test)


def _same_value(value: Any, allowed: Any) -> bool:
    """Equal, and of the same kind (``True`` is not ``1``; ``1`` is ``1.0``)."""
    if value != allowed:
        return False
    return type(value) is type(allowed) or (_is_number(value) and _is_number(allowed))


def _range_test(low: Any, high: Any, interval: str | None) -> Callable[[Any], bool]:
    """A test ``value -> bool`` for one TMF range (``rangeInterval`` default: closed)."""
    mode = _normalise(interval or "closed")
    low_closed = mode in ("closed", "closedbottom")
    high_closed = mode in ("closed", "closedtop")

    def within(value: Any) -> bool:
        if not _is_number(value):
            return False
        if low is not None and (value < low if low_closed else value <= low):
            return False
        return high is None or (value <= high if high_closed else value < high)

    return within


def _shown(allowed: Iterable[CharacteristicValueSpecification]) -> str:
    parts = []
    for v in allowed:
        if v.value_from is not None or v.value_to is not None:
            low = "" if v.value_from is None else v.value_from
            high = "" if v.value_to is None else v.value_to
            parts.append(f"{low}..{high}")
        elif v.value is not None:
            parts.append(repr(v.value))
        elif v.regex is not None:
            parts.append(f"/{v.regex}/")
    return ", ".join(parts)


def _compile_characteristic(spec_id: str, char: ResourceSpecificationCharacteristic) -> _Check:
    """One function ``value -> problem message or None`` for a characteristic spec."""
    type_check = _TYPE_NAMES.get(_normalise(char.value_type)) if char.value_type else None
    pattern = _safe_regex(char.regex)
    if char.regex and pattern is None:
        broken = f"resource specification {spec_id!r} has an invalid regex {char.regex!r}"
        return lambda _value: broken
    entries = () if char.extensible else char.resource_spec_characteristic_value
    discrete: list[Any] = []
    ranges: list[Callable[[Any], bool]] = []
    closed: list[tuple[Any, Any]] = []  # closed ranges with numeric bounds
    patterns: list[re.Pattern[str]] = []
    for entry in entries:
        if entry.value_from is not None or entry.value_to is not None:
            ranges.append(_range_test(entry.value_from, entry.value_to, entry.range_interval))
            low, high = entry.value_from, entry.value_to
            if (
                type(low) in _PLAIN_NUMBERS
                and type(high) in _PLAIN_NUMBERS
                and _normalise(entry.range_interval or "closed") == "closed"
            ):
                closed.append((low, high))
        elif entry.value is not None:
            discrete.append(entry.value)
        elif entry.regex is not None:
            compiled = _safe_regex(entry.regex)
            if compiled is not None:
                patterns.append(compiled)
    restricted = bool(discrete or ranges or patterns)
    max_count = char.max_cardinality
    allowed_text = _shown(entries)
    array_typed = type_check is not None and type_check[0] == "an array"

    def allowed(value: Any) -> bool:
        for d in discrete:
            if _same_value(value, d):
                return True
        for within in ranges:
            if within(value):
                return True
        if isinstance(value, str):
            for p in patterns:
                if p.search(value):
                    return True
        return False

    type_label, type_test = type_check if type_check is not None else ("", None)

    def check_one(value: Any) -> str | None:
        if type_test is not None and not type_test(value):
            return (
                f"must be {type_label} (resource specification {spec_id!r}, valueType "
                f"{char.value_type!r}), got {value!r}"
            )
        if pattern is not None and not (isinstance(value, str) and pattern.search(value)):
            return f"{value!r} does not match {char.regex!r} (resource specification {spec_id!r})"
        if restricted and not allowed(value):
            return (
                f"{value!r} is not allowed by resource specification {spec_id!r}; "
                f"allowed: {allowed_text}"
            )
        return None

    # The common case in one set lookup: a string listed as an allowed value.
    plain = frozenset(d for d in discrete if type(d) is str)
    if pattern is not None or (type_check is not None and not type_check[1]("")):
        plain = frozenset()

    # The common number: an int (or float) within a closed range (any one accepted
    # suffices), in two comparisons.
    label = "" if type_check is None else type_check[0]
    fast_types: tuple[type, ...] = ()
    if pattern is None and closed and label in ("", "an integer", "a number"):
        fast_types = (int,) if label == "an integer" else (int, float)
    low, high = closed[0] if fast_types else (0, 0)

    def check(value: Any) -> str | None:
        kind = type(value)
        if kind is str and value in plain:
            return None
        if kind in fast_types and low <= value <= high:
            return None
        if isinstance(value, _ARRAY) and not array_typed:
            if max_count is not None and len(value) > max_count:
                return f"has {len(value)} values; at most {max_count} allowed"
            for element in value:
                problem = check_one(element)
                if problem is not None:
                    return problem
            return None
        return check_one(value)

    return check


def _safe_regex(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


class SpecificationCheck:
    """A ResourceSpecification compiled into fast checks of ``{name: value}`` dicts.

    Build once per specification (the issuer caches them); :meth:`problems`
    lists missing required characteristics, unknown names, wrong value types
    and values outside the allowed set.
    """

    __slots__ = ("checks", "known", "required", "spec", "spec_id")

    def __init__(self, spec: ResourceSpecification) -> None:
        self.spec = spec
        self.spec_id = spec.id or "?"
        self.checks: dict[str, _Check] = {
            c.name: _compile_characteristic(self.spec_id, c)
            for c in spec.resource_spec_characteristic
        }
        self.required = spec.required_characteristics
        # A specification that lists no characteristics constrains none.
        self.known = frozenset(self.checks) if self.checks else None

    def problems(self, characteristics: Mapping[str, Any], path: str = "") -> list[Problem]:
        """Every problem, with paths ``<path>characteristic.<name>``."""
        problems: list[Problem] = []
        prefix = f"{path}characteristic."
        for name in self.required:
            if name not in characteristics:
                problems.append(
                    (
                        f"{prefix}{name}",
                        f"is required by resource specification {self.spec_id!r} and missing",
                    )
                )
        checks = self.checks
        for name, value in characteristics.items():
            check = checks.get(name)
            if check is None:
                if self.known is not None:
                    known = ", ".join(sorted(self.known))
                    problems.append(
                        (
                            f"{prefix}{name}",
                            f"is not a characteristic of resource specification "
                            f"{self.spec_id!r}; known: {known}",
                        )
                    )
                continue
            message = check(value)
            if message is not None:
                problems.append((f"{prefix}{name}", message))
        return problems
