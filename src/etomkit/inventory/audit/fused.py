"""The product pass, compiled once per run from the enabled built-in rules.

A million products make the per-record cost the whole cost, so the loop is
generated with exactly the enabled rules' statements inline (no flag tests,
no call per rule) and one dict lookup per product for everything the rules
need of its offering: whether it exists, whether it has ended (Retired or
Obsolete), its specification id and the requirement checks for its products.
Findings are built by small helpers, which only run for defective records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["OfferingEntry", "compile_product_pass"]

OfferingEntry = tuple[bool, str | None, str | None, Any]
"""Per offering id: (exists, what is wrong with an active product on it: ``"ended"``,
``"unlaunched"`` or None, specification id, the product requirement check or None)."""

_HEAD = """\
def product_pass(products):
    n = 0
    req_checked = 0
    entries_get = entries.get
    stale_before_, now_, terminal_, len_ = stale_before, now, terminal, len  # locals: faster
    for p in products:
        n += 1
        off_id = p.product_offering.id
        entry = entries_get(off_id)
        if entry is None:
            entry = make_entry(off_id)
        exists, ended, spec_id, check = entry
        status = p.status
"""

# (the rules any of which needs the statement, the statement), in order
_RULES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"referential-integrity"}),
        """\
        if not exists:
            missing_offering(p, off_id)
""",
    ),
    (
        frozenset({"lifecycle-consistency", "unlaunched-offering"}),
        """\
        if ended and status == "active":
            active_on(p, off_id, ended)
""",
    ),
    (
        frozenset({"lifecycle-consistency"}),
        """\
        if status == "terminated" and p.termination_date is None:
            terminated_undated(p)
""",
    ),
    (
        frozenset({"date-order"}),
        """\
        end = p.termination_date
        if end is not None:
            start = p.start_date
            if start is not None and end < start:
                misdated(p, start, end)
""",
    ),
    (
        frozenset({"orphans"}),
        """\
        for party in p.related_party:
            role = party.role
            if role == "customer" or (type(role) is str and role.lower() == "customer"):
                break
        else:
            orphan(p)
""",
    ),
    (
        frozenset({"duplicate-characteristics"}),
        """\
        chars = p.product_characteristic
        if len_(chars) > 1:
            twice(p, chars)
""",
    ),
)
_DATED = {  # staleness and future-update read lastUpdate once
    "both": """\
        last = p.last_update
        if last is None or not stale_before_ <= last <= now_:
            dated(p, last, status)
""",
    "staleness": """\
        if status not in terminal_:
            last = p.last_update
            if last is None or last < stale_before_:
                stale(p, last)
""",
    "future-update": """\
        last = p.last_update
        if last is not None and last > now_:
            dated(p, last, status)
""",
}

_REQUIREMENTS = """\
        if check is not None:
            req_checked += 1
            if check(p):
                gaps(p, check)
"""
_OWN_SPECIFICATION = """\
        spec = p.product_specification
        if spec is not None and spec.id != spec_id:
            check = checks_for(off_id, spec.id)
"""
_CUSTOM = """\
        for rule in custom:
            run_custom(rule, p)
"""
_TAIL = """\
    return n, req_checked
"""


def compile_product_pass(
    enabled: Iterable[str],
    *,
    requirements: bool,
    specification_requirements: bool,
    custom: bool,
    names: Mapping[str, Any],
) -> Callable[[Iterable[Any]], tuple[int, int]]:
    """``product_pass(products) -> (products seen, products with requirement checks)``.

    ``names`` binds what the generated code uses: ``entries``, ``make_entry``,
    ``terminal``, ``stale_before``, ``now``, ``custom``, ``checks_for`` and the
    finding helpers (``missing_offering``, ``active_on``, ``terminated_undated``,
    ``misdated``, ``orphan``, ``twice``, ``stale``, ``dated``, ``gaps``,
    ``run_custom``).
    """
    wanted = set(enabled)
    source = _HEAD
    source += "".join(code for rules, code in _RULES if rules & wanted)
    if "staleness" in wanted and "future-update" in wanted:
        source += _DATED["both"]
    elif "staleness" in wanted:
        source += _DATED["staleness"]
    elif "future-update" in wanted:
        source += _DATED["future-update"]
    if requirements:
        if specification_requirements:
            source += _OWN_SPECIFICATION
        source += _REQUIREMENTS
    if custom:
        source += _CUSTOM
    source += _TAIL
    namespace: dict[str, Any] = dict(names)
    exec(compile(source, "<etomkit audit product pass>", "exec"), namespace)
    compiled: Callable[[Iterable[Any]], tuple[int, int]] = namespace["product_pass"]
    return compiled
