"""The host side of access control: how an inventory is guarded and opens sessions.

:class:`AccessHost` is the part of ProductOfferingInventory that wires access
control and usage tracking: with ``access`` every operation of the inventory
object itself refuses (clients go through :meth:`AccessHost.as_client`); with
only ``usage`` every call is recorded as the open client. The checked
operations are built in :mod:`etomkit.inventory.guards`; sessions in
:mod:`etomkit.inventory.session`. Neither imports the service.
"""

from __future__ import annotations

from typing import Any

from etomkit.errors import AccessDeniedError, ValidationError
from etomkit.inventory.access import OPEN, AccessControl
from etomkit.inventory.guards import install_guards
from etomkit.inventory.session import ClientSession, open_session
from etomkit.inventory.usage import UsageMeter
from etomkit.ports import Clock, Store

__all__ = ["AccessHost"]


class AccessHost:
    """Access control and usage wiring of ProductOfferingInventory (a base class)."""

    access: AccessControl | None
    usage: UsageMeter | None
    _store: Store
    _clock: Clock
    _guards: Any

    def _guard(self, access: AccessControl | None, usage: UsageMeter | None) -> None:
        if access is not None and not isinstance(access, AccessControl):
            raise ValidationError(
                "ProductOfferingInventory", [("access", "must be an AccessControl or None")]
            )
        if usage is not None and not isinstance(usage, UsageMeter):
            raise ValidationError(
                "ProductOfferingInventory", [("usage", "must be a UsageMeter or None")]
            )
        meter = usage if usage is not None else UsageMeter(clock=self._clock)
        self.usage = meter
        if access is None:  # its keyed reads are collected with the sessions'
            self._guards = install_guards(self, OPEN, meter, (OPEN.client_id, OPEN.name))
        else:
            install_guards(self, None, meter)

    @property
    def access_mode(self) -> str:
        """``"controlled"`` (access control on), ``"open, metered"`` or ``"open"``."""
        if self.access is not None:
            return "controlled"
        return "open, metered" if self.usage is not None else "open"

    def __repr__(self) -> str:
        mode = {
            "controlled": "access control on: use as_client(secret)",
            "open, metered": "open: no access control; usage recorded",
            "open": "open: no access control, usage not recorded",
        }[self.access_mode]
        return f"<{type(self).__name__} {mode}>"

    @property
    def store(self) -> Store:
        """The store (not handed out once access control is on: every read is checked)."""
        if self.access is not None:
            raise AccessDeniedError(
                None, "read", "store", "access control is on; go through as_client(secret)"
            )
        return self._store

    def as_client(self, secret: str) -> ClientSession:
        """This inventory as the client whose secret it is: every call checked and recorded.

        Raises AccessDeniedError (recorded) for an unknown client, a wrong
        secret or a revoked client; ValidationError if access control is off.
        The session holds this inventory by composition (see ClientSession).
        """
        access, meter = self.access, self.usage
        if access is None or meter is None:
            raise ValidationError(
                "ProductOfferingInventory",
                [("access", "this inventory has no access control; call it directly")],
            )
        return open_session(self, access, meter, secret)
