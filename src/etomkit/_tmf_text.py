"""Stored JSON text straight from the objects: the flat documents' bytes, no documents (#13).

A FileStore value is the standard library's JSON of ``tmf._stored_doc(obj)``.
Building that document and walking it again in the C encoder costs about as
much as the JSON text itself (the encoder makes a list of items per dict). For
the classes of :data:`~etomkit._tmf_flat.COVERED`, :func:`text_hooks` writes
one function per class that appends each key's text as the flat function would
set it, from the same attrs fields, the same omission rules and the same fixes
(:func:`etomkit._tmf_flat.body` and ``_fixes``), in the same key order:

* the dict literal's keys first (an always-written key whose value is null
  left out), then every other key when its field differs from its default;
* a scalar is spelled by the standard library (``c_encode_basestring`` for a
  string, the C encoder for anything else); a date-time by tmf's own hook;
  a hook the writer does not know is called and its document encoded;
* the status and TMF652 action spellings are applied where the key is written;
  the ordering fields a document lacks are added at the end; a
  ResourceOrderItem's characteristics are written inside its ``resource``;
* what the flat function would have done differently is *unusual*: extras,
  arrays the document gave empty (GivenEmpty), an ``Any`` value that is not a
  scalar. The function raises :class:`Unusual` and the store builds the
  document instead (:class:`StoredText` returns None).

The classes :data:`TEXT_KEPT` names are remembered by identity, as text (a plain
characteristic's by value, :func:`valued_characteristic_text`): an
issuer's shared order items, external references and rule references, a
product's shared offering reference and characteristics are encoded once; a
record rewritten with the same request reuses the request's text. The bytes are
those of the document path whichever way a value is written (differential
tests in ``tests/adapters/test_file_text.py``).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs
from cattrs.fns import identity

from etomkit._tmf_flat import UnsupportedShapeError, _in, _Rules, _Writer, generated_source
from etomkit._tmf_speed import MEMO_SIZES, PLAIN
from etomkit.model.canonical import _ALWAYS_WRITTEN, json_names
from etomkit.model.issuance import InitiatingRequest, RuleRef
from etomkit.model.values import Characteristic, EntityRef, GivenEmpty

__all__ = ["TEXT_KEPT", "StoredText", "Unusual", "json_text", "stored_text", "text_hooks"]


def _c_text() -> Callable[[Any], str]:
    """The standard library's JSON text of a document, as the FileStore spells it
    (``ensure_ascii=False``, no spaces): the C encoder, built once, where there is one."""
    options = {"ensure_ascii": False, "separators": (",", ":"), "check_circular": False}
    encoder = json.JSONEncoder(**options)  # type: ignore[arg-type]
    make = getattr(json.encoder, "c_make_encoder", None)
    basestring = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or basestring is None:  # pragma: no cover - CPython has both
        return encoder.encode
    e = encoder
    c_encode = make(
        None, e.default, basestring, None, e.key_separator, e.item_separator,
        e.sort_keys, e.skipkeys, e.allow_nan,
    )  # fmt: skip
    join = "".join

    def text(doc: Any) -> str:
        return join(c_encode(doc, 0))

    return text


json_text = _c_text()
"""The JSON text of a document in the stored spelling (the standard library's)."""


# A string's JSON text, quotes included, as the encoder above spells it.
_enc: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)

#: Texts remembered per class, by identity: the documents tmf remembers, a record's
#: request (met again when the record is rewritten) and a rule's reference (every
#: record of the rule's items names it).
TEXT_KEPT: dict[type, int] = {
    **MEMO_SIZES,
    InitiatingRequest: 256,
    RuleRef: 4096,
    EntityRef: 4096,
    Characteristic: 4096,
}


class Unusual(Exception):  # noqa: N818 - a signal, not an error
    """An object the text functions do not spell as its document would be (internal)."""


def _any(value: Any) -> str:
    """An ``Any`` attribute's text: a JSON value's (its document is a copy of it); a
    value the encoder cannot spell as it is goes by its document."""
    kind = type(value)
    if kind is str:
        return _enc(value)
    if kind is int:
        return int.__repr__(value)  # what the encoder writes
    if kind is bool:
        return "true" if value else "false"
    if kind in _JSON:
        try:
            return json_text(value)
        except (TypeError, ValueError):  # not a JSON value all through: cattrs decides
            raise Unusual from None
    raise Unusual


_JSON = frozenset((*PLAIN, float, list, dict))


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _enc(value)
    if kind is int:  # an order item's quantity
        return int.__repr__(value)  # what the encoder writes
    return json_text(value)


def _scalars(values: Any) -> str:
    """A tuple of scalars' text (an issued item's order ids: mostly one string)."""
    if type(values) is tuple and len(values) == 1 and type(values[0]) is str:
        return "[" + _enc(values[0]) + "]"
    return json_text(values)


class _Text:
    """The source of every text function: the flat writer's hooks and names, and ours."""

    def __init__(self, conv: cattrs.Converter, covered: tuple[type, ...], rules: _Rules) -> None:
        self.w = _Writer(conv, covered, rules)
        self.fn = {cls: f"_text_{n}_{cls.__name__}" for n, cls in enumerate(covered)}
        self.w.names.update({"_enc": _enc, "_json": json_text, "_any": _any, "_scalar": _scalar})
        self.w.names["_scalars"] = _scalars
        self.w.names.update({"_Unusual": Unusual, "_GivenEmpty": GivenEmpty})

    def call(self, hook: Any, arg: str) -> tuple[list[str], str]:
        """``(statements, expression)``: the JSON text of ``hook(arg)``."""
        w = self.w
        if hook is identity:
            return [], f"(_enc({arg}) if type({arg}) is str else _json({arg}))"
        cls = w.hook_class.get(id(hook))
        if cls is not None:
            return [], f"{self.fn[cls]}({arg})"
        qualname = getattr(hook, "__qualname__", "")
        defaults = getattr(hook, "__defaults__", None)
        optional = qualname.endswith("gen_unstructure_optional.<locals>.unstructure_optional")
        if optional and defaults is not None and len(defaults) == 1:
            pre, expr = self.call(defaults[0], arg)
            if not pre:
                return [], f"('null' if {arg} is None else {expr})"
            text = w.var("t")
            inner = [*pre, f"{text} = {expr}"]
            return [f"if {arg} is None:", f"    {text} = 'null'", "else:", *_in(inner)], text
        if qualname == "register_faster_containers.<locals>.any_value":
            return [], f"_any({arg})"
        if hook is w.moment:
            return [], f"_enc(_moment({arg}))"
        if hook is list:  # a tuple of scalars: the encoder spells a tuple as an array
            return [], f"_scalars({arg})"
        return [], f"_json({w.name_of(hook, 'hook')}({arg}))"

    def value(self, hint: Any, arg: str) -> tuple[list[str], str]:
        """The JSON text of ``arg``, a local name holding an attribute declared ``hint``."""
        conv = self.w.conv
        hook = conv.get_unstructure_hook(hint)
        args = typing.get_args(hint)
        is_tuple = typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis
        if is_tuple and getattr(hook, "__qualname__", "").startswith(
            "register_faster_containers.<locals>.tuple_hook"
        ):
            element = conv.get_unstructure_hook(args[0])
            if element is not identity:
                item, texts = self.w.var("e"), self.w.var("l")
                pre, expr = self.call(element, item)
                if not pre:
                    one = self.call(element, f"{arg}[0]")[1]  # most arrays hold one element
                    many = f"','.join([{expr} for {item} in {arg}])"
                    return [], f"('[' + ({one} if len({arg}) == 1 else {many}) + ']')"
                loop = [*pre, f"{texts}.append({expr})"]
                lines = [f"{texts} = []", f"for {item} in {arg}:", *_in(loop)]
                return lines, f"('[' + ','.join({texts}) + ']')"
        return self.call(hook, arg)


def text_body(t: _Text, cls: type, obj: str, res: str) -> list[str]:
    """Statements setting ``res`` to the JSON text of ``obj`` (a local name), a ``cls``,
    or raising Unusual: :func:`etomkit._tmf_flat.body`, spelled as text."""
    w, rules = t.w, t.w.rules
    names, hints = json_names(cls), typing.get_type_hints(cls)
    fields = attrs.fields_dict(cls)
    pieces = w.var("p")
    status = rules.status_spelling.get(cls)
    nested = cls is rules.nested
    if nested and "resourceCharacteristic" in json_names(_resource_class(cls)).values():
        raise UnsupportedShapeError(f"{cls.__name__}.resource")
    lines: list[str] = []
    if "extras" in fields:
        lines.append(f"if {obj}.extras: raise _Unusual")
    # Text joined as it goes when the first key is always written (then every other key
    # follows a comma), else pieces joined at the end (and for the nested class's fix).
    first = next((a for a in attrs.fields(cls) if a.name not in ("extras", "revision")), None)
    joined = not nested and first is not None and first.default is attrs.NOTHING
    opened = False

    def add(key: str, expr: str) -> str:
        nonlocal opened
        if not joined:
            return f"{pieces}.append({_head(key)} + {expr})"
        if not opened:
            opened = True
            return f"{res} = {'{' + _enc(key) + ':'!r} + {expr}"
        return f"{res} += {_head(key, ',')} + {expr}"

    literal: list[str] = []
    later: list[str] = []
    written: dict[str, str] = {}  # key -> an expression: True if the key was written
    asked = set(rules.always.get(cls, ()))  # the keys whose writing the fixes look at
    chars = resource = ""
    for a in attrs.fields(cls):
        if a.name in ("extras", "revision"):
            continue
        if a.converter is not None or not a.init:
            raise UnsupportedShapeError(f"{cls.__name__}.{a.name}")
        key, var, hint = names[a.name], w.var("v"), hints[a.name]
        lines.append(f"{var} = {obj}.{a.name}")
        if typing.get_origin(hint) is tuple:
            lines.append(f"if type({var}) is _GivenEmpty: raise _Unusual")
        spelling = None
        if status is not None and key == status[0]:
            spelling = status[1]
        elif nested and key == "action":
            spelling = rules.action_spelling
        if spelling is not None:  # the doc's value spelled: an identity hook's is the value
            if w.conv.get_unstructure_hook(hint) is not identity:
                raise UnsupportedShapeError(f"{cls.__name__}.{a.name}: a spelled value")
            table, spelled = w.name_of(spelling, "spelling"), w.var("s")
            pre = [f"{spelled} = {table}.get({var}, {var})"]
            expr = f"(_enc({spelled}) if type({spelled}) is str else _json({spelled}))"
        else:
            pre, expr = t.value(hint, var)
        always = a.name in _ALWAYS_WRITTEN and a.default is not None
        if nested and key == "characteristic":  # written inside ``resource`` (below)
            chars = w.var("c")
            lines.append(f"{chars} = None")
            write = [*pre, f"{chars} = {expr}"]
        elif nested and key == "resource":
            resource = w.var("r")
            lines.append(f"{resource} = None")
            write = [*pre, f"{resource} = len({pieces})", f"{pieces}.append({_head(key)} + {expr})"]
            written[key] = f"{resource} is not None"
        else:
            write = [*pre, add(key, expr)]
        if a.default is attrs.NOTHING or always:
            if always:  # written even at its default, but never as null
                flag, text = w.var("w"), w.var("t")
                literal += [f"{flag} = False", *pre, f"{text} = {expr}", f"if {text} != 'null':"]
                literal += [f"    {add(key, text)}", f"    {flag} = True"]
                written[key] = flag
            else:
                literal += write
                written.setdefault(key, "True")
            continue
        if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            raise UnsupportedShapeError(f"{cls.__name__}.{a.name}: a factory default")
        later += [f"if {w.differs(hint, var, a.default)}:", *_in(write)]
        if key in asked and key not in written:
            flag = w.var("w")
            lines.append(f"{flag} = False")
            later.append(f"    {flag} = True")
            written[key] = flag
    lines += [] if joined else [f"{pieces} = []"]
    lines += [*literal, *later]
    for name in rules.always.get(cls, ()):  # tmf._wrap_ordering_hooks: the raw value
        value = w.var("a")
        lines += [f"{value} = {obj}.{name}"]
        lines += [f"if {value} is not None and not ({written.get(name, 'False')}):"]
        lines += [f"    {add(name, f'_scalar({value})')}"]
    if chars:
        inner = '"resourceCharacteristic":'
        lines += [f"if {chars} is not None:", f"    if {resource} is None:"]
        lines += [f"        {pieces}.append('\"resource\":{{{inner}' + {chars} + '}}')"]
        lines += ["    else:", f"        r = {pieces}[{resource}]"]
        lines += [f"        r = r[:-1] + ('' if r.endswith('{{}}') else ',') + '{inner}'"]
        lines += [f"        {pieces}[{resource}] = r + {chars} + '}}'"]
    lines.append(f"{res} += '}}'" if joined else f"{res} = '{{' + ','.join({pieces}) + '}}'")
    return lines


def _head(key: str, comma: str = "") -> str:
    """The Python literal of a key's text and its colon (after ``comma``)."""
    return repr(comma + _enc(key) + ":")


def _resource_class(cls: type) -> type:
    hint = typing.get_type_hints(cls)["resource"]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint  # type: ignore[no-any-return]


def remembered_text(base: Callable[[Any], str], size: int) -> Callable[[Any], str]:
    """``base``, remembering up to ``size`` texts by identity (an Unusual one is not)."""
    memo: dict[int, tuple[Any, str]] = {}
    get = memo.get

    def text(obj: Any) -> str:
        hit = get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = base(obj)
        if len(memo) >= size:
            memo.clear()
        memo[id(obj)] = (obj, value)
        return value

    return text


#: Plain characteristics (no type fields, no extras; a str, int or bool value) whose text
#: is remembered by value: a request's characteristics are new objects each time, but
#: their names and values repeat (a bandwidth, a VLAN id, a flag).
VALUE_KEPT = 8192
_PLAIN_CHARACTERISTIC = frozenset(
    ("name", "value", "value_type", "type", "base_type", "schema_location", "extras")
)


def valued_characteristic_text(
    base: Callable[[Any], str], other: Callable[[Any], str], size: int
) -> Callable[[Any], str]:
    """A Characteristic's text: a plain one's remembered by its name, value (and the
    value's type: ``1``, ``True`` and ``1.0`` are equal keys otherwise) and value type,
    up to ``size`` texts, made by ``base``; any other by ``other``. The text of a plain
    characteristic depends on nothing else, so equal keys have equal texts."""
    cache: dict[tuple[Any, ...], str] = {}
    get = cache.get

    def text(o: Any) -> str:
        value, name, value_type = o.value, o.name, o.value_type
        kind = type(value)
        if (
            (kind is str or kind is int or kind is bool)
            and type(name) is str
            and (value_type is None or type(value_type) is str)
            and o.type is None
            and o.base_type is None
            and o.schema_location is None
            and not o.extras
        ):
            key = (name, value, kind, value_type)
            hit = get(key)
            if hit is not None:
                return hit
            hit = base(o)
            if len(cache) >= size:
                cache.clear()
            cache[key] = hit
            return hit
        return other(o)

    return text


def text_source(
    conv: cattrs.Converter, covered: tuple[type, ...], rules: _Rules
) -> tuple[str, dict[str, Any], dict[type, str]]:
    """``(source, globals, {class: function name})`` for the classes it reproduces."""

    def start(classes: tuple[type, ...]) -> Any:
        t = _Text(conv, classes, rules)
        return t.fn, t.w.names, lambda cls: text_body(t, cls, "o", "res")

    return generated_source(covered, start)


def text_hooks(
    conv: cattrs.Converter,
    covered: tuple[type, ...],
    always: Mapping[type, tuple[str, ...]],
    nested: type | None,
    action_spelling: Mapping[str, str],
    status_spelling: Mapping[Any, tuple[str, Mapping[str, str]]],
) -> dict[type, Callable[[Any], str]]:
    """``{class: function}`` giving the JSON text of the document ``tmf._stored_doc``
    builds (or raising Unusual); the arguments are :func:`~etomkit._tmf_flat.flat_hooks`'."""
    rules = _Rules(always, nested, action_spelling, status_spelling)
    source, names, functions = text_source(conv, covered, rules)
    namespace = dict(names)
    exec(compile(source, "<etomkit._tmf_text>", "exec"), namespace)
    plain = set(attrs.fields_dict(Characteristic)) == _PLAIN_CHARACTERISTIC
    for cls, fn in functions.items():
        size = TEXT_KEPT.get(cls)
        if size is not None:  # the other functions call it by this name
            kept = remembered_text(namespace[fn], size)
            if cls is Characteristic and plain:
                kept = valued_characteristic_text(namespace[fn], kept, VALUE_KEPT)
            namespace[fn] = kept
    return {cls: namespace[fn] for cls, fn in functions.items()}


class StoredText:
    """``text(obj)``: the UTF-8 bytes of ``obj``'s stored JSON written by its class's text
    function, or None (a class without one, an unusual object). The functions are
    built on first use (a store writing with the standard library's spelling)."""

    def __init__(self, build: Callable[[], dict[type, Callable[[Any], str]]]) -> None:
        self._build = build
        self.functions: dict[type, Callable[[Any], str]] = {}

    def build(self) -> dict[type, Callable[[Any], str]]:
        """The functions (built now if they are not yet): ``{class: text function}``."""
        if not self.functions:
            self.functions = self._build()  # one dict, swapped in whole: threads see it built
        return self.functions

    def __call__(self, obj: Any) -> bytes | None:
        text = self.functions.get(obj.__class__)
        if text is None:
            if self.functions:
                return None
            text = self.build().get(obj.__class__)
            if text is None:
                return None
        try:
            return text(obj).encode()
        except Unusual:
            return None


def _tmf_functions() -> dict[type, Callable[[Any], str]]:
    from etomkit import tmf  # the converter and its tables (tmf does not import this module)

    return text_hooks(tmf._built(), *tmf._FLAT_RULES)


stored_text = StoredText(_tmf_functions)
"""The bytes of ``tmf._stored_doc(obj)[0]`` written straight from ``obj``, or None."""
