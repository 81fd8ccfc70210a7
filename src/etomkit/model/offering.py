"""ProductOffering (TMF620): what the operator sells, with its lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from etomkit.errors import Problem
from etomkit.model.values import EntityRef, TimePeriod, _extras

__all__ = ["VALUE_TYPES", "CharacteristicValueUse", "ProductOffering", "offering_problems"]

VALUE_TYPES: Mapping[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, (list, tuple)),
}
"""The characteristic value types etomkit knows, and how each is recognised (a use
declaring one of them may only list values of that type)."""


@attrs.frozen(kw_only=True)
class CharacteristicValueUse:
    """TMF620 ProductSpecificationCharacteristicValueUse: a characteristic the offering uses."""

    name: str
    value_type: str | None = None
    description: str | None = None
    min_cardinality: int | None = None
    max_cardinality: int | None = None
    product_spec_characteristic_value: tuple[Mapping[str, Any], ...] = attrs.field(
        default=(), hash=False
    )
    id: str | None = None
    type: str | None = None
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen(kw_only=True)
class ProductOffering:
    """A TMF620 ProductOffering.

    ``revision`` is etomkit's optimistic-concurrency counter (0 = never stored);
    it is not part of TMF JSON. ``extras`` keeps TMF attributes not modelled
    here (agreement, channel, productOfferingTerm, …) so JSON round-trips losslessly.
    """

    name: str
    id: str | None = None
    href: str | None = None
    version: str | None = None
    description: str | None = None
    lifecycle_status: str = "In study"
    status_reason: str | None = None
    valid_for: TimePeriod | None = None
    is_bundle: bool | None = None
    is_sellable: bool | None = None
    last_update: datetime | None = None
    category: tuple[EntityRef, ...] = ()
    product_specification: EntityRef | None = None
    bundled_product_offering: tuple[EntityRef, ...] = ()
    product_offering_price: tuple[EntityRef, ...] = ()
    prod_spec_char_value_use: tuple[CharacteristicValueUse, ...] = ()
    type: str | None = "ProductOffering"
    base_type: str | None = None
    schema_location: str | None = None
    extras: Mapping[str, Any] = _extras()
    revision: int = 0

    @property
    def category_ids(self) -> tuple[str, ...]:
        """Ids of the categories the offering is in."""
        return tuple(c.id for c in self.category)


def _check_str(problems: list[Problem], path: str, value: object, *, required: bool) -> None:
    if value is None:
        if required:
            problems.append((path, "is required"))
    elif not isinstance(value, str):
        problems.append((path, f"must be a string, got {type(value).__name__}"))
    elif required and not value.strip():
        problems.append((path, "must not be blank"))


def _check_refs(problems: list[Problem], path: str, refs: object) -> None:
    if not isinstance(refs, tuple):
        problems.append((path, f"must be a tuple of EntityRef, got {type(refs).__name__}"))
        return
    for i, ref in enumerate(refs):
        check_ref(problems, f"{path}[{i}]", ref)


def check_ref(problems: list[Problem], path: str, ref: object, cls: type = EntityRef) -> None:
    """Append a problem if ``ref`` is not a ``cls`` with a non-blank id."""
    if not isinstance(ref, cls):
        problems.append((path, f"must be a {cls.__name__}, got {type(ref).__name__}"))
    else:
        _check_str(problems, f"{path}.id", getattr(ref, "id", None), required=True)


def check_period(problems: list[Problem], path: str, period: object) -> None:
    """Append a problem if ``period`` is not a TimePeriod with start <= end."""
    if period is None:
        return
    if not isinstance(period, TimePeriod):
        problems.append((path, f"must be a TimePeriod, got {type(period).__name__}"))
        return
    start, end = period.start_date_time, period.end_date_time
    for name, moment in (("start_date_time", start), ("end_date_time", end)):
        if moment is not None and not isinstance(moment, datetime):
            problems.append((f"{path}.{name}", "must be a datetime"))
        elif moment is not None and moment.tzinfo is None:
            problems.append((f"{path}.{name}", "must be timezone-aware"))
    aware = (
        isinstance(start, datetime) and isinstance(end, datetime) and start.tzinfo and end.tzinfo
    )
    if aware and end < start:  # type: ignore[operator]
        problems.append((f"{path}.end_date_time", "must not be before start_date_time"))


def _refs_ok(refs: object) -> bool:
    return type(refs) is tuple and all(
        type(r) is EntityRef and type(r.id) is str and r.id.strip() for r in refs
    )


def _looks_well_formed(o: ProductOffering) -> bool:
    """A quick pass over the common case; False means: look closely."""
    name = o.name
    return (
        type(name) is str
        and bool(name.strip())
        and (o.id is None or type(o.id) is str)
        and (o.href is None or type(o.href) is str)
        and (o.version is None or type(o.version) is str)
        and (o.description is None or type(o.description) is str)
        and (o.status_reason is None or type(o.status_reason) is str)
        and type(o.lifecycle_status) is str
        and bool(o.lifecycle_status.strip())
        and o.valid_for is None
        and (o.is_bundle is None or type(o.is_bundle) is bool)
        and (o.is_sellable is None or type(o.is_sellable) is bool)
        and (o.category == () or _refs_ok(o.category))
        and (
            o.bundled_product_offering == ()
            or (o.is_bundle is not False and _refs_ok(o.bundled_product_offering))
        )
        and (o.product_offering_price == () or _refs_ok(o.product_offering_price))
        and (o.product_specification is None or _refs_ok((o.product_specification,)))
        and o.prod_spec_char_value_use == ()
    )


def offering_problems(offering: ProductOffering) -> list[Problem]:
    """Every field-level problem of ``offering`` (empty if it is well formed)."""
    if _looks_well_formed(offering):
        return []
    problems: list[Problem] = []
    _check_str(problems, "name", offering.name, required=True)
    for name in ("id", "href", "version", "description", "status_reason"):
        _check_str(problems, name, getattr(offering, name), required=False)
    _check_str(problems, "lifecycle_status", offering.lifecycle_status, required=True)
    check_period(problems, "valid_for", offering.valid_for)
    for name in ("is_bundle", "is_sellable"):
        value = getattr(offering, name)
        if value is not None and not isinstance(value, bool):
            problems.append((name, f"must be a bool, got {type(value).__name__}"))
    for name in ("category", "bundled_product_offering", "product_offering_price"):
        _check_refs(problems, name, getattr(offering, name))
    if offering.product_specification is not None:
        check_ref(problems, "product_specification", offering.product_specification)
    if offering.bundled_product_offering and offering.is_bundle is False:
        problems.append(("is_bundle", "must not be false when bundled_product_offering is set"))
    if not isinstance(offering.prod_spec_char_value_use, tuple):
        problems.append(("prod_spec_char_value_use", "must be a tuple of CharacteristicValueUse"))
    else:
        for i, use in enumerate(offering.prod_spec_char_value_use):
            path = f"prod_spec_char_value_use[{i}]"
            if not isinstance(use, CharacteristicValueUse):
                problems.append((path, "must be a CharacteristicValueUse"))
            else:
                _check_str(problems, f"{path}.name", use.name, required=True)
                _check_declared_values(problems, path, use)
        check_unique_names(problems, "prod_spec_char_value_use", offering.prod_spec_char_value_use)
    return problems


def _check_declared_values(problems: list[Problem], path: str, use: CharacteristicValueUse) -> None:
    is_type = VALUE_TYPES.get(use.value_type) if isinstance(use.value_type, str) else None
    if is_type is None or not isinstance(use.product_spec_characteristic_value, tuple):
        return
    for j, entry in enumerate(use.product_spec_characteristic_value):
        if isinstance(entry, Mapping) and "value" in entry and not is_type(entry["value"]):
            problems.append(
                (
                    f"{path}.product_spec_characteristic_value[{j}].value",
                    f"must be of the declared value type {use.value_type!r}, "
                    f"got {entry['value']!r}",
                )
            )


def check_unique_names(problems: list[Problem], path: str, items: object) -> None:
    """Append a problem for each item whose ``name`` an earlier item already has."""
    if not isinstance(items, tuple):
        return
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        name = getattr(item, "name", None)
        if not isinstance(name, str):
            continue
        if name in first:
            problems.append(
                (
                    f"{path}[{i}].name",
                    f"{name!r} is already the name of {path}[{first[name]}]; "
                    "each characteristic may appear once",
                )
            )
        else:
            first[name] = i
