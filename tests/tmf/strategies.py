"""Small local hypothesis strategies for TMF-shaped offerings and products.

Deliberately independent of ``etomkit.testing.strategies``: these tests check
the converter, so they build their own data. Every generated object carries
unknown attributes (``extras``, keys starting with ``x_``) at the top level
and in its nested values, to exercise the lossless round trip.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from hypothesis import strategies as st

import etomkit as ek

__all__ = [
    "aware_datetimes",
    "entity_refs",
    "json_values",
    "offerings",
    "products",
    "spellings",
]

T = TypeVar("T")

_TIMEZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
)
_IDS = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=10).filter(
    lambda s: s.strip("-") != ""
)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_NAMES = _TEXT.filter(lambda s: s.strip() != "")
_HREFS = _IDS.map(lambda i: f"https://api.example.com/tmf-api/{i}")
_TYPES = st.sampled_from(["Extended", "VendorType", "Fibre"])


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


def _tuples(strategy: st.SearchStrategy[T], max_size: int = 2) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, max_size=max_size).map(tuple)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Timezone-aware date-times, in UTC or at whole-minute offsets."""
    return st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=_TIMEZONES
    )


def json_values(*, max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN or infinities: JSON has none)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | _TEXT
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
        max_leaves=max_leaves,
    )


def _extras() -> st.SearchStrategy[dict[str, Any]]:
    keys = st.from_regex(re.compile(r"x_[A-Za-z][A-Za-z0-9]{0,6}"), fullmatch=True)
    return st.dictionaries(keys, json_values(max_leaves=3), max_size=2)


def entity_refs(*, referred_type: str | None = None) -> st.SearchStrategy[ek.EntityRef]:
    """TMF ``…Ref`` values with optional href, name, version, @-attributes and extras."""
    return st.builds(
        ek.EntityRef,
        id=_IDS,
        href=_optional(_HREFS),
        name=_optional(_NAMES),
        version=_optional(st.sampled_from(["1", "1.0", "2.3.1"])),
        referred_type=_optional(st.just(referred_type)) if referred_type else st.none(),
        type=_optional(_TYPES),
        base_type=_optional(_TYPES),
        schema_location=_optional(_HREFS),
        extras=_extras(),
    )


def _periods() -> st.SearchStrategy[ek.TimePeriod]:
    return st.builds(
        ek.TimePeriod,
        start_date_time=_optional(aware_datetimes()),
        end_date_time=_optional(aware_datetimes()),
    ).filter(
        lambda p: (
            p.start_date_time is None
            or p.end_date_time is None
            or p.start_date_time <= p.end_date_time
        )
    )


def _value_uses() -> st.SearchStrategy[ek.CharacteristicValueUse]:
    spec_values = st.dictionaries(
        st.sampled_from(["x_value", "x_unit", "x_isDefault"]), json_values(max_leaves=2), max_size=2
    )
    return st.builds(
        ek.CharacteristicValueUse,
        name=_NAMES,
        value_type=_optional(st.sampled_from(["number", "string", "boolean"])),
        description=_optional(_TEXT),
        min_cardinality=_optional(st.integers(0, 3)),
        max_cardinality=_optional(st.integers(3, 10)),
        product_spec_characteristic_value=_tuples(spec_values),
        id=_optional(_IDS),
        type=_optional(_TYPES),
        base_type=st.none(),
        schema_location=st.none(),
        extras=_extras(),
    )


def offerings(*, bundles: bool = True) -> st.SearchStrategy[ek.ProductOffering]:
    """Well-formed offerings, with an id, in any state of the default lifecycle.

    ``bundles=False`` leaves ``bundled_product_offering`` empty (an import then
    needs no other offering to exist).
    """
    return st.builds(
        ek.ProductOffering,
        name=_NAMES,
        id=_IDS,
        href=_optional(_HREFS),
        version=_optional(st.sampled_from(["1.0", "2"])),
        description=_optional(_TEXT),
        lifecycle_status=st.sampled_from(ek.OFFERING_LIFECYCLE.states),
        status_reason=_optional(_TEXT),
        valid_for=_optional(_periods()),
        is_bundle=st.just(True) if bundles else _optional(st.booleans()),
        is_sellable=_optional(st.booleans()),
        last_update=_optional(aware_datetimes()),
        category=_tuples(entity_refs(referred_type="Category")),
        product_specification=_optional(entity_refs(referred_type="ProductSpecification")),
        bundled_product_offering=(
            _tuples(entity_refs(referred_type="ProductOffering")) if bundles else st.just(())
        ),
        product_offering_price=_tuples(entity_refs(referred_type="ProductOfferingPrice")),
        prod_spec_char_value_use=_tuples(_value_uses()),
        type=st.sampled_from(["ProductOffering", "BundledProductOffering"]),
        base_type=_optional(st.just("ProductOffering")),
        schema_location=_optional(_HREFS),
        extras=_extras(),
    )


def _parties(role: str) -> st.SearchStrategy[ek.RelatedParty]:
    return st.builds(
        ek.RelatedParty,
        id=_IDS,
        role=st.just(role),
        name=_optional(_NAMES),
        href=_optional(_HREFS),
        referred_type=st.sampled_from(["Customer", "Individual", "Organization"]),
        type=_optional(_TYPES),
        base_type=st.none(),
        schema_location=st.none(),
        extras=_extras(),
    )


def _order_items() -> st.SearchStrategy[ek.OrderItemRef]:
    return st.builds(
        ek.OrderItemRef,
        order_id=_IDS,
        item_id=_IDS,
        action=_optional(st.sampled_from(["add", "modify", "delete", "noChange"])),
        order_href=_optional(_HREFS),
        role=_optional(st.just("creator")),
        type=_optional(_TYPES),
        base_type=st.none(),
        schema_location=st.none(),
        referred_type=_optional(st.just("ProductOrder")),
        extras=_extras(),
    )


def _characteristics() -> st.SearchStrategy[ek.Characteristic]:
    return st.builds(
        ek.Characteristic,
        name=_NAMES,
        value=json_values(max_leaves=3),
        value_type=_optional(st.sampled_from(["number", "string", "object"])),
        type=_optional(_TYPES),
        base_type=st.none(),
        schema_location=st.none(),
        extras=_extras(),
    )


def products(*, offering_id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[ek.Product]:
    """Well-formed products with a customer, in any state of the default lifecycle."""
    parties = st.tuples(_parties("customer"), _tuples(_parties("reseller"), 1)).map(
        lambda pair: (pair[0], *pair[1])
    )
    offering_refs = entity_refs(referred_type="ProductOffering")
    if offering_id is not None:
        offering_refs = st.builds(
            ek.EntityRef, id=offering_id, name=_optional(_NAMES), extras=_extras()
        )
    return st.builds(
        ek.Product,
        product_offering=offering_refs,
        related_party=parties,
        id=_IDS,
        href=_optional(_HREFS),
        name=_optional(_NAMES),
        description=_optional(_TEXT),
        status=st.sampled_from(ek.PRODUCT_LIFECYCLE.states),
        is_bundle=_optional(st.booleans()),
        is_customer_visible=_optional(st.booleans()),
        product_serial_number=_optional(_IDS),
        order_date=_optional(aware_datetimes()),
        start_date=_optional(aware_datetimes()),
        termination_date=st.none(),
        last_update=_optional(aware_datetimes()),
        product_specification=_optional(entity_refs(referred_type="ProductSpecification")),
        product_order_item=_tuples(_order_items()),
        product_characteristic=_tuples(_characteristics()),
        realizing_service=_tuples(entity_refs(referred_type="Service")),
        realizing_resource=_tuples(entity_refs(referred_type="Resource")),
        billing_account=_optional(entity_refs(referred_type="BillingAccount")),
        type=st.sampled_from(["Product", "ProductBundle"]),
        base_type=_optional(st.just("Product")),
        schema_location=_optional(_HREFS),
        extras=_extras(),
    )


_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def spellings(state: str) -> st.SearchStrategy[str]:
    """Ways a TMF client may spell ``state``: any case, spaces, underscores, hyphens."""
    words = _WORDS.findall(state)
    cases = st.sampled_from([str.lower, str.upper, str.title, str.capitalize, lambda w: w])
    separators = st.sampled_from(["", " ", "_", "-", "  "])
    return st.builds(
        lambda sep, case, tail: sep.join(case(w) for w in words) + tail,
        separators,
        cases,
        st.sampled_from(["", " "]),
    )
