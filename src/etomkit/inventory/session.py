"""The inventory as one client sees it: a capability, checked live on every call.

A :class:`ClientSession` is what ``inventory.as_client(secret)`` returns. It is
not an inventory: it holds the checked operations (closures over the host's
inventory, see :mod:`etomkit.inventory.guards`) in slots, its identity and
policies are fixed at authentication and cannot be set, and it cannot be
copied or pickled. Nothing reachable from it by attribute is the store, the
registry, the meter or a mutable policy.

Each call compares the session's registration version with the one its
operations were built for (a change of the client's registration through the
AccessControl bumps it); on a change the registration is re-read and the call
runs with what it says now (revoked or rotated: refused; other permissions:
applied), through held references to the operations and started iterators too.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from etomkit.errors import AccessDeniedError, ValidationError
from etomkit.inventory.access import AccessControl, Principal, RegisteredClient
from etomkit.inventory.guards import Guards
from etomkit.inventory.operations import INVENTORY_OPERATIONS
from etomkit.inventory.reads import ANONYMOUS, Reads, Who, clock_ns, error_text, text
from etomkit.model.client import ClientRegistration, Permission

if TYPE_CHECKING:
    from etomkit.inventory.reports import UsageReport
    from etomkit.inventory.shortcomings import ShortcomingsReport
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ClientSession", "open_session"]

T = TypeVar("T")
_ADMIN_OPERATIONS = (
    "register_client", "rotate_secret", "revoke_client", "set_permissions",
    "registered_clients", "usage_report", "shortcomings", "seal_reads", "flush", "close",
)  # fmt: skip


class ClientSession:
    """The inventory as an authenticated client sees it (``inventory.as_client(secret)``).

    Every operation of ProductOfferingInventory is here, checked against the
    client's current permissions (AccessDeniedError otherwise; an entity
    outside its categories answers like a missing one) and recorded in the
    usage log under the authenticated identity. Use it as a context manager,
    or call :meth:`close`, so that its last keyed reads are recorded (they are
    also recorded when the session is dropped). Revoking the client or
    rotating its secret ends the session at once; changed permissions apply
    at once.
    """

    __slots__ = (
        "client_id", "client_name", "principal", "__weakref__",
        *INVENTORY_OPERATIONS, *_ADMIN_OPERATIONS,
    )  # fmt: skip

    client_id: str
    client_name: str
    principal: Principal
    seal_reads: Callable[[], None]
    flush: Callable[[], None]
    close: Callable[[], None]
    register_client: Callable[..., RegisteredClient]
    rotate_secret: Callable[..., RegisteredClient]
    revoke_client: Callable[[str], ClientRegistration]
    set_permissions: Callable[[str, Iterable[Permission]], ClientRegistration]
    registered_clients: Callable[..., list[ClientRegistration]]
    usage_report: Callable[..., UsageReport]
    shortcomings: Callable[..., ShortcomingsReport]

    def __new__(cls, *args: Any, **kwargs: Any) -> ClientSession:  # noqa: ARG004
        raise TypeError("open a session with inventory.as_client(secret)")

    def __getattr__(self, name: str) -> Any:  # the data operations, for type checkers
        raise AttributeError(f"a ClientSession has no {name!r}")

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"a ClientSession is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a ClientSession is read-only: cannot delete {name!r}")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a ClientSession cannot be copied or pickled; authenticate again")

    def __copy__(self) -> NoReturn:
        raise TypeError("a ClientSession cannot be copied; authenticate again")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("a ClientSession cannot be copied; authenticate again")

    def __repr__(self) -> str:
        return f"<ClientSession of {self.client_name!r} ({self.client_id})>"

    @property
    def access_mode(self) -> str:
        """``"client session"``: every call checked against this client's permissions."""
        return "client session"

    @property
    def store(self) -> NoReturn:
        """Never handed to a client: every read goes through the checked operations."""
        raise AccessDeniedError(self.client_id, "read", "store", "clients use the operations")

    def as_client(self, secret: str) -> NoReturn:
        """Not from a session: ask the inventory (the host's object)."""
        raise AccessDeniedError(
            self.client_id, "authenticate", "client", "open sessions from the inventory"
        )

    def __enter__(self) -> ClientSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_set = object.__setattr__


class _Live:
    """A session's link to the client's registration; reachable only from its closures."""

    def __init__(
        self,
        session: ClientSession,
        inventory: Any,
        access: AccessControl,
        meter: UsageMeter,
        registration: ClientRegistration,
    ) -> None:
        self.version = 0
        self.built = -1
        self.session = weakref.ref(session)
        self.inventory = inventory
        self.access = access
        self.meter = meter
        self.client_id = registration.id or ""
        self.hash = registration.secret_hash
        self.reads = Reads(meter, (self.client_id, registration.name))
        self.principal = Principal.of(registration)
        self.ended: str | None = None
        self.guards: Guards | None = None
        self.table: dict[str, Callable[..., Any]] = {}

    def changed(self) -> None:
        """The registration changed: every operation built so far redispatches."""
        self.version += 1
        if self.guards is not None:
            self.guards.retire()

    def refresh(self) -> None:
        """Re-read the registration and rebuild the operations for what it says now."""
        if self.built == self.version:
            return
        self.reads.seal()
        version = self.version
        if self.ended is None:
            current = self.access.clients.find(self.client_id)
            if current is None or not current.active:
                self.ended = "the client was revoked"
            elif not self.access._same_secret(self.hash, current.secret_hash):
                self.ended = "its secret was rotated; authenticate with the new one"
            else:
                self.principal = Principal.of(current)
        if self.ended is not None:
            self.principal = Principal(self.client_id, self.principal.name, {})
        principal = None if self.ended is not None else self.principal
        guards = Guards(
            self.inventory, principal, self.meter, self.reads, f"session ended: {self.ended}", self
        )
        self.guards, self.table, self.built = guards, guards.table(), version
        session = self.session()
        if session is not None:
            _set(session, "principal", self.principal)
            for name, operation in self.table.items():
                _set(session, name, operation)

    def redispatch(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.refresh()
        return self.table[name](*args, **kwargs)

    def current(self) -> Principal | None:
        """The principal now (None: the session ended)."""
        self.refresh()
        return None if self.ended is not None else self.principal


def open_session(
    inventory: Any, access: AccessControl, meter: UsageMeter, secret: str
) -> ClientSession:
    """Authenticate ``secret`` and open its session over ``inventory`` (the host's).

    Raises AccessDeniedError (recorded, as the anonymous caller, with the
    claimed client id) for an unknown client, a wrong secret or a revoked client.
    """
    try:
        registration = access._authenticate(secret)
    except AccessDeniedError as exc:
        claimed = text(secret).partition(".")[0][:64] if isinstance(secret, str) else ""
        meter.record(
            ANONYMOUS, "as_client", "read", "client", outcome="denied",
            entity_ids=(claimed,) if claimed else (), error=exc.reason,
        )  # fmt: skip
        raise
    session: ClientSession = object.__new__(ClientSession)
    live = _Live(session, inventory, access, meter, registration)
    who = live.reads.who
    _set(session, "client_id", who[0])
    _set(session, "client_name", who[1])
    live.refresh()
    for name, operation in _admin_operations(live, who).items():
        _set(session, name, operation)
    live.reads.watch()
    weakref.finalize(session, _seal_quietly, live.reads)
    access._listen(who[0], live)
    return session


def _seal_quietly(reads: Reads) -> None:
    try:
        reads.seal()
        reads.meter.flush()
    except Exception:
        pass


def _admin_operations(live: _Live, who: Who) -> dict[str, Callable[..., Any]]:
    """The registry and usage calls of a session, checked against the live principal."""
    access, meter, reads = live.access, live.meter, live.reads
    own_id = who[0]

    def run(
        name: str, body: Callable[[], T], subject: Any = None, *, needs: bool = True,
        entity: tuple[str, str] = ("client", "admin"),
    ) -> T:  # fmt: skip
        reads.seal()
        ids = (text(subject),) if subject is not None else ()
        entity_type, action = entity
        principal = live.current()
        if principal is None or (needs and not principal.allows(entity_type, action)):
            reason = (
                f"session ended: {live.ended}" if principal is None
                else f"it has no {action!r} permission on {entity_type!r}"
            )  # fmt: skip
            meter.record(
                who, name, action, entity_type, outcome="denied", entity_ids=ids, error=reason
            )
            raise AccessDeniedError(own_id, action, entity_type, reason)
        started = clock_ns()
        try:
            result = body()
        except Exception as exc:
            meter.record(
                who,
                name,
                action,
                entity_type,
                outcome="failed",
                entity_ids=ids,
                error=error_text(exc),
            )
            raise
        meter.record(
            who,
            name,
            action,
            entity_type,
            entity_ids=ids,
            count=1,
            duration_ns=clock_ns() - started,
        )
        return result

    def exact(client_id: Any) -> str:
        if type(client_id) is not str:
            raise ValidationError("ClientRegistration", [("id", "must be a str")])
        return client_id

    def register_client(
        name: str, permissions: Iterable[Permission], *, description: str | None = None
    ) -> RegisteredClient:
        """Register a client (needs ``admin`` on ``client``); its secret is shown once."""
        granted = list(permissions)
        return run(
            "register_client", lambda: access.register(name, granted, description=description)
        )

    def rotate_secret(client_id: str | None = None) -> RegisteredClient:
        """A new secret for a client (its own: no permission needed; another: ``admin``)."""
        target = own_id if client_id is None else exact(client_id)
        return run(
            "rotate_secret", lambda: access.rotate_secret(target), target, needs=target != own_id
        )

    def revoke_client(client_id: str) -> ClientRegistration:
        """Revoke a client (needs ``admin`` on ``client``)."""
        target = exact(client_id)
        return run("revoke_client", lambda: access.revoke(target), target)

    def set_permissions(client_id: str, permissions: Iterable[Permission]) -> ClientRegistration:
        """Replace a client's permissions (needs ``admin`` on ``client``)."""
        target, granted = exact(client_id), list(permissions)
        return run("set_permissions", lambda: access.set_permissions(target, granted), target)

    def registered_clients(*, status: str | None = None) -> list[ClientRegistration]:
        """Registrations (needs ``admin`` on ``client``)."""
        return run("registered_clients", lambda: access.registered(status=status))

    def usage_report(**options: Any) -> UsageReport:
        """The usage report (needs ``read`` on ``usage``); options as ``UsageMeter.report``."""
        return run("usage_report", lambda: meter.report(**options), entity=("usage", "read"))

    def shortcomings(**options: Any) -> ShortcomingsReport:
        """The shortcomings report (needs ``read`` on ``usage``); options as
        ``UsageMeter.shortcomings``."""
        return run("shortcomings", lambda: meter.shortcomings(**options), entity=("usage", "read"))

    def seal_reads() -> None:
        """Record the keyed reads made since the last batch (see UsageMeter)."""
        reads.seal()

    def flush() -> None:
        """Record pending keyed reads and write the usage records out (never raises)."""
        reads.seal()
        meter.flush()

    return {
        "register_client": register_client, "rotate_secret": rotate_secret,
        "revoke_client": revoke_client, "set_permissions": set_permissions,
        "registered_clients": registered_clients, "usage_report": usage_report,
        "shortcomings": shortcomings, "seal_reads": seal_reads, "flush": flush, "close": flush,
    }  # fmt: skip
