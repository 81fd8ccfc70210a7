"""Product (TMF637): one purchased offering instance, held for a customer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import Problem
from etomkit.model.offering import _check_str, check_ref, check_unique_names
from etomkit.model.values import Characteristic, EntityRef, OrderItemRef, RelatedParty, _extras

__all__ = ["CUSTOMER_ROLE", "Product", "product_problems"]

CUSTOMER_ROLE = "customer"


@attrs.frozen(kw_only=True)
class Product:
    """A TMF637 Product: the offering instance a customer bought.

    The customer is the ``related_party`` with role ``customer``; the Order
    Handling order item that created it is in ``product_order_item``.
    ``revision`` and ``extras`` work as on ProductOffering.
    """

    product_offering: EntityRef
    related_party: tuple[RelatedParty, ...]
    id: str | None = None
    href: str | None = None
    name: str | None = None
    description: str | None = None
    status: str = "created"
    is_bundle: bool | None = None
    is_customer_visible: bool | None = None
    product_serial_number: str | None = None
    order_date: datetime | None = None
    start_date: datetime | None = None
    termination_date: datetime | None = None
    last_update: datetime | None = None
    product_specification: EntityRef | None = None
    product_order_item: tuple[OrderItemRef, ...] = ()
    product_characteristic: tuple[Characteristic, ...] = ()
    realizing_service: tuple[EntityRef, ...] = ()
    realizing_resource: tuple[EntityRef, ...] = ()
    billing_account: EntityRef | None = None
    type: str | None = "Product"
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()
    revision: int = 0

    @property
    def customer(self) -> RelatedParty | None:
        """The related party in the ``customer`` role, if any."""
        for party in self.related_party:
            role = getattr(party, "role", None)
            if isinstance(role, str) and role.lower() == CUSTOMER_ROLE:
                return party
        return None

    @property
    def customer_id(self) -> str | None:
        """The customer's id, if any."""
        party = self.customer
        return None if party is None else party.id

    def characteristic(self, name: str) -> Any:
        """The value of the named product characteristic (KeyError-free: None if absent)."""
        for char in self.product_characteristic:
            if char.name == name:
                return char.value
        return None


def _check_tuple(problems: list[Problem], name: str, items: object, cls: type) -> tuple[Any, ...]:
    if not isinstance(items, tuple):
        problems.append((name, f"must be a tuple of {cls.__name__}, got {type(items).__name__}"))
        return ()
    return items


def product_problems(product: Product) -> list[Problem]:
    """Every field-level problem of ``product`` (empty if it is well formed)."""
    problems: list[Problem] = []
    check_ref(problems, "product_offering", product.product_offering)
    for name in ("id", "href", "name", "description", "product_serial_number"):
        _check_str(problems, name, getattr(product, name), required=False)
    _check_str(problems, "status", product.status, required=True)
    for name in ("is_bundle", "is_customer_visible"):
        value = getattr(product, name)
        if value is not None and not isinstance(value, bool):
            problems.append((name, f"must be a bool, got {type(value).__name__}"))
    for name in ("product_specification", "billing_account"):
        if getattr(product, name) is not None:
            check_ref(problems, name, getattr(product, name))
    parties = _check_tuple(problems, "related_party", product.related_party, RelatedParty)
    for i, party in enumerate(parties):
        check_ref(problems, f"related_party[{i}]", party, RelatedParty)
    if isinstance(product.related_party, tuple) and product.customer is None:
        problems.append(("related_party", f"needs a party with role {CUSTOMER_ROLE!r}"))
    for name, cls in (
        ("product_order_item", OrderItemRef),
        ("product_characteristic", Characteristic),
    ):
        for i, item in enumerate(_check_tuple(problems, name, getattr(product, name), cls)):
            if not isinstance(item, cls):
                problems.append((f"{name}[{i}]", f"must be a {cls.__name__}"))
    check_unique_names(problems, "product_characteristic", product.product_characteristic)
    for name in ("realizing_service", "realizing_resource"):
        for i, ref in enumerate(_check_tuple(problems, name, getattr(product, name), EntityRef)):
            check_ref(problems, f"{name}[{i}]", ref)
    for name in ("order_date", "start_date", "termination_date"):
        value = getattr(product, name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            problems.append((name, "must be a timezone-aware datetime"))
    if (
        isinstance(product.start_date, datetime)
        and isinstance(product.termination_date, datetime)
        and product.start_date.tzinfo
        and product.termination_date.tzinfo
        and product.termination_date < product.start_date
    ):
        problems.append(("termination_date", "must not be before start_date"))
    return problems
