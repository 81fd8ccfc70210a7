"""Building blocks and values: ids, names, date-times, JSON, ``extras``, TMF refs.

Re-exported by :mod:`etomkit.testing.strategies`; see there for the conventions.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import hypothesis.strategies as st

from etomkit.model import (
    CUSTOMER_ROLE,
    Characteristic,
    CharacteristicValueUse,
    EntityRef,
    ExternalId,
    Note,
    OrderItemRef,
    PartyRef,
    RelatedParty,
    TimePeriod,
)
from etomkit.model.offering import VALUE_TYPES
from etomkit.tmf import _json_names

__all__ = [
    "entity_ids",
    "names",
    "utc_datetimes",
    "json_values",
    "extras",
    "time_periods",
    "entity_refs",
    "party_refs",
    "related_parties",
    "order_item_refs",
    "characteristics",
    "characteristic_value_uses",
    "notes",
    "external_ids",
]

T = TypeVar("T")

_ID_ALPHABET = string.ascii_letters + string.digits + "-_.:"
_TEXT = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))
_MAX_ITEMS = 2  # tuple fields hold 0 to this many items: enough variety, cheap to run

#: Unmodelled TMF attributes a real document may carry (kept in ``extras``).
_TMF_EXTRA_NAMES = (
    "agreement",
    "attachment",
    "channel",
    "marketSegment",
    "place",
    "productOfferingTerm",
    "serviceLevelAgreement",
    "@extension",
)


def _fixed_or(
    value: T | st.SearchStrategy[T] | None, default: st.SearchStrategy[T]
) -> st.SearchStrategy[T]:
    """``value`` as a strategy: a fixed value, a given strategy, or ``default`` if None."""
    if value is None:
        return default
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(value)


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


def _tuples(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, max_size=_MAX_ITEMS).map(tuple)


def _named_tuples(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[tuple[T, ...]]:
    """Items with distinct names (the model refuses two characteristics of one name)."""
    unique: st.SearchStrategy[list[T]] = st.lists(
        strategy,
        max_size=_MAX_ITEMS,
        unique_by=lambda c: c.name,  # type: ignore[attr-defined]
    )
    return unique.map(tuple)


# --------------------------------------------------------------------- building blocks


def entity_ids(*, max_size: int = 24) -> st.SearchStrategy[str]:
    """Non-blank entity ids: short tokens (``po-7``, ``a.b:c``) or UUIDs as text."""
    tokens = st.text(_ID_ALPHABET, min_size=1, max_size=max_size)
    return tokens | st.uuids().map(str)


def names(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Non-blank human-readable names (any letters, digits, punctuation, inner spaces)."""
    return st.text(_TEXT, min_size=1, max_size=max_size).filter(str.strip)


_names = names  # some strategies below take a ``names`` parameter that shadows this one


def _texts() -> st.SearchStrategy[str]:
    return st.text(_TEXT, max_size=40)


def _hrefs() -> st.SearchStrategy[str]:
    return entity_ids().map(lambda i: f"https://api.example.com/tmf-api/v4/{i}")


def utc_datetimes(
    *,
    min_value: datetime = datetime(2000, 1, 1),
    max_value: datetime = datetime(2099, 12, 31),
) -> st.SearchStrategy[datetime]:
    """Timezone-aware UTC date-times between the naive bounds ``min_value``/``max_value``."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=st.just(UTC))


def json_values(*, max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """JSON values: null, booleans, integers, finite floats, strings, lists and objects."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | _texts()
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(_TEXT, max_size=10), children, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def _tmf_extra_values(name: str) -> st.SearchStrategy[Any]:
    """A value of the shape TMF gives attribute ``name``: refs carry an id (and the
    ``role``/``@referredType`` some refs require); ``@extension`` is any JSON."""
    if name == "@extension":
        return json_values()
    ref = st.fixed_dictionaries(
        {"id": entity_ids(), "role": st.just("related"), "@referredType": st.just("Ref")},
        optional={"name": names()},
    )
    if name == "serviceLevelAgreement":
        return ref
    return st.lists(ref, max_size=2)


def extras(
    *, for_type: type, max_size: int = 2, adversarial: bool = False
) -> st.SearchStrategy[Mapping[str, Any]]:
    """An ``extras`` mapping for ``for_type``: unmodelled TMF attributes with JSON values.

    Keys never collide with the camelCase names etomkit models for ``for_type``,
    so the mapping survives a TMF JSON round trip. Known TMF attribute names
    (``agreement``, ``place``, … of a TMF620 offering) get values of their TMF
    shape and other keys start with ``x``, so documents stay TMF-valid; ``adversarial=True`` allows
    any key and any JSON value under the TMF names.
    """
    modelled = frozenset(_json_names(for_type).values())
    # the TMF620 ProductOffering attributes etomkit does not model, in their TMF shape
    names_ = [
        n for n in _TMF_EXTRA_NAMES if n not in modelled and for_type.__name__ == "ProductOffering"
    ]
    if adversarial:
        keys = st.sampled_from(_TMF_EXTRA_NAMES) | st.text(_TEXT, min_size=1, max_size=12)
        return st.dictionaries(
            keys.filter(lambda k: k not in modelled), json_values(), max_size=max_size
        )
    vendor = st.text(string.ascii_letters, min_size=1, max_size=11).map(lambda k: f"x{k}")
    pair = st.tuples(vendor.filter(lambda k: k not in modelled), json_values())
    if names_:
        known = st.sampled_from(names_).flatmap(
            lambda n: _tmf_extra_values(n).map(lambda v: (n, v))
        )
        pair = known | pair
    pairs = st.lists(
        pair,
        max_size=max_size,
        unique_by=lambda kv: kv[0],
    )
    return pairs.map(dict)


def _optional_types() -> st.SearchStrategy[str | None]:
    """``@type`` of a value: absent or a subclass name."""
    return _optional(st.sampled_from(("Extension", "Custom")))


def _entity_types(type_name: str) -> st.SearchStrategy[str]:
    """``@type`` of an entity: its TMF name or a subclass (never null: TMF has no null @type)."""
    return st.sampled_from((type_name, f"Broadband{type_name}"))


# --------------------------------------------------------------------- values


def time_periods(*, open_ended: bool = True) -> st.SearchStrategy[TimePeriod]:
    """Validity periods with start <= end; either end may be open unless ``open_ended=False``."""
    moment = _optional(utc_datetimes()) if open_ended else utc_datetimes()

    def build(start: datetime | None, end: datetime | None) -> TimePeriod:
        if start is not None and end is not None and end < start:
            start, end = end, start
        return TimePeriod(start_date_time=start, end_date_time=end)

    return st.builds(build, moment, moment)


def entity_refs(*, ids: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[EntityRef]:
    """TMF ``…Ref`` values with an id (from ``ids`` if given) and optional attributes."""
    return st.builds(
        EntityRef,
        id=ids if ids is not None else entity_ids(),
        href=_optional(_hrefs()),
        name=_optional(names()),
        version=_optional(st.sampled_from(("1.0", "2.1", "v3"))),
        referred_type=_optional(st.sampled_from(("ProductOffering", "Category", "Service"))),
        type=_optional_types(),
        base_type=_optional(st.just("EntityRef")),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=EntityRef),
    )


def party_refs(*, ids: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[PartyRef]:
    """Customers (or other parties) as Order Handling names them."""
    return st.builds(
        PartyRef,
        id=ids if ids is not None else entity_ids(),
        name=_optional(names()),
        href=_optional(_hrefs()),
        referred_type=st.sampled_from(("Customer", "Individual", "Organization")),
    )


def related_parties(
    *,
    ids: st.SearchStrategy[str] | None = None,
    role: str | st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[RelatedParty]:
    """Related parties; ``role`` fixes the role (e.g. ``"customer"``), else any or none."""
    roles = st.sampled_from((CUSTOMER_ROLE, "owner", "user", "billingContact"))
    return st.builds(
        RelatedParty,
        id=ids if ids is not None else entity_ids(),
        role=_fixed_or(role, _optional(roles)),
        name=_optional(names()),
        href=_optional(_hrefs()),
        referred_type=st.sampled_from(("Individual", "Organization", "Customer")),
        type=_optional_types(),
        base_type=_optional(st.just("RelatedParty")),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=RelatedParty),
    )


def order_item_refs(
    *,
    order_ids: st.SearchStrategy[str] | None = None,
    item_ids: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[OrderItemRef]:
    """Order Handling order items a product came from."""
    return st.builds(
        OrderItemRef,
        order_id=order_ids if order_ids is not None else entity_ids(),
        item_id=item_ids if item_ids is not None else st.integers(1, 99).map(str),
        action=_optional(st.sampled_from(("add", "modify", "delete", "noChange"))),
        order_href=_optional(_hrefs()),
        role=_optional(st.sampled_from(("origin", "modifier"))),
        type=_optional_types(),
        base_type=_optional(st.just("RelatedProductOrderItem")),
        schema_location=_optional(_hrefs()),
        referred_type=_optional(st.just("ProductOrderItem")),
        extras=extras(for_type=OrderItemRef),
    )


def characteristics(
    *, names: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[Characteristic]:
    """Named characteristics whose value is any JSON value."""
    default_names = st.sampled_from(("speed", "colour", "ipAddress", "quota")) | _short_names()
    return st.builds(
        Characteristic,
        name=names if names is not None else default_names,
        value=json_values(),
        value_type=_optional(st.sampled_from(("string", "number", "boolean", "object"))),
        type=_optional_types(),
        base_type=_optional(st.just("Characteristic")),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=Characteristic),
    )


def _short_names() -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters, min_size=1, max_size=12)


def characteristic_value_uses() -> st.SearchStrategy[CharacteristicValueUse]:
    """Characteristics an offering uses, with cardinalities and allowed values."""
    values = st.dictionaries(_short_names(), json_values(max_leaves=2), max_size=2)
    return st.builds(
        CharacteristicValueUse,
        name=_short_names(),
        value_type=_optional(st.sampled_from(("string", "number"))),
        description=_optional(_texts()),
        min_cardinality=_optional(st.integers(0, 3)),
        max_cardinality=_optional(st.integers(1, 9)),
        product_spec_characteristic_value=_tuples(values),
        id=_optional(entity_ids()),
        type=_optional_types(),
        base_type=st.none(),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=CharacteristicValueUse),
    ).map(_typed_values)


def _typed_values(use: CharacteristicValueUse) -> CharacteristicValueUse:
    """Listed values of the use's declared type only (the model refuses others)."""
    is_type = VALUE_TYPES.get(use.value_type or "")
    if is_type is None:
        return use
    kept = tuple(
        {k: v for k, v in entry.items() if k != "value" or is_type(v)}
        for entry in use.product_spec_characteristic_value
    )
    return attrs.evolve(use, product_spec_characteristic_value=kept)


def notes() -> st.SearchStrategy[Note]:
    """TMF notes: text with an optional author and date."""
    return st.builds(
        Note,
        text=_texts(),
        id=_optional(entity_ids()),
        author=_optional(names()),
        date=_optional(utc_datetimes()),
        type=_optional_types(),
        extras=extras(for_type=Note),
    )


def external_ids() -> st.SearchStrategy[ExternalId]:
    """Ids of the entity in other systems."""
    return st.builds(
        ExternalId,
        id=entity_ids(),
        owner=_optional(names()),
        external_identifier_type=_optional(st.sampled_from(("crm", "billing"))),
        type=_optional_types(),
        extras=extras(for_type=ExternalId),
    )
