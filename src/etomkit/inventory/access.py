"""Registration and access control of the client processes that use the inventory.

Clients are registered with permissions per entity type and operation (deny by
default). Registration returns a secret once; only its salted scrypt hash is
stored. A secret reads ``<client id>.<random>``, so authenticating hashes once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from etomkit.adapters.runtime import RandomIdFactory, SystemClock
from etomkit.errors import AccessDeniedError, DuplicateKeyError, ValidationError
from etomkit.model._copy import replace
from etomkit.model.client import (
    ENTITY_TYPES,
    OPERATIONS,
    ClientFilter,
    ClientRegistration,
    Permission,
    SecretHash,
)
from etomkit.ports import ClientRepository, Clock, IdFactory

__all__ = ["AccessControl", "Principal", "RegisteredClient", "hash_secret", "secret_matches"]

#: scrypt cost (RFC 7914 interactive-login parameters): ~16 MiB and tens of ms per hash.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
_DKLEN = 32


def hash_secret(
    secret: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> SecretHash:
    """A salted scrypt hash of ``secret`` (16 random salt bytes)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, n, r, p)
    return SecretHash(algorithm="scrypt", salt=salt.hex(), digest=digest.hex(), n=n, r=r, p=p)


def secret_matches(secret: str, stored: SecretHash) -> bool:
    """True if ``secret`` hashes to ``stored`` (constant-time comparison)."""
    if stored.algorithm == "scrypt" and stored.n and stored.r and stored.p:
        derived = _scrypt(secret, bytes.fromhex(stored.salt), stored.n, stored.r, stored.p)
    elif stored.algorithm == "pbkdf2_sha256" and stored.iterations:
        derived = hashlib.pbkdf2_hmac(
            "sha256", secret.encode(), bytes.fromhex(stored.salt), stored.iterations, _DKLEN
        )
    else:
        return False
    return hmac.compare_digest(derived, bytes.fromhex(stored.digest))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    memory = 128 * r * (n + p + 2)
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=_DKLEN)


@attrs.frozen
class RegisteredClient:
    """A registration and its secret, shown this once (never stored, never in repr)."""

    client: ClientRegistration
    secret: str = attrs.field(repr=False)


@attrs.frozen
class Principal:
    """An authenticated client: what it may do, as ``(entity type, operation) ->
    scope`` (None: any category; a set: only offerings in those categories)."""

    client_id: str
    name: str
    grants: Mapping[tuple[str, str], frozenset[str] | None]

    @classmethod
    def of(cls, client: ClientRegistration) -> Principal:
        """The principal a registration's permissions make."""
        grants: dict[tuple[str, str], frozenset[str] | None] = {}
        for permission in client.permissions:
            key = (permission.entity_type, permission.operation)
            if key in grants and (grants[key] is None or permission.categories is None):
                grants[key] = None  # an unscoped grant wins
            elif key in grants:
                grants[key] = grants[key] | permission.categories  # type: ignore[operator]
            else:
                grants[key] = permission.categories
        return cls(client.id or "", client.name, grants)

    def allows(self, entity_type: str, operation: str) -> bool:
        """True if any grant (scoped or not) covers the operation."""
        return (entity_type, operation) in self.grants


#: The principal of an inventory without access control (every grant, no scope).
OPEN = Principal("open", "open inventory", {(e, o): None for e in ENTITY_TYPES for o in OPERATIONS})


class AccessControl:
    """Registers client processes and authenticates them (eTOM 1.2.4.2).

    ``clients`` is the store's ClientRepository (``store.clients``). The host
    holds this object: ``bootstrap`` the first administrator, then manage
    clients here or through an administrator's session. Changes reach open
    sessions at once (a revoked or rotated client's sessions stop working).
    """

    def __init__(
        self,
        clients: ClientRepository,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        scrypt_n: int = SCRYPT_N,
    ) -> None:
        if not isinstance(clients, ClientRepository):
            raise ValidationError(
                "AccessControl",
                [
                    (
                        "clients",
                        f"must be a ClientRepository (store.clients), not {type(clients).__name__}",
                    )
                ],
            )
        self.clients = clients
        self._clock = clock or SystemClock()
        self._ids = ids or RandomIdFactory()
        self._scrypt_n = scrypt_n
        self._lock = threading.Lock()
        self._listeners: dict[str, weakref.WeakSet[Any]] = {}
        self._dummy = hash_secret("", n=scrypt_n)  # equal work for unknown clients

    # ------------------------------------------------------------------ registration

    def bootstrap(self, name: str = "administrator") -> RegisteredClient:
        """Register the first client: every operation on offerings and products,
        client administration and usage reports. Only on an empty registry
        (AccessDeniedError otherwise: further clients are registered by an administrator)."""
        refused = AccessDeniedError(
            None, "admin", "client", "clients are already registered; ask an administrator"
        )
        if len(self.clients):
            raise refused
        every = [
            *Permission.every("offering"),
            *Permission.every("product"),
            Permission("client", "admin"),
            Permission("usage", "read"),
        ]
        try:  # the registry's unique key: one bootstrap administrator, whatever the race
            return self._register(name, every, "bootstrapped administrator", bootstrap=True)
        except DuplicateKeyError:
            raise refused from None

    def register(
        self, name: str, permissions: Iterable[Permission], *, description: str | None = None
    ) -> RegisteredClient:
        """Register a client; returns it with its secret (shown only now)."""
        return self._register(name, permissions, description, bootstrap=False)

    def _register(
        self,
        name: str,
        permissions: Iterable[Permission],
        description: str | None,
        *,
        bootstrap: bool,
    ) -> RegisteredClient:
        granted = tuple(permissions)
        problems = []
        if not isinstance(name, str) or not name.strip():
            problems.append(("name", "must be a non-empty string"))
        for i, permission in enumerate(granted):
            if not isinstance(permission, Permission):
                problems.append((f"permissions[{i}]", "must be a Permission"))
        if problems:
            raise ValidationError(f"ClientRegistration {name!r}", problems)
        client_id = self._ids.new_id("ClientRegistration")
        secret = f"{client_id}.{secrets.token_urlsafe(32)}"
        now = self._clock.now()
        stored = self.clients.add(
            ClientRegistration(
                id=client_id,
                name=name,
                permissions=granted,
                secret_hash=hash_secret(secret, n=self._scrypt_n),
                description=description,
                bootstrap=bootstrap,
                registered_at=now,
                secret_rotated_at=now,
                last_update=now,
            )
        )
        return RegisteredClient(stored, secret)

    def rotate_secret(self, client_id: str) -> RegisteredClient:
        """A new secret for the client; the old one and sessions opened with it stop working."""
        current = self._active(client_id)
        secret = f"{client_id}.{secrets.token_urlsafe(32)}"
        now = self._clock.now()
        stored = self._store(
            current, secret_hash=hash_secret(secret, n=self._scrypt_n), secret_rotated_at=now
        )
        self._notify(client_id, "its secret was rotated; authenticate with the new one")
        return RegisteredClient(stored, secret)

    def revoke(self, client_id: str) -> ClientRegistration:
        """Revoke the client: its secret and open sessions stop working."""
        current = self._active(client_id)
        stored = self._store(current, status="revoked", revoked_at=self._clock.now())
        self._notify(client_id, "the client was revoked")
        return stored

    def set_permissions(
        self, client_id: str, permissions: Iterable[Permission]
    ) -> ClientRegistration:
        """Replace the client's permissions; open sessions follow at once."""
        granted = tuple(permissions)
        bad = [i for i, p in enumerate(granted) if not isinstance(p, Permission)]
        if bad:
            raise ValidationError(
                f"ClientRegistration {client_id!r}",
                [(f"permissions[{i}]", "must be a Permission") for i in bad],
            )
        stored = self._store(self._active(client_id), permissions=granted)
        self._notify(client_id, None, Principal.of(stored))
        return stored

    def registered(self, *, status: str | None = None) -> list[ClientRegistration]:
        """Registrations (optionally only ``"active"`` or ``"revoked"`` ones)."""
        return list(self.clients.iterate(ClientFilter(status=status) if status else None))

    # ------------------------------------------------------------------ authentication

    def authenticate(self, secret: str) -> Principal:
        """The principal of the client whose secret this is.

        Raises AccessDeniedError (unknown client, wrong secret, revoked); the
        error never echoes the secret.
        """
        client_id, dot, _ = secret.partition(".") if isinstance(secret, str) else ("", "", "")
        client = self.clients.find(client_id) if dot else None
        stored = client.secret_hash if client is not None else None
        if client is None or stored is None:
            secret_matches(str(secret), self._dummy)
            raise AccessDeniedError(None, "authenticate", "client", "unknown client or secret")
        if not secret_matches(secret, stored):
            raise AccessDeniedError(client_id, "authenticate", "client", "wrong secret")
        if not client.active:
            raise AccessDeniedError(client_id, "authenticate", "client", "the client was revoked")
        return Principal.of(client)

    def listen(self, client_id: str, session: Any) -> None:
        """Tell ``session`` (weakly held) when its client changes: ``session.access_changed(
        reason, principal)`` with a reason to end it, or the new principal."""
        with self._lock:
            self._listeners.setdefault(client_id, weakref.WeakSet()).add(session)

    # ------------------------------------------------------------------ internals

    def _active(self, client_id: str) -> ClientRegistration:
        client = self.clients.get(client_id)
        if not client.active:
            raise AccessDeniedError(client_id, "admin", "client", "the client was revoked")
        return client

    def _store(self, current: ClientRegistration, **changes: Any) -> ClientRegistration:
        return self.clients.replace(
            replace(current, last_update=self._clock.now(), **changes),
            expected_revision=current.revision,
        )

    def _notify(
        self, client_id: str, reason: str | None, principal: Principal | None = None
    ) -> None:
        with self._lock:
            sessions = list(self._listeners.get(client_id, ()))
        for session in sessions:
            session.access_changed(reason, principal)
