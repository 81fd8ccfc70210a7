"""Recording purchases: the products customers bought through Order Handling
order items, and the status moves of a product (a base class of the inventory).

A purchase builds its product from the stored offering and a few caller
arguments. :func:`plainly_valid` recognises the usual case (plain references,
scalar characteristics with distinct names) in a few attribute reads; anything
else gets the full checks, which alone word the problems.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from etomkit.errors import ConflictError, DuplicateKeyError, TransitionError, ValidationError
from etomkit.inputs import MAX_INTEGER_BITS, value_limit_problems
from etomkit.inventory.helpers import _purchase_argument_problems
from etomkit.inventory.rules import InventoryRules
from etomkit.model._copy import replace
from etomkit.model.offering import ProductOffering
from etomkit.model.product import CUSTOMER_ROLE, Product, product_problems
from etomkit.model.values import (
    Characteristic,
    EntityRef,
    OrderItemRef,
    PartyRef,
    RelatedParty,
)

__all__ = ["Purchases", "plainly_valid"]

_SCALARS = frozenset({str, bool, type(None)})


def _text(value: object) -> bool:
    """A non-blank ``str``."""
    return type(value) is str and bool(value.strip())


def _plain_ref(ref: object, cls: type) -> bool:
    return type(ref) is cls and _text(ref.id) and not ref.extras  # type: ignore[attr-defined]


def _plain_value(value: object) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is int:
        return value.bit_length() <= MAX_INTEGER_BITS  # type: ignore[attr-defined,no-any-return]
    return kind is float and math.isfinite(value)  # type: ignore[arg-type]


def plainly_valid(product: Product) -> bool:
    """True only if ``product_problems`` and ``value_limit_problems`` find nothing in a
    product built by :meth:`Purchases.record_purchase` (False: run them to find out)."""
    p = product
    if not (
        type(p.id) is str
        and (p.name is None or type(p.name) is str)
        and _text(p.status)
        and type(p.order_date) is datetime
        and p.order_date.tzinfo is not None
        and not p.extras
        and _plain_ref(p.product_offering, EntityRef)
        and (p.product_specification is None or _plain_ref(p.product_specification, EntityRef))
        and (p.billing_account is None or _plain_ref(p.billing_account, EntityRef))
    ):
        return False
    parties, items, chars = p.related_party, p.product_order_item, p.product_characteristic
    if len(parties) != 1 or len(items) != 1 or type(items[0]) is not OrderItemRef:
        return False
    party = parties[0]
    role = party.role
    if (
        not _plain_ref(party, RelatedParty)
        or type(role) is not str
        or role.lower() != CUSTOMER_ROLE
        or items[0].extras
    ):
        return False
    if chars:
        names = set()
        for c in chars:
            if (
                type(c) is not Characteristic
                or type(c.name) is not str
                or c.extras
                or not _plain_value(c.value)
            ):
                return False
            names.add(c.name)
        if len(names) != len(chars):
            return False
    return (
        p.start_date is None
        and p.termination_date is None
        and p.href is None
        and p.description is None
        and p.product_serial_number is None
        and p.is_bundle is None
        and p.is_customer_visible is None
        and p.realizing_service == ()
        and p.realizing_resource == ()
    )


class Purchases(InventoryRules):
    """``record_purchase`` and the product status moves (a base class of the inventory)."""

    purchasable: frozenset[str]
    # the stored offering last bought and the reference its products hold: one
    # object for all of them (the product repository stores equal parts once)
    _bought: tuple[ProductOffering, EntityRef] | None = None
    _share_party: Callable[[RelatedParty], tuple[RelatedParty, ...]] | None = None

    def record_purchase(
        self,
        *,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        order_item: OrderItemRef,
        characteristics: Sequence[Characteristic] = (),
        name: str | None = None,
        status: str | None = None,
        billing_account: EntityRef | None = None,
    ) -> Product:
        """Create the Product a customer bought through an Order Handling order item.

        Only on a purchasable (Active/Launched, within valid_for) offering; a
        ``status`` past the initial one must meet its state's requirements.
        Idempotent per order item, under any concurrency (the product
        repository's unique key): the same item again returns the stored
        product; the same item for another customer or offering is a ConflictError.
        """
        if (
            not isinstance(order_item, OrderItemRef)
            or not isinstance(customer, PartyRef | RelatedParty)
            or not isinstance(offering_id, str)
        ):
            raise ValidationError("purchase", _purchase_argument_problems(locals()))
        existing = self._products.find_by_order_item(order_item.order_id, order_item.item_id)
        if existing is not None:  # the common replay, without building a product
            return self._same_purchase(existing, customer, offering_id, order_item)
        try:
            return self._create_purchase(
                customer, offering_id, order_item, characteristics, name, status, billing_account
            )
        except DuplicateKeyError as e:  # another caller created it meanwhile
            if e.key != "product_order_item":
                raise
            existing = self._products.get(e.existing_id)
            return self._same_purchase(existing, customer, offering_id, order_item)

    def _create_purchase(
        self,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        order_item: OrderItemRef,
        characteristics: Sequence[Characteristic],
        name: str | None,
        status: str | None,
        billing_account: EntityRef | None,
    ) -> Product:
        offering = self._offerings.get(offering_id)
        now = self._clock.now()
        self._check_purchasable(offering, now)
        lifecycle = self.product_lifecycle
        target = initial = lifecycle.initial
        if status is not None:  # checked before anything is stored
            target = lifecycle.canonical(status)
            if target != initial and target not in lifecycle.allowed_from(initial):
                raise TransitionError(
                    "Product", None, initial, target, lifecycle.allowed_from(initial)
                )
        party = (
            customer
            if isinstance(customer, RelatedParty)
            else customer.as_related_party("customer")
        )
        share_party = self._share_party
        bought = self._bought
        if bought is not None and bought[0] is offering and type(offering_id) is str:
            offering_ref = bought[1]  # the same offering (object), so an equal reference
        else:
            offering_ref = EntityRef(
                id=offering_id,
                name=offering.name,
                href=offering.href,
                referred_type="ProductOffering",
            )
            self._bought = (offering, offering_ref)
        product = Product(
            id=self._ids.new_id("Product"),
            name=name or offering.name,
            product_offering=offering_ref,
            related_party=(party,) if share_party is None else share_party(party),
            product_order_item=(order_item,),
            product_characteristic=tuple(characteristics),
            product_specification=offering.product_specification,
            billing_account=billing_account,
            status=initial,
            order_date=now,
            last_update=now,
            revision=1,
        )
        if not plainly_valid(product):  # the full checks word what is wrong
            label = f"Product for order item {order_item.key}"
            problems = value_limit_problems(product)
            if problems:
                raise ValidationError(label, problems)
            problems = product_problems(product)
        else:
            problems = []
        if self.requirements is not None:
            problems.extend(self._product_gaps(product, offering))
        if problems:
            raise ValidationError(f"Product for order item {order_item.key}", problems)
        if target == initial:
            stored = self._products.add(product)
            self._events.publish("ProductCreateEvent", stored, now=now)
            return stored
        self._check_entering(
            self._moved(product, target, now, now), f"for order item {order_item.key}", target,
            offering,
        )  # fmt: skip
        with self._store.transaction():  # created and moved on together, or not at all
            stored = self._products.add(product)
            moved = self._products.replace(
                self._moved(stored, target, now, now), expected_revision=stored.revision
            )
        self._events.publish("ProductCreateEvent", stored, now=now)
        self._events.publish("ProductStateChangeEvent", moved, "status", now=now)
        return moved

    @staticmethod
    def _moved(product: Product, status: str, now: datetime, moment: datetime) -> Product:
        """``product`` in ``status`` at its next revision, dated on activation/termination."""
        dates: dict[str, Any] = {}
        if status == "active" and product.start_date is None:
            dates["start_date"] = moment
        if status == "terminated" and product.termination_date is None:
            dates["termination_date"] = moment
        return replace(
            product, status=status, last_update=now, revision=product.revision + 1, **dates
        )

    def _check_purchasable(self, offering: ProductOffering, now: datetime) -> None:
        if offering.lifecycle_status not in self.purchasable:
            allowed = " or ".join(repr(s) for s in sorted(self.purchasable))
            raise ConflictError(
                f"ProductOffering {offering.id!r} is {offering.lifecycle_status!r}; "
                f"products can only be bought while it is {allowed}"
            )
        if offering.valid_for is not None and not offering.valid_for.contains(now):
            raise ConflictError(
                f"ProductOffering {offering.id!r} is not valid at {now.isoformat()}"
            )

    def _same_purchase(
        self,
        existing: Product,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        item: OrderItemRef,
    ) -> Product:
        if existing.customer_id != customer.id or existing.product_offering.id != offering_id:
            raise ConflictError(
                f"order item {item.order_id}/{item.item_id} already created Product "
                f"{existing.id!r} for customer {existing.customer_id!r} "
                f"on offering {existing.product_offering.id!r}"
            )
        return existing
