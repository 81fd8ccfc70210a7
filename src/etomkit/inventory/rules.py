"""The rules ProductOfferingInventory's changes share: validation against
bundles and information requirements, storing a changed offering, and
all-or-nothing imports (a base class of the inventory)."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any, TypeVar

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.inventory.helpers import ImportMode, ImportResult, _within_limits
from etomkit.inventory.requirements import InformationRequirements
from etomkit.model._copy import replace
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.offering import ProductOffering, offering_problems
from etomkit.model.product import Product
from etomkit.model.values import EntityRef
from etomkit.ports import Clock, IdFactory, OfferingRepository, ProductRepository, Store
from etomkit.publishing import EventPublisher, changed_attributes

__all__ = ["InventoryRules"]

E = TypeVar("E", ProductOffering, Product)


class InventoryRules:
    """Validation, change and import rules of the inventory (a base class)."""

    _store: Store
    _offerings: OfferingRepository
    _products: ProductRepository
    _clock: Clock
    _ids: IdFactory
    _events: EventPublisher
    offering_lifecycle: Lifecycle
    product_lifecycle: Lifecycle
    requirements: InformationRequirements | None

    def _store_offering_change(
        self, current: ProductOffering, changed: ProductOffering, event_type: str
    ) -> ProductOffering:
        _within_limits(f"ProductOffering {current.id}", changed)
        problems = offering_problems(changed)
        problems.extend(self._bundle_problems(changed))
        problems.extend(self._offering_gaps(changed))
        if problems:
            raise ValidationError(f"ProductOffering {current.id}", problems)
        status = current.lifecycle_status
        if self.offering_lifecycle.find(changed.lifecycle_status) != status:
            status = self.offering_lifecycle.check(status, changed.lifecycle_status, current.id)
        stored = self._offerings.replace(
            attrs.evolve(
                changed, id=current.id, lifecycle_status=status, last_update=self._clock.now()
            )
        )
        self._events.publish(event_type, stored, changed_attributes(current, stored))
        if status != current.lifecycle_status:
            self._events.publish("ProductOfferingStateChangeEvent", stored, "lifecycleStatus")
        return stored

    def _offering_gaps(self, offering: ProductOffering) -> list[Problem]:
        """Where ``offering`` falls short of the information requirements (issue #6)."""
        if self.requirements is None:
            return []
        try:
            return [gap.problem for gap in self.requirements.offering_gaps(offering)]
        except (AttributeError, TypeError):  # malformed: offering_problems reports it
            return []

    def _check_entering(
        self,
        entity: ProductOffering | Product,
        entity_id: str,
        state: str,
        offering: ProductOffering | None,
    ) -> None:
        """Refuse a transition into ``state`` that leaves a requirement of that state unmet
        (every gap listed). ``offering``: a product's (looked up if None)."""
        if self.requirements is None:
            return
        try:
            if isinstance(entity, Product) and offering is None:
                offering = self._offerings.find(entity.product_offering.id)
            gaps = self.requirements.entering_gaps(entity, offering)
        except (AttributeError, TypeError):  # malformed records: nothing to check against
            return
        if gaps:
            kind = "Product" if isinstance(entity, Product) else "ProductOffering"
            raise ValidationError(
                f"{kind} {entity_id} cannot enter {state!r}", [g.problem for g in gaps]
            )

    def _product_gaps(self, product: Product, offering: ProductOffering | None) -> list[Problem]:
        """Where ``product`` falls short of the information requirements (issue #6);
        its category is its offering's (looked up unless given)."""
        if self.requirements is None:
            return []
        try:
            if offering is None:
                offering = self._offerings.find(product.product_offering.id)
            return [gap.problem for gap in self.requirements.product_gaps(product, offering)]
        except (AttributeError, TypeError):  # malformed: product_problems reports it
            return []

    def _bundle_problems(
        self, offering: ProductOffering, also_known: Set[str] = frozenset()
    ) -> list[Problem]:
        problems: list[Problem] = []
        for i, member in enumerate(offering.bundled_product_offering):
            if not isinstance(member, EntityRef):
                continue  # reported by offering_problems
            if member.id == offering.id and offering.id is not None:
                problems.append(
                    (f"bundled_product_offering[{i}].id", "an offering cannot bundle itself")
                )
            elif member.id not in also_known and member.id not in self._offerings:
                problems.append(
                    (f"bundled_product_offering[{i}].id", f"no ProductOffering {member.id!r}")
                )
        return problems

    def _prepare_offering(self, offering: ProductOffering) -> ProductOffering:
        status = self.offering_lifecycle.canonical(offering.lifecycle_status)
        return attrs.evolve(
            offering,
            id=offering.id or self._ids.new_id("ProductOffering"),
            lifecycle_status=status,
            last_update=offering.last_update or self._clock.now(),
        )

    def _prepare_product(self, product: Product) -> Product:
        return attrs.evolve(
            product,
            id=product.id or self._ids.new_id("Product"),
            status=self.product_lifecycle.canonical(product.status),
            last_update=product.last_update or self._clock.now(),
        )

    def _import(
        self,
        entity: str,
        entities: list[tuple[str, E]],
        problems: list[Problem],
        mode: ImportMode,
        prepare: Callable[[E], E],
    ) -> ImportResult:
        if mode not in ("create", "upsert"):
            raise ValidationError(
                f"{entity} import", [("mode", f"must be 'create' or 'upsert', not {mode!r}")]
            )
        repo: Any = self._offerings if entity == "ProductOffering" else self._products
        seen: set[str] = set()
        for where, e in entities:
            if e.id is None:
                continue
            if e.id in seen:
                problems.append((f"{where}.id", f"{e.id!r} appears twice in the import"))
            seen.add(e.id)
            if mode == "create" and e.id in repo:
                problems.append(
                    (f"{where}.id", f"{entity} {e.id!r} already exists (use mode='upsert')")
                )
        if problems:
            raise ValidationError(f"{entity} import", problems)
        created: list[str] = []
        replaced: list[str] = []
        stored_all: list[tuple[str, Any, str | None]] = []
        with self._store.transaction():
            for _, e in entities:
                ready = prepare(e)
                key: str = ready.id  # type: ignore[assignment]  # prepare() sets it
                old = repo.find(key)
                if old is None:
                    stored_all.append(("Create", repo.add(replace(ready, revision=0)), None))
                    created.append(key)
                else:
                    changed = repo.replace(replace(ready, revision=old.revision))
                    fields = changed_attributes(old, changed)
                    stored_all.append(("AttributeValueChange", changed, fields))
                    replaced.append(key)
        for kind, stored, fields in stored_all:
            self._events.publish(f"{entity}{kind}Event", stored, fields)
        return ImportResult(tuple(created), tuple(replaced))
