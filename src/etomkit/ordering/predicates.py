"""Conditions on a service item's characteristics: eq, ne, in, range, exists, regex,
and their all/any/not combinations.

Each predicate compiles once to a plain function ``values -> bool`` (what the
index calls) and can say in words why it fails (what ``explain()`` shows).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "MISSING",
    "AllOf",
    "AnyOf",
    "Eq",
    "Exists",
    "In",
    "Ne",
    "Not",
    "Predicate",
    "Range",
    "Regex",
    "Test",
    "Values",
]

Values = Mapping[str, Any]
Test = Callable[[Values], bool]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Marks an absent characteristic or an unset default."""


_NUMBER = (int, float)  # a tuple: `int | float` would build a UnionType per call
_ARRAY = (list, tuple)


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _same(a: object, b: object) -> bool:
    """Equal and of the same kind: ``True`` is not ``1``, ``"1"`` is not ``1``, ``1 == 1.0``;
    JSON arrays and objects compare element by element, by kind too."""
    if a != b:
        return False
    if type(a) is not type(b):
        return _is_number(a) and _is_number(b)
    if isinstance(a, _ARRAY) and isinstance(b, _ARRAY):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_same(value, b[key]) for key, value in a.items())
    return True


# ---------------------------------------------------------------------- predicates


class Predicate:
    """A condition on a service item's characteristics (``{name: value}``)."""

    def compile(self) -> Test:
        """A fast function ``values -> bool`` (what the issuer's index calls)."""
        raise NotImplementedError

    def failure(self, values: Values) -> str | None:
        """Why the predicate does not hold for ``values``; None if it holds."""
        raise NotImplementedError

    def describe(self) -> str:
        """The predicate in words, e.g. ``bandwidth in ['1G', '10G']``."""
        raise NotImplementedError

    def to_data(self) -> dict[str, Any]:
        """The predicate as rule-file data (TOML/JSON)."""
        raise NotImplementedError

    def holds(self, values: Values) -> bool:
        """True if the predicate holds for ``values``."""
        return self.failure(values) is None

    def __str__(self) -> str:
        return self.describe()


def _absent(name: str) -> str:
    return f"characteristic {name!r} is absent"


@attrs.frozen
class Eq(Predicate):
    """The characteristic is present and equals ``value`` (same kind: ``"1"`` is not ``1``)."""

    characteristic: str
    value: Any

    def compile(self) -> Test:
        name, want = self.characteristic, self.value
        if isinstance(want, str):
            return lambda v: v.get(name) == want
        if isinstance(want, bool):
            return lambda v: v.get(name, MISSING) is want
        return lambda v: name in v and _same(v[name], want)

    def failure(self, values: Values) -> str | None:
        if self.characteristic not in values:
            return _absent(self.characteristic)
        got = values[self.characteristic]
        if _same(got, self.value):
            return None
        return f"{self.characteristic} is {got!r}, needs {self.value!r}"

    def describe(self) -> str:
        return f"{self.characteristic} == {self.value!r}"

    def to_data(self) -> dict[str, Any]:
        return {"characteristic": self.characteristic, "eq": self.value}


@attrs.frozen
class Ne(Predicate):
    """The characteristic is absent or differs from ``value``."""

    characteristic: str
    value: Any

    def compile(self) -> Test:
        name, want = self.characteristic, self.value
        if isinstance(want, str):
            return lambda v: v.get(name) != want
        return lambda v: name not in v or not _same(v[name], want)

    def failure(self, values: Values) -> str | None:
        got = values.get(self.characteristic, MISSING)
        if got is not MISSING and _same(got, self.value):
            return f"{self.characteristic} is {got!r}, must not be"
        return None

    def describe(self) -> str:
        return f"{self.characteristic} != {self.value!r}"

    def to_data(self) -> dict[str, Any]:
        return {"characteristic": self.characteristic, "ne": self.value}


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scalar(value: object) -> bool:
    """A JSON scalar (looked up by hash; arrays and objects are compared by kind)."""
    return type(value) in _SCALARS


@attrs.frozen
class In(Predicate):
    """The characteristic is present and one of ``values``."""

    characteristic: str
    values: tuple[Any, ...] = attrs.field(converter=_tuple)

    def compile(self) -> Test:
        name, options = self.characteristic, self.values
        if all(type(o) is str for o in options):
            strings = frozenset(options)
            # A JSON array or object (unhashable) is none of the strings.
            return lambda v: type(got := v.get(name)) is str and got in strings
        if all(_scalar(o) for o in options):
            # Hash lookup; bools kept apart so that True is not taken for 1.
            plain = frozenset(o for o in options if not isinstance(o, bool))
            flags = frozenset(o for o in options if isinstance(o, bool))

            def member(v: Values) -> bool:
                got = v.get(name, MISSING)
                if type(got) is bool:
                    return got in flags
                return _scalar(got) and got in plain

            return member
        return lambda v: name in v and any(_same(v[name], o) for o in options)

    def failure(self, values: Values) -> str | None:
        if self.characteristic not in values:
            return _absent(self.characteristic)
        got = values[self.characteristic]
        if any(_same(got, o) for o in self.values):
            return None
        return f"{self.characteristic} is {got!r}, needs one of {list(self.values)!r}"

    def describe(self) -> str:
        return f"{self.characteristic} in {list(self.values)!r}"

    def to_data(self) -> dict[str, Any]:
        return {"characteristic": self.characteristic, "in": list(self.values)}


@attrs.frozen(kw_only=True)
class Range(Predicate):
    """The characteristic is a number within ``min``..``max`` (inclusive unless told)."""

    characteristic: str
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False

    def compile(self) -> Test:
        name = self.characteristic
        low: float = -math.inf if self.min is None else self.min
        high: float = math.inf if self.max is None else self.max
        lo_x, hi_x = self.min_exclusive, self.max_exclusive

        def within(v: Values) -> bool:
            got = v.get(name)
            if isinstance(got, bool) or not isinstance(got, _NUMBER):
                return False
            if got < low or (lo_x and got == low):
                return False
            return not (got > high or (hi_x and got == high))

        return within

    def failure(self, values: Values) -> str | None:
        if self.characteristic not in values:
            return _absent(self.characteristic)
        got = values[self.characteristic]
        if not _is_number(got):
            return f"{self.characteristic} is {got!r}, needs a number in {self._bounds()}"
        if self.compile()(values):
            return None
        return f"{self.characteristic} is {got!r}, needs {self._bounds()}"

    def _bounds(self) -> str:
        low = "(" if self.min_exclusive else "["
        high = ")" if self.max_exclusive else "]"
        lo = "-inf" if self.min is None else repr(self.min)
        hi = "inf" if self.max is None else repr(self.max)
        return f"{low}{lo}, {hi}{high}"

    def describe(self) -> str:
        return f"{self.characteristic} in {self._bounds()}"

    def to_data(self) -> dict[str, Any]:
        bounds: dict[str, Any] = {}
        if self.min is not None:
            bounds["min"] = self.min
        if self.max is not None:
            bounds["max"] = self.max
        if self.min_exclusive:
            bounds["min_exclusive"] = True
        if self.max_exclusive:
            bounds["max_exclusive"] = True
        return {"characteristic": self.characteristic, "range": bounds}


@attrs.frozen
class Exists(Predicate):
    """The characteristic is present (``present=False``: absent)."""

    characteristic: str
    present: bool = True

    def compile(self) -> Test:
        name = self.characteristic
        if self.present:
            return lambda v: name in v
        return lambda v: name not in v

    def failure(self, values: Values) -> str | None:
        if (self.characteristic in values) == self.present:
            return None
        if self.present:
            return _absent(self.characteristic)
        return f"characteristic {self.characteristic!r} is present, must be absent"

    def describe(self) -> str:
        return f"{'' if self.present else 'not '}exists({self.characteristic})"

    def to_data(self) -> dict[str, Any]:
        return {"characteristic": self.characteristic, "exists": self.present}


@attrs.frozen
class Regex(Predicate):
    """The characteristic is a string in which ``pattern`` is found (``re.search``)."""

    characteristic: str
    pattern: str
    _compiled: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def compile(self) -> Test:
        name, search = self.characteristic, self._compiled.search

        def found(v: Values) -> bool:
            got = v.get(name)
            return isinstance(got, str) and search(got) is not None

        return found

    def failure(self, values: Values) -> str | None:
        if self.characteristic not in values:
            return _absent(self.characteristic)
        got = values[self.characteristic]
        if isinstance(got, str) and self._compiled.search(got):
            return None
        return f"{self.characteristic} is {got!r}, does not match /{self.pattern}/"

    def describe(self) -> str:
        return f"{self.characteristic} ~ /{self.pattern}/"

    def to_data(self) -> dict[str, Any]:
        return {"characteristic": self.characteristic, "regex": self.pattern}


def _predicates(items: Iterable[Predicate]) -> tuple[Predicate, ...]:
    return tuple(items)


@attrs.frozen
class AllOf(Predicate):
    """Every predicate holds (an empty AllOf always holds)."""

    predicates: tuple[Predicate, ...] = attrs.field(converter=_predicates)

    def compile(self) -> Test:
        tests = tuple(p.compile() for p in self.predicates)
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            a, b = tests
            return lambda v: a(v) and b(v)
        return lambda v: all(t(v) for t in tests)

    def failure(self, values: Values) -> str | None:
        for predicate in self.predicates:
            why = predicate.failure(values)
            if why is not None:
                return why
        return None

    def describe(self) -> str:
        return " and ".join(_grouped(p) for p in self.predicates) or "always"

    def to_data(self) -> dict[str, Any]:
        return {"all": [p.to_data() for p in self.predicates]}


@attrs.frozen
class AnyOf(Predicate):
    """At least one predicate holds (an empty AnyOf never holds)."""

    predicates: tuple[Predicate, ...] = attrs.field(converter=_predicates)

    def compile(self) -> Test:
        tests = tuple(p.compile() for p in self.predicates)
        return lambda v: any(t(v) for t in tests)

    def failure(self, values: Values) -> str | None:
        reasons = []
        for predicate in self.predicates:
            why = predicate.failure(values)
            if why is None:
                return None
            reasons.append(why)
        return "none of the alternatives holds: " + "; ".join(reasons)

    def describe(self) -> str:
        return " or ".join(_grouped(p) for p in self.predicates) or "never"

    def to_data(self) -> dict[str, Any]:
        return {"any": [p.to_data() for p in self.predicates]}


@attrs.frozen
class Not(Predicate):
    """The predicate does not hold."""

    predicate: Predicate

    def compile(self) -> Test:
        test = self.predicate.compile()
        return lambda v: not test(v)

    def failure(self, values: Values) -> str | None:
        if self.predicate.failure(values) is None:
            return f"must not hold: {self.predicate.describe()}"
        return None

    def describe(self) -> str:
        return f"not {_grouped(self.predicate)}"

    def to_data(self) -> dict[str, Any]:
        return {"not": self.predicate.to_data()}


def _grouped(predicate: Predicate) -> str:
    text = predicate.describe()
    return f"({text})" if isinstance(predicate, AllOf | AnyOf) else text
