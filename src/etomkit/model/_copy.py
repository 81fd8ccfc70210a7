"""A fast ``attrs.evolve`` for the model's plain frozen classes (hot paths only)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["replace", "replacer"]

T = TypeVar("T")
_Replacer = Callable[..., Any]
_REPLACERS: dict[tuple[type, tuple[str, ...]], _Replacer] = {}


def _make_replacer(cls: type, changed: tuple[str, ...]) -> _Replacer:
    fields = attrs.fields(cls)
    names = {a.name for a in fields}
    unknown = [n for n in changed if n not in names]
    if unknown:
        raise TypeError(f"{cls.__name__} has no attribute(s) {', '.join(unknown)}")
    plain = all(a.validator is None and a.converter is None and a.init for a in fields)
    if not plain or hasattr(cls, "__attrs_post_init__"):
        return lambda inst, **changes: attrs.evolve(inst, **changes)
    # What attrs generates for a frozen slotted __init__, through the slots' own
    # setters where the class has them (half the time of object.__setattr__).
    args = ", ".join(changed)
    lines = [f"def replace(inst, {args}):", "    new = _new(_cls)"]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_set": object.__setattr__}
    for i, a in enumerate(fields):
        value = a.name if a.name in changed else f"inst.{a.name}"
        slot = _slot(cls, a.name)
        if slot is None:
            lines.append(f"    _set(new, {a.name!r}, {value})")
        else:
            namespace[f"_s{i}"] = slot.__set__
            lines.append(f"    _s{i}(new, {value})")
    lines.append("    return new")
    exec("\n".join(lines), namespace)
    replacer: _Replacer = namespace["replace"]
    return replacer


def _slot(cls: type, name: str) -> Any:
    """The slot descriptor that holds attribute ``name`` of ``cls`` (None if none does)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            return found if isinstance(found, types.MemberDescriptorType) else None
    return None


def replacer(cls: type, *names: str) -> _Replacer:
    """The compiled ``replace`` of ``cls`` for ``names``: ``fn(inst, *values)`` takes
    the new values positionally, in that order (no keyword handling on the hot path)."""
    key = (cls, names)
    found = _REPLACERS.get(key)
    if found is None:
        found = _REPLACERS[key] = _make_replacer(cls, names)
    return found


def replace(inst: T, **changes: Any) -> T:
    """``attrs.evolve(inst, **changes)``, compiled once per class and set of changed names.

    Only for classes without validators or converters (else it falls back to
    ``attrs.evolve``). Unknown names raise TypeError like ``evolve`` does.
    """
    key = (type(inst), tuple(changes))
    replacer = _REPLACERS.get(key)
    if replacer is None:
        replacer = _REPLACERS[key] = _make_replacer(*key)
    result: T = replacer(inst, **changes)
    return result
