"""Registered client processes of the inventory and what each may do (eTOM 1.2.4.2)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.model.queries import _t

__all__ = [
    "BOOTSTRAP_TERM",
    "CLIENT_STATUSES",
    "ENTITY_TYPES",
    "OPERATIONS",
    "ClientFilter",
    "ClientRegistration",
    "Permission",
    "SecretHash",
    "client_terms",
]

#: What a permission may allow. ``admin`` covers registering clients and
#: reading usage (entity types ``client`` and ``usage``).
OPERATIONS = ("create", "read", "modify", "update", "delete", "download", "admin")
#: What a permission is about: the inventory's entities, the client registry, the usage log.
ENTITY_TYPES = ("offering", "product", "client", "usage")
CLIENT_STATUSES = ("active", "revoked")


def _as_scope(value: str | Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


@attrs.frozen
class Permission:
    """Allows one operation on one entity type, optionally only within offering
    categories (``categories``: category ids; a product is in scope when its
    offering is). ``Permission("offering", "read", categories={"mobile"})``."""

    entity_type: str
    operation: str
    categories: frozenset[str] | None = attrs.field(default=None, converter=_as_scope)

    def __attrs_post_init__(self) -> None:
        problems = permission_problems(self)
        if problems:
            raise ValidationError(
                f"Permission {self.operation!r} on {self.entity_type!r}", problems
            )

    @classmethod
    def every(
        cls,
        entity_type: str,
        operations: Iterable[str] = OPERATIONS,
        *,
        categories: Collection[str] | None = None,
    ) -> tuple[Permission, ...]:
        """One permission per operation on ``entity_type`` (default: all operations)."""
        return tuple(cls(entity_type, op, categories) for op in operations)


def permission_problems(permission: Permission) -> list[Problem]:
    """What is wrong with a permission, as ``(field, message)`` pairs."""
    problems: list[Problem] = []
    if permission.entity_type not in ENTITY_TYPES:
        allowed = ", ".join(ENTITY_TYPES)
        problems.append(("entity_type", f"unknown {permission.entity_type!r}; allowed: {allowed}"))
    if permission.operation not in OPERATIONS:
        allowed = ", ".join(OPERATIONS)
        problems.append(("operation", f"unknown {permission.operation!r}; allowed: {allowed}"))
    if permission.categories is not None:
        if permission.entity_type not in ("offering", "product"):
            problems.append(("categories", "only offering and product permissions take a scope"))
        if not permission.categories or not all(
            isinstance(c, str) and c for c in permission.categories
        ):
            problems.append(("categories", "must be non-empty category ids (or None: any)"))
    return problems


@attrs.frozen(kw_only=True)
class SecretHash:
    """A salted hash of a client secret (never the secret): ``algorithm`` with its
    cost parameters, the salt and the derived key, hex-encoded."""

    algorithm: str
    salt: str
    digest: str
    n: int | None = None
    r: int | None = None
    p: int | None = None
    iterations: int | None = None


@attrs.frozen(kw_only=True)
class ClientRegistration:
    """A client process registered to use the inventory (Order Handling, CRM,
    billing, an auditor …): its permissions and the hash of its secret."""

    id: str | None = None
    name: str
    permissions: tuple[Permission, ...] = ()
    secret_hash: SecretHash | None = None
    status: str = "active"
    description: str | None = None
    bootstrap: bool = False  # the first administrator (unique: one per registry)
    registered_at: datetime | None = None
    secret_rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    last_update: datetime | None = None
    revision: int = 0

    @property
    def active(self) -> bool:
        """True unless revoked."""
        return self.status == "active"


@attrs.frozen(kw_only=True)
class ClientFilter:
    """Select registrations by status or exact name."""

    status: str | None = None
    name: str | None = None

    def matches(self, client: ClientRegistration) -> bool:
        """True if ``client`` passes every set criterion."""
        if self.status is not None and client.status != self.status:
            return False
        return self.name is None or client.name == self.name

    def term_sets(self) -> list[list[str]]:
        """Per criterion, the index terms any of which a match must carry."""
        sets = []
        if self.name is not None:
            sets.append([f"name={_t(self.name)}"])
        if self.status is not None:
            sets.append([f"status={_t(self.status)}"])
        return sets


#: The index term of the bootstrap administrator: unique in a client repository.
BOOTSTRAP_TERM = "bootstrap=administrator"


def client_terms(client: ClientRegistration) -> tuple[str, ...]:
    """Index terms of a registration: status and name (and whether it is the
    bootstrap administrator)."""
    terms = (f"status={_t(client.status)}", f"name={_t(client.name)}")
    return (*terms, BOOTSTRAP_TERM) if client.bootstrap else terms
