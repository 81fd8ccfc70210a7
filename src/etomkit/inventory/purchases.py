"""Recording purchases: the products customers bought through Order Handling
order items, and the status moves of a product (a base class of the inventory).

A purchase builds its product from the stored offering and a few caller
arguments, on a mold per offering (inventory/purchase_checks.py) that checks
the usual case (plain references, scalar characteristics with distinct names)
in a few attribute reads; anything else gets the full checks, which alone word
the problems.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from etomkit.errors import ConflictError, DuplicateKeyError, TransitionError, ValidationError
from etomkit.inputs import value_limit_problems
from etomkit.inventory.helpers import _purchase_argument_problems, characteristics_sequence
from etomkit.inventory.purchase_checks import (
    PurchaseMold,
    plain_term_part,
    plainly_valid,
    storable_item,
    storable_moment,
)
from etomkit.inventory.rules import InventoryRules
from etomkit.model._copy import replacer
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product, product_problems
from etomkit.model.queries import ORDER_ITEM_PREFIX, TERM_SEP
from etomkit.model.values import (
    NO_EXTRAS,
    Characteristic,
    EntityRef,
    OrderItemRef,
    PartyRef,
    RelatedParty,
)
from etomkit.ports import PurchaseWriter

__all__ = ["Purchases", "plainly_valid"]

_CUSTOMER_KINDS = (PartyRef, RelatedParty)  # a tuple: ``A | B`` is built on every call
_PARTY = RelatedParty(id="")
_move = replacer(Product, "status", "last_update", "revision")
_move_dated = replacer(
    Product, "status", "last_update", "revision", "start_date", "termination_date"
)
_MOLDS = 1024  # offerings whose molds are kept (all of them are forgotten past it)
_as_party = replacer(RelatedParty, "id", "role", "name", "href", "referred_type")


class Purchases(InventoryRules):
    """``record_purchase`` and the product status moves (a base class of the inventory)."""

    purchasable: frozenset[str]
    # offering id: the stored offering bought and the mold of its products (one
    # offering reference for all of them: the product repository stores equal parts
    # once), for the offerings bought lately (set by the inventory)
    _molds: dict[str, tuple[ProductOffering, PurchaseMold]]
    _share_party: Callable[[RelatedParty], tuple[RelatedParty, ...]] | None = None
    _purchase_writer: PurchaseWriter | None = None
    _now: Callable[[], datetime] | None = None

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
            type(order_item) is OrderItemRef
            and type(customer) is PartyRef
            and type(offering_id) is str
            and type(characteristics) is tuple
            and not characteristics
            and name is None
            and status is None
            and billing_account is None
        ):  # the usual purchase: the same product, checks and events in fewer steps
            made = self._plain_purchase(customer, offering_id, order_item)
            if made is not None:
                return made
        if (
            not isinstance(order_item, OrderItemRef)
            or not isinstance(customer, _CUSTOMER_KINDS)
            or not isinstance(offering_id, str)
            or not characteristics_sequence(characteristics)
        ):
            raise ValidationError("purchase", _purchase_argument_problems(locals()))
        existing = self._products.find_by_order_item(order_item.order_id, order_item.item_id)
        if existing is not None:  # the common replay, without building a product
            return self._same_purchase(existing, customer, offering_id, order_item)
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
        if type(customer) is PartyRef:  # customer.as_related_party("customer"), by slots
            c = customer
            party = _as_party(_PARTY, c.id, "customer", c.name, c.href, c.referred_type)
        elif isinstance(customer, RelatedParty):
            party = customer
        else:
            party = customer.as_related_party("customer")
        share_party = self._share_party
        parties = (party,) if share_party is None else share_party(party)
        bought = self._molds.get(offering_id)
        if (
            bought is not None
            and bought[0] is offering
            and type(offering_id) is str
            and bought[1].key[2] == initial
        ):
            mold = bought[1]  # the same offering (object), so an equal reference
        else:
            offering_ref = EntityRef(
                id=offering_id,
                name=offering.name,
                href=offering.href,
                referred_type="ProductOffering",
            )
            mold = PurchaseMold(offering_ref, offering.product_specification, initial)
            if type(offering_id) is str:
                if len(self._molds) >= _MOLDS:
                    self._molds.clear()
                self._molds[offering_id] = (offering, mold)
        product = mold.build(
            self._ids.new_id("Product"), name or offering.name, parties, (order_item,),
            tuple(characteristics), billing_account, now, now,
        )  # fmt: skip
        return self._checked_purchase(
            product, mold.usable, offering, customer, offering_id, order_item, target, now
        )

    def _checked_purchase(
        self,
        product: Product,
        moldable: bool,
        offering: ProductOffering,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        order_item: OrderItemRef,
        target: str,
        now: datetime,
    ) -> Product:
        """The rest of ``record_purchase`` for a ``product`` built on a mold (usable if
        ``moldable``): its checks, the write, the events (and the move to ``target``)."""
        # plain: passes the full checks and the stores' storable test (see the mold)
        plain = moldable and PurchaseMold.plain(product)
        if not plain and not plainly_valid(product):  # the full checks word what is wrong
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
        try:
            if target == product.status:
                if plain:  # the port's way to say the storable check is done
                    stored = self._products.add_all((product,), checked=True)[0]
                else:
                    stored = self._products.add(product)
                self._events.publish("ProductCreateEvent", stored, now=now)
                return stored
            self._check_entering(
                self._moved(product, target, now, now), f"for order item {order_item.key}",
                target, offering,
            )  # fmt: skip
            with self._store.transaction():  # created and moved on together, or not at all
                stored = self._products.add(product)
                moved = self._products.replace(
                    self._moved(stored, target, now, now), expected_revision=stored.revision
                )
        except DuplicateKeyError as e:  # another caller created it meanwhile
            if e.key != "product_order_item":
                raise
            existing = self._products.get(e.existing_id)
            return self._same_purchase(existing, customer, offering_id, order_item)
        self._events.publish("ProductCreateEvent", stored, now=now)
        self._events.publish("ProductStateChangeEvent", moved, "status", now=now)
        return moved

    def _plain_purchase(
        self, customer: PartyRef, offering_id: str, item: OrderItemRef
    ) -> Product | None:
        """``record_purchase`` of a plain customer and order item on an offering bought
        before (its mold kept), with nothing else given, on a store that takes index
        terms: None
        (before anything is read from the clock or the id factory) when the general
        path must decide, which alone words problems, replays and conflicts."""
        writer, bought = self._purchase_writer, self._molds.get(offering_id)
        if writer is None or bought is None or self.requirements is not None:
            return None
        offering, mold = bought
        head = mold.head  # None unless the mold is usable
        if head is None or mold.key[2] != self.product_lifecycle.initial:
            return None
        cid, order, line, label = customer.id, item.order_id, item.item_id, offering.name
        kind = customer.referred_type  # a customer of only an id (and the default kind)
        if customer.name is not None or customer.href is not None:
            return None
        if not (type(cid) is type(order) is type(line) is type(kind) is type(label) is str):
            return None
        if not plain_term_part(cid + order + line + kind + label) or not cid.strip():
            return None
        if item.extras is not NO_EXTRAS or not storable_item(item):
            return None
        held, parties_of, add = writer
        item_term = f"{ORDER_ITEM_PREFIX}{order}{TERM_SEP}{line}"
        if held(item_term) or self._offerings.get(offering_id) is not offering:
            return None  # a replay or a conflict; another offering
        now = (self._now or self._clock.now)()
        if offering.valid_for is not None or offering.lifecycle_status not in self.purchasable:
            self._check_purchasable(offering, now)
        product = mold.build(
            self._ids.new_id("Product"), label, parties_of(cid, kind), (item,), (), None, now, now
        )
        pid = product.id
        terms = (*head, f"customer={cid}", item_term)
        if type(pid) is not str or not pid.isascii() or not storable_moment(now):
            # an id factory's or a clock's own values: the full checks
            return self._checked_purchase(
                product, True, offering, customer, offering_id, item, product.status, now
            )
        try:
            stored = add(product, terms, item_term)
        except DuplicateKeyError as e:  # another caller created it meanwhile
            if e.key != "product_order_item":
                raise
            return self._same_purchase(
                self._products.get(e.existing_id), customer, offering_id, item
            )
        self._events.publish("ProductCreateEvent", stored, now=now)
        return stored

    @staticmethod
    def _moved(product: Product, status: str, now: datetime, moment: datetime) -> Product:
        """``product`` in ``status`` at its next revision, dated on activation/termination."""
        moved: Product
        if status == "active" and product.start_date is None:
            moved = _move_dated(
                product, status, now, product.revision + 1, moment, product.termination_date
            )
        elif status == "terminated" and product.termination_date is None:
            moved = _move_dated(
                product, status, now, product.revision + 1, product.start_date, moment
            )
        else:
            moved = _move(product, status, now, product.revision + 1)
        return moved

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
