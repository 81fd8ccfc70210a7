"""Flat stored documents: one generated function per class, the converter's documents (#13).

``tmf._stored_doc`` builds a store's document through layered cattrs hooks: the
class's generated function, ``tmf``'s wrapper (nullable keys, the document's own
empty arrays, ``extras``, status spellings), the ordering wrapper (always-written
fields, TMF652 nesting) and the identity memos, with a dispatch per nested
object. :func:`flat_hooks` writes each covered class's function as Python source
from the same attrs fields and the same rules, in the same order, so the
documents are equal key by key (and so are their bytes):

* a field with no default, or always written (``_ALWAYS_WRITTEN`` with a default
  other than None), goes in the dict literal; every other field is set when it
  compares ``!=`` to its default, after those (cattrs' ``omit_if_default``);
* a field's value goes through the hook cattrs chose for its declared type,
  inlined where that hook is known (identity, ``X | None``, ``tuple[X, ...]``,
  ``Any``, a covered class) and called otherwise;
* then an always-written key that is None is dropped, the document's own empty
  arrays (GivenEmpty) are written ``[]``, ``extras`` added (through the converter,
  which notes floats), the status spelling fixed, the ordering fields added and
  a ResourceOrderItem's characteristics nested;
* the classes :data:`~etomkit._tmf_speed.MEMO_SIZES` names are remembered by
  identity, as the converter remembers them, and so is the text of the last UTC
  date-time (an issuer's orders and records of one batch share their moment).

A class with a shape the generator does not know (an attrs converter, a field
not in ``__init__``, a factory default it would compare) is left to the converter.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
import cattrs
from cattrs.fns import identity

from etomkit._tmf_speed import MEMO_SIZES, PLAIN, remembered
from etomkit.model.canonical import _ALWAYS_WRITTEN, json_names
from etomkit.model.issuance import (
    FeasibilityAssessment,
    InitiatingRequest,
    IssuanceRecord,
    IssuedItem,
    RuleRef,
)
from etomkit.model.offering import CharacteristicValueUse, ProductOffering
from etomkit.model.orders import (
    ExternalReference,
    RelatedServiceOrderItem,
    ServiceOrder,
    ServiceOrderItem,
    ServiceRefOrValue,
)
from etomkit.model.product import Product
from etomkit.model.resource_order import (
    ExternalEntityId,
    ResourceOrder,
    ResourceOrderItem,
    ResourceOrderItemRef,
    ResourceOrderItemRelationship,
    ResourceRefOrValue,
)
from etomkit.model.values import (
    Characteristic,
    EntityRef,
    ExternalId,
    GivenEmpty,
    Note,
    OrderItemRef,
    RelatedParty,
    TimePeriod,
)

__all__ = ["COVERED", "UnsupportedShapeError", "flat_hooks", "flat_source"]

#: The classes on the issuing and product paths (the converter keeps every other).
COVERED: tuple[type, ...] = (
    TimePeriod,
    EntityRef,
    RelatedParty,
    OrderItemRef,
    Characteristic,
    Note,
    ExternalId,
    CharacteristicValueUse,
    ProductOffering,
    Product,
    ExternalReference,
    RelatedServiceOrderItem,
    ServiceRefOrValue,
    ServiceOrderItem,
    ServiceOrder,
    ExternalEntityId,
    ResourceRefOrValue,
    ResourceOrderItemRef,
    ResourceOrderItemRelationship,
    ResourceOrderItem,
    ResourceOrder,
    InitiatingRequest,
    FeasibilityAssessment,
    RuleRef,
    IssuedItem,
    IssuanceRecord,
)

Hook = Callable[[Any], Any]
_Code = tuple[list[str], str]  # statements to run first, then an expression


class UnsupportedShapeError(Exception):
    """A class shape the generator does not reproduce (the converter keeps it)."""


class _Writer:
    """The source of every covered class's function, and the names it uses.

    A covered class that is not remembered is written inline where another
    embeds it (no call); a remembered one is called, through its memo."""

    def __init__(self, conv: cattrs.Converter, covered: tuple[type, ...], rules: _Rules) -> None:
        self.conv = conv
        self.rules = rules
        self.fn = {cls: f"_flat_{n}_{cls.__name__}" for n, cls in enumerate(covered)}
        self.hook_class = {id(conv.get_unstructure_hook(cls)): cls for cls in covered}
        self.moment = conv.get_unstructure_hook(datetime)
        self.names: dict[str, Any] = {
            "_GivenEmpty": GivenEmpty,
            "_PLAIN": PLAIN,
            "_EMPTY": (),
            "_unstructure": conv.unstructure,
            "_moment": last_moment(self.moment),
        }
        self._ids: dict[int, str] = {}
        self._vars = 0

    def var(self, stem: str) -> str:
        """A local name no other part of the function uses."""
        self._vars += 1
        return f"{stem}{self._vars}"

    def name_of(self, value: Any, hint: str) -> str:
        """A global name in the generated module bound to ``value``."""
        found = self._ids.get(id(value))
        if found is None:
            found = f"_{hint}_{len(self._ids)}"
            self._ids[id(value)] = found
            self.names[found] = value
        return found

    def call(self, hook: Hook, arg: str) -> _Code:
        """``hook`` applied to ``arg`` (a local name)."""
        if hook is identity:
            return [], arg
        cls = self.hook_class.get(id(hook))
        if cls is not None:
            if cls in MEMO_SIZES:
                return [], f"{self.fn[cls]}({arg})"
            doc = self.var("r")
            return body(self, cls, arg, doc), doc
        qualname = getattr(hook, "__qualname__", "")
        defaults = getattr(hook, "__defaults__", None)
        optional = qualname.endswith("gen_unstructure_optional.<locals>.unstructure_optional")
        if optional and defaults is not None and len(defaults) == 1:  # (val, _handler=handler)
            pre, expr = self.call(defaults[0], arg)
            if not pre:
                return [], f"(None if {arg} is None else {expr})"
            doc = self.var("r")
            inner = [*pre, f"{doc} = {expr}"]
            return [f"if {arg} is None:", f"    {doc} = None", "else:", *_in(inner)], doc
        if qualname == "register_faster_containers.<locals>.any_value":
            return [], f"({arg} if type({arg}) in _PLAIN else _unstructure({arg}))"
        if hook is self.moment:  # the orders and records of one batch share their moment
            return [], f"_moment({arg})"
        if hook is list:
            return [], f"list({arg})"
        return [], f"{self.name_of(hook, 'hook')}({arg})"

    def value(self, hint: Any, arg: str) -> _Code:
        """The document of ``arg``, a local name holding an attribute declared ``hint``."""
        hook = self.conv.get_unstructure_hook(hint)
        args = typing.get_args(hint)
        is_tuple = typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis
        if is_tuple and getattr(hook, "__qualname__", "").startswith(
            "register_faster_containers.<locals>.tuple_hook"
        ):  # [hook(v) for v in values], hook: the element type's
            element = self.conv.get_unstructure_hook(args[0])
            if element is not identity:
                item, docs = self.var("e"), self.var("l")
                pre, expr = self.call(element, item)
                if not pre:
                    return [], f"[{expr} for {item} in {arg}]"
                loop = [*pre, f"{docs}.append({expr})"]
                return [f"{docs} = []", f"for {item} in {arg}:", *_in(loop)], docs
        return self.call(hook, arg)

    def differs(self, hint: Any, var: str, default: Any) -> str:
        """``var != default``, with a shortcut where its answer is known."""
        if default is None:
            other = _optional_of(hint)
            if other is not None and _attrs_eq(other):  # NotImplemented both ways: identity
                name = self.name_of(other, "cls")
                return f"{var} is not None and (type({var}) is {name} or {var} != None)"
            return f"{var} is not None and {var} != None"
        if type(default) is tuple and not default:
            return f"{var} is not _EMPTY and {var} != _EMPTY"
        if type(default) in (bool, int, str):
            return f"{var} != {default!r}"
        return f"{var} != {self.name_of(default, 'default')}"


def last_moment(hook: Hook) -> Hook:
    """``hook`` (the converter's date-time hook), remembering the last UTC moment's text."""
    last: list[tuple[Any, Any]] = [(object(), None)]  # matches no value

    def moment(value: Any) -> Any:
        hit = last[0]  # one tuple: threads swap it whole
        if hit[0] is value:
            return hit[1]
        text = hook(value)
        if type(value) is datetime and value.tzinfo is UTC:  # its text is fixed
            last[0] = (value, text)
        return text

    return moment


def _in(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def _optional_of(hint: Any) -> Any:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 2:
        return args[0] if args[1] is type(None) else args[1] if args[0] is type(None) else None
    return None


def _attrs_eq(cls: Any) -> bool:
    """True if ``cls``'s ``==`` is attrs': NotImplemented for an object of another class."""
    eq = getattr(cls, "__eq__", None)
    code = getattr(eq, "__code__", None)
    return (
        attrs.has(cls)
        and getattr(cls.__ne__, "__module__", None) == "attr._make"
        and code is not None
        and code.co_filename.startswith("<attrs generated")
    )


def body(w: _Writer, cls: type, obj: str, res: str) -> list[str]:
    """Statements setting ``res`` to the document of ``obj`` (a local name), a ``cls``."""
    names = json_names(cls)
    hints = typing.get_type_hints(cls)
    lines: list[str] = []
    literal: list[str] = []
    later: list[str] = []
    arrays: list[tuple[str, str]] = []
    nullable: list[str] = []
    for a in attrs.fields(cls):
        if a.name in ("extras", "revision"):
            continue
        if a.converter is not None or not a.init:
            raise UnsupportedShapeError(f"{cls.__name__}.{a.name}")
        key, var, hint = names[a.name], w.var("v"), hints[a.name]
        always = a.name in _ALWAYS_WRITTEN and a.default is not None
        lines.append(f"{var} = {obj}.{a.name}")
        if typing.get_origin(hint) is tuple:
            arrays.append((key, var))
        if a.default is attrs.NOTHING or always:
            pre, expr = w.value(hint, var)
            lines += pre
            literal.append(f"    {key!r}: {expr},")
            if always:  # written even at its default, but never as null
                nullable.append(key)
            continue
        if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            raise UnsupportedShapeError(f"{cls.__name__}.{a.name}: a factory default")
        pre, expr = w.value(hint, var)
        later.append(f"if {w.differs(hint, var, a.default)}:")
        later += _in([*pre, f"{res}[{key!r}] = {expr}"])
    lines += [f"{res} = {{", *literal, "}", *later]
    for key in nullable:
        lines += [f"if {res}.get({key!r}, '') is None:", f"    del {res}[{key!r}]"]
    for key, var in arrays:  # the document's own empty arrays, written back
        lines += [f"if {var} is not _EMPTY and type({var}) is _GivenEmpty:"]
        lines += [f"    {res}[{key!r}] = []"]
    if "extras" in attrs.fields_dict(cls):
        extras = w.var("x")
        lines += [f"{extras} = {obj}.extras", f"if {extras}:"]
        lines += [f"    {res}.update(_unstructure({extras}))"]
    return lines + _fixes(w, cls, obj, res)


def _fixes(w: _Writer, cls: type, obj: str, res: str) -> list[str]:
    rules, lines, value = w.rules, [], w.var("a")
    status = rules.status_spelling.get(cls)
    if status is not None:  # tmf._status_fixes' writing half
        key, spelling = status
        table = w.name_of(spelling, "spelling")
        lines += [f"{value} = {res}.get({key!r})", f"if {value} in {table}:"]
        lines += [f"    {res}[{key!r}] = {table}[{value}]"]
    for name in rules.always.get(cls, ()):  # tmf._wrap_ordering_hooks
        lines += [f"{value} = {obj}.{name}", f"if {value} is not None and {name!r} not in {res}:"]
        lines += [f"    {res}[{name!r}] = {value}"]
    if cls is rules.nested:
        table, chars = w.name_of(rules.action_spelling, "spelling"), w.var("c")
        lines += [f"{value} = {res}.get('action')", f"if {value} in {table}:"]
        lines += [f"    {res}['action'] = {table}[{value}]"]
        lines += [f"{chars} = {res}.pop('characteristic', None)", f"if {chars} is not None:"]
        lines += [f"    {res}['resource'] = {{**{res}.get('resource', {{}}), "]
        lines += [f"        'resourceCharacteristic': {chars}}}"]
    return lines


@attrs.frozen
class _Rules:
    """What tmf's hooks add beyond a class's fields (tmf passes its own tables)."""

    always: Mapping[type, tuple[str, ...]]
    nested: type | None
    action_spelling: Mapping[str, str]
    status_spelling: Mapping[Any, tuple[str, Mapping[str, str]]]


#: ``start(classes)``: ``({class: function name}, the source's globals, the body of a
#: class's function)`` for the classes a source is written for.
Start = Callable[
    [tuple[type, ...]], tuple[dict[type, str], dict[str, Any], Callable[[type], list[str]]]
]


def generated_source(
    covered: tuple[type, ...], start: Start
) -> tuple[str, dict[str, Any], dict[type, str]]:
    """``(source, globals, {class: function name})`` of one function per class of
    ``covered`` whose body ``start`` writes; a class it cannot write is left out and
    the others written again without it (their calls then name its own hook)."""
    fn, names, body_of = start(covered)
    written: dict[type, list[str]] = {}
    for cls in covered:
        try:
            lines = body_of(cls)
        except UnsupportedShapeError:
            continue
        written[cls] = [f"def {fn[cls]}(o):", *_in([*lines, "return res"])]
    if len(written) < len(covered):
        return generated_source(tuple(written), start)
    source = "\n\n".join("\n".join(lines) for lines in written.values()) + "\n"
    return source, names, {cls: fn[cls] for cls in written}


def flat_source(
    conv: cattrs.Converter, covered: tuple[type, ...], rules: _Rules
) -> tuple[str, dict[str, Any], dict[type, str]]:
    """``(source, globals, {class: function name})`` for the classes it reproduces."""

    def start(classes: tuple[type, ...]) -> Any:
        w = _Writer(conv, classes, rules)
        return w.fn, w.names, lambda cls: body(w, cls, "o", "res")

    return generated_source(covered, start)


def flat_hooks(
    conv: cattrs.Converter,
    covered: tuple[type, ...],
    always: Mapping[type, tuple[str, ...]],
    nested: type | None,
    action_spelling: Mapping[str, str],
    status_spelling: Mapping[Any, tuple[str, Mapping[str, str]]],
) -> dict[type, Hook]:
    """``{class: function}`` building the documents ``conv`` builds within ``_stored_doc``.

    ``always``: per class, the fields tmf's ordering hook adds when absent;
    ``nested``: the class whose characteristics nest in ``resource`` (with
    ``action_spelling``); ``status_spelling``: per class, ``(key, spelling)``.
    """
    rules = _Rules(always, nested, action_spelling, status_spelling)
    source, names, functions = flat_source(conv, covered, rules)
    namespace = dict(names)
    exec(compile(source, "<etomkit._tmf_flat>", "exec"), namespace)
    for cls, fn in functions.items():
        size = MEMO_SIZES.get(cls)
        if size is not None:  # the other functions call it by this name
            namespace[fn] = remembered(namespace[fn], size)
    return {cls: namespace[fn] for cls, fn in functions.items()}
