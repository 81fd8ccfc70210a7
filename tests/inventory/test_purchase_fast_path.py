"""The usual purchase's short path (issue #13): ``record_purchase`` of a plain customer
and order item on an in-memory store takes index terms the mold spells and skips
the general checks. It must do exactly what the general path does: the same
products, ids, clock readings, events, index, errors, replays and conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit.adapters.memory import InMemoryProductRepository
from etomkit.adapters.runtime import ManualClock, SequentialIdFactory
from etomkit.model.queries import product_terms

NOW = datetime(2025, 1, 1, tzinfo=UTC)

# texts a term escapes, a store refuses (a lone surrogate) or the checks refuse (blank)
_texts = st.one_of(
    st.sampled_from(
        ["c-1", "c-2", " c-1", "po-1", "1", " ", "", "a\\b", "a\x1fb", "a\x1eb", "é", "\ud800"]
    ),
    st.text(max_size=4),
)
_optional = st.none() | _texts


class _Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, datetime, Any, str | None]] = []

    def publish(self, event: ek.Event) -> None:
        self.events.append((event.event_type, event.event_time, event.entity, event.field_path))


def _inventory(short: bool, clock_step: timedelta, zone: Any) -> tuple[Any, _Sink]:
    sink = _Sink()
    inv = ek.ProductOfferingInventory(
        ek.InMemoryStore(),
        events=sink,
        clock=ManualClock(datetime(2025, 1, 1, tzinfo=zone), step=clock_step),
        ids=SequentialIdFactory(),
    )
    if not short:  # the general path alone: as if the store had no purchase writer
        inv._purchase_writer = None
    offering = inv.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active", "Launched"):
        inv.transition_offering(offering.id or "", status)
    return inv, sink


_purchases = st.lists(
    st.fixed_dictionaries(
        {
            "customer": st.builds(
                ek.PartyRef,
                id=_texts,
                name=st.none() | st.none() | _texts,
                href=st.none(),
                referred_type=st.sampled_from(["Customer", "Individual", "\\x"]),
            ),
            "order_item": st.builds(
                ek.OrderItemRef,
                order_id=st.from_regex(r"po-[0-9]", fullmatch=True) | _texts,
                item_id=st.sampled_from(["1", "2"]) | _texts,
                action=st.none() | st.sampled_from(["add", "\ud800", "\\"]) | _texts,
            ),
        }
    ),
    min_size=2,
    max_size=8,
)


def _outcome(inv: Any, **kwargs: Any) -> Any:
    try:
        return inv.record_purchase(offering_id=inv._bought_offering_id, **kwargs)
    except ek.EtomkitError as e:
        return (type(e).__name__, str(e))


@settings(max_examples=200, deadline=None)
@given(
    purchases=_purchases,
    step=st.sampled_from([timedelta(0), timedelta(seconds=1)]),
    zone=st.sampled_from([UTC, timezone(timedelta(hours=2))]),
)
def test_the_short_path_does_what_the_general_path_does(
    purchases: list[dict[str, Any]], step: timedelta, zone: Any
) -> None:
    short, short_sink = _inventory(True, step, zone)
    general, general_sink = _inventory(False, step, zone)
    for inv in (short, general):
        inv._bought_offering_id = inv.list_offerings().items[0].id
    for purchase in purchases + purchases[:2]:  # and replays, or conflicts
        assert _outcome(short, **purchase) == _outcome(general, **purchase)
    assert short_sink.events == general_sink.events
    assert short._products._by_term == general._products._by_term
    assert list(short.iter_products()) == list(general.iter_products())
    for product in short.iter_products():  # the terms it was indexed under: product_terms'
        for term in product_terms(product):
            held = short._products._by_term[term]
            assert product.id == held or product.id in held


def test_the_usual_purchase_takes_the_short_path() -> None:
    """The bench's purchase (an id-only customer) is written with the mold's terms."""
    inv, sink = _inventory(True, timedelta(0), UTC)
    offering = inv.list_offerings().items[0]
    writes: list[tuple[str, ...]] = []
    held, parties, add = inv._purchase_writer

    def spy(product: ek.Product, terms: tuple[str, ...], item_term: str) -> ek.Product:
        writes.append(terms)
        stored: ek.Product = add(product, terms, item_term)
        return stored

    inv._purchase_writer = (held, parties, spy)
    first = inv.record_purchase(  # the offering's first: the general path makes its mold
        customer=ek.PartyRef(id="c-0"),
        offering_id=offering.id,
        order_item=ek.OrderItemRef(order_id="po-0", item_id="1"),
    )
    assert writes == [] and first.customer_id == "c-0"
    p = inv.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=offering.id,
        order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
    )
    assert writes == [product_terms(p)]
    assert p.customer_id == "c-1" and p.revision == 1 and p.status == "created"
    assert [e[0] for e in sink.events[-2:]] == ["ProductCreateEvent"] * 2
    again = inv.record_purchase(  # a replay: the stored product, nothing written
        customer=ek.PartyRef(id="c-1"),
        offering_id=offering.id,
        order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
    )
    assert again == p and len(writes) == 1


def test_a_store_of_its_own_write_keeps_the_general_path() -> None:
    """A repository subclass that writes its own way gets no purchase writer."""

    store = ek.InMemoryStore()
    added: list[str] = []
    repo: Any = store.products

    class Own(InMemoryProductRepository):
        def add(self, entity: ek.Product) -> ek.Product:
            added.append(entity.id or "")
            stored: ek.Product = super().add(entity)
            return stored

    repo.__class__ = Own
    assert repo.purchase_writer() is None
    inv = ek.ProductOfferingInventory(store)
    offering = inv.create_offering(ek.ProductOffering(name="Fibre"))
    for status in ("In design", "In test", "Active", "Launched"):
        inv.transition_offering(offering.id or "", status)
    p = inv.record_purchase(
        customer=ek.PartyRef(id="c-1"),
        offering_id=offering.id or "",
        order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
    )
    assert added == [p.id]


def test_a_customer_s_products_share_one_party_tuple_of_their_kind() -> None:
    """The short path's parties are shared per customer, and only when equal."""
    inv, _ = _inventory(True, timedelta(0), UTC)
    offering_id = inv.list_offerings().items[0].id

    def buy(n: int, customer: ek.PartyRef) -> ek.Product:
        item = ek.OrderItemRef(order_id=f"po-{n}", item_id="1")
        p: ek.Product = inv.record_purchase(
            customer=customer, offering_id=offering_id, order_item=item
        )
        return p

    first, second, third = (buy(n, ek.PartyRef(id="c-1")) for n in range(3))
    other_kind = buy(3, ek.PartyRef(id="c-1", referred_type="Individual"))
    assert second.related_party is third.related_party  # both by the short path
    assert first.related_party == second.related_party
    assert other_kind.related_party != third.related_party
    assert other_kind.related_party[0].referred_type == "Individual"
    assert buy(4, ek.PartyRef(id="c-1")).related_party[0].referred_type == "Customer"


def _deep_list(depth: int) -> list[Any]:
    deep: list[Any] = []
    inner = deep
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return deep


@pytest.mark.parametrize(
    ("characteristics", "shown"),
    [(5, "not int 5"), (None, "not NoneType None"), ("ab", "not str 'ab'"), (b"x", "bytes")],
)
def test_characteristics_that_are_no_sequence_are_refused_by_name(
    characteristics: Any, shown: str
) -> None:
    """Not a bare TypeError from ``tuple(5)``, and a text is not a list of letters."""
    inv, _ = _inventory(True, timedelta(0), UTC)
    offering_id = inv.list_offerings().items[0].id
    with pytest.raises(ek.ValidationError) as caught:
        inv.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id=offering_id,
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
            characteristics=characteristics,
        )
    assert caught.value.problems[0][0] == "characteristics"
    assert shown in caught.value.problems[0][1]
    assert list(inv.iter_products()) == []


def test_an_argument_that_cannot_be_shown_is_named_by_its_type() -> None:
    inv, _ = _inventory(True, timedelta(0), UTC)
    with pytest.raises(ek.ValidationError) as caught:
        inv.record_purchase(
            customer=_deep_list(100_000),
            offering_id=inv.list_offerings().items[0].id,
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
        )
    assert caught.value.problems == (
        ("customer", "must be a PartyRef or RelatedParty (ek.PartyRef(id=...)), not list <list>"),
    )
