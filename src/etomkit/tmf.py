"""TMF Open API JSON at the edge: one cattrs converter for every etomkit entity.

camelCase names, ``@type``/``@baseType``/``@schemaLocation``/``@referredType``,
None and empty defaults omitted, date-times as ISO 8601 with ``Z``. Attributes
etomkit does not model are kept in each object's ``extras`` and written back,
and so is an empty array the document gave (``[]`` and absent differ in TMF),
so ``to_json(from_json(cls, doc)) == doc`` up to date-time spelling.

>>> from etomkit import tmf, ProductOffering
>>> tmf.to_json(ProductOffering(name="Fibre 1G", id="po-1"))
{'name': 'Fibre 1G', 'id': 'po-1', 'lifecycleStatus': 'In study', '@type': 'ProductOffering'}
"""

from __future__ import annotations

import json
import operator
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, BaseValidationError, ClassValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from etomkit._tmf_flat import COVERED, flat_hooks
from etomkit._tmf_speed import FLOATS, count_float, memoise, register_faster_containers
from etomkit.errors import ValidationError
from etomkit.inputs import limit_problems, parse_json
from etomkit.model.audit import AuditComparison, AuditFinding, AuditRun, ManualAudit, RuleScore
from etomkit.model.canonical import _ALWAYS_WRITTEN, _AT_NAMES, _SPECIAL_NAMES
from etomkit.model.client import ClientRegistration, Permission, SecretHash
from etomkit.model.events import Event
from etomkit.model.issuance import (
    FeasibilityAssessment,
    InitiatingRequest,
    IssuanceRecord,
    IssuedItem,
    RuleRef,
)
from etomkit.model.lifecycle import OFFERING_LIFECYCLE, PRODUCT_LIFECYCLE
from etomkit.model.offering import CharacteristicValueUse, ProductOffering
from etomkit.model.orders import (
    ExternalReference,
    RelatedServiceOrderItem,
    ServiceOrder,
    ServiceOrderItem,
    ServiceRefOrValue,
    canonical_action,
    canonical_service_order_state,
    service_order_state_problem,
)
from etomkit.model.product import Product
from etomkit.model.resource_order import (
    RESOURCE_ORDER_LIFECYCLE,
    ExternalEntityId,
    ResourceOrder,
    ResourceOrderItem,
    ResourceOrderItemRef,
    ResourceOrderItemRelationship,
    ResourceRefOrValue,
)
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.model.usage import TechnicalShortcoming, UsageRecord
from etomkit.model.values import GIVEN_EMPTY as _GIVEN_EMPTY
from etomkit.model.values import (
    Characteristic,
    EntityRef,
    ExternalId,
    Note,
    OrderItemRef,
    RelatedParty,
    TimePeriod,
)
from etomkit.model.values import GivenEmpty as _GivenEmpty

__all__ = ["dumps", "event_to_json", "from_json", "loads", "to_json"]

T = TypeVar("T")

#: TMF637 v4 spells one status with a trailing space; etomkit writes it that way.
_PRODUCT_STATUS_SPELLING = {"aborted": "aborted "}
_STATUS_SPELLINGS = {Product: ("status", _PRODUCT_STATUS_SPELLING)}


def camel(name: str) -> str:
    """``valid_for`` -> ``validFor``; ``base_type`` -> ``@baseType``."""
    if name in _AT_NAMES:
        return _AT_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _json_names(cls: type) -> dict[str, str]:
    special = _SPECIAL_NAMES.get(cls, {})
    return {
        a.name: special.get(a.name, camel(a.name))
        for a in attrs.fields(cls)
        if a.name not in ("extras", "revision")
    }


def _unstructure_datetime(moment: datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO 8601 date-time string, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValueError(f"date-time {value!r} needs a UTC offset or 'Z'")
    return moment


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _passthrough(value: Any, _: type) -> Any:
    return value


def _make_converter(*, memo: bool = False) -> cattrs.Converter:
    """A converter; ``memo=True`` (the module's own) adds what :func:`_stored_doc` uses."""
    conv = cattrs.Converter()
    if memo:  # every float the documents hold passes here (see _stored_doc)
        conv.register_unstructure_hook(float, count_float)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    register_faster_containers(conv)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(Any, _passthrough)
    conv.register_structure_hook_func(lambda t: t == Mapping[str, Any], _structure_object)
    for cls in (
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
    ):
        _register_entity(conv, cls, memo=memo)
        if memo:
            memoise(conv, cls)
    _register_ordering(conv, memo=memo)  # issue #3
    for audit_cls in (RuleScore, AuditFinding, ManualAudit, AuditRun, AuditComparison):  # #6
        _register_entity(conv, audit_cls, memo=memo)
    _register_access(conv, memo=memo)  # issue #5
    return conv


def _structure_object(value: Any, _: type) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _register_entity(conv: cattrs.Converter, cls: type, *, memo: bool = False) -> None:
    names = _json_names(cls)
    has_extras = "extras" in attrs.fields_dict(cls)
    defaults = {a.name: a.default for a in attrs.fields(cls)}
    overrides: dict[str, Any] = {
        field: override(
            rename=json_name,
            omit_if_default=not (field in _ALWAYS_WRITTEN and defaults[field] is not None),
        )
        for field, json_name in names.items()
    }
    for name in ("extras", "revision"):
        if name in attrs.fields_dict(cls):
            overrides[name] = override(omit=True)
    base_out: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(cls, conv, **overrides)
    base_in: Callable[[Any, type], Any] = make_dict_structure_fn(cls, conv, **overrides)
    known = frozenset(names.values())
    fix_out, fix_in = _status_fixes(cls)
    # Written even at their default, but never as null (TMF has no null @type).
    nullable = [names[f] for f in names if f in _ALWAYS_WRITTEN and defaults[f] is not None]
    arrays = _array_attributes(cls, names)

    # All array attributes at once (C level): most objects hold no _GivenEmpty.
    get_arrays = operator.attrgetter(*(a for _, a in arrays)) if arrays else None
    one_array = len(arrays) == 1

    def extras_only(obj: Any) -> dict[str, Any]:  # the common shape of a value class
        doc = base_out(obj)
        if obj.extras:
            doc.update(conv.unstructure(obj.extras) if memo and FLOATS.active else obj.extras)
        return doc

    def unstructure(obj: Any) -> dict[str, Any]:
        doc = base_out(obj)
        if nullable:
            for key in nullable:
                if doc.get(key, "") is None:
                    del doc[key]
        if get_arrays is not None:
            values = get_arrays(obj)
            if type(values) is _GivenEmpty if one_array else _GivenEmpty in map(type, values):
                for key, attribute in arrays:  # the document's own empty arrays, written back
                    if type(getattr(obj, attribute)) is _GivenEmpty:
                        doc[key] = []
        if has_extras and obj.extras:
            doc.update(conv.unstructure(obj.extras) if memo and FLOATS.active else obj.extras)
        if fix_out is not None:
            fix_out(doc)
        return doc

    def structure(doc: Any, _: type) -> Any:
        if not isinstance(doc, dict):
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(doc).__name__}")
        errors: list[Exception] = []
        for key, _attribute in arrays:  # cattrs would take any iterable, even a string
            value = doc.get(key)
            if value is not None and not isinstance(value, list):
                errors.append(_attribute_error(key, f"expected a JSON array, got {_kind(value)}"))
                doc = {**doc, key: []}  # so the document's other problems are found too
        if fix_in is not None:
            doc = fix_in(doc)
        try:
            obj = base_in(doc, cls)
        except ClassValidationError as exc:  # paths name the document's keys, not attributes
            errors.extend(_renamed(exc.exceptions, names))
        if errors:
            raise ClassValidationError(f"While structuring {cls.__name__}", errors, cls)
        if has_extras:
            unknown = doc.keys() - known
            if unknown:
                obj = attrs.evolve(obj, extras={k: doc[k] for k in doc if k in unknown})
        for key, attribute in arrays:
            if doc.get(key) == []:  # present and empty: remembered (see _GivenEmpty)
                object.__setattr__(obj, attribute, _GIVEN_EMPTY)  # ours, just built
        return obj

    simple = not nullable and get_arrays is None and fix_out is None
    if simple and not has_extras:
        conv.register_unstructure_hook(cls, base_out)
    else:
        conv.register_unstructure_hook(cls, extras_only if simple else unstructure)
    conv.register_structure_hook(cls, structure)


def _array_attributes(cls: type, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(json key, attribute)`` of the attributes typed as tuples (JSON arrays)."""
    hints = typing.get_type_hints(cls)
    return [(names[f], f) for f in names if typing.get_origin(hints.get(f)) is tuple]


def _kind(value: Any) -> str:
    return {dict: "an object", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _attribute_error(key: str, message: str) -> TypeError:
    """An error cattrs' transform_error reports at ``<path>.<key>``."""
    error = TypeError(message)
    error.__notes__ = [AttributeValidationNote(f"Structuring @ {key}", key, Any)]
    return error


def _renamed(exceptions: Sequence[Exception], names: Mapping[str, str]) -> list[Exception]:
    """cattrs' per-attribute errors, their notes naming the JSON key instead."""
    for exc in exceptions:
        notes = getattr(exc, "__notes__", None)
        if notes:
            exc.__notes__ = [
                AttributeValidationNote(note, names.get(note.name, note.name), note.type)
                if note.__class__ is AttributeValidationNote
                else note
                for note in notes
            ]
    return list(exceptions)


_Fix = Callable[[dict[str, Any]], Any]


def _status_fixes(cls: type) -> tuple[_Fix | None, _Fix | None]:
    """Lenient reading and TMF writing of lifecycle status spellings."""
    if cls is ProductOffering:
        return None, _canonical_field("lifecycleStatus", OFFERING_LIFECYCLE.find)
    if cls is Product:

        def write(doc: dict[str, Any]) -> None:
            status = doc.get("status")
            if status in _PRODUCT_STATUS_SPELLING:
                doc["status"] = _PRODUCT_STATUS_SPELLING[status]

        return write, _canonical_field("status", PRODUCT_LIFECYCLE.find)
    return None, None


def _canonical_field(key: str, find: Callable[[str], str | None]) -> _Fix:
    def read(doc: dict[str, Any]) -> dict[str, Any]:
        value = doc.get(key)
        if isinstance(value, str):
            spelled = find(value)
            if spelled is not None and spelled != value:
                return {**doc, key: spelled}
        return doc

    return read


# --- access control and usage (issue #5): etomkit's own records in the TMF JSON style


def _register_access(conv: cattrs.Converter, *, memo: bool = False) -> None:
    def is_set(t: Any) -> bool:
        return t is frozenset or typing.get_origin(t) is frozenset

    conv.register_unstructure_hook_func(is_set, sorted)  # permission scopes: sorted arrays
    conv.register_structure_hook_func(is_set, _structure_set)
    for cls in (Permission, SecretHash, ClientRegistration, UsageRecord, TechnicalShortcoming):
        _register_entity(conv, cls, memo=memo)


def _structure_set(value: Any, _: type) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"expected a JSON array of strings, got {_kind(value)}")
    return frozenset(value)


# --- resource order issuing (issue #3) ---------------------------------------------------
# TMF641 ServiceOrder, TMF652 ResourceOrder, TMF634 ResourceSpecification. States and
# actions are read in any spelling and written in TMF's; ``state``/``action``/``quantity``
# are always written; a ResourceOrderItem's ``characteristic`` is nested as
# ``resource.resourceCharacteristic`` and ``noChange`` is written ``no_change`` (TMF652).

_TMF652_ACTION_SPELLING = {"noChange": "no_change"}
_ALWAYS: dict[type, tuple[str, ...]] = {}  # the always-written fields (for _tmf_flat)


def _register_ordering(conv: cattrs.Converter, *, memo: bool = False) -> None:
    order_state = RESOURCE_ORDER_LIFECYCLE.find
    item_fixes = {"action": canonical_action, "state": canonical_service_order_state}
    # TMF641 states are a closed enum: an unknown one is refused (at its path).
    tmf641_state = {"state": service_order_state_problem}
    # (class, lenient fields, always-written fields); inner classes first: cattrs
    # resolves nested hooks when it builds the outer ones.
    specs: tuple[tuple[type, Mapping[str, Callable[[Any], str | None]], tuple[str, ...]], ...] = (
        (ExternalReference, {}, ()),
        (RelatedServiceOrderItem, {}, ()),
        (ServiceRefOrValue, {}, ()),
        (ServiceOrderItem, item_fixes, ("action", "state")),
        (ServiceOrder, {"state": canonical_service_order_state}, ("state",)),
        (ExternalEntityId, {}, ()),
        (ResourceRefOrValue, {}, ()),
        (ResourceOrderItemRef, {}, ()),
        (ResourceOrderItemRelationship, {}, ()),
        (
            ResourceOrderItem,
            {"action": canonical_action, "state": order_state},
            ("action", "quantity", "state"),
        ),
        (ResourceOrder, {"state": order_state, "stateBeforeCancellation": order_state}, ("state",)),
        (CharacteristicValueSpecification, {}, ()),
        (ResourceSpecificationCharacteristic, {}, ()),
        (ResourceSpecification, {}, ()),
        # etomkit's own records (not TMF resources), in the same JSON style
        (InitiatingRequest, {}, ()),
        (FeasibilityAssessment, {}, ()),
        (RuleRef, {}, ()),
        (IssuedItem, {}, ()),
        (IssuanceRecord, {}, ()),
    )
    for cls, lenient, always in specs:
        _register_entity(conv, cls, memo=memo)
        if lenient or always:
            _wrap_ordering_hooks(
                conv,
                cls,
                lenient,
                always,
                nest_characteristics=cls is ResourceOrderItem,
                refuse=tmf641_state if cls in (ServiceOrder, ServiceOrderItem) else None,
            )
        if memo:
            memoise(conv, cls)


def _wrap_ordering_hooks(
    conv: cattrs.Converter,
    cls: type,
    lenient: Mapping[str, Callable[[Any], str | None]],
    always: tuple[str, ...],
    *,
    nest_characteristics: bool = False,
    refuse: Mapping[str, Callable[[Any], str | None]] | None = None,
) -> None:
    refused: Mapping[str, Callable[[Any], str | None]] = refuse or {}
    _ALWAYS[cls] = always
    base_out = conv.get_unstructure_hook(cls)
    base_in = conv.get_structure_hook(cls)

    def unstructure(obj: Any) -> dict[str, Any]:
        doc: dict[str, Any] = base_out(obj)
        for name in always:
            value = getattr(obj, name)
            if value is not None and name not in doc:
                doc[name] = value
        if nest_characteristics:
            action = doc.get("action")
            if action in _TMF652_ACTION_SPELLING:
                doc["action"] = _TMF652_ACTION_SPELLING[action]
            chars = doc.pop("characteristic", None)
            if chars is not None:  # also an empty array the document gave
                doc["resource"] = {**doc.get("resource", {}), "resourceCharacteristic": chars}
        return doc

    def structure(doc: Any, _: type) -> Any:
        moved = False
        if isinstance(doc, dict):
            for key, problem_of in refused.items():
                problem = problem_of(doc.get(key))
                if problem is not None:
                    error = _attribute_error(key, problem)  # at the document's own key
                    raise ClassValidationError(f"While structuring {cls.__name__}", [error], cls)
            fixed = None
            for key, find in lenient.items():
                value = doc.get(key)
                if isinstance(value, str):
                    spelled = find(value)
                    if spelled is not None and spelled != value:
                        fixed = fixed if fixed is not None else dict(doc)
                        fixed[key] = spelled
            resource = doc.get("resource")
            if (
                nest_characteristics
                and isinstance(resource, dict)
                and "resourceCharacteristic" in resource
            ):
                fixed = fixed if fixed is not None else dict(doc)
                rest = dict(resource)
                fixed["characteristic"] = rest.pop("resourceCharacteristic")
                moved = True
                if rest:
                    fixed["resource"] = rest
                else:
                    del fixed["resource"]
            if fixed is not None:
                doc = fixed
        try:
            return base_in(doc, cls)
        except ClassValidationError as exc:
            if moved:  # report at the path the document has
                _renamed(exc.exceptions, {"characteristic": "resource.resourceCharacteristic"})
            raise

    conv.register_unstructure_hook(cls, unstructure)
    conv.register_structure_hook(cls, structure)


# --- end of issue #3 block ---------------------------------------------------------------


_converter: cattrs.Converter | None = None
_FLAT: dict[type, Callable[[Any], Any]] = {}  # _tmf_flat's functions: the same documents
# What the flat (and _tmf_text's) functions add to the fields: tmf's fixes (_ALWAYS fills later).
_FLAT_RULES = (COVERED, _ALWAYS, ResourceOrderItem, _TMF652_ACTION_SPELLING, _STATUS_SPELLINGS)


def _stored_doc(obj: Any) -> tuple[Any, bool]:
    """``(to_json(obj), whether it holds a float)`` for a store's encoder: an equal
    document whose shared sub-documents are remembered. Never give it out."""
    conv = _converter or _built()
    floats = FLOATS
    floats.seen = False
    floats.active = True  # this thread's unstructuring may use the memos
    try:
        flat = _FLAT.get(obj.__class__)
        doc = conv.unstructure(obj) if flat is None else flat(obj)
    finally:
        floats.active = False
    return doc, floats.seen


def _built() -> cattrs.Converter:
    """The converter, built on first use (nothing runs at import time)."""
    global _converter
    if _converter is None:
        conv = _make_converter(memo=True)
        _FLAT.update(flat_hooks(conv, *_FLAT_RULES))
        _converter = conv
    return _converter


def __getattr__(name: str) -> Any:
    if name == "converter":  # ``etomkit.tmf.converter``: the one cattrs converter
        return _built()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_json(obj: Any) -> Any:
    """The TMF JSON (dicts, lists, strings…) of an etomkit entity or value."""
    if isinstance(obj, Event):
        return event_to_json(obj)
    return (_converter or _built()).unstructure(obj)


def from_json(cls: type[T], data: Any, *, limits: bool = True) -> T:
    """Build a ``cls`` from TMF JSON; ValidationError lists every problem with its path.

    ``data`` must be JSON data within the input limits of :mod:`etomkit.inputs`
    (nesting, finite numbers); paths are JSON paths in ``data``
    (``$.orderItem[0].resource.resourceCharacteristic[0].value``).
    ``limits=False`` skips that check, for what etomkit wrote itself (a store
    reading back its records, including those older versions wrote).
    """
    if limits:
        problems = limit_problems(data)
        if problems:
            raise ValidationError(cls.__name__, problems)
    try:
        return (_converter or _built()).structure(data, cls)
    except BaseValidationError as exc:
        problems = []
        for line in cattrs.transform_error(exc, path="$", format_exception=_message):
            message, _, path = line.rpartition(" @ ")
            problems.append((path, message))
        raise ValidationError(cls.__name__, problems) from None
    except (TypeError, ValueError) as exc:
        raise ValidationError(cls.__name__, [("$", str(exc))]) from None


def _message(exc: BaseException, expected: type | None) -> str:
    """Our hooks' own words where they have some; cattrs' otherwise."""
    if isinstance(exc, (TypeError, ValueError)) and str(exc) and not isinstance(exc, KeyError):
        return str(exc)
    return format_exception(exc, expected)


_PATH_SEGMENT = re.compile(r"\.([a-z_]+)")
_SPECIAL_BY_FIELD = {f: j for names in _SPECIAL_NAMES.values() for f, j in names.items()}


def json_path(path: str) -> str:
    """``$.valid_for.end_date_time`` -> ``$.validFor.endDateTime``."""
    return _PATH_SEGMENT.sub(lambda m: "." + _SPECIAL_BY_FIELD.get(m[1], camel(m[1])), path)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps(to_json(obj))``; keyword arguments go to :func:`json.dumps`."""
    return json.dumps(to_json(obj), ensure_ascii=False, **kwargs)


def loads(cls: type[T], text: str | bytes) -> T:
    """Parse JSON text (bytes: UTF-8) into a ``cls`` (ValidationError on bad JSON or content)."""
    return from_json(cls, parse_json(text, cls.__name__))


def event_to_json(event: Event) -> dict[str, Any]:
    """A TMF notification: ``{eventId, eventTime, eventType, event: {<domain>: …}}``."""
    doc: dict[str, Any] = {
        "eventId": event.event_id,
        "eventTime": _unstructure_datetime(event.event_time),
        "eventType": event.event_type,
        "event": {event.domain: (_converter or _built()).unstructure(event.entity)},
    }
    if event.field_path is not None:
        doc["fieldPath"] = event.field_path
    return doc


def utc(text: str) -> datetime:
    """Parse an ISO 8601 date-time (a convenience for notebooks and tests)."""
    return _structure_datetime(text, datetime).astimezone(UTC)
