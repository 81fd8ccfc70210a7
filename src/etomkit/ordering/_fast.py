"""Fast copies of frozen attrs instances for the issuer's hot path.

``factory(proto, "id", "order_item")`` returns ``build(id, order_item)``:
a new instance equal to ``attrs.evolve(proto, id=id, order_item=order_item)``,
made without ``__init__`` by writing each slot through its descriptor (the
fields of ``proto`` are read once, when the factory is made). Only for the
model's plain classes: no validators, converters or ``__attrs_post_init__``
(anything else falls back to ``attrs.evolve``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MemberDescriptorType
from typing import Any, TypeVar

import attrs

__all__ = ["factory"]

T = TypeVar("T")
_MAKERS: dict[tuple[type, tuple[str, ...]], Callable[[Any], Callable[..., Any]]] = {}


def _compile(cls: type, names: tuple[str, ...]) -> Callable[[Any], Callable[..., Any]]:
    fields = attrs.fields(cls)
    known = {a.name for a in fields}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise TypeError(f"{cls.__name__} has no attribute(s) {', '.join(unknown)}")
    plain = all(a.validator is None and a.converter is None and a.init for a in fields)
    slotted = all(isinstance(cls.__dict__.get(a.name), MemberDescriptorType) for a in fields)
    if not plain or not slotted or hasattr(cls, "__attrs_post_init__"):

        def slow(proto: Any) -> Callable[..., Any]:
            return lambda *values: attrs.evolve(proto, **dict(zip(names, values, strict=True)))

        return slow
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    setters = []
    for a in fields:
        namespace[f"_s_{a.name}"] = cls.__dict__[a.name].__set__
        setters.append(f"_s_{a.name}=_s_{a.name}")
    lines = ["def maker(proto):"]
    lines += [f"    c_{a.name} = proto.{a.name}" for a in fields if a.name not in names]
    params = ", ".join([*names, "_new=_new", "_cls=_cls", *setters])
    lines.append(f"    def build({params}):")
    lines.append("        new = _new(_cls)")
    for a in fields:
        value = a.name if a.name in names else f"c_{a.name}"
        lines.append(f"        _s_{a.name}(new, {value})")
    lines.append("        return new")
    lines.append("    return build")
    exec("\n".join(lines), namespace)
    maker: Callable[[Any], Callable[..., Any]] = namespace["maker"]
    return maker


def factory(proto: T, *names: str) -> Callable[..., T]:
    """A function ``build(*values)`` returning a copy of ``proto`` with ``names`` set."""
    key = (type(proto), names)
    maker = _MAKERS.get(key)
    if maker is None:
        maker = _MAKERS[key] = _compile(*key)
    build: Callable[..., T] = maker(proto)
    return build
