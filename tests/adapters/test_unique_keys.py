"""The file store keeps enforcing the ports' unique keys after a reopen (issue #10).

(Both stores run UniqueKeyContract inside StoreContract: test_memory, test_file_contracts.)"""

from __future__ import annotations

from pathlib import Path

import pytest

import etomkit as ek


def _product(product_id: str, order_id: str) -> ek.Product:
    return ek.Product(
        id=product_id,
        product_offering=ek.EntityRef(id="po-1"),
        related_party=(ek.RelatedParty(id="cust-1", role="customer"),),
        product_order_item=(ek.OrderItemRef(order_id=order_id, item_id="1"),),
    )


def test_a_reopened_file_store_still_refuses_a_second_product_for_an_order_item(
    tmp_path: Path,
) -> None:
    with ek.FileStore(tmp_path) as store:
        store.products.add(_product("p-1", "ord-1"))
    with ek.FileStore(tmp_path) as store:
        with pytest.raises(ek.DuplicateKeyError) as refused:
            store.products.add(_product("p-2", "ord-1"))
        assert refused.value.existing_id == "p-1"
    with ek.FileStore(tmp_path) as store:  # after a compaction too (rows from the snapshot)
        store.compact()
    with ek.FileStore(tmp_path) as store:
        with pytest.raises(ek.DuplicateKeyError):
            store.products.add(_product("p-3", "ord-1"))
        assert [p.id for p in store.products.iterate()] == ["p-1"]
