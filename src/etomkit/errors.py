"""The exceptions etomkit raises: one root, subclasses mixing in builtins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "AccessDeniedError",
    "ConflictError",
    "DuplicateKeyError",
    "EtomkitError",
    "NotFoundError",
    "Problem",
    "StorageCorruptedError",
    "StorageError",
    "StoreLockedError",
    "TransitionError",
    "ValidationError",
]


class EtomkitError(Exception):
    """Root of every exception etomkit raises on purpose."""


class NotFoundError(EtomkitError, KeyError):
    """An entity with the given id does not exist."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id!r} not found")
        self.entity = entity
        self.entity_id = entity_id

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ConflictError(EtomkitError):
    """A write clashes with the stored state (stale revision, duplicate id, in use)."""


class DuplicateKeyError(ConflictError):
    """A second entity with the same unique key (``ports.Repository.unique_keys``):
    ``key`` names the key, ``value`` its value, ``existing_id`` the entity holding it."""

    def __init__(self, entity: str, key: str, value: str, existing_id: str) -> None:
        super().__init__(f"{entity} with {key} {value!r} already exists: {entity} {existing_id!r}")
        self.entity = entity
        self.key = key
        self.value = value
        self.existing_id = existing_id


Problem = tuple[str, str]
"""One validation problem: ``(field path, message)``."""


class ValidationError(EtomkitError, ValueError):
    """Input is invalid; ``problems`` lists every ``(field path, message)`` found."""

    def __init__(self, entity: str, problems: Iterable[Problem]) -> None:
        self.entity = entity
        self.problems: Sequence[Problem] = tuple(problems)
        lines = "\n".join(f"  {path}: {msg}" for path, msg in self.problems)
        count = len(self.problems)
        super().__init__(f"invalid {entity} ({count} problem{'s' * (count != 1)}):\n{lines}")


class TransitionError(EtomkitError):
    """A lifecycle transition the entity's transition table does not allow."""

    def __init__(
        self, entity: str, entity_id: str | None, current: str, target: str, allowed: Sequence[str]
    ) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.current = current
        self.target = target
        self.allowed = tuple(allowed)
        where = f" {entity_id!r}" if entity_id else ""
        choices = ", ".join(repr(a) for a in self.allowed) or "none (terminal state)"
        super().__init__(
            f"{entity}{where} cannot go from {current!r} to {target!r}; allowed: {choices}"
        )


class StorageError(EtomkitError):
    """A durable store could not read or write (disk full, I/O error, closed, read-only).

    The write that failed is not visible; earlier acknowledged writes are intact.
    """


class StorageCorruptedError(StorageError):
    """Stored data fails its checksum or framing somewhere other than a torn tail."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(f"{path}: corrupted at byte {offset}: {reason}")
        self.path = path
        self.offset = offset
        self.reason = reason


class StoreLockedError(StorageError):
    """Another process holds the store's writer lock."""


class AccessDeniedError(EtomkitError, PermissionError):
    """Access control refused a call: who (``client_id``, None if unauthenticated),
    what (``operation`` on ``entity_type``) and why (``reason``)."""

    def __init__(
        self, client_id: str | None, operation: str, entity_type: str, reason: str
    ) -> None:
        who = f"client {client_id!r}" if client_id else "an unauthenticated caller"
        super().__init__(f"{who} may not {operation} {entity_type}: {reason}")
        self.client_id = client_id
        self.operation = operation
        self.entity_type = entity_type
        self.reason = reason
