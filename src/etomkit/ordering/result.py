"""What issuing returns: :class:`IssuanceResult`, and when a request issued again conflicts."""

from __future__ import annotations

from typing import Any

import attrs

from etomkit.model.issuance import InitiatingRequest, IssuanceRecord
from etomkit.model.resource_order import ResourceOrder
from etomkit.notebook.display import Tabular

__all__ = ["IssuanceResult", "replay_conflict"]


@attrs.frozen
class IssuanceResult(Tabular):
    """What :meth:`ResourceOrderIssuer.issue` did: the record and the orders.

    ``replayed`` is True when the request had been issued before (the
    orders are then as they are now, possibly moved on in their lifecycle).
    """

    record: IssuanceRecord
    orders: tuple[ResourceOrder, ...]
    replayed: bool = False

    def outcome(self, item_id: str) -> str:
        """The outcome of request item ``item_id``. Raises KeyError."""
        return self.record.item(item_id).outcome

    def orders_for(self, item_id: str) -> tuple[ResourceOrder, ...]:
        """The orders issued for request item ``item_id``."""
        ids = set(self.record.item(item_id).resource_orders)
        return tuple(o for o in self.orders if o.id in ids)

    @property
    def special_orders(self) -> tuple[ResourceOrder, ...]:
        """The orders marked special handling."""
        return tuple(o for o in self.orders if o.special_handling)

    def rows(self) -> list[dict[str, Any]]:
        """The record's rows (one per request item), see :meth:`IssuanceRecord.rows`."""
        return self.record.rows()

    def _display_title(self) -> str:
        again = ", replayed: issued before" if self.replayed else ""
        return f"IssuanceResult {self.record.id}: {len(self.orders)} resource order(s){again}"


def replay_conflict(record: IssuanceRecord, request: InitiatingRequest) -> str | None:
    """Why issuing ``request`` again under the key of ``record`` raises ConflictError
    (its payload differs from the one issued); None when issue() replays the record.
    ``issue()`` and ``explain()`` both decide by this one comparison."""
    if record.request == request:
        return None
    return (
        f"request {record.id!r} was issued before (at {record.issued_at}) with a "
        "different payload; use a new request id for a new request"
    )
