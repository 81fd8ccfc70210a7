"""Shared TMF values: references, related parties, characteristics, periods, notes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "Characteristic",
    "EntityRef",
    "ExternalId",
    "Note",
    "OrderItemRef",
    "PartyRef",
    "RelatedParty",
    "TimePeriod",
]


class _NoExtras(dict[str, Any]):
    """The ``extras`` of every entity made without any: one shared empty dict that
    refuses changes (an entity is immutable), so empty extras cost no memory."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("an entity's extras cannot be changed: replace the entity instead")

    __setitem__ = __delitem__ = __ior__ = _refuse
    setdefault = update = pop = popitem = clear = _refuse

    def __copy__(self) -> _NoExtras:
        return self

    def __deepcopy__(self, memo: Any) -> _NoExtras:
        return self

    def __reduce__(self) -> str:
        return "NO_EXTRAS"  # pickled by name: unpickles to the same object

    def __repr__(self) -> str:
        return "{}"


#: The shared empty ``extras`` (equal to ``{}``; see ``_NoExtras``).
NO_EXTRAS: Mapping[str, Any] = _NoExtras()


def _extras() -> Any:
    """The ``extras`` field: TMF attributes etomkit does not model, kept verbatim."""
    return attrs.field(default=NO_EXTRAS, hash=False, repr=lambda e: repr(e) if e else "{}")


@attrs.frozen(kw_only=True)
class TimePeriod:
    """TMF TimePeriod: an optionally open-ended validity interval."""

    start_date_time: datetime | None = None
    end_date_time: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        """True if ``moment`` lies within the period (open ends are unbounded)."""
        if self.start_date_time is not None and moment < self.start_date_time:
            return False
        return self.end_date_time is None or moment <= self.end_date_time


@attrs.frozen(kw_only=True)
class EntityRef:
    """A TMF reference to another entity (``…Ref``): id plus optional href, name, version."""

    id: str
    href: str | None = None
    name: str | None = None
    version: str | None = None
    referred_type: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class RelatedParty:
    """TMF RelatedParty: a party reference with the role it plays (e.g. ``customer``)."""

    id: str
    role: str | None = None
    name: str | None = None
    href: str | None = None
    referred_type: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class PartyRef:
    """A customer (or other party) as Order Handling names it; becomes a RelatedParty."""

    id: str
    name: str | None = None
    href: str | None = None
    referred_type: str = "Customer"

    def as_related_party(self, role: str) -> RelatedParty:
        """This party in the given ``role``."""
        return RelatedParty(
            id=self.id, role=role, name=self.name, href=self.href, referred_type=self.referred_type
        )


@attrs.frozen(kw_only=True)
class OrderItemRef:
    """TMF RelatedProductOrderItem: the Order Handling order item a product came from."""

    order_id: str
    item_id: str
    action: str | None = None
    order_href: str | None = None
    role: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    referred_type: str | None = None
    extras: Mapping[str, Any] = _extras()

    @property
    def key(self) -> tuple[str, str]:
        """``(order_id, item_id)``: what makes a purchase idempotent."""
        return (self.order_id, self.item_id)


@attrs.frozen(kw_only=True)
class Characteristic:
    """TMF Characteristic: a named value (any JSON value) with an optional value type."""

    name: str
    value: Any = attrs.field(hash=False)
    value_type: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class Note:
    """TMF Note: a dated remark by an author."""

    text: str
    id: str | None = None
    author: str | None = None
    date: datetime | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ExternalId:
    """TMF ExternalIdentifier: the id of the entity in another system."""

    id: str
    owner: str | None = None
    external_identifier_type: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


class GivenEmpty(tuple[Any, ...]):
    """An empty array the document gave (``[]``), kept apart from an absent one.

    It equals ``()`` (the entity means the same either way) and is written back
    as ``[]``: to TMF ``[]`` and absent differ (a merge-patch clears with ``[]``).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "()"


#: The one empty array a document gave (tmf keeps it; stores accept it as a tuple).
GIVEN_EMPTY = GivenEmpty()
