"""Modify and delete items: the service's earlier orders, and the follow-up items
that change, keep or recover their resources.

The Planner uses these for every item that is not a plain 'add'; they read the
repositories and write nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from etomkit.errors import Problem
from etomkit.model.issuance import InitiatingRequest, IssuedItem
from etomkit.model.orders import ServiceOrderItem
from etomkit.model.resource_order import (
    CLOSED_ORDER_STATES,
    ResourceOrder,
    ResourceOrderItem,
    ResourceOrderItemRef,
    ResourceOrderItemRelationship,
)
from etomkit.model.resource_spec import SpecificationCheck
from etomkit.model.values import Characteristic
from etomkit.ordering.index import CompiledRule
from etomkit.ordering.ports import OrderingStore
from etomkit.ordering.produce import CompiledTemplate, TemplateBuilder, produced_by

__all__ = ["check_items", "current_orders", "guess_reason", "position", "produce_changes"]

_POSITIONS = tuple(str(i) for i in range(1, 257))


def position(i: int) -> str:
    """The id of the item at index ``i`` of an order ("1", "2", ...)."""
    return _POSITIONS[i] if i < len(_POSITIONS) else str(i + 1)


def current_orders(
    store: OrderingStore, item: ServiceOrderItem
) -> tuple[list[ResourceOrder], str | None]:
    """The service's live orders (its current resources), or why they are unknown."""
    records = store.issuance_records
    service = item.service
    service_id = service.id
    entries: list[IssuedItem] = []
    for related in service.service_order_item:
        if related.service_order_id:
            record = records.find(
                InitiatingRequest.key_of("serviceOrder", related.service_order_id)
            )
            if record is not None:
                entries.extend(e for e in record.items if e.item_id == related.item_id)
    if service_id is not None:
        for record in records.records_for_service(service_id):
            entries.extend(e for e in record.items if e.service_id == service_id)
    what = f"service {service_id!r}" if service_id else f"item {item.id!r}"
    if not entries:
        return [], (
            f"no resource order was issued for {what}; cannot {item.action} its resources "
            "(link_service() links a service to the item that added it)"
        )
    for entry in reversed(entries):
        orders = [store.resource_orders.find(o) for o in entry.resource_orders]
        live = [o for o in orders if o is not None and o.state not in CLOSED_ORDER_STATES]
        if not live:
            continue
        if entry.action == "delete":
            shown = ", ".join(o.id or "?" for o in live)
            return [], f"{what} was deleted by resource order(s) {shown}"
        return live, None
    return [], f"every earlier resource order for {what} was rejected, cancelled or failed"


def guess_reason(matched: Sequence[CompiledRule], action: str) -> str:
    """Why a modify/delete with no known earlier order would be a guess."""
    return (
        f"the rules ({', '.join(str(r.ref) for r in matched)}) {action} resources, "
        "but no earlier resource order is known to say which"
    )


def produce_changes(
    matched: Sequence[CompiledRule],
    action: str,
    values: Mapping[str, Any],
    chars: Sequence[Characteristic],
    earlier: Sequence[ResourceOrder],
    problems: list[Problem],
    builder: Callable[[CompiledTemplate], TemplateBuilder],
    spec_check: Callable[[str], SpecificationCheck | None],
) -> tuple[tuple[ResourceOrderItem, ...], str | None]:
    """The items of a modify/delete: the matched rules' items merged with the earlier
    orders' resources (the rest kept or recovered). Returns (items, why a guess)."""
    if not earlier:
        if any(rule.templates for rule in matched):
            return (), guess_reason(matched, action)
        return (), None
    resources = [(o, it) for o in earlier for it in o.order_item if it.action != "delete"]
    used: set[int] = set()
    items: list[ResourceOrderItem] = []
    merged_items: list[ResourceOrderItem] = []
    merged_by: list[str | None] = []
    guesses: list[str] = []
    for rule in matched:
        for template in rule.templates:
            res_action = template.actions[action]
            item_id = position(len(items))
            built = builder(template)
            if res_action == "add":
                items.append(built.build(item_id, action, values, chars, problems, rule.ref))
                continue
            hit = next(
                (
                    n
                    for n, (_, it) in enumerate(resources)
                    if n not in used
                    and it.resource_specification is not None
                    and it.resource_specification.id == template.spec_id
                ),
                None,
            )
            if hit is None:
                guesses.append(
                    f"rule {rule.ref} would {res_action} a {template.spec_id!r} resource, "
                    "but the service's earlier orders have none"
                )
                continue
            used.add(hit)
            source, old = resources[hit]
            merged = old.characteristic
            if res_action == "modify":
                new = built.characteristics(
                    item_id, values, chars, problems, rule=rule.ref, partial=True
                )
                names = {c.name for c in new}
                merged = tuple(c for c in old.characteristic if c.name not in names) + new
            follow = _follow_up(item_id, res_action, source, old, merged)
            items.append(follow)
            if res_action == "modify":
                merged_items.append(follow)
                merged_by.append(f"rule {rule.ref}")
    rest = "noChange" if action == "modify" else "delete"
    for n, (source, old) in enumerate(resources):
        if n not in used:
            items.append(_follow_up(position(len(items)), rest, source, old, old.characteristic))
    problems.extend(check_items(merged_items, frozenset({"modify"}), merged_by, spec_check))
    if guesses:
        return tuple(items), "; ".join(guesses)
    return tuple(items), None


def check_items(
    items: Sequence[ResourceOrderItem],
    actions: frozenset[str],
    producers: Sequence[str | None],
    spec_check: Callable[[str], SpecificationCheck | None],
) -> list[Problem]:
    """Problems of whole items (merged or preassessed) against their specifications;
    ``producers[i]`` produced ``items[i]`` (named in the messages)."""
    problems: list[Problem] = []
    for item, producer in zip(items, producers, strict=True):
        if item.action not in actions:
            continue
        found = len(problems)
        where = f"order_item[{item.id}]"
        spec = item.resource_specification
        if spec is None or not spec.id:
            problems.append((f"{where}.resource_specification", "is required"))
            continue
        check = spec_check(spec.id)
        if check is None:
            problems.append(
                (f"{where}.resource_specification", f"no ResourceSpecification {spec.id!r}")
            )
            continue
        if spec.version is not None and check.spec.version not in (None, spec.version):
            problems.append(
                (
                    f"{where}.resource_specification.version",
                    f"{spec.version!r}, but ResourceSpecification {spec.id!r} is at "
                    f"version {check.spec.version!r}",
                )
            )
        problems.extend(check.problems({c.name: c.value for c in item.characteristic}, f"{where}."))
        problems[found:] = [(path, produced_by(m, producer)) for path, m in problems[found:]]
    return problems


def _follow_up(
    item_id: str,
    action: str,
    source: ResourceOrder,
    old: ResourceOrderItem,
    characteristic: tuple[Characteristic, ...],
) -> ResourceOrderItem:
    relation = {"modify": "modifies", "delete": "recovers", "noChange": "keeps"}.get(action, action)
    return ResourceOrderItem(
        id=item_id,
        action=action,
        quantity=old.quantity,
        resource_specification=old.resource_specification,
        resource=old.resource,
        characteristic=characteristic,
        order_item_relationship=(
            ResourceOrderItemRelationship(
                relationship_type=relation,
                order_item=ResourceOrderItemRef(
                    item_id=old.id, resource_order_id=source.id, resource_order_href=source.href
                ),
            ),
        ),
    )
