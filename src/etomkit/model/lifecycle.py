"""Lifecycles as data: transition tables, read leniently, written in TMF spelling."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from etomkit.errors import TransitionError, ValidationError

__all__ = ["OFFERING_LIFECYCLE", "PRODUCT_LIFECYCLE", "Lifecycle"]

_SEPARATORS = re.compile(r"[\s_\-]+")


def _normalise(text: str) -> str:
    return _SEPARATORS.sub("", text).lower()


@attrs.frozen
class Lifecycle:
    """A transition table for one entity's status field.

    States are spelled as TMF writes them; :meth:`canonical` accepts any case,
    spaces, underscores or hyphens (``"in_study"``, ``"pending-active"``,
    ``"aborted "``). Hosts build their own with :meth:`from_table` or
    :meth:`with_transitions`.
    """

    entity: str
    field: str
    initial: str
    transitions: Mapping[str, tuple[str, ...]]
    _by_key: Mapping[str, str] = attrs.field(init=False, repr=False, eq=False)
    _states: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        states = dict.fromkeys(self.transitions)  # table order, stable in messages
        for targets in self.transitions.values():
            states.update(dict.fromkeys(targets))
        by_key = {_normalise(s): s for s in states}
        by_key.update({s: s for s in states})  # the TMF spelling itself: no regex needed
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_states", tuple(states))
        if self.initial not in states:
            allowed = ", ".join(repr(s) for s in states)
            raise ValidationError(
                f"{self.entity} lifecycle",
                [("initial", f"{self.initial!r} is not a state of the table; states: {allowed}")],
            )

    @classmethod
    def from_table(
        cls, entity: str, field: str, initial: str, table: Mapping[str, Iterable[str]]
    ) -> Lifecycle:
        """Build a lifecycle from ``{state: [allowed targets]}``."""
        return cls(entity, field, initial, {s: tuple(t) for s, t in table.items()})

    def with_transitions(self, table: Mapping[str, Iterable[str]]) -> Lifecycle:
        """A copy where the given states' allowed targets are replaced."""
        merged = dict(self.transitions)
        merged.update({s: tuple(t) for s, t in table.items()})
        return attrs.evolve(self, transitions=merged)

    @property
    def states(self) -> tuple[str, ...]:
        """Every state, in TMF spelling, in table order."""
        return self._states

    @property
    def terminal_states(self) -> frozenset[str]:
        """States with no way out."""
        return frozenset(s for s in self.states if not self.transitions.get(s))

    def find(self, text: str) -> str | None:
        """The TMF spelling of ``text``, or None if it names no state."""
        if not isinstance(text, str):
            return None
        hit = self._by_key.get(text)
        if hit is None:
            hit = self._by_key.get(_normalise(text))
        return hit

    def canonical(self, text: str, entity_id: str | None = None) -> str:
        """The TMF spelling of ``text``; ValidationError listing the states if unknown."""
        hit = self.find(text)
        if hit is None:
            allowed = ", ".join(repr(s) for s in self.states)
            where = f" {entity_id}" if entity_id else ""
            raise ValidationError(
                f"{self.entity}{where}",
                [(self.field, f"unknown state {text!r}; allowed: {allowed}")],
            )
        return hit

    def allowed_from(self, state: str) -> tuple[str, ...]:
        """The states reachable in one step from ``state``."""
        return self.transitions.get(self.canonical(state), ())

    def is_terminal(self, state: str) -> bool:
        """True if no transition leaves ``state``."""
        return not self.transitions.get(self.canonical(state))

    def check(self, current: str, target: str, entity_id: str | None = None) -> str:
        """Return the canonical ``target`` if ``current -> target`` is allowed.

        Raises TransitionError naming the allowed targets otherwise.
        """
        src = self.canonical(current, entity_id)
        dst = self.canonical(target, entity_id)
        allowed = self.transitions.get(src, ())
        if dst not in allowed:
            raise TransitionError(self.entity, entity_id, src, dst, allowed)
        return dst


OFFERING_LIFECYCLE = Lifecycle.from_table(
    "ProductOffering",
    "lifecycle_status",
    "In study",
    {
        "In study": ["In design", "Rejected"],
        "In design": ["In test", "In study", "Rejected"],
        "In test": ["Active", "In design", "Rejected"],
        "Active": ["Launched", "Retired"],
        "Launched": ["Retired"],
        "Retired": ["Obsolete"],
        "Rejected": [],
        "Obsolete": [],
    },
)
"""TMF620 offering lifecycle (DESIGN.md default table)."""

PRODUCT_LIFECYCLE = Lifecycle.from_table(
    "Product",
    "status",
    "created",
    {
        "created": ["pendingActive", "active"],
        "pendingActive": ["active", "cancelled", "aborted"],
        "active": ["suspended", "pendingTerminate", "terminated"],
        "suspended": ["active"],
        "pendingTerminate": ["terminated"],
        "cancelled": [],
        "aborted": [],
        "terminated": [],
    },
)
"""TMF637 product status (DESIGN.md default table); TMF637 v4 JSON spells ``'aborted '``."""
