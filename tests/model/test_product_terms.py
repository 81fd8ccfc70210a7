"""``product_terms``' one-party, one-item shortcut gives the terms the general path gives."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given

import etomkit as ek
from etomkit.model.queries import _t, order_item_term, product_terms

_TEXT = st.text(alphabet="ab\\\x1e\x1f", min_size=1, max_size=3)


def _general(product: ek.Product) -> tuple[str, ...]:
    terms = [f"status={_t(product.status)}", f"offering={_t(product.product_offering.id)}"]
    for party in product.related_party:
        if isinstance(party.role, str) and party.role.lower() == "customer":
            terms.append(f"customer={_t(party.id)}")
            break
    terms += [order_item_term(i.order_id, i.item_id) for i in product.product_order_item]
    return tuple(terms)


@given(_TEXT, _TEXT, _TEXT, _TEXT, _TEXT, st.sampled_from(["customer", "Customer", "owner", None]))
def test_the_shortcut_gives_the_general_terms(
    status: str, offering: str, customer: str, order: str, item: str, role: str | None
) -> None:
    product = ek.Product(
        id="p-1",
        status=status,
        product_offering=ek.EntityRef(id=offering),
        related_party=(ek.RelatedParty(id=customer, role=role),),
        product_order_item=(ek.OrderItemRef(order_id=order, item_id=item),),
    )
    assert product_terms(product) == _general(product)
