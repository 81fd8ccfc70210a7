"""ProductOfferingInventory: the eTOM 1.2.4.2 use cases over a Store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import attrs

from etomkit.adapters.runtime import RandomIdFactory, SystemClock
from etomkit.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from etomkit.inventory.helpers import (
    ImportMode,
    ImportResult,
    _apply_changes,
    _download,
    _filter,
    _stale,
    _stream,
    _unknown_state,
    _within_limits,
)
from etomkit.inventory.hosting import AccessHost
from etomkit.inventory.purchase_checks import storable_move
from etomkit.inventory.purchases import Purchases
from etomkit.inventory.requirements import InformationRequirements
from etomkit.inventory.transfer import Format, located, read_documents
from etomkit.model._copy import replace
from etomkit.model.lifecycle import OFFERING_LIFECYCLE, PRODUCT_LIFECYCLE, Lifecycle
from etomkit.model.offering import ProductOffering, offering_problems
from etomkit.model.product import Product, product_problems
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.model.values import (
    EntityRef,
    RelatedParty,
)
from etomkit.ports import Clock, EventSink, IdFactory, Store
from etomkit.publishing import EventPublisher, changed_attributes

if TYPE_CHECKING:
    from etomkit.inventory.access import AccessControl
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ImportResult", "ProductOfferingInventory"]

E = TypeVar("E", ProductOffering, Product)

#: Attributes a caller may not change with modify_*: the store owns them.
_MANAGED = frozenset({"id", "revision", "last_update"})
_OFFERING_FIELDS = frozenset(attrs.fields_dict(ProductOffering)) - _MANAGED
_PRODUCT_FIELDS = frozenset(attrs.fields_dict(Product)) - _MANAGED


class ProductOfferingInventory(AccessHost, Purchases):
    """Create, read, modify, update, delete, transition and download product offerings,
    and keep the products customers bought (eTOM 1.2.4.2).

    Every change is validated first (nothing is stored on bad input) and
    published as a TMF event to ``events``. Lifecycles default to DESIGN.md's
    tables; pass ``offering_lifecycle``/``product_lifecycle`` to override.

    With ``access`` (an AccessControl), every operation runs through
    :meth:`as_client`: called on the inventory itself, each raises
    AccessDeniedError. With ``usage`` (a UsageMeter), every call is recorded
    (denials too; access control records into an in-memory meter if none is
    given). Without either the inventory runs open, for notebooks and tests,
    and says so in :attr:`access_mode` and its repr.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        events: EventSink | None = None,
        access: AccessControl | None = None,
        usage: UsageMeter | None = None,
        offering_lifecycle: Lifecycle = OFFERING_LIFECYCLE,
        product_lifecycle: Lifecycle = PRODUCT_LIFECYCLE,
        purchasable: Iterable[str] = ("Active", "Launched"),
        requirements: InformationRequirements | None = None,
    ) -> None:
        if not isinstance(store, Store) and not (
            hasattr(store, "offerings") and hasattr(store, "products")
        ):
            raise ValidationError(
                "ProductOfferingInventory",
                [("store", f"must be a Store (InMemoryStore(), FileStore(path)), not {store!r}")],
            )
        self._store = store
        self._offerings = store.offerings
        self._products = store.products
        self._get_offering = store.offerings.reader()  # bound once: reads are the hot path
        self._get_product = store.products.reader()
        # a store's direct path for a customer's products (its own index), if it has one
        self._of_customer: Callable[[str], list[Product]] | None = getattr(
            store.products, "customer_reader", lambda: None
        )()
        # a store's shared customer parties for new products (memory), if it has them
        self._share_party = getattr(store.products, "party_sharer", lambda: None)()
        # its replace without the storable check, for status moves (memory, file)
        self._replace_checked: Callable[[Product, int], Product] | None = getattr(
            store.products, "checked_replacer", lambda: None
        )()
        self._molds = {}
        # its look-up and write of a purchase's product by index terms (memory)
        self._purchase_writer = getattr(store.products, "purchase_writer", lambda: None)()
        self._clock = clock or SystemClock()
        # the machine's clock read without a call of ours (the purchases read it)
        self._now = partial(datetime.now, UTC) if type(self._clock) is SystemClock else None
        self._ids = ids or RandomIdFactory()
        self._events = EventPublisher(events, self._clock)
        self.offering_lifecycle = offering_lifecycle
        self.product_lifecycle = product_lifecycle
        self.purchasable = frozenset(offering_lifecycle.canonical(s) for s in purchasable)
        self.requirements = requirements  # issue #6: enforced on create/modify/update/import
        self.access = access
        self.usage = usage
        if access is not None or usage is not None:
            self._guard(access, usage)

    # ------------------------------------------------------------------ offerings

    def create_offering(self, offering: ProductOffering) -> ProductOffering:
        """Store a new offering in the lifecycle's initial state; id assigned if unset.

        Raises ValidationError (bad fields, not the initial state, unknown bundle
        members) or ConflictError (id taken).
        """
        _within_limits("ProductOffering", offering)
        problems = offering_problems(offering)
        lifecycle = self.offering_lifecycle
        status = lifecycle.find(offering.lifecycle_status) or offering.lifecycle_status
        if status != lifecycle.initial:
            problems.append(
                (
                    "lifecycle_status",
                    f"a new offering starts in {lifecycle.initial!r} (got "
                    f"{offering.lifecycle_status!r}); use transition_offering or import_offerings",
                )
            )
        problems.extend(self._bundle_problems(offering))
        problems.extend(self._offering_gaps(offering))
        if problems:
            raise ValidationError(f"ProductOffering {offering.name!r}", problems)
        now = self._clock.now()
        stored = self._offerings.add(
            replace(
                offering,
                id=offering.id or self._ids.new_id("ProductOffering"),
                lifecycle_status=status,
                last_update=now,
                revision=1,
            )
        )
        self._events.publish("ProductOfferingCreateEvent", stored, now=now)
        return stored

    def get_offering(self, offering_id: str) -> ProductOffering:
        """The offering. Raises NotFoundError."""
        try:
            return self._get_offering(offering_id)
        except TypeError:  # an unhashable id
            raise NotFoundError("ProductOffering", str(offering_id)) from None

    def find_offering(self, offering_id: str) -> ProductOffering | None:
        """The offering, or None."""
        return self._offerings.find(offering_id)

    def modify_offering(
        self, offering_id: str, changes: Mapping[str, Any], *, expected_revision: int | None = None
    ) -> ProductOffering:
        """Partial change (TMF PATCH) by attribute name, e.g. ``{"description": "…"}``.

        A ``lifecycle_status`` change must be an allowed transition.
        Raises NotFoundError, ValidationError, TransitionError, ConflictError.
        """
        current = self._offerings.get(offering_id)
        if expected_revision is not None and expected_revision != current.revision:
            raise _stale("ProductOffering", offering_id, current.revision, expected_revision)
        changed = _apply_changes("ProductOffering", offering_id, current, changes, _OFFERING_FIELDS)
        return self._store_offering_change(
            current, changed, "ProductOfferingAttributeValueChangeEvent"
        )

    def update_offering(self, offering: ProductOffering) -> ProductOffering:
        """Full replacement (TMF PUT); ``offering.revision`` must be the stored one.

        Raises NotFoundError, ValidationError, TransitionError, ConflictError (stale).
        """
        if not offering.id:
            raise ValidationError("ProductOffering", [("id", "is required to update")])
        current = self._offerings.get(offering.id)
        if offering.revision != current.revision:
            raise _stale("ProductOffering", offering.id, current.revision, offering.revision)
        return self._store_offering_change(
            current, offering, "ProductOfferingAttributeValueChangeEvent"
        )

    def transition_offering(
        self, offering_id: str, target: str, *, reason: str | None = None
    ) -> ProductOffering:
        """Move the offering's lifecycle_status to ``target``.

        Raises NotFoundError, TransitionError naming the allowed targets, or
        ValidationError listing every field the information requirements of
        the target state (``states``) need and the offering lacks.
        """
        current = self._offerings.get(offering_id)
        status = self.offering_lifecycle.check(current.lifecycle_status, target, offering_id)
        now = self._clock.now()
        moved = replace(
            current,
            lifecycle_status=status,
            status_reason=reason,
            last_update=now,
            revision=current.revision + 1,
        )
        self._check_entering(moved, offering_id, status, None)
        stored = self._offerings.replace(moved, expected_revision=current.revision)
        self._events.publish("ProductOfferingStateChangeEvent", stored, "lifecycleStatus", now=now)
        return stored

    def delete_offering(
        self, offering_id: str, *, expected_revision: int | None = None
    ) -> ProductOffering:
        """Remove the offering and return it.

        Refused (ConflictError) while a non-terminal product or a live bundle
        references it. Raises NotFoundError.
        """
        with self._store.transaction():
            self._offerings.get(offering_id)  # NotFoundError first
            live = self._live_products_of(offering_id)
            if live:
                shown = ", ".join(p.id or "?" for p in live[:5])
                raise ConflictError(
                    f"ProductOffering {offering_id!r} is referenced by {len(live)} product(s) "
                    f"not yet terminated ({shown}); terminate them first"
                )
            bundles = self._bundles_containing(offering_id)
            if bundles:
                raise ConflictError(
                    f"ProductOffering {offering_id!r} is bundled in {', '.join(bundles)}; "
                    "remove it from those bundles first"
                )
            removed = self._offerings.remove(offering_id, expected_revision)
        self._events.publish("ProductOfferingDeleteEvent", removed)
        return removed

    def list_offerings(
        self,
        where: OfferingFilter | None = None,
        *,
        offset: int = 0,
        limit: int | None = 100,
        **criteria: Any,
    ) -> Page[ProductOffering]:
        """A page of offerings, by ``where`` or ``lifecycle_status=``/``category_id=``/``name=``."""
        return self._offerings.query(
            _filter(OfferingFilter, where, criteria, self.offering_lifecycle),
            offset=offset,
            limit=limit,
        )

    def iter_offerings(
        self, where: OfferingFilter | None = None, **criteria: Any
    ) -> Iterator[ProductOffering]:
        """Every matching offering (streamed)."""
        return self._offerings.iterate(
            _filter(OfferingFilter, where, criteria, self.offering_lifecycle)
        )

    def download_offerings(
        self,
        where: OfferingFilter | None = None,
        *,
        format: Format = "json",
        out: TextIO | None = None,
    ) -> str:
        """Export offerings as TMF620 JSON (``"json"`` array or ``"jsonl"``).

        Returns the text, or writes it to ``out`` and returns ``""``.
        """
        return _download(self._stream_offerings(where), format, out)

    def _stream_offerings(self, where: OfferingFilter | None) -> Iterator[ProductOffering]:
        """A full pass for a download: decoded records are not kept (see ``stream``)."""
        return _stream(self._offerings, _filter(OfferingFilter, where, {}, self.offering_lifecycle))

    def import_offerings(
        self, source: str | bytes | Iterable[Any], *, mode: ImportMode = "create"
    ) -> ImportResult:
        """Import TMF620 JSON (array text, JSON lines, or parsed list), all or nothing.

        States are kept as given (a migration, not a lifecycle step). ``mode``:
        ``"create"`` refuses existing ids; ``"upsert"`` replaces them.
        Raises ValidationError listing every problem, or ConflictError; stores nothing then.
        """
        offerings, problems = read_documents(source, ProductOffering)
        incoming = {o.id for _, o in offerings if o.id is not None}
        for where, offering in offerings:
            found = offering_problems(offering)
            if self.offering_lifecycle.find(offering.lifecycle_status) is None:
                state = _unknown_state(self.offering_lifecycle, offering.lifecycle_status)
                found.append(("lifecycle_status", state))
            found.extend(self._bundle_problems(offering, also_known=incoming))
            found.extend(self._offering_gaps(offering))
            problems.extend(located(where, found))
        return self._import("ProductOffering", offerings, problems, mode, self._prepare_offering)

    # ------------------------------------------------------------------ products

    def get_product(self, product_id: str) -> Product:
        """The product. Raises NotFoundError."""
        try:
            return self._get_product(product_id)
        except TypeError:  # an unhashable id
            raise NotFoundError("Product", str(product_id)) from None

    def find_product(self, product_id: str) -> Product | None:
        """The product, or None."""
        return self._products.find(product_id)

    def transition_product(
        self, product_id: str, target: str, *, when: datetime | None = None
    ) -> Product:
        """Move the product's status; sets start_date on first activation and
        termination_date on termination. Raises NotFoundError, TransitionError,
        or ValidationError listing what the target state's requirements miss.
        """
        current = self._products.get(product_id)
        status = self.product_lifecycle.check(current.status, target, product_id)
        now = self._clock.now()
        moved = self._moved(current, status, now, when or now)
        start, end = moved.start_date, moved.termination_date
        if start is not None and end is not None and end < start:
            raise ValidationError(
                f"Product {product_id}",
                [
                    (
                        "termination_date",
                        f"{end.isoformat()} is before start_date {start.isoformat()}",
                    )
                ],
            )
        self._check_entering(moved, product_id, status, None)
        replace = self._replace_checked  # the store's replace without the storable check
        if replace is not None and storable_move(moved, current):
            stored = replace(moved, current.revision)
        else:
            stored = self._products.replace(moved, expected_revision=current.revision)
        self._events.publish("ProductStateChangeEvent", stored, "status", now=now)
        return stored

    def modify_product(
        self, product_id: str, changes: Mapping[str, Any], *, expected_revision: int | None = None
    ) -> Product:
        """Partial change of a product by attribute name (status via transition rules)."""
        current = self._products.get(product_id)
        if expected_revision is not None and expected_revision != current.revision:
            raise _stale("Product", product_id, current.revision, expected_revision)
        changed = _apply_changes("Product", product_id, current, changes, _PRODUCT_FIELDS)
        _within_limits(f"Product {product_id}", changed)
        problems = product_problems(changed)
        if getattr(changed.product_offering, "id", None) != current.product_offering.id:
            problems.append(("product_offering", "cannot change; record a new purchase instead"))
        problems.extend(self._product_gaps(changed, None))
        if problems:
            raise ValidationError(f"Product {product_id}", problems)
        status = current.status
        if self.product_lifecycle.find(changed.status) != status:
            status = self.product_lifecycle.check(status, changed.status, product_id)
        now = self._clock.now()
        stored = self._products.replace(
            self._moved(changed, status, now, now), expected_revision=current.revision
        )
        self._events.publish(
            "ProductAttributeValueChangeEvent", stored, changed_attributes(current, stored), now=now
        )
        if status != current.status:
            self._events.publish("ProductStateChangeEvent", stored, "status", now=now)
        return stored

    def delete_product(self, product_id: str, *, expected_revision: int | None = None) -> Product:
        """Remove the product and return it (TMF637 ``DELETE /product/{id}``).

        Refused (ConflictError) while the product is in a non-terminal status:
        terminate (or cancel, abort) it first. Raises NotFoundError, ConflictError
        (also for a stale ``expected_revision``).
        """
        with self._store.transaction():
            current = self._products.get(product_id)  # NotFoundError first
            terminal = self.product_lifecycle.terminal_states
            if current.status not in terminal:
                shown = " or ".join(repr(s) for s in sorted(terminal))
                raise ConflictError(
                    f"Product {product_id!r} is {current.status!r}; only a product that is "
                    f"{shown} can be deleted (move it there first)"
                )
            removed = self._products.remove(product_id, expected_revision)
        self._events.publish("ProductDeleteEvent", removed)
        return removed

    def products_of_customer(
        self, customer_id: str, *, status: str | Sequence[str] | None = None
    ) -> list[Product]:
        """The customer's products, oldest first, optionally only in ``status``."""
        of_customer = self._of_customer
        if status is None and of_customer is not None and type(customer_id) is str:
            return of_customer(customer_id)  # the direct path: no filter
        if not isinstance(customer_id, str):
            raise ValidationError(
                "query",
                [("customer_id", f"must be a customer id (str), not {type(customer_id).__name__}")],
            )
        return list(
            self._products.iterate(
                _filter(
                    ProductFilter,
                    None,
                    {"customer_id": customer_id, "status": status},
                    self.product_lifecycle,
                )
            )
        )

    def customers_of_offering(
        self, offering_id: str, *, include_terminal: bool = False
    ) -> list[RelatedParty]:
        """Distinct customers holding a product of the offering (live products only by default)."""
        seen: dict[str, RelatedParty] = {}
        terminal = self.product_lifecycle.terminal_states
        for product in self._products.iterate(ProductFilter(offering_id=offering_id)):
            party = product.customer
            if party is not None and (include_terminal or product.status not in terminal):
                seen.setdefault(party.id, party)
        return list(seen.values())

    def list_products(
        self,
        where: ProductFilter | None = None,
        *,
        offset: int = 0,
        limit: int | None = 100,
        **criteria: Any,
    ) -> Page[Product]:
        """A page of products, by ``where`` or ``status=``/``customer_id=``/``offering_id=``."""
        return self._products.query(
            _filter(ProductFilter, where, criteria, self.product_lifecycle),
            offset=offset,
            limit=limit,
        )

    def iter_products(
        self, where: ProductFilter | None = None, **criteria: Any
    ) -> Iterator[Product]:
        """Every matching product (streamed)."""
        return self._products.iterate(
            _filter(ProductFilter, where, criteria, self.product_lifecycle)
        )

    def download_products(
        self,
        where: ProductFilter | None = None,
        *,
        format: Format = "json",
        out: TextIO | None = None,
    ) -> str:
        """Export products as TMF637 JSON; see :meth:`download_offerings`."""
        return _download(self._stream_products(where), format, out)

    def _stream_products(self, where: ProductFilter | None) -> Iterator[Product]:
        """A full pass for a download: decoded records are not kept (see ``stream``)."""
        return _stream(self._products, _filter(ProductFilter, where, {}, self.product_lifecycle))

    def import_products(
        self, source: str | bytes | Iterable[Any], *, mode: ImportMode = "create"
    ) -> ImportResult:
        """Import TMF637 JSON, all or nothing; every product's offering must exist."""
        products, problems = read_documents(source, Product)
        for where, product in products:
            found = product_problems(product)
            if self.product_lifecycle.find(product.status) is None:
                found.append(("status", _unknown_state(self.product_lifecycle, product.status)))
            offering = product.product_offering
            if isinstance(offering, EntityRef) and offering.id not in self._offerings:
                found.append(("product_offering.id", f"no ProductOffering {offering.id!r}"))
            found.extend(self._product_gaps(product, None))
            problems.extend(located(where, found))
        return self._import("Product", products, problems, mode, self._prepare_product)

    # ------------------------------------------------------------------ internals

    def _bundles_containing(self, offering_id: str) -> list[str]:
        terminal = self.offering_lifecycle.terminal_states
        return [
            o.id or "?"
            for o in self._offerings.iterate()
            if o.lifecycle_status not in terminal
            and any(m.id == offering_id for m in o.bundled_product_offering)
        ]

    def _live_products_of(self, offering_id: str) -> list[Product]:
        terminal = self.product_lifecycle.terminal_states
        return [
            p
            for p in self._products.iterate(ProductFilter(offering_id=offering_id))
            if p.status not in terminal
        ]
