"""Query filters and result pages for repositories (pure values)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Generic, TypeVar

import attrs

from etomkit.errors import ValidationError
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.notebook.display import Tabular

__all__ = [
    "ORDER_ITEM_PREFIX",
    "TERM_SEP",
    "OfferingFilter",
    "Page",
    "check_page_bounds",
    "ProductFilter",
    "offering_terms",
    "order_item_term",
    "product_terms",
]

T = TypeVar("T", covariant=True)  # a Page of stored offerings is a Page of offerings


def _as_set(value: str | Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


# Index terms: the strings a repository may index an entity under, so that
# filtered queries and reopening a durable store need not decode every record.
_SEP = "\x1f"  # joins the two halves of an order item term
_STORE_SEP = "\x1e"  # separates terms in a durable store's records: never inside a term


def _t(value: object) -> str:
    """``value`` as a term part: backslash-escaped so that it holds no separator and
    different values never give the same term."""
    text = str(value)
    if "\\" in text or _STORE_SEP in text or _SEP in text:
        text = text.replace("\\", "\\\\").replace(_STORE_SEP, "\\1e").replace(_SEP, "\\1f")
    return text


#: The prefix of order item terms (a unique key of the product repository).
ORDER_ITEM_PREFIX = "item="
#: Joins the order and item halves of an order item term.
TERM_SEP = _SEP


def order_item_term(order_id: str, item_id: str) -> str:
    """The index term of one Order Handling order item."""
    return f"{ORDER_ITEM_PREFIX}{_t(order_id)}{_SEP}{_t(item_id)}"


def offering_terms(offering: ProductOffering) -> tuple[str, ...]:
    """Index terms of an offering: its status, categories and name."""
    return (
        f"status={_t(offering.lifecycle_status)}",
        f"name={_t(offering.name)}",
        *[f"category={_t(c.id)}" for c in offering.category],
    )


def product_terms(product: Product) -> tuple[str, ...]:
    """Index terms of a product: status, offering, customer and order items."""
    parties, items = product.related_party, product.product_order_item
    if len(parties) == 1 and len(items) == 1:  # the usual shape, its values checked at once
        status, offering, party, item = (
            product.status,
            product.product_offering.id,
            *parties,
            *items,
        )
        role, customer = getattr(party, "role", None), getattr(party, "id", None)
        order, line = item.order_id, item.item_id
        if (
            type(status) is str
            and type(offering) is str
            and type(role) is str
            and type(customer) is str
            and type(order) is str
            and type(line) is str
        ):
            joined = f"{status}{offering}{customer}{order}{line}"
            if "\\" not in joined and _STORE_SEP not in joined and _SEP not in joined:
                if role.lower() != "customer":
                    return (
                        f"status={status}",
                        f"offering={offering}",
                        f"{ORDER_ITEM_PREFIX}{order}{_SEP}{line}",
                    )
                return (
                    f"status={status}",
                    f"offering={offering}",
                    f"customer={customer}",
                    f"{ORDER_ITEM_PREFIX}{order}{_SEP}{line}",
                )
    terms = [f"status={_t(product.status)}", f"offering={_t(product.product_offering.id)}"]
    for party in product.related_party:
        role = getattr(party, "role", None)
        if isinstance(role, str) and role.lower() == "customer":
            terms.append(f"customer={_t(party.id)}")
            break
    for item in product.product_order_item:
        terms.append(order_item_term(item.order_id, item.item_id))
    return tuple(terms)


@attrs.frozen(kw_only=True)
class OfferingFilter:
    """Select offerings by lifecycle status (one or several), category id or exact name."""

    lifecycle_status: frozenset[str] | None = attrs.field(default=None, converter=_as_set)
    category_id: str | None = None
    name: str | None = None

    def matches(self, offering: ProductOffering) -> bool:
        """True if ``offering`` passes every set criterion."""
        if (
            self.lifecycle_status is not None
            and offering.lifecycle_status not in self.lifecycle_status
        ):
            return False
        if self.category_id is not None and self.category_id not in offering.category_ids:
            return False
        return self.name is None or offering.name == self.name

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.category_id is not None:
            sets.append([f"category={_t(self.category_id)}"])
        if self.name is not None:
            sets.append([f"name={_t(self.name)}"])
        if self.lifecycle_status is not None:
            sets.append([f"status={_t(s)}" for s in sorted(self.lifecycle_status)])
        return sets


@attrs.frozen(kw_only=True)
class ProductFilter:
    """Select products by status (one or several), customer id or offering id."""

    status: frozenset[str] | None = attrs.field(default=None, converter=_as_set)
    customer_id: str | None = None
    offering_id: str | None = None

    def matches(self, product: Product) -> bool:
        """True if ``product`` passes every set criterion."""
        if self.status is not None and product.status not in self.status:
            return False
        if self.customer_id is not None and product.customer_id != self.customer_id:
            return False
        return self.offering_id is None or product.product_offering.id == self.offering_id

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.customer_id is not None:
            sets.append([f"customer={_t(self.customer_id)}"])
        if self.offering_id is not None:
            sets.append([f"offering={_t(self.offering_id)}"])
        if self.status is not None:
            sets.append([f"status={_t(s)}" for s in sorted(self.status)])
        return sets


@attrs.frozen
class Page(Tabular, Generic[T]):
    """One page of a query: ``items``, the ``total`` matching, and where it starts."""

    items: tuple[T, ...]
    total: int
    offset: int
    limit: int | None

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per item: id, name, status, revision (and the customer or
        categories for products and offerings)."""
        return [_summary(item) for item in self.items]

    def _display_title(self) -> str:
        end = self.offset + len(self.items)
        return f"Page: items {self.offset + 1 if self.items else 0}-{end} of {self.total}"

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or None if this is the last."""
        end = self.offset + len(self.items)
        return end if end < self.total else None


def check_page_bounds(offset: object, limit: object) -> None:
    """Refuse a page's ``offset``/``limit`` unless both are non-negative integers
    (``limit`` may be None): the same ValidationError from every store."""
    if (
        type(offset) is not int
        or offset < 0
        or (limit is not None and (type(limit) is not int or limit < 0))
    ):
        raise ValidationError("query", [("offset/limit", "must be non-negative integers")])


def _summary(item: Any) -> dict[str, Any]:
    """The row of one listed entity (an offering, a product or anything with an id)."""
    if isinstance(item, ProductOffering):
        return {
            "id": item.id,
            "name": item.name,
            "lifecycle_status": item.lifecycle_status,
            "category": ", ".join(c.id for c in item.category),
            "revision": item.revision,
        }
    if isinstance(item, Product):
        roles = ((p.id, getattr(p, "role", None)) for p in item.related_party)
        customer = next(
            (pid for pid, role in roles if isinstance(role, str) and role.lower() == "customer"),
            None,
        )
        return {
            "id": item.id,
            "name": item.name,
            "status": item.status,
            "customer_id": customer,
            "offering_id": item.product_offering.id,
            "revision": item.revision,
        }
    return {"id": getattr(item, "id", None), "item": repr(item)}
