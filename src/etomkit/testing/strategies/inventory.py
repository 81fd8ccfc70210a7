"""Strategies for the inventory's entities: product offerings and products."""

from __future__ import annotations

import attrs
import hypothesis.strategies as st

from etomkit.inventory.requirement_specs import InformationRequirement, ValueRequirement
from etomkit.model import (
    CUSTOMER_ROLE,
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    OrderItemRef,
    Product,
    ProductOffering,
    RelatedParty,
)
from etomkit.testing.strategies.values import (
    _entity_types,
    _fixed_or,
    _hrefs,
    _named_tuples,
    _optional,
    _texts,
    _tuples,
    characteristic_value_uses,
    characteristics,
    entity_ids,
    entity_refs,
    extras,
    order_item_refs,
    related_parties,
    time_periods,
    utc_datetimes,
)
from etomkit.testing.strategies.values import names as _names

__all__ = ["product_offerings", "products"]


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
        prod_spec_char_value_use=_named_tuples(characteristic_value_uses()),
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
        product_characteristic=_named_tuples(characteristics()),
        realizing_service=_tuples(refs),
        realizing_resource=_tuples(refs),
        billing_account=_optional(refs),
        type=_entity_types("Product"),
        base_type=_optional(st.just("Product")),
        schema_location=_optional(_hrefs()),
        extras=extras(for_type=Product),
    ).map(_in_order)


def value_requirements() -> st.SearchStrategy[ValueRequirement]:
    """Usable characteristic requirements (information requirements, #6)."""
    return st.builds(
        ValueRequirement,
        name=st.sampled_from(("downloadSpeed", "technology", "contractMonths")),
        required=st.booleans(),
        value_type=st.none() | st.sampled_from(("string", "integer")),
        allowed=st.just(()),
        minimum=st.none() | st.integers(0, 10).map(float),
        maximum=st.none() | st.integers(10, 100).map(float),
        pattern=st.none(),
    )


def information_requirements() -> st.SearchStrategy[InformationRequirement]:
    """Usable information requirements of offerings or products."""
    return st.builds(
        InformationRequirement,
        id=st.text("abcdefgh", min_size=1, max_size=8),
        entity=st.sampled_from(("ProductOffering", "Product")),
        category=st.none() | st.just("cat-broadband"),
        specification=st.none(),
        required_fields=st.just(()),
        fields=st.just(()),
        characteristics=st.lists(value_requirements(), max_size=2, unique_by=lambda v: v.name).map(
            tuple
        ),
        description=st.none(),
        states=st.just(()),
    )
