"""Entities made without extras share one immutable empty mapping (issue #13: memory)."""

from __future__ import annotations

import copy
import pickle

import attrs
import pytest

import etomkit as ek
from etomkit import tmf
from etomkit.model.canonical import storable_test
from etomkit.model.values import NO_EXTRAS


def _product(**changes: object) -> ek.Product:
    return ek.Product(
        id="p-1",
        product_offering=ek.EntityRef(id="po-1", referred_type="ProductOffering"),
        related_party=(ek.RelatedParty(id="c-1", role="customer"),),
        product_order_item=(ek.OrderItemRef(order_id="o-1", item_id="1"),),
        product_characteristic=(ek.Characteristic(name="speed", value=10),),
        **changes,  # type: ignore[arg-type]
    )


def test_default_extras_are_one_shared_object() -> None:
    p = _product()
    holders: list[ek.Product | ek.EntityRef | ek.RelatedParty | ek.OrderItemRef | ek.Characteristic]
    holders = [p, p.product_offering, p.related_party[0], p.product_order_item[0]]
    holders.append(p.product_characteristic[0])
    assert all(h.extras is NO_EXTRAS for h in holders)


def test_shared_extras_equal_a_fresh_empty_dict() -> None:
    p = _product()
    given = _product(extras={})
    assert p == given and given == p
    assert hash(p) == hash(given)
    assert repr(p) == repr(given)
    assert p != _product(extras={"x": 1})


def test_shared_extras_refuse_changes() -> None:
    extras = _product().extras
    with pytest.raises(TypeError, match="cannot be changed"):
        extras["x"] = 1  # type: ignore[index]
    for change in ("update", "setdefault", "pop", "clear", "popitem"):
        with pytest.raises(TypeError):
            getattr(extras, change)("x")
    assert extras == {}


def test_copy_pickle_and_json_keep_the_shared_extras() -> None:
    p = _product()
    for back in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert back == p and back.extras is NO_EXTRAS
    doc = tmf.to_json(p)
    assert "extras" not in doc
    read = tmf.from_json(ek.Product, doc)
    assert read == p and read.extras is NO_EXTRAS
    with_extras = tmf.from_json(ek.Product, {**doc, "x-note": "kept"})
    assert with_extras.extras == {"x-note": "kept"}
    assert attrs.evolve(with_extras, extras={}) == p


def test_a_store_accepts_the_shared_extras() -> None:
    assert storable_test(ek.Product)(_product())  # the fast check, not only the full one
    store = ek.InMemoryStore()
    stored = store.products.add(_product())
    assert stored == _product(revision=1)
    assert store.products.get("p-1").extras is NO_EXTRAS
