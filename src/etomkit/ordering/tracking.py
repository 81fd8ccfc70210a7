"""An in-memory ProvisioningTracker: collects the special-handling hand-offs."""

from __future__ import annotations

import threading

import attrs

from etomkit.model.resource_order import ResourceOrder

__all__ = ["HandOff", "InMemoryProvisioningTracker"]


@attrs.frozen
class HandOff:
    """One order passed to Track & Manage Resource Provisioning, with the reason."""

    order: ResourceOrder
    reason: str


class InMemoryProvisioningTracker:
    """Keeps every hand-off in ``hand_offs`` (oldest first); for tests, notebooks, demos."""

    def __init__(self) -> None:
        self.hand_offs: list[HandOff] = []
        self._lock = threading.Lock()

    def hand_off(self, order: ResourceOrder, reason: str) -> None:
        with self._lock:
            self.hand_offs.append(HandOff(order, reason))

    @property
    def orders(self) -> list[ResourceOrder]:
        """The handed-off orders, oldest first."""
        return [h.order for h in self.hand_offs]

    def reasons(self) -> dict[str, str]:
        """``{order id: reason}``."""
        return {h.order.id or "": h.reason for h in self.hand_offs}
