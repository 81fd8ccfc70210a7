"""What a store may hold: every value in the one form every store reads back.

A durable store keeps an entity as TMF JSON, so an entity is *storable* only if
each of its fields holds a value that survives that round trip unchanged:

* text fields: ``str`` without lone surrogates (UTF-8 cannot encode them);
* ``int`` fields: ``int`` (not ``bool``) of at most 4300 digits; ``float``
  fields: a finite ``float`` (``1.0``, not ``1``); ``bool`` fields: ``bool``;
* date-time fields: a timezone-aware ``datetime`` (a naive one has no place in time);
* tuple fields: a ``tuple`` (not a list) of the declared values;
* spelled fields (lifecycle status, state, action): the spelling a store writes
  (``"Launched"``, not ``"launched"``; ``"noChange"``, not ``"no_change"``);
* characteristic values and ``extras`` values: *JSON values*, as
  :func:`json_value_problems` describes; ``extras`` keys are strings that are
  not the JSON name of a modelled attribute (a store would read them back as that attribute).

:func:`storable_problems` lists every departure with its field path; every
repository (in memory, on file, in a database) refuses such an entity with
ValidationError before storing anything, so what one store accepts, all accept
and return equal. The check is compiled once per class into a fast pass over
the common case.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.model._copy import replace
from etomkit.model.issuance import InitiatingRequest
from etomkit.model.lifecycle import OFFERING_LIFECYCLE, PRODUCT_LIFECYCLE
from etomkit.model.offering import ProductOffering
from etomkit.model.orders import (
    ORDER_ITEM_ACTIONS,
    SERVICE_ORDER_STATES,
    ServiceOrder,
    ServiceOrderItem,
    canonical_action,
    canonical_service_order_state,
)
from etomkit.model.product import Product
from etomkit.model.resource_order import (
    RESOURCE_ORDER_LIFECYCLE,
    ResourceOrder,
    ResourceOrderItem,
    ResourceRefOrValue,
)
from etomkit.model.values import NO_EXTRAS, GivenEmpty, OrderItemRef

__all__ = [
    "MAX_INT_DIGITS",
    "MAX_JSON_DEPTH",
    "canonical_request",
    "check_storable",
    "json_value_problems",
    "storable_problems",
    "storable_test",
]

MAX_JSON_DEPTH = 64
"""How deeply arrays and objects may nest inside one characteristic or extras value."""

MAX_INT_DIGITS = 4300
"""The most decimal digits of a stored integer (Python's own limit for int <-> str)."""

_BIG = 10**MAX_INT_DIGITS  # an int is storable if -_BIG < n < _BIG

# ------------------------------------------------------------------------- JSON values


def _text_ok(text: str) -> bool:
    """True if ``text`` encodes as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _json_ok(value: Any, depth: int) -> bool:
    """The fast pass of :func:`json_value_problems`: True if nothing is wrong."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _text_ok(value)
    if value is None or kind is bool:
        return True
    if kind is int:
        return bool(-_BIG < value < _BIG)
    if kind is float:
        return bool(value - value == 0.0)  # False for inf and nan
    if depth >= MAX_JSON_DEPTH:
        return False
    if kind is list:
        return all(_json_ok(v, depth + 1) for v in value)
    if kind is dict:
        return all(
            type(k) is str and _text_ok(k) and _json_ok(v, depth + 1) for k, v in value.items()
        )
    return False


def json_value_problems(value: Any, path: str, depth: int = 0) -> list[Problem]:
    """Every way ``value`` is not a JSON value a store reads back as it is.

    JSON values are None, ``bool``, ``int`` (at most :data:`MAX_INT_DIGITS`
    digits), finite ``float``, ``str`` without lone surrogates, ``list`` of
    JSON values and ``dict`` with ``str`` keys and JSON values, nested at most
    :data:`MAX_JSON_DEPTH` deep. Tuples are refused (a store returns a list),
    and so are sets, ``Decimal``, date-times (write them as ISO 8601 strings)
    and every other type.
    """
    if _json_ok(value, depth):
        return []
    kind = type(value)
    if kind is str:
        return [(path, "must not contain lone surrogates (text a store cannot encode as UTF-8)")]
    if kind is int:
        return [(path, f"must have at most {MAX_INT_DIGITS} digits")]
    if kind is float:
        return [(path, f"must be a finite number, not {value!r}")]
    if kind in (list, dict) and depth >= MAX_JSON_DEPTH:
        return [(path, f"nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects")]
    if kind is list:
        found: list[Problem] = []
        for i, item in enumerate(value):
            found.extend(json_value_problems(item, f"{path}[{i}]", depth + 1))
        return found
    if kind is dict:
        found = []
        for key, item in value.items():
            if type(key) is not str:
                found.append((path, f"object keys must be strings, not {type(key).__name__}"))
            elif not _text_ok(key):
                found.append((path, "object keys must not contain lone surrogates"))
            else:
                found.extend(json_value_problems(item, f"{path}.{key}", depth + 1))
        return found
    if kind is tuple:
        return [(path, "must be a JSON value: a list, not a tuple (a store returns a list)")]
    if isinstance(value, datetime):
        return [(path, "must be a JSON value: write a date-time as an ISO 8601 string")]
    return [
        (
            path,
            f"must be a JSON value (str, int, finite float, bool, None, list or str-keyed "
            f"dict), not {kind.__name__}",
        )
    ]


# ------------------------------------------------------------------------- entity fields

# The spelling each store writes for lenient fields (TMF JSON reads any spelling).
_SPELLED: dict[tuple[type, str], Callable[[Any], str | None]] = {
    (ProductOffering, "lifecycle_status"): OFFERING_LIFECYCLE.find,
    (Product, "status"): PRODUCT_LIFECYCLE.find,
    (ServiceOrder, "state"): canonical_service_order_state,
    (ServiceOrderItem, "action"): canonical_action,
    (ServiceOrderItem, "state"): canonical_service_order_state,
    (ResourceOrder, "state"): RESOURCE_ORDER_LIFECYCLE.find,
    (ResourceOrder, "state_before_cancellation"): RESOURCE_ORDER_LIFECYCLE.find,
    (ResourceOrderItem, "action"): canonical_action,
    (ResourceOrderItem, "state"): RESOURCE_ORDER_LIFECYCLE.find,
}
# The spellings each of those finders returns unchanged: a set lookup for the usual case.
_OFFERING_STATES = frozenset(OFFERING_LIFECYCLE.states)
_PRODUCT_STATES = frozenset(PRODUCT_LIFECYCLE.states)
_ORDER_STATES = frozenset(RESOURCE_ORDER_LIFECYCLE.states)
_USUAL: dict[tuple[type, str], frozenset[str]] = {
    (ProductOffering, "lifecycle_status"): _OFFERING_STATES,
    (Product, "status"): _PRODUCT_STATES,
    (ServiceOrder, "state"): frozenset(SERVICE_ORDER_STATES),
    (ServiceOrderItem, "action"): frozenset(ORDER_ITEM_ACTIONS),
    (ServiceOrderItem, "state"): frozenset(SERVICE_ORDER_STATES),
    (ResourceOrder, "state"): _ORDER_STATES,
    (ResourceOrder, "state_before_cancellation"): _ORDER_STATES,
    (ResourceOrderItem, "action"): frozenset(ORDER_ITEM_ACTIONS),
    (ResourceOrderItem, "state"): _ORDER_STATES,
}
# JSON names as etomkit.tmf writes them (etomkit.tmf reads these tables).
_AT_NAMES = {
    "type": "@type",
    "base_type": "@baseType",
    "schema_location": "@schemaLocation",
    "referred_type": "@referredType",
}
_SPECIAL_NAMES: dict[type, dict[str, str]] = {
    OrderItemRef: {
        "order_id": "productOrderId",
        "item_id": "orderItemId",
        "action": "orderItemAction",
        "order_href": "productOrderHref",
    },
}
# TMF JSON writes these even at their default (status is always explicit) and reads an
# absent one as the default, so None would come back as the default.
_ALWAYS_WRITTEN = frozenset({"type", "referred_type", "lifecycle_status", "status"})
# Keys a class's JSON holds beyond its attributes' names.
_MORE_RESERVED: dict[type, frozenset[str]] = {
    ResourceRefOrValue: frozenset({"resourceCharacteristic"}),  # a ResourceOrderItem's
}
_NOT_CHECKED = frozenset({"revision"})  # the store's own counter


def json_names(cls: type) -> dict[str, str]:
    """``{attribute: JSON name}`` of a model class, as TMF JSON spells them."""
    special = _SPECIAL_NAMES.get(cls, {})
    names = {}
    for a in attrs.fields(cls):
        if a.name in ("extras", "revision"):
            continue
        if a.name in special:
            names[a.name] = special[a.name]
        elif a.name in _AT_NAMES:
            names[a.name] = _AT_NAMES[a.name]
        else:
            head, *rest = a.name.split("_")
            names[a.name] = head + "".join(part.capitalize() for part in rest)
    return names


_Check = Callable[[Any, str, list[Problem]], None]


def _scalar(kind: type, label: str) -> Callable[[Any], str | None]:
    if kind is str:
        return lambda v: (
            None
            if isinstance(v, str) and _text_ok(v)
            else "must not contain lone surrogates (text a store cannot encode as UTF-8)"
            if isinstance(v, str)
            else f"must be {label}, got {type(v).__name__}"
        )
    if kind is bool:
        return lambda v: None if type(v) is bool else f"must be {label}, got {type(v).__name__}"
    if kind is int:

        def check_int(v: Any) -> str | None:
            if type(v) is not int:
                return f"must be {label}, got {type(v).__name__}"
            return None if -_BIG < v < _BIG else f"must have at most {MAX_INT_DIGITS} digits"

        return check_int
    if kind is float:

        def check_float(v: Any) -> str | None:
            if type(v) is not float:  # a store would return 1 as 1.0
                return f"must be {label} (1.0, not 1), got {type(v).__name__}"
            return None if math.isfinite(v) else f"must be a finite number, not {v!r}"

        return check_float
    if kind is datetime:

        def check_moment(v: Any) -> str | None:
            if not isinstance(v, datetime):
                return f"must be a timezone-aware datetime, got {type(v).__name__}"
            if v.utcoffset() is None:
                return "must be a timezone-aware datetime (a naive one names no moment)"
            return None

        return check_moment
    raise TypeError(f"no storable check for {kind!r}")


_LABELS = {str: "a string", bool: "a bool", int: "an integer", float: "a float", datetime: ""}


def _field_check(owner: type, name: str, hint: Any, optional: bool) -> _Check:
    """A check ``(value, path, problems)`` for one attribute typed ``hint``."""
    spelled = _SPELLED.get((owner, name))
    if hint in _LABELS:
        scalar = _scalar(hint, _LABELS[hint])

        def check_scalar(v: Any, path: str, problems: list[Problem]) -> None:
            if v is None:
                if not optional:
                    problems.append((path, "is required (None is not stored)"))
                return
            message = scalar(v)
            if message is None and spelled is not None:
                canonical = spelled(v)
                if canonical is not None and canonical != v:
                    message = f"must be spelled {canonical!r} (as a store writes it), not {v!r}"
            if message is not None:
                problems.append((path, message))

        return check_scalar
    if hint is Any:

        def check_json(v: Any, path: str, problems: list[Problem]) -> None:
            problems.extend(json_value_problems(v, path))

        return check_json
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Mapping:  # extras, and the allowed values of a characteristic use
        reserved = _reserved(owner) if name == "extras" else frozenset()

        def check_mapping(v: Any, path: str, problems: list[Problem]) -> None:
            if not isinstance(v, Mapping):
                problems.append((path, f"must be a dict, got {type(v).__name__}"))
                return
            for key, item in v.items():
                if type(key) is not str or not _text_ok(key):
                    problems.append((path, f"keys must be strings, not {key!r}"))
                elif key in reserved:
                    problems.append(
                        (f"{path}.{key}", f"{key!r} is a modelled attribute of {owner.__name__}")
                    )
                else:
                    problems.extend(json_value_problems(item, f"{path}.{key}"))

        return check_mapping
    if origin in (tuple, frozenset):
        element = _field_check(owner, name, args[0], optional=False)
        kind_word = "a tuple" if origin is tuple else "a frozenset"

        def check_many(v: Any, path: str, problems: list[Problem]) -> None:
            if v is None and optional:
                return
            if type(v) is not origin and type(v) is not GivenEmpty:  # tmf's kept ``[]``
                problems.append((path, f"must be {kind_word}, got {type(v).__name__}"))
                return
            for i, item in enumerate(sorted(v) if origin is frozenset else v):
                element(item, f"{path}[{i}]", problems)

        return check_many
    if attrs.has(hint):
        plan = _plan(hint)

        def check_nested(v: Any, path: str, problems: list[Problem]) -> None:
            if v is None:
                if not optional:
                    problems.append((path, "is required (None is not stored)"))
            elif type(v) is not hint:
                problems.append((path, f"must be a {hint.__name__}, got {type(v).__name__}"))
            else:
                _walk(plan, v, f"{path}.", problems)

        return check_nested
    raise TypeError(f"{owner.__name__}.{name}: no storable check for {hint!r}")


def _reserved(cls: type) -> frozenset[str]:
    return frozenset(json_names(cls).values()) | _MORE_RESERVED.get(cls, frozenset())


_Plan = list[tuple[str, _Check]]
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    """The checks of every attribute of ``cls``, built once."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    plan = _PLANS[cls] = []  # recursive classes find the (filling) plan
    for name, optional, hint in _typed_fields(cls):
        plan.append((name, _field_check(cls, name, hint, optional)))
    return plan


def _typed_fields(cls: type) -> list[tuple[str, bool, Any]]:
    """``(attribute, None allowed, type without None)`` of every checked attribute."""
    hints = typing.get_type_hints(cls)
    fields = []
    for a in attrs.fields(cls):
        if a.name in _NOT_CHECKED:
            continue
        hint = hints[a.name]
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            args = [t for t in typing.get_args(hint) if t is not type(None)]
            optional = len(args) < len(typing.get_args(hint))
            hint = args[0] if len(args) == 1 else hint
        if optional and a.name in _ALWAYS_WRITTEN and a.default not in (None, attrs.NOTHING):
            optional = False  # written even at its default, so None would come back as it
        fields.append((a.name, optional, hint))
    return fields


def _walk(plan: _Plan, entity: Any, prefix: str, problems: list[Problem]) -> None:
    for name, check in plan:
        check(getattr(entity, name), f"{prefix}{name}", problems)


_EMPTY_RESOURCE = ResourceRefOrValue()


def _class_problems(entity: Any) -> list[Problem]:
    """Rules across fields that the TMF JSON round trip imposes."""
    problems: list[Problem] = []
    items: tuple[Any, ...] = ()
    if type(entity) is ResourceOrder and type(entity.order_item) is tuple:
        items = tuple(enumerate(entity.order_item))
    elif type(entity) is ResourceOrderItem:
        items = ((None, entity),)
    for i, item in items:
        if (
            type(item) is ResourceOrderItem
            and item.resource is not None
            and item.characteristic
            and item.resource == _EMPTY_RESOURCE
        ):
            where = "resource" if i is None else f"order_item[{i}].resource"
            problems.append(
                (where, "an empty ResourceRefOrValue beside characteristics is read back as None")
            )
    return problems


# ------------------------------------------------------------------------- the fast pass
# Per class, one generated function ``ok(entity) -> bool`` doing the checks above
# without collecting problems (the statements a hand-written check would have);
# False sends storable_problems to the plan above for the details.

_FAST: dict[type, Callable[[Any], bool]] = {}
_NS: dict[str, Any] = {
    "_text_ok": _text_ok,
    "_json_ok": _json_ok,
    "_BIG": _BIG,
    "_GivenEmpty": GivenEmpty,
    "_UTC": UTC,
    "_datetime": datetime,
    "_mapping_ok": lambda m, reserved: all(
        type(k) is str and _text_ok(k) and k not in reserved and _json_ok(v, 0)
        for k, v in m.items()
    ),
}
_TEXT = "(type({v}) is not str or not ({v}.isascii() or _text_ok({v})))"
_BAD = {
    str: _TEXT,
    bool: "type({v}) is not bool",
    int: "(type({v}) is not int or not -_BIG < {v} < _BIG)",
    float: "(type({v}) is not float or {v} - {v} != 0.0)",
    datetime: "(type({v}) is not _datetime or "
    "({v}.tzinfo is not _UTC and {v}.utcoffset() is None))",
}


def _const(value: Any) -> str:
    name = f"_c{len(_NS)}"
    _NS[name] = value
    return name


_INLINE_DEPTH = 4  # nested classes checked in the caller's code (no call per object)


def _emit(
    owner: type,
    name: str,
    hint: Any,
    optional: bool,
    v: str,
    pad: str,
    stack: tuple[type, ...] = (),
) -> list[str]:
    """Statements that ``return False`` unless ``v`` passes the field's check.
    ``stack``: the classes whose checks are being inlined around these statements."""
    spelled = _SPELLED.get((owner, name))
    if hint in _BAD:
        bad = _BAD[hint].format(v=v)
        lines = [f"{pad}if {v} is not None and {bad}: return False" if optional else
                 f"{pad}if {bad}: return False"]  # fmt: skip
        if spelled is not None:  # a set lookup for the usual (canonical) spellings
            fix, usual = _const(spelled), _const(_USUAL[(owner, name)])
            lines.append(
                f"{pad}if {v} is not None and {v} not in {usual} and {fix}({v}) not in (None, {v}):"
                " return False"
            )
        return lines
    if hint is Any:  # the usual scalars inline, anything else by _json_ok
        return [
            f"{pad}if type({v}) is str:",
            f"{pad}    if not ({v}.isascii() or _text_ok({v})): return False",
            f"{pad}elif {v} is not None and type({v}) is not bool and not _json_ok({v}, 0):"
            " return False",
        ]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Mapping:
        reserved = _const(_reserved(owner) if name == "extras" else frozenset())
        none = _const(NO_EXTRAS)  # the shared empty extras (a dict subclass)
        return [f"{pad}if {v} is not {none} and (type({v}) is not dict or ({v} and not "
                f"_mapping_ok({v}, {reserved}))): return False"]  # fmt: skip
    if origin in (tuple, frozenset):
        kind = "tuple" if origin is tuple else "frozenset"
        x = f"x{len(pad)}"
        head = f"{pad}if {v} is not None:" if optional else f"{pad}if True:"
        return [
            head,
            f"{pad}    if type({v}) is not {kind} and type({v}) is not _GivenEmpty: return False",
            f"{pad}    for {x} in {v}:",
            *_emit(owner, name, args[0], False, x, pad + "        ", stack),
        ]
    if attrs.has(hint) and hint not in stack and len(stack) < _INLINE_DEPTH:
        _fast(hint)  # its own check too (storable_test(hint), storable_problems of one)
        cls, level = _const(hint), f"v{len(stack) + 1}"
        lines = [
            f"{pad}if {v} is not None:" if optional else f"{pad}if True:",
            f"{pad}    if type({v}) is not {cls}: return False",
        ]
        for a, opt, field_hint in _typed_fields(hint):
            lines.append(f"{pad}    {level} = {v}.{a}")
            lines.extend(_emit(hint, a, field_hint, opt, level, pad + "    ", (*stack, hint)))
        if hint in (ResourceOrder, ResourceOrderItem):
            lines.append(f"{pad}    if {_const(_class_problems)}({v}): return False")
        return lines
    if attrs.has(hint):
        check = _fast(hint)
        cls, fn = _const(hint), _const(check)
        bad = f"(type({v}) is not {cls} or not {fn}({v}))"
        return [f"{pad}if {v} is not None and {bad}: return False" if optional else
                f"{pad}if {bad}: return False"]  # fmt: skip
    raise TypeError(f"{owner.__name__}.{name}: no storable check for {hint!r}")


def _fast(cls: type) -> Callable[[Any], bool]:
    """The generated fast pass of ``cls``."""
    fast = _FAST.get(cls)
    if fast is not None:
        return fast
    _FAST[cls] = lambda _entity: False  # a class nested in itself: look closely
    lines = ["def ok(o):"]
    for a, optional, hint in _typed_fields(cls):
        lines.append(f"    v = o.{a}")
        lines.extend(_emit(cls, a, hint, optional, "v", "    ", (cls,)))
    if cls in (ResourceOrder, ResourceOrderItem):
        lines.append(f"    if {_const(_class_problems)}(o): return False")
    lines.append("    return True")
    namespace = dict(_NS)
    exec("\n".join(lines), namespace)
    made: Callable[[Any], bool] = namespace["ok"]
    _FAST[cls] = made
    return made


def storable_test(cls: type) -> Callable[[Any], bool]:
    """A fast ``entity -> bool`` for entities of ``cls``: True if storable, False if
    :func:`storable_problems` must look closely (it may still find nothing)."""
    return _FAST.get(cls) or _fast(cls)


def storable_problems(entity: Any) -> list[Problem]:
    """Every field of ``entity`` a store could not read back as it is (empty if none)."""
    fast = _FAST.get(type(entity)) or _fast(type(entity))
    if fast(entity):
        return []
    problems: list[Problem] = []
    _walk(_plan(type(entity)), entity, "", problems)
    problems.extend(_class_problems(entity))
    return problems


def check_storable(entity: Any, entity_name: str | None = None) -> None:
    """Raise ValidationError listing :func:`storable_problems` of ``entity``, if any."""
    problems = storable_problems(entity)
    if problems:
        raise ValidationError(entity_name or type(entity).__name__, problems)


_TMF_ACTIONS = frozenset(a for a in ORDER_ITEM_ACTIONS if canonical_action(a) == a)
_TMF_STATES = frozenset(s for s in SERVICE_ORDER_STATES if canonical_service_order_state(s) == s)


def canonical_request(request: InitiatingRequest) -> InitiatingRequest:
    """``request`` with its items' actions and states in TMF spelling (``"no_change"``
    -> ``"noChange"``), as a store returns them: what issuing stores and compares.
    Anything else is left for :func:`storable_problems` and the issuer to judge."""
    items = request.items
    if type(items) is not tuple:
        return request
    for item in items:  # the usual case: every item spelled as a store returns it
        if type(item) is not ServiceOrderItem:
            continue
        action, state = item.action, item.state
        if type(action) is not str or action not in _TMF_ACTIONS:
            break
        if state is not None and (type(state) is not str or state not in _TMF_STATES):
            break
    else:
        return request
    changed = False
    fixed = []
    for item in items:
        if type(item) is ServiceOrderItem:
            action = canonical_action(item.action) or item.action
            state = item.state
            if type(state) is str:
                state = canonical_service_order_state(state) or state
            if action != item.action or state != item.state:
                item = replace(item, action=action, state=state)
                changed = True
        fixed.append(item)
    return replace(request, items=tuple(fixed)) if changed else request
