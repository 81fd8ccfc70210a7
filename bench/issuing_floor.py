"""The TMF-required object floor of issuing, for bench/issuing.py.

Per request item, what ``ResourceOrderIssuer.issue()`` must build and nothing
else: one ``ResourceOrder`` (its id, its tuple of order items, the order items
that vary per item; the ONT, GPON-port and IP items are shared, as the issuer
shares them) and one ``IssuedItem`` record entry; per request one
``ExternalEntityId`` (the orders' ``externalReference``) and the
``IssuanceRecord`` with its tuple of entries. Every object is made by trusted
construction (``etomkit.ordering._fast.factory``: slots written directly, no
``__init__``, no checks). No rules are matched, nothing is checked or stored:
what each item becomes is read once from a reference ``issue()`` run
(:func:`floor_plan`), and :func:`build_floor` rebuilds it. ``check_floor``
checks, untimed, that the floor builds objects equal to the issuer's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs

from etomkit.model.issuance import InitiatingRequest, IssuanceRecord, IssuedItem
from etomkit.model.resource_order import ExternalEntityId, ResourceOrder, ResourceOrderItem
from etomkit.model.values import Characteristic
from etomkit.ordering import IssuanceResult
from etomkit.ordering._fast import factory

__all__ = ["FloorPlan", "build_floor", "check_floor", "floor_plan"]

# The fields of a non-standard entry (special, noChange) that the floor sets.
_OTHER = (
    "item_id",
    "action",
    "outcome",
    "service_id",
    "service_specification",
    "rules",
    "reason",
    "resource_orders",
)
_VARYING = frozenset({"vlan"})  # resource specifications whose items copy service values

# Per item: (True, item id, spec id, rule refs, items before, (position, chars) | None,
# items after) for a standard order; (False, reference entry, reference order | None).
ItemPlan = tuple[Any, ...]
FloorPlan = list[tuple[InitiatingRequest, str, list[ItemPlan]]]


def floor_plan(requests: Sequence[InitiatingRequest], results: Sequence[Any]) -> FloorPlan:
    """What each item of ``requests`` became in a reference run (``results``, from issue())."""
    plan: FloorPlan = []
    for request, result in zip(requests, results, strict=True):
        if not isinstance(result, IssuanceResult):
            raise TypeError(f"the reference run failed for {request.key}: {result!r}")
        orders = {o.id: o for o in result.orders}
        items: list[ItemPlan] = []
        for entry in result.record.items:
            order = orders[entry.resource_orders[0]] if entry.resource_orders else None
            standard = (
                order is not None
                and entry.outcome == "standard"
                and not order.special_handling
                and not entry.supersedes
                and entry.feasibility_assessment is None
            )
            if not standard or order is None:
                items.append((False, entry, order))
                continue
            before: list[ResourceOrderItem] = []
            after: list[ResourceOrderItem] = []
            varying: tuple[str, list[Characteristic]] | None = None
            for it in order.order_item:
                spec = it.resource_specification
                if spec is not None and spec.id in _VARYING and varying is None:
                    varying = (it.id, list(it.characteristic))
                else:
                    (before if varying is None else after).append(it)
            items.append(
                (
                    True,
                    entry.item_id,
                    entry.service_specification,
                    entry.rules,
                    tuple(before),
                    varying,
                    tuple(after),
                )
            )
        plan.append((request, result.record.id, items))
    return plan


def build_floor(
    plan: FloorPlan,
    now: datetime,
    proto: ResourceOrder,
    varying_proto: ResourceOrderItem,
    new_id: Callable[[], str] | None = None,
) -> tuple[list[ResourceOrder], list[IssuanceRecord]]:
    """Build every order, order item, entry and record of ``plan`` (trusted construction).

    ``proto``: an issued order (its constant fields are copied); ``varying_proto``:
    an issued order item of a varying specification. ``new_id``: order ids (default
    a prefix and a counter, as the issuer makes them)."""
    if new_id is None:
        counter = itertools.count(1)
        prefix = "floor-0123456789abcdef-"

        def new_id() -> str:
            return f"{prefix}{next(counter)}"

    cleared: dict[str, Any] = {"id": "", "order_item": (), "special_handling": False}
    cleared["special_handling_reason"] = None
    proto = factory(proto, *cleared)(*cleared.values())
    new_order = factory(proto, "id", "order_item", "order_date", "external_reference")
    new_special = factory(
        proto,
        "id",
        "order_item",
        "order_date",
        "external_reference",
        "special_handling",
        "special_handling_reason",
    )
    new_item = factory(varying_proto, "id", "characteristic")
    new_entry = factory(
        IssuedItem(item_id="", action="add", outcome="standard"),
        "item_id",
        "service_specification",
        "rules",
        "resource_orders",
    )
    new_other = factory(IssuedItem(item_id="", action="add", outcome="standard"), *_OTHER)
    new_ext = factory(
        ExternalEntityId(id="", owner="", entity_type=""), "id", "owner", "entity_type"
    )
    first = plan[0][0]
    new_record = factory(
        IssuanceRecord(id="", request=first, items=(), revision=1),
        "id",
        "request",
        "items",
        "issued_at",
    )
    orders: list[ResourceOrder] = []
    records: list[IssuanceRecord] = []
    add_order = orders.append
    for request, key, items in plan:
        ext = (new_ext(request.id, request.source, request.kind),)
        entries: list[IssuedItem] = []
        add_entry = entries.append
        for p in items:
            if p[0]:
                _, item_id, spec_id, refs, before, varying, after = p
                order_id = new_id()
                if varying is None:
                    order_items = (*before, *after)
                else:
                    order_items = (*before, new_item(varying[0], tuple(varying[1])), *after)
                add_order(new_order(order_id, order_items, now, ext))
                add_entry(new_entry(item_id, spec_id, refs, (order_id,)))
                continue
            _, entry, order = p
            order_ids: tuple[str, ...] = ()
            if order is not None:
                order_id = new_id()
                order_ids = (order_id,)
                add_order(
                    new_special(
                        order_id,
                        order.order_item,
                        now,
                        ext,
                        order.special_handling,
                        order.special_handling_reason,
                    )
                )
            add_entry(
                new_other(
                    entry.item_id,
                    entry.action,
                    entry.outcome,
                    entry.service_id,
                    entry.service_specification,
                    entry.rules,
                    entry.reason,
                    order_ids,
                )
            )
        records.append(new_record(key, request, tuple(entries), now))
    return orders, records


def protos(results: Sequence[IssuanceResult]) -> tuple[ResourceOrder, ResourceOrderItem]:
    """An issued standard order and an issued item of a varying specification."""
    for result in results:
        for order in result.orders:
            for it in order.order_item:
                spec = it.resource_specification
                if spec is not None and spec.id in _VARYING and not order.special_handling:
                    return order, it
    raise ValueError("no standard order with a varying item in the reference run")


def check_floor(plan: FloorPlan, results: Sequence[IssuanceResult]) -> str | None:
    """None if the floor builds exactly the reference orders and records (given the
    same ids and clock reading), else how they differ (the issuer changed what it builds)."""
    ids: Iterator[str] = (o.id or "" for r in results for o in r.orders)
    now = results[0].record.issued_at
    if now is None:
        return "the reference record has no issued_at"
    proto, varying = protos(results)
    orders, records = build_floor(plan, now, proto, varying, ids.__next__)
    expected = [o for r in results for o in r.orders]
    if len(orders) != len(expected):
        return f"the floor builds {len(orders)} orders, the issuer {len(expected)}"
    for got, want in zip(orders, expected, strict=True):
        if attrs.evolve(got, order_date=want.order_date) != want:  # one clock read per issue()
            return f"order {want.id} differs from the issuer's"
    for got_r, result in zip(records, results, strict=True):
        if attrs.evolve(got_r, issued_at=result.record.issued_at) != result.record:
            return f"record {result.record.id} differs from the issuer's"
    return None
