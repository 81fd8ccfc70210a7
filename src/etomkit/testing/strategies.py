"""Hypothesis strategies for etomkit's entities and values.

Every strategy takes keyword arguments only and generates well-formed objects:
offerings and products pass :func:`~etomkit.model.offering_problems` /
:func:`~etomkit.model.product_problems`, date-times are timezone-aware UTC,
sequences are tuples, and everything round-trips through
:func:`etomkit.tmf.to_json` / :func:`etomkit.tmf.from_json` to an equal object.
Generated entities are never stored (``revision`` 0).

>>> from hypothesis import given
>>> from etomkit.testing import strategies as ets
>>> @given(ets.product_offerings(lifecycle_status="Active"))
... def test_active_offerings_can_be_sold(offering): ...

The ``hypothesis`` entry point (the top-level module ``_etomkit_hypothesis``)
registers them lazily, so ``st.from_type(ProductOffering)`` (and the other
entity and value types) use these strategies once etomkit is installed, and
this module imports before or after hypothesis alike.
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
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    Characteristic,
    CharacteristicValueUse,
    EntityRef,
    OrderItemRef,
    PartyRef,
    Product,
    ProductOffering,
    RelatedParty,
    TimePeriod,
)
from etomkit.tmf import _json_names

__all__ = [
    # building blocks
    "entity_ids",
    "names",
    "utc_datetimes",
    "json_values",
    "extras",
    # values
    "time_periods",
    "entity_refs",
    "party_refs",
    "related_parties",
    "order_item_refs",
    "characteristics",
    "characteristic_value_uses",
    # entities
    "product_offerings",
    "products",
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


def extras(*, for_type: type, max_size: int = 2) -> st.SearchStrategy[Mapping[str, Any]]:
    """An ``extras`` mapping for ``for_type``: unmodelled TMF attributes with JSON values.

    Keys never collide with the camelCase names etomkit models for ``for_type``,
    so the mapping survives a TMF JSON round trip.
    """
    modelled = frozenset(_json_names(for_type).values())
    keys = st.sampled_from(_TMF_EXTRA_NAMES) | st.text(
        string.ascii_letters, min_size=1, max_size=12
    )
    return st.dictionaries(
        keys.filter(lambda k: k not in modelled), json_values(), max_size=max_size
    )


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
    )


# --------------------------------------------------------------------- entities


def _bundle_consistent(offering: ProductOffering) -> ProductOffering:
    """A bundle with members must not say ``is_bundle=False``."""
    if offering.bundled_product_offering and offering.is_bundle is False:
        return attrs.evolve(offering, is_bundle=True)
    return offering


def product_offerings(
    *,
    lifecycle_status: str | st.SearchStrategy[str] | None = None,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    names: st.SearchStrategy[str] | None = None,
    category_ids: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[ProductOffering]:
    """Well-formed, never-stored product offerings.

    ``lifecycle_status`` fixes the status or gives a strategy for it (default:
    any state of the TMF620 lifecycle); ``with_id=False`` leaves ``id`` unset
    (for services that assign ids). Pass small ``ids``/``names``/``category_ids``
    strategies (e.g. ``st.sampled_from(["c1", "c2"])``) to make collisions and
    filter hits likely.
    """
    refs = entity_refs()
    return st.builds(
        ProductOffering,
        name=names if names is not None else _names(),
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        href=_optional(_hrefs()),
        version=_optional(st.sampled_from(("1.0", "2.0"))),
        description=_optional(_texts()),
        lifecycle_status=_fixed_or(lifecycle_status, st.sampled_from(OFFERING_LIFECYCLE.states)),
        status_reason=_optional(_texts()),
        valid_for=_optional(time_periods()),
        is_bundle=_optional(st.booleans()),
        is_sellable=_optional(st.booleans()),
        last_update=_optional(utc_datetimes()),
        category=_tuples(entity_refs(ids=category_ids)),
        product_specification=_optional(refs),
        bundled_product_offering=_tuples(refs),
        product_offering_price=_tuples(refs),
        prod_spec_char_value_use=_tuples(characteristic_value_uses()),
        type=_entity_types("ProductOffering"),
        base_type=_optional(st.just("ProductOffering")),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=ProductOffering),
    ).map(_bundle_consistent)


def _parties(customer: RelatedParty, others: tuple[RelatedParty, ...]) -> tuple[RelatedParty, ...]:
    return (customer, *others)


def _in_order(product: Product) -> Product:
    """Swap start and termination dates if termination came first."""
    start, end = product.start_date, product.termination_date
    if start is not None and end is not None and end < start:
        return attrs.evolve(product, start_date=end, termination_date=start)
    return product


def products(
    *,
    offering_id: str | st.SearchStrategy[str] | None = None,
    status: str | st.SearchStrategy[str] | None = None,
    with_id: bool = True,
    ids: st.SearchStrategy[str] | None = None,
    customer_id: str | st.SearchStrategy[str] | None = None,
    order_items: st.SearchStrategy[tuple[OrderItemRef, ...]] | None = None,
) -> st.SearchStrategy[Product]:
    """Well-formed, never-stored products, each with exactly one ``customer`` party (first).

    ``offering_id``, ``status`` and ``customer_id`` take a fixed value or a
    strategy (default: any id, any state of the TMF637 lifecycle). ``order_items``
    replaces the strategy for ``product_order_item`` (keep keys unique per store
    when you test ``find_by_order_item``).
    """
    refs = entity_refs()
    customer = related_parties(ids=_fixed_or(customer_id, entity_ids()), role=CUSTOMER_ROLE)
    others = related_parties(role=_optional(st.sampled_from(("owner", "user"))))
    return st.builds(
        Product,
        product_offering=entity_refs(ids=_fixed_or(offering_id, entity_ids())),
        related_party=st.builds(_parties, customer, _tuples(others)),
        id=(ids if ids is not None else entity_ids()) if with_id else st.none(),
        href=_optional(_hrefs()),
        name=_optional(_names()),
        description=_optional(_texts()),
        status=_fixed_or(status, st.sampled_from(PRODUCT_LIFECYCLE.states)),
        is_bundle=_optional(st.booleans()),
        is_customer_visible=_optional(st.booleans()),
        product_serial_number=_optional(entity_ids()),
        order_date=_optional(utc_datetimes()),
        start_date=_optional(utc_datetimes()),
        termination_date=_optional(utc_datetimes()),
        last_update=_optional(utc_datetimes()),
        product_specification=_optional(refs),
        product_order_item=order_items if order_items is not None else _tuples(order_item_refs()),
        product_characteristic=_tuples(characteristics()),
        realizing_service=_tuples(refs),
        realizing_resource=_tuples(refs),
        billing_account=_optional(refs),
        type=_entity_types("Product"),
        base_type=_optional(st.just("Product")),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=Product),
    ).map(_in_order)


# --------------------------------------------------------------------- st.from_type


def _register_hypothesis_strategies() -> None:
    """Make ``st.from_type`` use these strategies (the entry point does it already)."""
    import _etomkit_hypothesis as _hypothesis_hook

    _hypothesis_hook._registered = False
    _hypothesis_hook.register()
