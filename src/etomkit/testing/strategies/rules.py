"""Strategies for issuing rules: predicates, item templates, rules and rule sets.

Generated rule sets are valid (``RuleSet`` accepts them) and survive a trip
through a rule file: :func:`rule_set_toml` writes one as TOML, and
``RuleSet.from_toml_text`` / ``RuleSet.from_json_text(json.dumps(rs.to_dict()))``
read back equal rules.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from typing import Any

import hypothesis.strategies as st

from etomkit.ordering.predicates import AllOf, Eq, Exists, In, Ne, Predicate, Range
from etomkit.ordering.rules import FromService, ItemTemplate, Rule, RuleSet
from etomkit.testing.strategies.values import _optional, _texts, entity_refs

__all__ = ["predicates", "from_services", "item_templates", "rules", "rule_sets", "rule_set_toml"]

_CHARACTERISTICS = st.sampled_from(("speed", "profile", "vlan", "region"))
_SPECS = st.sampled_from(("fibre-access", "ont", "vlan", "ip-address"))
_SCALARS = st.text(string.ascii_letters, min_size=1, max_size=8) | st.integers(-99, 999)
_RULE_ACTIONS = st.sampled_from(("add", "modify", "delete"))


def predicates() -> st.SearchStrategy[Predicate]:
    """Conditions on one service characteristic: eq, ne, in, range, exists."""
    bounds = st.integers(0, 100)
    ranges = st.builds(
        lambda name, a, b: Range(characteristic=name, min=min(a, b), max=max(a, b)),
        _CHARACTERISTICS,
        bounds,
        bounds,
    )
    return st.one_of(
        st.builds(Eq, _CHARACTERISTICS, _SCALARS),
        st.builds(Ne, _CHARACTERISTICS, _SCALARS),
        st.builds(In, _CHARACTERISTICS, st.lists(_SCALARS, min_size=1, max_size=3, unique=True)),
        ranges,
        st.builds(Exists, _CHARACTERISTICS),
    )


def from_services() -> st.SearchStrategy[FromService]:
    """Characteristic values taken from the service item (optionally mapped)."""
    return st.builds(
        FromService,
        characteristic=_CHARACTERISTICS,
        map=_optional(st.dictionaries(st.text(string.ascii_letters, min_size=1), _SCALARS)),
    )


def item_templates() -> st.SearchStrategy[ItemTemplate]:
    """Resource order items a rule produces, with constant or service-derived values."""
    values = _SCALARS | from_services()
    return st.builds(
        ItemTemplate,
        resource_specification=_SPECS | entity_refs(ids=_SPECS).map(lambda r: r.id),
        action=_optional(st.sampled_from(("add", "modify", "delete"))),
        quantity=st.integers(1, 4),
        characteristics=st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=8), values, max_size=3
        ),
    )


def _when(found: list[Predicate]) -> Predicate | None:
    if not found:
        return None
    return found[0] if len(found) == 1 else AllOf(tuple(found))


def rules(
    *, ids: st.SearchStrategy[str] | None = None, special: bool | None = None
) -> st.SearchStrategy[Rule]:
    """Valid issuing rules (``rule_problems`` finds nothing); ``special`` fixes the flag."""

    def build(
        rule_id: str,
        spec: str,
        actions: list[str],
        found: list[Predicate],
        produces: list[ItemTemplate],
        is_special: bool,
        priority: int,
        version: str,
        reason: str | None,
        description: str | None,
        flags: tuple[bool, bool],
    ) -> Rule:
        if not produces and not is_special and "delete" not in actions:
            is_special = True
        return Rule(
            id=rule_id,
            specification=spec,
            action=tuple(actions),
            when=_when(found),
            produces=tuple(produces),
            version=version,
            priority=priority,
            special=is_special,
            reason=reason,
            description=description,
            requires_feasibility=flags[0],
            final=flags[1],
        )

    return st.builds(
        build,
        ids if ids is not None else st.text(string.ascii_lowercase + "-", min_size=1, max_size=10),
        _SPECS,
        st.lists(_RULE_ACTIONS, min_size=1, max_size=2, unique=True),
        st.lists(predicates(), max_size=2),
        st.lists(item_templates(), max_size=2),
        st.just(special) if special is not None else st.booleans(),
        st.integers(-5, 5),
        st.sampled_from(("1", "2", "1.1")),
        _optional(_texts().filter(str.strip)),
        _optional(_texts()),
        st.tuples(st.booleans(), st.booleans()),
    )


def rule_sets(*, max_size: int = 4) -> st.SearchStrategy[RuleSet]:
    """Valid rule sets of one to ``max_size`` rules with distinct ids."""
    ids = st.lists(
        st.text(string.ascii_lowercase, min_size=1, max_size=8),
        min_size=1,
        max_size=max_size,
        unique=True,
    )
    return ids.flatmap(
        lambda chosen: st.tuples(*(rules(ids=st.just(i)) for i in chosen)).map(
            lambda found: RuleSet(found, source="generated")
        )
    )


# ---------------------------------------------------------------------- TOML


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's, but for surrogate pairs (so no ASCII-only) and DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def rule_set_toml(rule_set: RuleSet) -> str:
    """``rule_set`` as a TOML rule file of ``[[rule]]`` tables (``RuleSet.from_toml_text``)."""
    out: list[str] = []
    for rule in rule_set.to_dict()["rules"]:
        out.append("[[rule]]")
        out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in rule.items())
        out.append("")
    return "\n".join(out)
