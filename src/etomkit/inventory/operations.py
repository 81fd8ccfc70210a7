"""Every public operation of the inventory: the permission it needs and how its
use is counted. Access control and usage tracking read this table; a test
checks it names every public operation of ProductOfferingInventory."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["INVENTORY_OPERATIONS", "KEYED_READS", "Operation"]


@attrs.frozen
class Operation:
    """One inventory operation.

    ``subject`` says what access control checks a scope against and what the
    usage record names: ``offering-id``/``product-id`` (the first argument),
    ``offering`` (an entity argument), ``purchase`` (``offering_id=``),
    ``offerings``/``products``/``parties`` (a result set, counted),
    ``import`` (a document set).
    """

    name: str
    entity_type: str
    action: str
    subject: str


def _ops(*rows: tuple[str, str, str, str]) -> Mapping[str, Operation]:
    return {
        name: Operation(name, entity, action, subject) for name, entity, action, subject in rows
    }


INVENTORY_OPERATIONS: Mapping[str, Operation] = _ops(
    ("create_offering", "offering", "create", "offering"),
    ("get_offering", "offering", "read", "offering-id"),
    ("find_offering", "offering", "read", "offering-id"),
    ("modify_offering", "offering", "modify", "offering-id"),
    ("update_offering", "offering", "update", "offering"),
    ("transition_offering", "offering", "modify", "offering-id"),
    ("delete_offering", "offering", "delete", "offering-id"),
    ("list_offerings", "offering", "read", "offerings"),
    ("iter_offerings", "offering", "read", "offerings"),
    ("download_offerings", "offering", "download", "offerings"),
    ("import_offerings", "offering", "create", "import"),
    ("record_purchase", "product", "create", "purchase"),
    ("get_product", "product", "read", "product-id"),
    ("find_product", "product", "read", "product-id"),
    ("transition_product", "product", "modify", "product-id"),
    ("modify_product", "product", "modify", "product-id"),
    ("delete_product", "product", "delete", "product-id"),
    ("products_of_customer", "product", "read", "products"),
    ("customers_of_offering", "product", "read", "parties"),
    ("list_products", "product", "read", "products"),
    ("iter_products", "product", "read", "products"),
    ("download_products", "product", "download", "products"),
    ("import_products", "product", "create", "import"),
)

#: Reads by key: the hot path, recorded in batches (see ``etomkit.inventory.usage``).
KEYED_READS = frozenset({"get_offering", "find_offering", "get_product", "find_product"})
