"""Building resource order items from rule templates, checked against their specification.

A :class:`CompiledTemplate` is an ItemTemplate ready to use; bound to the
ResourceSpecification its items must satisfy it becomes a
:class:`TemplateBuilder`, which does everything it can once: constant and
mapped characteristics are built and checked when it is made, so an item
costs little more than copying the characteristics that vary.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from etomkit.errors import Problem
from etomkit.model.orders import ORDER_ITEM_ACTIONS
from etomkit.model.resource_order import ResourceOrderItem
from etomkit.model.resource_spec import ResourceSpecification, SpecificationCheck
from etomkit.model.values import Characteristic
from etomkit.ordering._fast import factory
from etomkit.ordering.rules import MISSING, FromService, ItemTemplate

__all__ = [
    "CONST",
    "COPY",
    "MAPPED",
    "CompiledTemplate",
    "TemplateBuilder",
    "original_characteristic",
    "produced_by",
]

#: The kinds of a builder's slots: a constant, a mapped value, a copied value.
CONST, MAPPED, COPY = 0, 1, 2

Entry = tuple[Characteristic, str | None]  # a prepared characteristic and its problem


def _typed(value: Any) -> Hashable:
    """``value`` with its type, and its items' (``1``, ``True`` and ``1.0`` are equal
    in Python and hash alike, yet issue different TMF values)."""
    if isinstance(value, tuple):
        return (type(value), tuple(_typed(v) for v in value))
    return (type(value), value)


def template_key(template: ItemTemplate) -> Hashable | None:
    """What makes two templates build the same items, compared with the types of
    their values (None: not hashable, never shared)."""
    action = template.action
    chars = tuple(
        (
            name,
            (
                "from",
                source.characteristic,
                None
                if source.map is None
                else tuple((_typed(k), _typed(v)) for k, v in source.map.items()),
                _typed(source.default),
            ),
        )
        if isinstance(source, FromService)
        else (name, ("value", _typed(source)))
        for name, source in template.characteristics.items()
    )
    key = (
        template.resource_specification,
        action if action is None or isinstance(action, str) else tuple(action.items()),
        _typed(template.quantity),
        chars,
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


class CompiledTemplate:
    """An ItemTemplate with its action mapping resolved; rules with equal templates share one."""

    __slots__ = ("actions", "quantity", "spec_id", "spec_ref", "template")

    def __init__(self, template: ItemTemplate) -> None:
        self.template = template
        self.spec_ref = template.resource_specification
        self.spec_id: str = self.spec_ref.id
        self.quantity = template.quantity
        self.actions = {a: template.resource_action(a) for a in ORDER_ITEM_ACTIONS}

    def __repr__(self) -> str:
        return f"<CompiledTemplate -> {self.spec_id}>"

    def bind(self, check: SpecificationCheck | None) -> TemplateBuilder:
        """A builder of this template's items checked against a specification (None: unknown)."""
        return TemplateBuilder(self, check)


def _path(item_id: str, rest: str) -> str:
    return f"order_item[{item_id}].{rest}"


def produced_by(message: str, producer: object) -> str:
    """``message`` naming what produced the item (``rule id@version``), when known."""
    return message if producer is None else f"{message} (produced by {producer})"


def _by_rule(rule: object) -> str | None:
    return None if rule is None else f"rule {rule}"


class TemplateBuilder:
    """Builds one template's items for service items, checked against a specification.

    ``build`` appends ``(path, message)`` problems for anything that makes the
    item incomplete: a required characteristic missing, a value of the wrong
    type or not allowed, an unmapped service value, an unknown specification.
    Each message names the rule that produced the item.
    """

    __slots__ = (
        "_by_position",
        "_items",
        "_makers",
        "added",
        "cacheable",
        "check",
        "constant",
        "mapped_items",
        "slots",
        "spec",
        "static",
        "static_required",
        "template",
    )

    def __init__(self, template: CompiledTemplate, check: SpecificationCheck | None) -> None:
        self.template = template
        self.spec: ResourceSpecification | None = None if check is None else check.spec
        self.check = check
        static: list[tuple[str, str]] = []  # (path below the item, message)
        ref = template.spec_ref
        if check is None:
            static.append(("resource_specification", f"no ResourceSpecification {ref.id!r}"))
        elif ref.version is not None and check.spec.version not in (None, ref.version):
            static.append(
                (
                    "resource_specification.version",
                    f"{ref.version!r}, but ResourceSpecification {ref.id!r} is at version "
                    f"{check.spec.version!r}",
                )
            )
        slots: list[tuple[Any, ...]] = []
        covered: set[str] = set()
        for name, source in template.template.characteristics.items():
            covered.add(name)
            value_check = None
            if check is not None:
                value_check = check.checks.get(name)
                if value_check is None and check.known is not None:
                    known = ", ".join(sorted(check.known))
                    static.append(
                        (
                            f"characteristic.{name}",
                            f"is not a characteristic of resource specification {ref.id!r}; "
                            f"known: {known}",
                        )
                    )
            required = check is not None and name in check.required
            if not isinstance(source, FromService):
                problem = None if value_check is None else value_check(source)
                if problem is not None:
                    static.append((f"characteristic.{name}", problem))
                slots.append((CONST, Characteristic(name=name, value=source)))
                continue
            default: Entry | None = None
            if source.default is not MISSING:
                default = self._entry(name, source.default, value_check)
            if source.map is not None:
                table: dict[Any, Entry] = {}
                for key, value in source.map.items():
                    table[key] = self._entry(name, value, value_check)
                slots.append((MAPPED, name, source.characteristic, table, default, required))
            else:
                copy = (value_check, factory(Characteristic(name=name, value=None), "value"))
                slots.append((COPY, name, source.characteristic, copy, default, required))
        required_static: list[tuple[str, str]] = []
        if check is not None:
            for name in check.required:
                if name not in covered:
                    required_static.append(
                        (
                            f"characteristic.{name}",
                            f"is required by resource specification {ref.id!r} and the "
                            "rule's template does not set it",
                        )
                    )
        self.static_required = tuple(required_static)
        self.static = tuple(static) + self.static_required
        self.slots = tuple(slots)
        self.constant: tuple[Characteristic, ...] | None = (
            tuple(s[1] for s in slots) if all(s[0] == CONST for s in slots) else None
        )
        self.cacheable = all(s[0] != COPY for s in slots)
        self._makers: dict[str, Callable[[str, tuple[Characteristic, ...]], ResourceOrderItem]] = {
            action: factory(
                ResourceOrderItem(
                    id="", action=action, quantity=template.quantity, resource_specification=ref
                ),
                "id",
                "characteristic",
            )
            for action in set(template.actions.values())
        }
        self._items: dict[tuple[Any, ...], ResourceOrderItem] = {}
        self._by_position: tuple[ResourceOrderItem, ...] = ()
        #: Generated bucket code's cache: (position index, mapped value) -> item.
        self.mapped_items: dict[tuple[int, Any], ResourceOrderItem] = {}
        # The issuer's fast path: items for an 'add' service item, by position, for a
        # template of constants that its specification accepts as they are.
        self.added: dict[str, ResourceOrderItem] | None = (
            {} if self.constant is not None and not self.static else None
        )

    def maker(
        self, service_action: str
    ) -> Callable[[str, tuple[Characteristic, ...]], ResourceOrderItem]:
        """``make(item_id, characteristic)``: a new item for a service item's action."""
        return self._makers[self.template.actions[service_action]]

    def added_items(self, count: int) -> tuple[ResourceOrderItem, ...]:
        """A constant template's items for an 'add' service item at positions 1..count
        (the ones :meth:`build` returns; only when :attr:`added` is set)."""
        if len(self._by_position) < count:
            self._by_position = tuple(
                self.build(str(n + 1), "add", {}, (), []) for n in range(count)
            )
        return self._by_position

    @staticmethod
    def _entry(name: str, value: Any, value_check: Any) -> Entry:
        return (
            Characteristic(name=name, value=value),
            None if value_check is None else value_check(value),
        )

    def characteristics(
        self,
        item_id: str,
        values: Mapping[str, Any],
        chars: Sequence[Characteristic],
        problems: list[Problem],
        key: list[Any] | None = None,
        *,
        rule: object = None,
        partial: bool = False,
    ) -> tuple[Characteristic, ...]:
        """The item's characteristics for a service item with ``values`` (and ``chars``).

        ``partial``: the characteristics change an existing resource, so
        required ones may be missing here (the merged whole is checked later).
        """
        static = (
            self.static[: len(self.static) - len(self.static_required)] if partial else self.static
        )
        if static:
            by = _by_rule(rule)
            problems.extend((_path(item_id, p), produced_by(m, by)) for p, m in static)
        if self.constant is not None:
            return self.constant
        out: list[Characteristic] = []
        for slot in self.slots:
            kind = slot[0]
            if kind == CONST:
                out.append(slot[1])
                continue
            _, target, source, lookup, default, required = slot
            value = values.get(source, MISSING)
            entry: Entry | None
            if value is MISSING:
                entry = default
                if entry is None:
                    if required and not partial:
                        problems.append(
                            (
                                _path(item_id, f"characteristic.{target}"),
                                produced_by(
                                    f"is required by resource specification "
                                    f"{self.template.spec_id!r}, and the service item has no "
                                    f"{source!r} to take it from",
                                    _by_rule(rule),
                                ),
                            )
                        )
                    if key is not None:
                        key.append(None)
                    continue
            elif kind == MAPPED:
                try:
                    entry = lookup.get(value)
                except TypeError:  # unhashable: no mapping
                    entry = None
                if entry is None and type(value) is not str:
                    entry = lookup.get(str(value))
                if entry is None:
                    entry = default
                    if entry is None:
                        known = ", ".join(repr(k) for k in lookup)
                        problems.append(
                            (
                                _path(item_id, f"characteristic.{target}"),
                                f"rule {rule} has no mapping for service characteristic "
                                f"{source}={value!r} (mapped: {known})",
                            )
                        )
                        continue
            else:  # a copy: check the value now
                value_check, renamed = lookup
                problem = None if value_check is None else value_check(value)
                if problem is not None:
                    problems.append(
                        (
                            _path(item_id, f"characteristic.{target}"),
                            produced_by(problem, _by_rule(rule)),
                        )
                    )
                out.append(
                    original_characteristic(chars, source) if target == source else renamed(value)
                )
                continue
            char, problem = entry
            if problem is not None:
                problems.append(
                    (
                        _path(item_id, f"characteristic.{target}"),
                        produced_by(problem, _by_rule(rule)),
                    )
                )
            out.append(char)
            if key is not None:
                key.append(id(char))
        return tuple(out)

    def build(
        self,
        item_id: str,
        service_action: str,
        values: Mapping[str, Any],
        chars: Sequence[Characteristic],
        problems: list[Problem],
        rule: object = None,
    ) -> ResourceOrderItem:
        """The item at position ``item_id`` for a service item (problems appended;
        ``rule`` names the rule in messages)."""
        action = self.template.actions[service_action]
        constant = self.constant
        if constant is not None:
            if self.static:
                by = _by_rule(rule)
                problems.extend((_path(item_id, p), produced_by(m, by)) for p, m in self.static)
            cached = self._items.get((item_id, action))
            if cached is None:
                cached = self._items[(item_id, action)] = self._makers[action](item_id, constant)
                if self.added is not None and service_action == "add":
                    self.added[item_id] = cached
            return cached
        if not self.cacheable:
            characteristic = self.characteristics(item_id, values, chars, problems, rule=rule)
            return self._makers[action](item_id, characteristic)
        key: list[Any] = [item_id, action]
        characteristic = self.characteristics(item_id, values, chars, problems, key, rule=rule)
        found = tuple(key)
        cached = self._items.get(found)
        if cached is None:
            cached = self._items[found] = self._makers[action](item_id, characteristic)
        return cached


def original_characteristic(chars: Sequence[Characteristic], name: str) -> Characteristic:
    """The service characteristic ``name`` (the last of that name, as in the values dict)."""
    for char in reversed(chars):  # the last one wins, as in the values dict
        if char.name == name:
            return char
    raise KeyError(name)  # unreachable: the value came from these characteristics
