"""Index terms never confuse two different values, whatever characters ids and names hold."""

from __future__ import annotations

from pathlib import Path

import pytest

import etomkit as ek

TRICKY = ["a\x1eb", "a\ufffdb", "a\\1eb", "a\\b", "a\x1fb", "a\\1fb", "plain"]


def _store(kind: str, tmp_path: Path) -> ek.InMemoryStore | ek.FileStore:
    return ek.InMemoryStore() if kind == "memory" else ek.FileStore(tmp_path / "s")


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_names_that_look_alike_are_queried_apart(kind: str, tmp_path: Path) -> None:
    store = _store(kind, tmp_path)
    for n, name in enumerate(TRICKY):
        store.offerings.add(ek.ProductOffering(id=f"po-{n}", name=name))
    for n, name in enumerate(TRICKY):
        hits = store.offerings.query(ek.OfferingFilter(name=name)).items
        assert [o.id for o in hits] == [f"po-{n}"], repr(name)
    store.close()


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_order_items_whose_ids_hold_the_separator_are_found_apart(
    kind: str, tmp_path: Path
) -> None:
    store = _store(kind, tmp_path)
    store.products.add(
        ek.Product(
            id="pr-1",
            product_offering=ek.EntityRef(id="po-1"),
            related_party=(ek.RelatedParty(id="c", role="customer"),),
            product_order_item=(ek.OrderItemRef(order_id="o\x1f1", item_id="2"),),
        )
    )
    assert store.products.find_by_order_item("o", "1\x1f2") is None
    found = store.products.find_by_order_item("o\x1f1", "2")
    assert found is not None and found.id == "pr-1"
    if isinstance(store, ek.FileStore):  # and the same after reopening
        store.close()
        store = ek.FileStore(tmp_path / "s")
        assert store.products.find_by_order_item("o", "1\x1f2") is None
        assert store.products.find_by_order_item("o\x1f1", "2") is not None
    store.close()


def test_a_set_of_statuses_is_a_filter_criterion() -> None:
    store = ek.InMemoryStore()
    store.offerings.add(ek.ProductOffering(id="po-1", name="x"))
    assert store.offerings.query(ek.OfferingFilter(lifecycle_status={"In study"})).total == 1
