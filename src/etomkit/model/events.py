"""TMF-style notification events emitted on every change."""

from __future__ import annotations

from datetime import datetime

import attrs

from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.resource_order import ResourceOrder

__all__ = ["Event"]


@attrs.frozen(kw_only=True)
class Event:
    """A TMF notification such as ``ProductOfferingCreateEvent``.

    ``entity`` is the entity as it is after the change (before it, for a
    delete); ``field_path`` names what changed for attribute-value-change events.
    """

    event_id: str
    event_time: datetime
    event_type: str
    entity: ProductOffering | Product | ResourceOrder
    field_path: str | None = None

    @property
    def domain(self) -> str:
        """The TMF resource name the event is about (``productOffering``, ``product``)."""
        name = type(self.entity).__name__
        return name[0].lower() + name[1:]
