"""The checks of a purchase's product, at the cost of the usual case (issue #13).

:func:`plainly_valid` recognises a product that ``product_problems`` and
``value_limit_problems`` would find nothing in, in a few attribute reads.
:class:`PurchaseMold` builds the products of one offering from a prototype
whose own parts (the offering reference, the specification, the initial
status) were checked once, and :meth:`PurchaseMold.plain` then checks only
what the caller brought: it is True only if ``plainly_valid`` and the
storable test (``etomkit.model.canonical``) both are. Anything else gets the
full checks, which alone word the problems.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from etomkit.inputs import MAX_INTEGER_BITS
from etomkit.model._copy import replacer
from etomkit.model.canonical import _text_ok, storable_test
from etomkit.model.product import CUSTOMER_ROLE, Product
from etomkit.model.queries import TERM_SEP
from etomkit.model.values import NO_EXTRAS, Characteristic, EntityRef, OrderItemRef, RelatedParty

__all__ = [
    "PurchaseMold",
    "plain_term_part",
    "plainly_valid",
    "storable_item",
    "storable_moment",
    "storable_move",
]

_SCALARS = frozenset({str, bool, type(None)})


def plain_term_part(text: str) -> bool:
    """True if ``text`` is ASCII and an index term spells it as it is (``queries._t``
    escapes nothing in it)."""
    return text.isascii() and "\\" not in text and "\x1e" not in text and TERM_SEP not in text


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
    product built by ``record_purchase`` (False: run them to find out)."""
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


def storable_moment(value: object) -> bool:
    """A timezone-aware ``datetime`` (what the storable test asks of a date-time)."""
    return type(value) is datetime and (value.tzinfo is UTC or value.utcoffset() is not None)


def storable_move(moved: Product, stored: Product) -> bool:
    """True only if ``moved`` passes the storable test, for ``moved`` made from the
    stored product ``stored`` by a status move (a new status, ``last_update``,
    revision, and maybe a start or termination date): those values are of exactly
    the types a store keeps (the rest is ``stored``'s, which passed)."""
    status, start, end = moved.status, moved.start_date, moved.termination_date
    return (
        type(moved) is Product
        and type(status) is str
        and (status.isascii() or _text_ok(status))
        and type(moved.revision) is int
        and storable_moment(moved.last_update)
        and (start is stored.start_date or storable_moment(start))
        and (end is stored.termination_date or storable_moment(end))
    )


_storable_product = storable_test(Product)
_storable_party = storable_test(RelatedParty)
storable_item = storable_test(OrderItemRef)
# what a purchase sets, in this order; the other fields come from the prototype
_build = replacer(
    Product,
    "id",
    "name",
    "related_party",
    "product_order_item",
    "product_characteristic",
    "billing_account",
    "order_date",
    "last_update",
)


class PurchaseMold:
    """The products of one offering in one initial status: ``build`` them from a
    prototype (a partial: no call of ours), and ``plain(product)`` checks only the
    parts a purchase set.

    ``usable`` is False when the prototype's own parts would not pass (the mold
    then must not be used: the full checks word what is wrong).
    """

    __slots__ = ("_proto", "build", "head", "key", "usable")

    def __init__(self, offering_ref: EntityRef, spec: EntityRef | None, status: str) -> None:
        self.key = (offering_ref, spec, status)
        self._proto = Product(
            product_offering=offering_ref,
            related_party=(),
            product_specification=spec,
            status=status,
            revision=1,
        )
        # build(id, name, parties, items, characteristics, billing_account, order_date,
        # last_update): the product (revision 1), as Product(...) with them would be
        self.build: Callable[..., Product] = partial(_build, self._proto)
        now = datetime(2025, 1, 1, tzinfo=UTC)
        sample = self.build(
            "p", None, (RelatedParty(id="c", role=CUSTOMER_ROLE),),
            (OrderItemRef(order_id="o", item_id="i"),), (), None, now, now,
        )  # fmt: skip
        # both checks are conjunctions over the fields: a prototype that passes with
        # plain parts of its own passes with any parts that pass ``plain``
        self.usable = plainly_valid(sample) and _storable_product(sample)
        # its products' status and offering index terms, spelled as product_terms
        # spells them; None if the mold is not usable or a part would be escaped
        offering_id = offering_ref.id
        self.head: tuple[str, str] | None = None
        if (
            self.usable
            and type(status) is str
            and type(offering_id) is str
            and plain_term_part(status + offering_id)
        ):
            self.head = (f"status={status}", f"offering={offering_id}")

    @staticmethod
    def plain(p: Product) -> bool:
        """For a product of :meth:`build` on a usable mold: True only if both
        ``plainly_valid(p)`` and the storable test of ``p`` are True."""
        if p.product_characteristic or p.billing_account is not None:
            return plainly_valid(p) and _storable_product(p)  # not the usual case
        v: object = p.id
        if type(v) is not str or not (v.isascii() or _text_ok(v)):
            return False
        v = p.name
        if v is not None and (type(v) is not str or not (v.isascii() or _text_ok(v))):
            return False
        v = p.order_date
        if p.last_update is not v or not storable_moment(v):
            return False
        parties, items = p.related_party, p.product_order_item
        if type(parties) is not tuple or type(items) is not tuple:
            return False
        if len(parties) != 1 or len(items) != 1:
            return False
        party, item = parties[0], items[0]
        if type(party) is not RelatedParty or type(item) is not OrderItemRef:
            return False
        v = party.extras  # empty, as both checks want it: the shared one or an empty dict
        if v is not NO_EXTRAS and (type(v) is not dict or v):
            return False
        v = item.extras
        if v is not NO_EXTRAS and (type(v) is not dict or v):
            return False
        v, role = party.id, party.role
        return (
            type(v) is str
            and bool(v.strip())
            and type(role) is str
            and role.lower() == CUSTOMER_ROLE
            and _storable_party(party)
            and storable_item(item)
        )
