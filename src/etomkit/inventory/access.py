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
from types import MappingProxyType
from typing import Any

import attrs

from etomkit.adapters.runtime import RandomIdFactory, SystemClock
from etomkit.errors import (
    AccessDeniedError,
    DuplicateKeyError,
    EtomkitError,
    Problem,
    ValidationError,
)
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

#: scrypt cost at OWASP's recommendation (N=2^17, r=8, p=1): 128 MiB and a few
#: hundred ms per hash, on purpose: a stolen registry is slow to attack.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 17, 8, 1
#: The lowest cost AccessControl accepts without ``insecure_low_cost=True``.
MIN_SCRYPT_N, MIN_SCRYPT_R, MIN_SCRYPT_P = 1 << 17, 8, 1
_MAX_N, _MAX_R, _MAX_P = 1 << 24, 64, 16
_DKLEN = 32


def scrypt_problems(n: Any, r: Any, p: Any, *, insecure_low_cost: bool = False) -> list[Problem]:
    """What is wrong with scrypt cost parameters (empty: usable)."""
    problems: list[Problem] = []
    for name, value, low, high in (("n", n, 2, _MAX_N), ("r", r, 1, _MAX_R), ("p", p, 1, _MAX_P)):
        if type(value) is not int or not low <= value <= high:
            problems.append((f"scrypt_{name}", f"must be an int in {low}..{high}, not {value!r}"))
    if not problems and n & (n - 1):
        problems.append(("scrypt_n", f"must be a power of two, not {n}"))
    weak = not problems and (n < MIN_SCRYPT_N or r < MIN_SCRYPT_R or p < MIN_SCRYPT_P)
    if weak and not insecure_low_cost:
        problems.append((
                "scrypt_n",
                f"n={n}, r={r}, p={p} is below OWASP's minimum (n >= 2^17, r >= 8, p >= 1); "
                "pass insecure_low_cost=True only in tests",
            ))  # fmt: skip
    return problems


def hash_secret(
    secret: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> SecretHash:
    """A salted scrypt hash of ``secret`` (16 random salt bytes); the cost
    parameters are stored with it. Raises ValidationError for unusable ones."""
    problems = scrypt_problems(n, r, p, insecure_low_cost=True)
    if problems:
        raise ValidationError("scrypt parameters", problems)
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, n, r, p)
    return SecretHash(algorithm="scrypt", salt=salt.hex(), digest=digest.hex(), n=n, r=r, p=p)


def secret_matches(secret: str, stored: SecretHash) -> bool:
    """True if ``secret`` hashes to ``stored`` (constant-time comparison); False
    for unusable stored parameters."""
    try:
        if stored.algorithm == "scrypt" and not scrypt_problems(
            stored.n, stored.r, stored.p, insecure_low_cost=True
        ):
            salt = bytes.fromhex(stored.salt)
            derived = _scrypt(secret, salt, stored.n or 0, stored.r or 0, stored.p or 0)
        elif stored.algorithm == "pbkdf2_sha256" and stored.iterations:
            derived = hashlib.pbkdf2_hmac(
                "sha256", secret.encode(), bytes.fromhex(stored.salt), stored.iterations, _DKLEN
            )
        else:
            return False
        return hmac.compare_digest(derived, bytes.fromhex(stored.digest))
    except (ValueError, TypeError, MemoryError):
        return False


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    memory = 128 * r * (n + p + 2)
    data = secret.encode("utf-8", "surrogatepass")
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=_DKLEN)


def _weaker(stored: SecretHash, n: int, r: int, p: int) -> bool:
    if stored.algorithm != "scrypt":
        return True
    return (stored.n or 0) < n or (stored.r or 0) < r or (stored.p or 0) < p


@attrs.frozen
class RegisteredClient:
    """A registration and its secret, shown this once (never stored, never in repr)."""

    client: ClientRegistration
    secret: str = attrs.field(repr=False)


def _frozen_grants(
    grants: Mapping[tuple[str, str], frozenset[str] | None],
) -> Mapping[tuple[str, str], frozenset[str] | None]:
    return MappingProxyType(
        {(str(e), str(o)): None if c is None else frozenset(c) for (e, o), c in grants.items()}
    )


@attrs.frozen
class Principal:
    """An authenticated client: what it may do, as ``(entity type, operation) ->
    scope`` (None: any category; a set: only offerings in those categories).
    The grants are a read-only copy."""

    client_id: str
    name: str
    grants: Mapping[tuple[str, str], frozenset[str] | None] = attrs.field(converter=_frozen_grants)

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
    sessions at once (a revoked or rotated client's sessions stop working),
    held references to their operations included.

    Secrets are hashed with scrypt at ``scrypt_n``/``scrypt_r``/``scrypt_p``
    (default and minimum: OWASP's N=2^17, r=8, p=1); a hash stored with lower
    parameters still verifies and is re-hashed at these on the next successful
    authentication. ``insecure_low_cost=True`` allows lower ones: for test
    suites that register many clients, never in production.
    """

    def __init__(
        self,
        clients: ClientRepository,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        scrypt_n: int = SCRYPT_N,
        scrypt_r: int = SCRYPT_R,
        scrypt_p: int = SCRYPT_P,
        insecure_low_cost: bool = False,
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
        problems = scrypt_problems(
            scrypt_n, scrypt_r, scrypt_p, insecure_low_cost=insecure_low_cost
        )
        if problems:
            raise ValidationError("AccessControl", problems)
        self.clients = clients
        self._clock = clock or SystemClock()
        self._ids = ids or RandomIdFactory()
        self._scrypt_n = scrypt_n
        self._cost = (scrypt_n, scrypt_r, scrypt_p)
        self._lock = threading.Lock()
        self._listeners: dict[str, weakref.WeakSet[Any]] = {}
        self._rehashed: dict[str, SecretHash] = {}  # upgraded digest -> the hash it replaced
        # unknown clients cost one scrypt at these parameters, like a known one
        self._dummy = SecretHash(
            algorithm="scrypt", salt=secrets.token_hex(16), digest=secrets.token_hex(_DKLEN),
            n=scrypt_n, r=scrypt_r, p=scrypt_p,
        )  # fmt: skip

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
                secret_hash=self._hash(secret),
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
        stored = self._store(current, secret_hash=self._hash(secret), secret_rotated_at=now)
        self._notify(client_id)
        return RegisteredClient(stored, secret)

    def revoke(self, client_id: str) -> ClientRegistration:
        """Revoke the client: its secret and open sessions stop working."""
        current = self._active(client_id)
        stored = self._store(current, status="revoked", revoked_at=self._clock.now())
        self._notify(client_id)
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
        self._notify(client_id)
        return stored

    def registered(self, *, status: str | None = None) -> list[ClientRegistration]:
        """Registrations (optionally only ``"active"`` or ``"revoked"`` ones)."""
        return list(self.clients.iterate(ClientFilter(status=status) if status else None))

    # ------------------------------------------------------------------ authentication

    def authenticate(self, secret: str) -> Principal:
        """The principal of the client whose secret this is.

        Raises AccessDeniedError: ``unknown client or secret`` for an unknown
        client and a wrong secret alike (same message, same scrypt cost), or
        ``the client was revoked``; the error never echoes the secret.
        """
        return Principal.of(self._authenticate(secret))

    def _authenticate(self, secret: str) -> ClientRegistration:
        """The registration whose secret this is (re-hashed if its cost is below ours)."""
        given = secret if type(secret) is str else ""
        client_id, dot, _ = given.partition(".")
        client = self.clients.find(client_id) if dot else None
        stored = client.secret_hash if client is not None else None
        if client is None or stored is None:
            secret_matches(given, self._dummy)
            raise AccessDeniedError(None, "authenticate", "client", "unknown client or secret")
        if not secret_matches(given, stored):
            raise AccessDeniedError(None, "authenticate", "client", "unknown client or secret")
        if not client.active:
            raise AccessDeniedError(client_id, "authenticate", "client", "the client was revoked")
        if _weaker(stored, *self._cost):
            try:
                client = self._store(client, secret_hash=self._hash(given))
            except EtomkitError:  # upgraded by a racing authentication: keep what is stored
                return client
            with self._lock:
                self._rehashed[client.secret_hash.digest if client.secret_hash else ""] = stored
        return client

    def _same_secret(self, before: SecretHash | None, now: SecretHash | None) -> bool:
        """True if ``now`` is ``before`` or its re-hash at higher cost (not a rotation)."""
        if before == now:
            return True
        with self._lock:
            return now is not None and self._rehashed.get(now.digest) == before

    def _hash(self, secret: str) -> SecretHash:
        n, r, p = self._cost
        return hash_secret(secret, n=n, r=r, p=p)

    def _listen(self, client_id: str, listener: Any) -> None:
        """Tell ``listener`` (weakly held) when the client's registration changes:
        ``listener.changed()``; it re-reads the registration itself."""
        with self._lock:
            self._listeners.setdefault(client_id, weakref.WeakSet()).add(listener)

    # ------------------------------------------------------------------ internals

    def _active(self, client_id: str) -> ClientRegistration:
        if type(client_id) is not str:
            raise ValidationError("ClientRegistration", [("id", "must be a str")])
        client = self.clients.get(client_id)
        if not client.active:
            raise AccessDeniedError(client_id, "admin", "client", "the client was revoked")
        return client

    def _store(self, current: ClientRegistration, **changes: Any) -> ClientRegistration:
        return self.clients.replace(
            replace(current, last_update=self._clock.now(), **changes),
            expected_revision=current.revision,
        )

    def _notify(self, client_id: str) -> None:
        with self._lock:
            listeners = list(self._listeners.get(client_id, ()))
        for listener in listeners:
            listener.changed()
