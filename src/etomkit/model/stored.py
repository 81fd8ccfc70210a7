"""Stored entities, for type checkers: an offering or product the store holds has an id.

``StoredOffering`` and ``StoredProduct`` are what the inventory's methods return
(``create_offering``, ``get_offering``, ``record_purchase``, ``list_products()``
…). To a type checker each is a subclass whose ``id`` is ``str`` rather than
``str | None``, so ``inv.transition_offering(offer.id, "Launched")`` type-checks
without an ``assert offer.id is not None``. At run time they *are*
``ProductOffering`` and ``Product`` (aliases: nothing changes, equality and
``isinstance`` included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product

__all__ = ["StoredOffering", "StoredProduct"]

if TYPE_CHECKING:

    class StoredOffering(ProductOffering):
        """A ProductOffering as the store holds it: ``id`` is set."""

        id: str

    class StoredProduct(Product):
        """A Product as the store holds it: ``id`` is set."""

        id: str

else:
    StoredOffering = ProductOffering
    StoredProduct = Product
