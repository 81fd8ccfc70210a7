"""The inventory and its client sessions as type checkers see them: what they
return is stored, so its ``id`` is ``str`` (see :mod:`etomkit.model.stored`).

At run time this module only re-exports :class:`ProductOfferingInventory` and
:class:`ClientSession`; for a type checker they are subclasses whose methods
return :data:`StoredOffering` / :data:`StoredProduct`. ``mypy`` checks each
narrowed signature against the implementation's, so the two cannot drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etomkit.inventory.service import ProductOfferingInventory as _Inventory
from etomkit.inventory.session import ClientSession as _Session

__all__ = ["ClientSession", "ProductOfferingInventory"]

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import datetime
    from typing import Any

    from etomkit.model import Characteristic, EntityRef, OrderItemRef, PartyRef, RelatedParty
    from etomkit.model.offering import ProductOffering
    from etomkit.model.queries import OfferingFilter, Page, ProductFilter
    from etomkit.model.stored import StoredOffering, StoredProduct

    class _StoredReads:
        """The entity-returning operations, returning stored entities."""

        def create_offering(self, offering: ProductOffering) -> StoredOffering: ...
        def get_offering(self, offering_id: str) -> StoredOffering: ...
        def find_offering(self, offering_id: str) -> StoredOffering | None: ...
        def modify_offering(
            self,
            offering_id: str,
            changes: Mapping[str, Any],
            *,
            expected_revision: int | None = None,
        ) -> StoredOffering: ...
        def update_offering(self, offering: ProductOffering) -> StoredOffering: ...
        def transition_offering(
            self, offering_id: str, target: str, *, reason: str | None = None
        ) -> StoredOffering: ...
        def delete_offering(
            self, offering_id: str, *, expected_revision: int | None = None
        ) -> StoredOffering: ...
        def list_offerings(
            self,
            where: OfferingFilter | None = None,
            *,
            offset: int = 0,
            limit: int | None = 100,
            **criteria: Any,
        ) -> Page[StoredOffering]: ...
        def iter_offerings(
            self, where: OfferingFilter | None = None, **criteria: Any
        ) -> Iterator[StoredOffering]: ...
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
        ) -> StoredProduct: ...
        def get_product(self, product_id: str) -> StoredProduct: ...
        def find_product(self, product_id: str) -> StoredProduct | None: ...
        def transition_product(
            self, product_id: str, target: str, *, when: datetime | None = None
        ) -> StoredProduct: ...
        def modify_product(
            self,
            product_id: str,
            changes: Mapping[str, Any],
            *,
            expected_revision: int | None = None,
        ) -> StoredProduct: ...
        def list_products(
            self,
            where: ProductFilter | None = None,
            *,
            offset: int = 0,
            limit: int | None = 100,
            **criteria: Any,
        ) -> Page[StoredProduct]: ...
        def iter_products(
            self, where: ProductFilter | None = None, **criteria: Any
        ) -> Iterator[StoredProduct]: ...

    class ProductOfferingInventory(_StoredReads, _Inventory):
        """:class:`etomkit.inventory.ProductOfferingInventory`, returning stored entities."""

        def as_client(self, secret: str) -> ClientSession: ...

    class ClientSession(_StoredReads, _Session):
        """:class:`etomkit.inventory.session.ClientSession` (a capability, not an
        inventory), its operations returning stored entities."""

        def __enter__(self) -> ClientSession: ...

else:
    ProductOfferingInventory = _Inventory
    ClientSession = _Session
