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

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from etomkit.errors import ValidationError
from etomkit.inputs import file_limit_problems, parse_json, parse_toml, read_text
from etomkit.inventory.requirement_checks import _NO_GAPS, Checker, checkers_of
from etomkit.inventory.requirement_specs import (
    ENTITY_TYPES,
    Gap,
    InformationRequirement,
    ValueRequirement,
    requirement_problems,
)
from etomkit.model.offering import VALUE_TYPES, ProductOffering
from etomkit.model.product import Product

__all__ = [
    "ENTITY_TYPES",
    "VALUE_TYPES",
    "Gap",
    "InformationRequirement",
    "InformationRequirements",
    "ValueRequirement",
    "requirement_problems",
]


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
        self._checkers = {r.id: checkers_of(r) for r in self.requirements}
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

        entity = f"information requirements {source}"
        limits = file_limit_problems(data, "requirement")
        if limits:
            raise ValidationError(entity, limits)
        requirements, problems, positions = read_requirements(data)
        problems.extend(requirement_problems(requirements, positions))
        if problems:
            raise ValidationError(entity, problems)
        return cls(requirements)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> InformationRequirements:
        """From a TOML file of ``[[requirement]]`` tables (read as UTF-8)."""
        text = read_text(path, f"information requirements {os.fspath(path)}")
        return cls.from_toml_text(text, source=os.fspath(path))

    @classmethod
    def from_toml_text(
        cls, text: str | bytes, *, source: str = "requirements.toml"
    ) -> InformationRequirements:
        """From TOML text (bytes: UTF-8)."""
        data = parse_toml(text, f"information requirements {source}", check=False)
        return cls.from_dict(data, source=source)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> InformationRequirements:
        """From a JSON file (``{"requirements": [...]}`` or a list; read as UTF-8)."""
        text = read_text(path, f"information requirements {os.fspath(path)}")
        return cls.from_json_text(text, source=os.fspath(path))

    @classmethod
    def from_json_text(
        cls, text: str | bytes, *, source: str = "requirements.json"
    ) -> InformationRequirements:
        """From JSON text (bytes: UTF-8)."""
        data = parse_json(text, f"information requirements {source}", check=False)
        return cls.from_dict(data, source=source)


def _category_ids(offering: ProductOffering) -> tuple[str, ...]:
    return tuple(getattr(c, "id", None) for c in offering.category)  # type: ignore[misc]
