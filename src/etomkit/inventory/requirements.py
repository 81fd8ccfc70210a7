"""Information requirements: what the inventory must capture for offerings and products
(eTOM 1.2.4.2 "identify the inventory-relevant information to be captured").

A requirement applies to the offerings (or the products) of one offering
category and/or product specification, or to all of them, and lists required
fields and required characteristics with their value type, allowed values,
range and pattern. Declare them in Python or load them from TOML/JSON::

    [[requirement]]
    id = "broadband-products"
    entity = "Product"               # or "ProductOffering" (the default)
    category = "broadband"           # the offering category; omit for every one
    required_fields = ["billing_account"]

    [[requirement.characteristic]]
    name = "downloadSpeed"
    value_type = "integer"           # string, number, integer, boolean, object, array
    allowed = [100, 500, 1000]       # and/or minimum, maximum, pattern

    [[requirement]]
    id = "priced-once-launched"
    states = ["Active", "Launched"]  # only in these lifecycle states (default: every one)
    required_fields = ["product_offering_price"]

The inventory enforces them on every create, modify, update, import and
lifecycle transition (a requirement with ``states`` from the moment the entity
enters one of them: an offering missing its price cannot be launched); the
auditor checks stored records against them again (requirements change, old
records can fall short). Gaps are ``missing`` (a required value is absent) or
``invalid`` (a value breaks a constraint).
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.model.offering import VALUE_TYPES, ProductOffering
from etomkit.model.product import Product
from etomkit.tmf import camel

__all__ = [
    "ENTITY_TYPES",
    "VALUE_TYPES",
    "Gap",
    "InformationRequirement",
    "InformationRequirements",
    "ValueRequirement",
]

ENTITY_TYPES = ("ProductOffering", "Product")


_FIELDS: dict[str, frozenset[str]] = {
    "ProductOffering": frozenset(a.name for a in attrs.fields(ProductOffering)),
    "Product": frozenset(a.name for a in attrs.fields(Product)),
}
_NOT_FIELDS = frozenset({"extras", "revision"})


class Gap(NamedTuple):
    """Where an entity falls short of a requirement: ``kind`` is ``"missing"`` or ``"invalid"``."""

    requirement: str
    kind: Literal["missing", "invalid"]
    path: str
    message: str

    @property
    def problem(self) -> Problem:
        """As a ``(path, message)`` validation problem."""
        return (self.path, f"{self.message} (information requirement {self.requirement!r})")


@attrs.frozen(kw_only=True)
class ValueRequirement:
    """A required (or optional but constrained) field or characteristic.

    ``value_type`` is for characteristics only (fields are typed by the model);
    ``allowed``, ``minimum``/``maximum`` (numbers) and ``pattern`` (a regular
    expression the whole text must match) constrain the value when present.
    For reference fields (``product_specification``, ``category``) the
    constraints apply to the referenced ids.
    """

    name: str
    required: bool = True
    value_type: str | None = None
    allowed: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


@attrs.frozen(kw_only=True)
class InformationRequirement:
    """What must be captured for the offerings or products of a category/specification.

    ``entity`` is ``"ProductOffering"`` or ``"Product"``. ``category`` (an
    offering category id; for products, their offering's) and
    ``specification`` (a product specification id) narrow it; leave both
    unset to cover every entity of the type. ``states`` narrows it to entities
    in those lifecycle states (``lifecycle_status`` of offerings, ``status`` of
    products; any spelling the lifecycle reads: ``"In test"``, ``"in_test"``);
    empty means every state. ``required_fields`` is shorthand for ``fields``
    entries that only require a value.
    """

    id: str
    entity: str = "ProductOffering"
    category: str | None = None
    specification: str | None = None
    required_fields: tuple[str, ...] = ()
    fields: tuple[ValueRequirement, ...] = ()
    characteristics: tuple[ValueRequirement, ...] = ()
    description: str | None = None
    states: tuple[str, ...] = ()

    def applies_in(self, status: object) -> bool:
        """True if it covers an entity in lifecycle state ``status``."""
        if not self.states:
            return True
        if not isinstance(status, str):
            return False
        return _state_key(status) in {_state_key(s) for s in self.states}

    def applies(self, category_ids: Iterable[str], specification_id: str | None) -> bool:
        """True if it covers an entity in those categories with that specification."""
        if self.specification is not None and self.specification != specification_id:
            return False
        return self.category is None or self.category in category_ids


# ----------------------------------------------------------------------- checking

Checker = Callable[[Any], list[Gap]]
_SEPARATORS = re.compile(r"[\s_\-]+")
_STATUS_FIELDS = {"ProductOffering": "lifecycle_status", "Product": "status"}


def _state_key(state: str) -> str:
    """A state name as lifecycles read it: case, spaces, ``_`` and ``-`` ignored."""
    return _SEPARATORS.sub("", state).lower()


def _kind(value: object) -> str:
    """The value's kind, as allowed values are compared: ``true`` is not ``1``, ``"1"`` is not
    ``1``, ``1`` is ``1.0``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _is_allowed(value: object, allowed: Iterable[object]) -> bool:
    kind = _kind(value)
    return any(_kind(a) == kind and a == value for a in allowed)


def _blank(value: object) -> bool:
    return value is None or value == () or (isinstance(value, str) and not value.strip())


def _value_gaps(req_id: str, spec: ValueRequirement, path: str, value: object) -> list[Gap]:
    """Gaps of one present value against its constraints."""
    gaps: list[Gap] = []
    if spec.value_type is not None and not VALUE_TYPES[spec.value_type](value):
        gaps.append(
            Gap(req_id, "invalid", path, f"must be of type {spec.value_type}, got {value!r}")
        )
        return gaps
    if spec.allowed and not _is_allowed(value, spec.allowed):
        allowed = ", ".join(repr(a) for a in spec.allowed)
        gaps.append(Gap(req_id, "invalid", path, f"{value!r} is not allowed; allowed: {allowed}"))
    if spec.minimum is not None or spec.maximum is not None:
        if not VALUE_TYPES["number"](value):
            gaps.append(Gap(req_id, "invalid", path, f"must be a number, got {value!r}"))
        elif (spec.minimum is not None and value < spec.minimum) or (  # type: ignore[operator]
            spec.maximum is not None and value > spec.maximum  # type: ignore[operator]
        ):
            low = "-inf" if spec.minimum is None else spec.minimum
            high = "inf" if spec.maximum is None else spec.maximum
            gaps.append(Gap(req_id, "invalid", path, f"{value!r} is outside [{low}, {high}]"))
    if spec.pattern is not None:
        if not isinstance(value, str):
            gaps.append(Gap(req_id, "invalid", path, f"must be text matching {spec.pattern!r}"))
        elif re.fullmatch(spec.pattern, value) is None:
            gaps.append(Gap(req_id, "invalid", path, f"{value!r} does not match {spec.pattern!r}"))
    return gaps


_EXACT_TYPES: Mapping[str, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float}),
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "object": frozenset({dict}),
    "array": frozenset({list, tuple}),
}
_NUMBERS = frozenset({int, float})
_KIND_TYPES: Mapping[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "number": (int, float),
    "string": (str,),
}
_NO_GAPS: list[Gap] = []  # shared, never appended to


def _constrained(spec: ValueRequirement) -> bool:
    return (
        bool(spec.value_type or spec.allowed or spec.pattern is not None)
        or spec.minimum is not None
        or spec.maximum is not None
    )


def _field_checker(req_id: str, spec: ValueRequirement) -> Checker:
    name, required, constrained = spec.name, spec.required, _constrained(spec)

    def check(entity: Any) -> list[Gap]:
        value = getattr(entity, name)
        if _blank(value):
            return [Gap(req_id, "missing", name, "is required")] if required else []
        if not constrained:
            return []
        if isinstance(value, tuple):  # references: constrain their ids
            gaps: list[Gap] = []
            for i, ref in enumerate(value):
                gaps.extend(_value_gaps(req_id, spec, f"{name}[{i}].id", getattr(ref, "id", ref)))
            return gaps
        if hasattr(value, "id") and not isinstance(value, str):
            return _value_gaps(req_id, spec, f"{name}.id", value.id)
        return _value_gaps(req_id, spec, name, value)

    return check


def _product_characteristic_checker(req_id: str, spec: ValueRequirement) -> Checker:
    """The check of one product characteristic, compiled with its common case inline
    (audits run it on every product): a clean value costs a few comparisons."""
    path = f"product_characteristic[{spec.name}]"
    conditions = []
    if spec.value_type is not None:
        conditions.append("type(value) in TYPES")
    if spec.allowed:
        conditions.append("value in ALLOWED and type(value) in ALLOWED_TYPES")
    if spec.minimum is not None or spec.maximum is not None:
        conditions.append("type(value) in NUMBERS")
        if spec.minimum is not None:
            conditions.append("value >= LOW")
        if spec.maximum is not None:
            conditions.append("value <= HIGH")
    if spec.pattern is not None:
        conditions.append("type(value) is str and MATCH(value) is not None")
    try:
        allowed: Any = frozenset(spec.allowed)
    except TypeError:  # unhashable allowed values: always the close look
        allowed, conditions = (), ["False"]
    allowed_types = {t for a in spec.allowed for t in _KIND_TYPES.get(_kind(a), (type(a),))}
    source = f"""\
def check(product):
    for char in product.product_characteristic:
        if char.name == NAME:
            value = char.value
            if value is None:
                break
            try:
                if {" and ".join(conditions) or "True"}:
                    return NO_GAPS
            except TypeError:
                pass
            return slow(value)
    return MISSING
"""
    namespace: dict[str, Any] = {
        "NAME": spec.name,
        "TYPES": _EXACT_TYPES.get(spec.value_type or "", frozenset()),
        "ALLOWED": allowed,
        "ALLOWED_TYPES": frozenset(allowed_types),
        "NUMBERS": _NUMBERS,
        "LOW": spec.minimum,
        "HIGH": spec.maximum,
        "MATCH": None if spec.pattern is None else re.compile(spec.pattern).fullmatch,
        "NO_GAPS": _NO_GAPS,
        "MISSING": [Gap(req_id, "missing", path, "is required")] if spec.required else _NO_GAPS,
        "slow": lambda value: _value_gaps(req_id, spec, path, value),
    }
    exec(compile(source, f"<requirement {req_id} {path}>", "exec"), namespace)
    check: Checker = namespace["check"]
    return check


def _offering_characteristic_checker(req_id: str, spec: ValueRequirement) -> Checker:
    name, required = spec.name, spec.required
    path = f"prod_spec_char_value_use[{name}]"
    values_spec = attrs.evolve(spec, value_type=None)  # the use declares its value type
    constrained = _constrained(values_spec)

    def check(offering: Any) -> list[Gap]:
        for use in offering.prod_spec_char_value_use:
            if use.name == name:
                gaps: list[Gap] = _declared_type_gaps(req_id, path, use)
                if spec.value_type is not None and use.value_type != spec.value_type:
                    gaps.append(
                        Gap(
                            req_id,
                            "invalid" if use.value_type else "missing",
                            f"{path}.value_type",
                            f"must be {spec.value_type!r}, got {use.value_type!r}",
                        )
                    )
                if constrained:
                    for i, entry in enumerate(use.product_spec_characteristic_value):
                        if isinstance(entry, Mapping) and "value" in entry:
                            gaps.extend(
                                _value_gaps(
                                    req_id,
                                    values_spec,
                                    f"{path}.product_spec_characteristic_value[{i}].value",
                                    entry["value"],
                                )
                            )
                return gaps
        return [Gap(req_id, "missing", path, "is required")] if required else []

    return check


def _declared_type_gaps(req_id: str, path: str, use: Any) -> list[Gap]:
    """Listed values that are not of the use's own declared (known) value type."""
    is_type = VALUE_TYPES.get(use.value_type) if isinstance(use.value_type, str) else None
    if is_type is None:
        return []
    return [
        Gap(
            req_id,
            "invalid",
            f"{path}.product_spec_characteristic_value[{i}].value",
            f"must be of its declared type {use.value_type}, got {entry['value']!r}",
        )
        for i, entry in enumerate(use.product_spec_characteristic_value)
        if isinstance(entry, Mapping) and "value" in entry and not is_type(entry["value"])
    ]


def _checkers(req: InformationRequirement) -> list[Checker]:
    specs = [ValueRequirement(name=n) for n in req.required_fields] + list(req.fields)
    checkers = [_field_checker(req.id, s) for s in specs]
    make = (
        _product_characteristic_checker
        if req.entity == "Product"
        else _offering_characteristic_checker
    )
    checkers.extend(make(req.id, s) for s in req.characteristics)
    if req.states:
        checkers = [_in_states(req, c) for c in checkers]
    return checkers


def _in_states(req: InformationRequirement, inner: Checker) -> Checker:
    """``inner`` for entities in one of the requirement's states only (memoised per status)."""
    field = _STATUS_FIELDS[req.entity]
    wanted = frozenset(_state_key(s) for s in req.states)
    memo: dict[str, bool] = {}

    def check(entity: Any) -> list[Gap]:
        status = getattr(entity, field)
        applies = memo.get(status)
        if applies is None:
            applies = isinstance(status, str) and _state_key(status) in wanted
            if len(memo) < 1000:
                memo[status] = applies
        return inner(entity) if applies else _NO_GAPS

    return check


# ----------------------------------------------------------------------- the set


class InformationRequirements:
    """A validated set of information requirements, with fast per-entity checks.

    Raises ValidationError listing every problem of every requirement (unknown
    entity type or field, bad value type, pattern or range, duplicate id).
    """

    def __init__(self, requirements: Iterable[InformationRequirement] = ()) -> None:
        self.requirements: tuple[InformationRequirement, ...] = tuple(requirements)
        problems = requirement_problems(self.requirements)
        if problems:
            raise ValidationError("InformationRequirements", problems)
        self._checkers = {r.id: _checkers(r) for r in self.requirements}
        self._by_entity: dict[str, tuple[InformationRequirement, ...]] = {
            e: tuple(r for r in self.requirements if r.entity == e) for e in ENTITY_TYPES
        }
        self._cache: dict[tuple[str, tuple[str, ...], str | None], tuple[Checker, ...]] = {}

    def __len__(self) -> int:
        return len(self.requirements)

    def __repr__(self) -> str:
        return f"InformationRequirements({[r.id for r in self.requirements]!r})"

    # -------------------------------------------------------------- which apply

    def applicable_any(self, entity: str) -> bool:
        """True if some requirement covers entities of type ``entity``."""
        return bool(self._by_entity.get(entity))

    def applicable(
        self, entity: str, category_ids: Sequence[str], specification_id: str | None
    ) -> tuple[InformationRequirement, ...]:
        """The requirements covering an ``entity`` of those categories and specification."""
        return tuple(
            r for r in self._by_entity.get(entity, ()) if r.applies(category_ids, specification_id)
        )

    def checkers(
        self, entity: str, category_ids: Sequence[str], specification_id: str | None
    ) -> tuple[Checker, ...]:
        """The compiled checks of the applicable requirements (cached per key)."""
        key = (entity, tuple(category_ids), specification_id)
        found = self._cache.get(key)
        if found is None:
            found = tuple(
                c
                for r in self.applicable(entity, category_ids, specification_id)
                for c in self._checkers[r.id]
            )
            if len(self._cache) < 100_000:
                self._cache[key] = found
        return found

    def check_function(
        self, entity: str, category_ids: Sequence[str], specification_id: str | None
    ) -> Checker | None:
        """One function running every applicable check (None if nothing applies)."""
        checks = self.checkers(entity, category_ids, specification_id)
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]

        def check_all(entity: Any) -> list[Gap]:
            gaps: list[Gap] = _NO_GAPS
            for check in checks:
                found = check(entity)
                if found:
                    gaps = found if gaps is _NO_GAPS else [*gaps, *found]
            return gaps

        return check_all

    # -------------------------------------------------------------- checks

    def offering_gaps(self, offering: ProductOffering) -> list[Gap]:
        """Every gap of ``offering`` against the requirements covering it."""
        spec = offering.product_specification
        checks = self.checkers(
            "ProductOffering", _category_ids(offering), None if spec is None else spec.id
        )
        return [gap for check in checks for gap in check(offering)]

    def product_gaps(self, product: Product, offering: ProductOffering | None) -> list[Gap]:
        """Every gap of ``product``; its category is its ``offering``'s (None: none)."""
        categories = () if offering is None else _category_ids(offering)
        spec = product.product_specification or (
            None if offering is None else offering.product_specification
        )
        checks = self.checkers("Product", categories, None if spec is None else spec.id)
        return [gap for check in checks for gap in check(product)]

    def entering_gaps(
        self, entity: ProductOffering | Product, offering: ProductOffering | None = None
    ) -> list[Gap]:
        """Gaps of ``entity`` against the requirements with ``states`` that cover it in its
        current (new) state: what a transition into that state must not leave missing.
        For a product, ``offering`` is its offering (None: none)."""
        if isinstance(entity, Product):
            categories = () if offering is None else _category_ids(offering)
            spec = entity.product_specification or (
                None if offering is None else offering.product_specification
            )
            kind, status = "Product", entity.status
        else:
            categories, spec = _category_ids(entity), entity.product_specification
            kind, status = "ProductOffering", entity.lifecycle_status
        spec_id = None if spec is None else spec.id
        return [
            gap
            for r in self.applicable(kind, categories, spec_id)
            if r.states and r.applies_in(status)
            for check in self._checkers[r.id]
            for gap in check(entity)
        ]

    # -------------------------------------------------------------- loading

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | Sequence[Any], *, source: str = "requirements"
    ) -> InformationRequirements:
        """From parsed data: ``{"requirement": [...]}``, ``{"requirements": [...]}`` or a list.

        Raises ValidationError listing every problem at once.
        """
        from etomkit.inventory.requirement_files import read_requirements

        requirements, problems, positions = read_requirements(data)
        problems.extend(requirement_problems(requirements, positions))
        if problems:
            raise ValidationError(f"information requirements {source}", problems)
        return cls(requirements)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> InformationRequirements:
        """From a TOML file of ``[[requirement]]`` tables."""
        with open(path, "rb") as f:
            return cls.from_toml_text(f.read().decode("utf-8"), source=os.fspath(path))

    @classmethod
    def from_toml_text(
        cls, text: str, *, source: str = "requirements.toml"
    ) -> InformationRequirements:
        """From TOML text."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(
                f"information requirements {source}", [("$", f"not valid TOML: {exc}")]
            ) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> InformationRequirements:
        """From a JSON file (``{"requirements": [...]}`` or a list)."""
        with open(path, "rb") as f:
            return cls.from_json_text(f.read().decode("utf-8"), source=os.fspath(path))

    @classmethod
    def from_json_text(
        cls, text: str, *, source: str = "requirements.json"
    ) -> InformationRequirements:
        """From JSON text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"information requirements {source}", [("$", f"not valid JSON: {exc}")]
            ) from None
        return cls.from_dict(data, source=source)


def _category_ids(offering: ProductOffering) -> tuple[str, ...]:
    return tuple(getattr(c, "id", None) for c in offering.category)  # type: ignore[misc]


# ----------------------------------------------------------------------- validation


def _field_name(entity: str, name: object) -> str | None:
    """The attribute ``name`` (snake_case or TMF camelCase) stands for, or None."""
    if not isinstance(name, str):
        return None
    fields = _FIELDS.get(entity, frozenset()) - _NOT_FIELDS
    if name in fields:
        return name
    for field in fields:
        if camel(field) == name:
            return field
    return None


def _where(i: int, req: object) -> str:
    rid = getattr(req, "id", None)
    return f"requirement[{i}]" + (f"({rid})" if isinstance(rid, str) else "")


def _value_problems(path: str, spec: ValueRequirement, *, is_field: bool) -> list[Problem]:
    problems: list[Problem] = []
    if spec.value_type is not None:
        if is_field:
            problems.append(
                (
                    f"{path}.value_type",
                    "fields are typed by the model; only characteristics take one",
                )
            )
        elif spec.value_type not in VALUE_TYPES:
            allowed = ", ".join(VALUE_TYPES)
            problems.append(
                (f"{path}.value_type", f"unknown {spec.value_type!r}; allowed: {allowed}")
            )
    if not isinstance(spec.required, bool):
        problems.append((f"{path}.required", "must be true or false"))
    if not isinstance(spec.allowed, tuple):
        problems.append((f"{path}.allowed", "must be a list of values"))
    for bound in ("minimum", "maximum"):
        value = getattr(spec, bound)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            problems.append((f"{path}.{bound}", f"must be a finite number, got {value!r}"))
    low, high = spec.minimum, spec.maximum
    if (
        isinstance(low, (int, float))
        and isinstance(high, (int, float))
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and low > high
    ):
        problems.append((f"{path}.maximum", f"must not be below minimum ({low})"))
    if spec.pattern is not None:
        if not isinstance(spec.pattern, str):
            problems.append((f"{path}.pattern", "must be a regular expression (text)"))
        else:
            try:
                re.compile(spec.pattern)
            except re.error as exc:
                problems.append((f"{path}.pattern", f"not a valid regular expression: {exc}"))
    return problems


def requirement_problems(
    requirements: Sequence[object], positions: Sequence[int] | None = None
) -> list[Problem]:
    """Every problem of a sequence of requirements (empty if they are all usable);
    ``positions``: where each stands in its file (default: its index)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, req in enumerate(requirements):
        i = index if positions is None else positions[index]
        where = _where(i, req)
        if not isinstance(req, InformationRequirement):
            problems.append((where, f"must be an InformationRequirement, got {type(req).__name__}"))
            continue
        if not isinstance(req.id, str) or not req.id.strip():
            problems.append((f"{where}.id", "is required (a non-blank string)"))
        elif req.id in seen:
            problems.append((f"{where}.id", f"{req.id!r} is used by another requirement"))
        else:
            seen.add(req.id)
        if req.entity not in ENTITY_TYPES:
            allowed = ", ".join(repr(e) for e in ENTITY_TYPES)
            problems.append(
                (f"{where}.entity", f"unknown entity {req.entity!r}; allowed: {allowed}")
            )
            continue
        for name in ("category", "specification", "description"):
            value = getattr(req, name)
            if value is not None and not isinstance(value, str):
                problems.append((f"{where}.{name}", "must be a string"))
        if not isinstance(req.states, tuple) or not all(
            isinstance(s, str) and s.strip() for s in req.states
        ):
            problems.append((f"{where}.states", "must be a list of lifecycle state names"))
        fields = _FIELDS[req.entity] - _NOT_FIELDS
        specs = [
            (f"{where}.required_fields[{j}]", ValueRequirement(name=n))
            for j, n in enumerate(req.required_fields)
        ] + [(f"{where}.fields[{j}]", s) for j, s in enumerate(req.fields)]
        for path, spec in specs:
            if _field_name(req.entity, spec.name) != spec.name:
                known = ", ".join(sorted(fields))
                problems.append((path, f"unknown {req.entity} field {spec.name!r}; known: {known}"))
            problems.extend(_value_problems(path, spec, is_field=True))
        for j, spec in enumerate(req.characteristics):
            path = f"{where}.characteristics[{j}]"
            if not isinstance(spec.name, str) or not spec.name.strip():
                problems.append((f"{path}.name", "is required (a non-blank string)"))
            problems.extend(_value_problems(path, spec, is_field=False))
    return problems
