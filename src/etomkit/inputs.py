"""Reading outside input: UTF-8 text, JSON and TOML with limits, every problem at its path.

Every document etomkit reads (TMF JSON, imports, rule and requirement files)
goes through here first, so what reaches the model is plain JSON data:

* text is UTF-8 (bytes that are not, and files, are refused or read as UTF-8,
  never in the locale's encoding);
* arrays and objects nest at most :data:`MAX_NESTING_DEPTH` levels;
* numbers are finite (no ``NaN``/``Infinity``, which are not JSON) and
  integers are below ``2**``:data:`MAX_INTEGER_BITS` in magnitude;
* values are JSON values (dict with string keys, list, str, int, float, bool, None).

Problems are ``(path, message)`` with JSON paths: ``$`` is the document,
``$.orderItem[0].resource`` a member of it.

>>> parse_json('{"a": [1, NaN]}', "ProductOffering")
Traceback (most recent call last):
...
etomkit.errors.ValidationError: invalid ProductOffering (1 problem):
  $.a[1]: NaN is not a JSON number (numbers must be finite)
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from etomkit.errors import Problem, StorageError, ValidationError

__all__ = [
    "MAX_INTEGER_BITS",
    "MAX_NESTING_DEPTH",
    "decode_text",
    "file_limit_problems",
    "limit_problems",
    "parse_json",
    "parse_toml",
    "read_text",
    "value_limit_problems",
]

MAX_NESTING_DEPTH = 64
"""The deepest nesting of arrays and objects any input document may have.

The document itself is level 1 (``{"a": [1]}`` nests 2 levels). TMF documents
nest about 6 levels; the limit leaves room for characteristic values while
keeping every later step (storing, downloading, copying) far from Python's
recursion limit.
"""

MAX_INTEGER_BITS = 1024
"""Integers must be smaller in magnitude than ``2**MAX_INTEGER_BITS`` (about
1.8e308): the range of an IEEE 754 double, which most JSON readers turn numbers
into (and Python's own 4,300-digit limit is never reached)."""


class _Refused:
    """A value the JSON parser met that is not accepted; reported at its path."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


_TOO_BIG = f"an integer beyond 2**{MAX_INTEGER_BITS} in magnitude is outside a JSON number's range"


def _parse_int(text: str) -> int | _Refused:
    if len(text) > 310:  # 2**1024 has 309 digits
        return _Refused(_TOO_BIG)
    value = int(text)
    return _Refused(_TOO_BIG) if value.bit_length() > MAX_INTEGER_BITS else value


def _parse_constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a JSON number (numbers must be finite)")


_JSON_TYPES = (str, int, float, bool, type(None))
_INF = float("inf")


def limit_problems(data: Any, path: str = "$") -> list[Problem]:
    """Every place where ``data`` breaks the input limits, or is not a JSON value.

    Iterative (no recursion), so it holds for any depth; below the nesting limit
    it looks at every value once.
    """
    problems: list[Problem] = []
    # (container, depth, parent node) with nodes (parent node, key) for lazy paths
    stack: list[tuple[Any, int, Any]] = [(data, 1, (None, path))]
    while stack:
        value, depth, node = stack.pop()
        kind = type(value)
        if kind is dict:
            items: Any = value.items()
        elif kind is list:
            items = enumerate(value)
        else:
            problem = _scalar_problem(value)
            if problem is not None:
                problems.append((_path(node), problem))
            continue
        if depth > MAX_NESTING_DEPTH:
            problems.append(
                (_path(node), f"nests deeper than {MAX_NESTING_DEPTH} levels of arrays and objects")
            )
            continue
        children = []
        for key, child in items:
            if kind is dict and type(key) is not str:
                problems.append((_path(node), f"has a key that is not a string: {key!r}"))
                continue
            ckind = type(child)
            if ckind is str or ckind is bool or child is None:
                continue
            if ckind is int:
                if child.bit_length() > MAX_INTEGER_BITS:
                    children.append((child, depth + 1, (node, key)))
                continue
            if ckind is float and -_INF < child < _INF:
                continue
            children.append((child, depth + 1, (node, key)))
        stack.extend(reversed(children))
    return problems


def value_limit_problems(obj: Any, path: str = "") -> list[Problem]:
    """Where an entity built in Python breaks the input limits, by attribute path.

    The same limits as for documents (nesting, finite numbers, integer range),
    looked for where an entity holds free-form values: ``extras`` (members of
    the entity, as in its JSON), characteristic values and the fields holding
    entities. Which value types the model accepts is the model's business.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, int, Any]] = [(obj, 1, (None, path))]
    while stack:
        value, depth, node = stack.pop()
        plan = _PLANS.get(type(value)) or _plan(type(value))
        if plan is _NOT_AN_ENTITY:
            _free_value(value, depth, node, problems)
            continue
        if depth > MAX_NESTING_DEPTH:
            problems.append((_attribute_path(node), _too_deep()))
            continue
        nested, free = plan
        extras = getattr(value, "extras", None)
        if extras:
            _free_value(extras, depth, node, problems)
        for name in free:
            child = getattr(value, name)
            if child is not None and type(child) not in _LEAVES:
                _free_value(child, depth + 1, (node, name), problems)
        for name in nested:
            child = getattr(value, name)
            if child is None:
                continue
            if type(child) is tuple:
                for i, item in enumerate(child):
                    if _PLANS.get(type(item)) is not _BARE or getattr(item, "extras", None):
                        stack.append((item, depth + 2, ((node, name), i)))
            elif _PLANS.get(type(child)) is not _BARE or getattr(child, "extras", None):
                stack.append((child, depth + 1, (node, name)))
    return problems


_LEAVES = frozenset({str, bool, datetime})
_NOT_AN_ENTITY: Any = object()
_BARE: Any = ((), ())  # an entity of scalar fields only (a reference, a period)
_PLANS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _plan(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(fields holding entities, fields holding free-form values)`` of an attrs class."""
    fields = getattr(cls, "__attrs_attrs__", None)
    if fields is None:
        return _NOT_AN_ENTITY  # type: ignore[no-any-return]
    hints = typing.get_type_hints(cls)
    nested, free = [], []
    for field in fields:
        if field.name in ("extras", "revision"):
            continue
        hint = hints.get(field.name, Any)
        if _mentions(hint, lambda t: t is Any or t in (Mapping, dict)):
            free.append(field.name)
        elif _mentions(hint, lambda t: hasattr(t, "__attrs_attrs__")):
            nested.append(field.name)
        # a scalar field is left out: a wrongly typed value in it (however deep)
        # is refused by the model's own checks, which do not descend into it
    plan = _PLANS[cls] = (tuple(nested), tuple(free)) if nested or free else _BARE
    return plan


def _mentions(hint: Any, test: Callable[[Any], bool]) -> bool:
    if test(hint) or test(typing.get_origin(hint)):
        return True
    return any(_mentions(arg, test) for arg in typing.get_args(hint) if arg is not Ellipsis)


def _free_value(value: Any, depth: int, node: Any, problems: list[Problem]) -> None:
    """The limits over a free-form value (tuples and sets count as arrays)."""
    stack = [(value, depth, node)]
    while stack:
        value, depth, node = stack.pop()
        kind = type(value)
        if kind is float or kind is int:
            problem = _scalar_problem(value)
            if problem is not None:
                problems.append((_attribute_path(node), problem))
            continue
        if isinstance(value, Mapping):
            items: Any = value.items()
        elif isinstance(value, list | tuple):
            items = enumerate(value)
        elif isinstance(value, set | frozenset):
            items = ((f"<{i}>", v) for i, v in enumerate(value))
        elif hasattr(kind, "__attrs_attrs__"):
            problems.extend(value_limit_problems(value, _attribute_path(node)))
            continue
        else:
            continue
        if depth > MAX_NESTING_DEPTH:
            problems.append((_attribute_path(node), _too_deep()))
            continue
        for key, child in items:
            ckind = type(child)
            if child is None or ckind in _LEAVES:
                continue
            if ckind is int and child.bit_length() <= MAX_INTEGER_BITS:
                continue
            if ckind is float and -_INF < child < _INF:
                continue
            stack.append((child, depth + 1, (node, key)))


def _attribute_path(node: Any) -> str:
    return _path(node).removeprefix(".")


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, _Refused):
        return value.message
    kind = type(value)
    if kind is float:
        if value != value:
            return "NaN is not a JSON number (numbers must be finite)"
        if value in (_INF, -_INF):
            return "Infinity is not a JSON number (numbers must be finite)"
        return None
    if kind is int:
        if value.bit_length() > MAX_INTEGER_BITS:
            return _TOO_BIG
        return None
    if kind in _JSON_TYPES:
        return None
    return f"is not a JSON value (got {kind.__name__})"


def _path(node: Any) -> str:
    keys = []
    while node[0] is not None:
        node, key = node
        keys.append(f"[{key}]" if type(key) is int else f".{key}")
    keys.append(node[1])
    return "".join(reversed(keys))


def _refuse(entity: str, problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(entity, problems)


def decode_text(text: str | bytes | bytearray, entity: str, path: str = "$") -> str:
    """``text`` as a string: bytes are decoded as UTF-8 (a BOM is dropped) or refused."""
    if isinstance(text, str):
        return text
    if not isinstance(text, bytes | bytearray):
        raise ValidationError(entity, [(path, f"must be text or bytes, got {type(text).__name__}")])
    try:
        return bytes(text).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            entity, [(path, f"is not UTF-8 text: byte {exc.start} is {text[exc.start]:#04x}")]
        ) from None


def read_text(file: str | os.PathLike[str], entity: str) -> str:
    """A file's text, read as UTF-8 whatever the locale (StorageError if unreadable)."""
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise StorageError(f"cannot read {os.fspath(file)!r}: {exc.strerror or exc}") from exc
    return decode_text(data, entity)


def parse_json(text: str | bytes, entity: str, path: str = "$", *, check: bool = True) -> Any:
    """JSON text (or UTF-8 bytes) as data within the limits; ValidationError otherwise.

    ``check=False`` leaves the limits to the caller (:func:`limit_problems`, as
    :func:`etomkit.tmf.from_json` does): values refused while parsing (``NaN``,
    huge integers) are then placeholders that only :func:`limit_problems` accepts
    to report.
    """
    text = decode_text(text, entity, path)
    try:
        data = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if "\n" in text else f"column {exc.colno}"
        raise ValidationError(entity, [(path, f"not valid JSON: {exc.msg} at {where}")]) from None
    except RecursionError:
        raise ValidationError(entity, [(path, _too_deep())]) from None
    if check:
        _refuse(entity, limit_problems(data, path))
    return data


def parse_toml(text: str | bytes, entity: str, *, check: bool = True) -> dict[str, Any]:
    """TOML text (or UTF-8 bytes) as data within the limits; ValidationError otherwise.

    ``check=False`` leaves the limits to the caller (:func:`file_limit_problems`).
    """
    text = decode_text(text, entity)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(entity, [("$", f"not valid TOML: {exc}")]) from None
    except RecursionError:
        raise ValidationError(entity, [("$", _too_deep())]) from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise ValidationError(entity, [("$", f"not valid TOML: {exc}")]) from None
    if check:
        _refuse(entity, limit_problems(data))
    return data


def file_limit_problems(data: Any, label: str) -> list[Problem]:
    """:func:`limit_problems` with the paths of rule and requirement files:
    ``rule[0](fibre-add).when[1].eq`` for ``label="rule"`` (the entry's place and id,
    whether the file says ``[[rule]]``, ``"rules"`` or is a list), no ``$``."""
    problems = []
    for path, message in limit_problems(data, ""):
        found = re.match(rf"^(?:\.{label}s?)?\[(\d+)\]", path)
        if found is not None:
            index = int(found[1])
            entries = data if isinstance(data, list) else data.get(_plural_key(data, label))
            entry = entries[index] if isinstance(entries, list) else None
            entry_id = entry.get("id") if isinstance(entry, dict) else None
            named = f"({entry_id})" if isinstance(entry_id, str) else ""
            path = f"{label}[{index}]{named}{path[found.end() :]}"
        problems.append((path.removeprefix(".") or "$", message))
    return problems


def _plural_key(data: Any, label: str) -> str:
    return label if isinstance(data, dict) and label in data else f"{label}s"


def _too_deep() -> str:
    return f"nests deeper than {MAX_NESTING_DEPTH} levels of arrays and objects"


def guarded(entity: str, parse: Callable[[], Any]) -> Any:
    """``parse()``, with a RecursionError turned into a ValidationError at ``$``."""
    try:
        return parse()
    except RecursionError:
        raise ValidationError(entity, [("$", _too_deep())]) from None


def json_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of the non-blank lines of JSON lines text.

    Splits on ``"\\n"`` only: str.splitlines() would also break on U+2028 and
    friends, which ``json.dumps(ensure_ascii=False)`` leaves raw inside strings.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line
