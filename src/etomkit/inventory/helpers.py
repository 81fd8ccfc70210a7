"""Helpers of ProductOfferingInventory's operations: query filters, attribute
changes, import results, conflict messages and downloads."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TextIO, TypeVar

import attrs

from etomkit.errors import ConflictError, ValidationError
from etomkit.inputs import value_limit_problems
from etomkit.inventory.transfer import Format, write_documents
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.values import OrderItemRef, PartyRef, RelatedParty
from etomkit.ports import Repository

__all__ = ["ImportMode", "ImportResult"]

E = TypeVar("E", ProductOffering, Product)
T = TypeVar("T")
F = TypeVar("F")
ImportMode = Literal["create", "upsert"]


@attrs.frozen
class ImportResult:
    """What an import stored: ids created and ids replaced, in input order."""

    created: tuple[str, ...]
    replaced: tuple[str, ...]

    @property
    def count(self) -> int:
        """Entities stored in all."""
        return len(self.created) + len(self.replaced)


def _filter(cls: Any, where: Any, criteria: Mapping[str, Any], lifecycle: Lifecycle) -> Any:
    """The filter to query with: ``where`` or one built from keyword criteria, its
    statuses read leniently (``"launched"``, ``"aborted "``) and checked."""
    if criteria:
        if where is not None:
            raise ValidationError(
                "query", [("where", "pass a filter object or keyword criteria, not both")]
            )
        allowed = [a.name for a in attrs.fields(cls)]
        unknown = sorted(set(criteria) - set(allowed))
        if unknown:
            raise ValidationError(
                "query", [(k, f"unknown criterion; allowed: {', '.join(allowed)}") for k in unknown]
            )
        where = cls(**criteria)
    if where is None:
        return None
    field = lifecycle.field
    statuses = getattr(where, field)
    if statuses is None:
        return where
    canonical = frozenset(lifecycle.canonical(s) for s in statuses)
    return where if canonical == statuses else attrs.evolve(where, **{field: canonical})


def _apply_changes(
    entity: str, entity_id: str, current: E, changes: Mapping[str, Any], allowed: frozenset[str]
) -> E:
    if not isinstance(changes, Mapping):
        raise ValidationError(
            f"{entity} {entity_id}", [("changes", "must be a mapping of attribute names to values")]
        )
    unknown = sorted(set(changes) - allowed)
    if unknown:
        names = ", ".join(sorted(allowed))
        raise ValidationError(
            f"{entity} {entity_id}",
            [(k, f"cannot be changed; changeable attributes: {names}") for k in unknown],
        )
    return attrs.evolve(current, **changes)


def _unknown_state(lifecycle: Lifecycle, value: object) -> str:
    return f"unknown state {value!r}; allowed: {', '.join(repr(s) for s in lifecycle.states)}"


def _stale(entity: str, entity_id: str, stored: int, expected: int) -> ConflictError:
    return ConflictError(
        f"{entity} {entity_id!r} is at revision {stored}, "
        f"the change was based on revision {expected}"
    )


def _stream(repository: Repository[T, F], where: F | None = None) -> Iterator[T]:
    """A full pass over ``repository``: its ``stream`` if it has one (a durable store's
    repository then keeps none of the records it decodes), else ``iterate``."""
    stream: Callable[[F | None], Iterator[T]] | None = getattr(repository, "stream", None)
    return repository.iterate(where) if stream is None else stream(where)


def _download(entities: Iterable[Any], fmt: Format, out: TextIO | None) -> str:
    if out is not None:
        write_documents(entities, fmt, out)
        return ""
    buffer = io.StringIO()
    write_documents(entities, fmt, buffer)
    return buffer.getvalue()


def _within_limits(entity: str, obj: object) -> None:
    """Refuse what no download could write: deep nesting, NaN, huge integers (#10)."""
    problems = value_limit_problems(obj)
    if problems:
        raise ValidationError(entity, problems)


def _purchase_argument_problems(arguments: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with record_purchase's arguments, each named."""
    problems = []
    expected = (
        ("customer", (PartyRef, RelatedParty), "a PartyRef or RelatedParty (ek.PartyRef(id=...))"),
        ("offering_id", (str,), "an offering id (str)"),
        ("order_item", (OrderItemRef,), "an OrderItemRef(order_id=..., item_id=...)"),
    )
    for name, kinds, what in expected:
        value = arguments[name]
        if not isinstance(value, kinds):
            problems.append((name, f"must be {what}, not {type(value).__name__} {_shown(value)}"))
    value = arguments["characteristics"]
    if not characteristics_sequence(value):
        problems.append(
            (
                "characteristics",
                f"must be a list or tuple of Characteristic, not {type(value).__name__} "
                f"{_shown(value)}",
            )
        )
    return problems


_TEXTS = (str, bytes, bytearray)


def characteristics_sequence(value: object) -> bool:
    """True if ``value`` can be a purchase's characteristics: a sequence, not text."""
    kind = type(value)
    if kind is tuple or kind is list:
        return True
    return isinstance(value, Sequence) and not isinstance(value, _TEXTS)


def _shown(value: object) -> str:
    """``repr(value)``, shortened; the type alone if it cannot be shown."""
    try:
        shown = repr(value)
    except Exception:  # a deep list, a huge integer, a bad __repr__: showing must not fail
        return f"<{type(value).__name__}>"
    return shown if len(shown) <= 80 else f"{shown[:77]}..."
