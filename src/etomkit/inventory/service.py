"""ProductOfferingInventory: the eTOM 1.2.4.2 use cases over a Store."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar

import attrs

from etomkit.adapters.runtime import RandomIdFactory, SystemClock
from etomkit.errors import (
    AccessDeniedError,
    ConflictError,
    DuplicateKeyError,
    NotFoundError,
    Problem,
    TransitionError,
    ValidationError,
)
from etomkit.inventory.requirements import InformationRequirements
from etomkit.inventory.transfer import Format, located, read_documents, write_documents
from etomkit.model._copy import replace
from etomkit.model.lifecycle import OFFERING_LIFECYCLE, PRODUCT_LIFECYCLE, Lifecycle
from etomkit.model.offering import ProductOffering, offering_problems
from etomkit.model.product import Product, product_problems
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.model.values import (
    Characteristic,
    EntityRef,
    OrderItemRef,
    PartyRef,
    RelatedParty,
)
from etomkit.ports import Clock, EventSink, IdFactory, Store
from etomkit.publishing import EventPublisher

if TYPE_CHECKING:
    from etomkit.inventory.access import AccessControl
    from etomkit.inventory.session import ClientSession
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ImportResult", "ProductOfferingInventory"]

E = TypeVar("E", ProductOffering, Product)
ImportMode = Literal["create", "upsert"]

#: Attributes a caller may not change with modify_*: the store owns them.
_MANAGED = frozenset({"id", "revision", "last_update"})
_OFFERING_FIELDS = frozenset(attrs.fields_dict(ProductOffering)) - _MANAGED
_PRODUCT_FIELDS = frozenset(attrs.fields_dict(Product)) - _MANAGED


@attrs.frozen
class ImportResult:
    """What an import stored: ids created and ids replaced, in input order."""

    created: tuple[str, ...]
    replaced: tuple[str, ...]

    @property
    def count(self) -> int:
        """Entities stored in all."""
        return len(self.created) + len(self.replaced)


class ProductOfferingInventory:
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
        self._clock = clock or SystemClock()
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

    # ------------------------------------------------------------------ access

    def _guard(self, access: AccessControl | None, usage: UsageMeter | None) -> None:
        from etomkit.inventory.access import OPEN, AccessControl
        from etomkit.inventory.session import install_guards
        from etomkit.inventory.usage import UsageMeter

        if access is not None and not isinstance(access, AccessControl):
            raise ValidationError(
                "ProductOfferingInventory", [("access", "must be an AccessControl or None")]
            )
        if usage is not None and not isinstance(usage, UsageMeter):
            raise ValidationError(
                "ProductOfferingInventory", [("usage", "must be a UsageMeter or None")]
            )
        meter = usage if usage is not None else UsageMeter(clock=self._clock)
        self.usage = meter
        if access is None:
            guards = install_guards(self, OPEN, meter, (OPEN.client_id, OPEN.name))
            meter.watch(guards)  # its keyed reads are collected with the sessions'
            self._guards = guards
        else:
            install_guards(self, None, meter)

    @property
    def access_mode(self) -> str:
        """``"controlled"`` (access control on), ``"open, metered"`` or ``"open"``."""
        if self.access is not None:
            return "controlled"
        return "open, metered" if self.usage is not None else "open"

    def __repr__(self) -> str:
        mode = {
            "controlled": "access control on: use as_client(secret)",
            "open, metered": "open: no access control; usage recorded",
            "open": "open: no access control, usage not recorded",
        }[self.access_mode]
        return f"<{type(self).__name__} {mode}>"

    @property
    def store(self) -> Store:
        """The store (not handed out once access control is on: every read is checked)."""
        if self.access is not None:
            raise AccessDeniedError(
                None, "read", "store", "access control is on; go through as_client(secret)"
            )
        return self._store

    def as_client(self, secret: str) -> ClientSession:
        """This inventory as the client whose secret it is: every call checked and recorded.

        Raises AccessDeniedError (recorded) for an unknown client, a wrong
        secret or a revoked client; ValidationError if access control is off.
        """
        from etomkit.inventory.session import ANONYMOUS, ClientSession

        access, meter = self.access, self.usage
        if access is None or meter is None:
            raise ValidationError(
                "ProductOfferingInventory",
                [("access", "this inventory has no access control; call it directly")],
            )
        try:
            principal = access.authenticate(secret)
        except AccessDeniedError as exc:
            who = (exc.client_id, "") if exc.client_id else ANONYMOUS
            meter.record(who, "as_client", "read", "client", outcome="denied", error=exc.reason)
            raise
        return ClientSession._open(self, principal, meter, access)

    # ------------------------------------------------------------------ offerings

    def create_offering(self, offering: ProductOffering) -> ProductOffering:
        """Store a new offering in the lifecycle's initial state; id assigned if unset.

        Raises ValidationError (bad fields, not the initial state, unknown bundle
        members) or ConflictError (id taken).
        """
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

        Raises NotFoundError, or TransitionError naming the allowed targets.
        """
        current = self._offerings.get(offering_id)
        status = self.offering_lifecycle.check(current.lifecycle_status, target, offering_id)
        now = self._clock.now()
        stored = self._offerings.replace(
            replace(
                current,
                lifecycle_status=status,
                status_reason=reason,
                last_update=now,
                revision=current.revision + 1,
            ),
            expected_revision=current.revision,
        )
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
        return _download(
            self._offerings.iterate(_filter(OfferingFilter, where, {}, self.offering_lifecycle)),
            format,
            out,
        )

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

    def record_purchase(
        self,
        *,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        order_item: OrderItemRef,
        characteristics: Sequence[Characteristic] = (),
        name: str | None = None,
        status: str | None = None,
        billing_account: EntityRef | None = None,
    ) -> Product:
        """Create the Product a customer bought through an Order Handling order item.

        Only on a purchasable (Active/Launched, within valid_for) offering.
        Idempotent per order item, under any concurrency (the product
        repository's unique key): the same item again returns the stored
        product; the same item for another customer or offering is a ConflictError.
        """
        if (
            not isinstance(order_item, OrderItemRef)
            or not isinstance(customer, PartyRef | RelatedParty)
            or not isinstance(offering_id, str)
        ):
            raise ValidationError("purchase", _purchase_argument_problems(locals()))
        existing = self._products.find_by_order_item(order_item.order_id, order_item.item_id)
        if existing is not None:  # the common replay, without building a product
            return self._same_purchase(existing, customer, offering_id, order_item)
        try:
            return self._create_purchase(
                customer, offering_id, order_item, characteristics, name, status, billing_account
            )
        except DuplicateKeyError as e:  # another caller created it meanwhile
            if e.key != "product_order_item":
                raise
            existing = self._products.get(e.existing_id)
            return self._same_purchase(existing, customer, offering_id, order_item)

    def _create_purchase(
        self,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        order_item: OrderItemRef,
        characteristics: Sequence[Characteristic],
        name: str | None,
        status: str | None,
        billing_account: EntityRef | None,
    ) -> Product:
        offering = self._offerings.get(offering_id)
        now = self._clock.now()
        self._check_purchasable(offering, now)
        lifecycle = self.product_lifecycle
        target = initial = lifecycle.initial
        if status is not None:  # checked before anything is stored
            target = lifecycle.canonical(status)
            if target != initial and target not in lifecycle.allowed_from(initial):
                raise TransitionError(
                    "Product", None, initial, target, lifecycle.allowed_from(initial)
                )
        party = (
            customer
            if isinstance(customer, RelatedParty)
            else customer.as_related_party("customer")
        )
        product = Product(
            id=self._ids.new_id("Product"),
            name=name or offering.name,
            product_offering=EntityRef(
                id=offering_id,
                name=offering.name,
                href=offering.href,
                referred_type="ProductOffering",
            ),
            related_party=(party,),
            product_order_item=(order_item,),
            product_characteristic=tuple(characteristics),
            product_specification=offering.product_specification,
            billing_account=billing_account,
            status=initial,
            order_date=now,
            last_update=now,
            revision=1,
        )
        problems = product_problems(product)
        problems.extend(self._product_gaps(product, offering))
        if problems:
            raise ValidationError(f"Product for order item {order_item.key}", problems)
        if target == initial:
            stored = self._products.add(product)
            self._events.publish("ProductCreateEvent", stored, now=now)
            return stored
        with self._store.transaction():  # created and moved on together, or not at all
            stored = self._products.add(product)
            moved = self._products.replace(
                self._moved(stored, target, now, now), expected_revision=stored.revision
            )
        self._events.publish("ProductCreateEvent", stored, now=now)
        self._events.publish("ProductStateChangeEvent", moved, "status", now=now)
        return moved

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
        termination_date on termination. Raises NotFoundError, TransitionError.
        """
        current = self._products.get(product_id)
        status = self.product_lifecycle.check(current.status, target, product_id)
        now = self._clock.now()
        stored = self._products.replace(
            self._moved(current, status, now, when or now), expected_revision=current.revision
        )
        self._events.publish("ProductStateChangeEvent", stored, "status", now=now)
        return stored

    @staticmethod
    def _moved(product: Product, status: str, now: datetime, moment: datetime) -> Product:
        """``product`` in ``status`` at its next revision, dated on activation/termination."""
        dates: dict[str, Any] = {}
        if status == "active" and product.start_date is None:
            dates["start_date"] = moment
        if status == "terminated" and product.termination_date is None:
            dates["termination_date"] = moment
        return replace(
            product, status=status, last_update=now, revision=product.revision + 1, **dates
        )

    def modify_product(
        self, product_id: str, changes: Mapping[str, Any], *, expected_revision: int | None = None
    ) -> Product:
        """Partial change of a product by attribute name (status via transition rules)."""
        current = self._products.get(product_id)
        if expected_revision is not None and expected_revision != current.revision:
            raise _stale("Product", product_id, current.revision, expected_revision)
        changed = _apply_changes("Product", product_id, current, changes, _PRODUCT_FIELDS)
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
        self._events.publish("ProductAttributeValueChangeEvent", stored, now=now)
        if status != current.status:
            self._events.publish("ProductStateChangeEvent", stored, "status", now=now)
        return stored

    def products_of_customer(
        self, customer_id: str, *, status: str | Sequence[str] | None = None
    ) -> list[Product]:
        """The customer's products, oldest first, optionally only in ``status``."""
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
        return _download(
            self._products.iterate(_filter(ProductFilter, where, {}, self.product_lifecycle)),
            format,
            out,
        )

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

    def _store_offering_change(
        self, current: ProductOffering, changed: ProductOffering, event_type: str
    ) -> ProductOffering:
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
        self._events.publish(event_type, stored)
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

    def _check_purchasable(self, offering: ProductOffering, now: datetime) -> None:
        if offering.lifecycle_status not in self.purchasable:
            allowed = " or ".join(repr(s) for s in sorted(self.purchasable))
            raise ConflictError(
                f"ProductOffering {offering.id!r} is {offering.lifecycle_status!r}; "
                f"products can only be bought while it is {allowed}"
            )
        if offering.valid_for is not None and not offering.valid_for.contains(now):
            raise ConflictError(
                f"ProductOffering {offering.id!r} is not valid at {now.isoformat()}"
            )

    def _same_purchase(
        self,
        existing: Product,
        customer: PartyRef | RelatedParty,
        offering_id: str,
        item: OrderItemRef,
    ) -> Product:
        if existing.customer_id != customer.id or existing.product_offering.id != offering_id:
            raise ConflictError(
                f"order item {item.order_id}/{item.item_id} already created Product "
                f"{existing.id!r} for customer {existing.customer_id!r} "
                f"on offering {existing.product_offering.id!r}"
            )
        return existing

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
        stored_all: list[tuple[str, Any]] = []
        with self._store.transaction():
            for _, e in entities:
                ready = prepare(e)
                key: str = ready.id  # type: ignore[assignment]  # prepare() sets it
                old = repo.find(key)
                if old is None:
                    stored_all.append(("Create", repo.add(replace(ready, revision=0))))
                    created.append(key)
                else:
                    changed = repo.replace(replace(ready, revision=old.revision))
                    stored_all.append(("AttributeValueChange", changed))
                    replaced.append(key)
        for kind, stored in stored_all:
            self._events.publish(f"{entity}{kind}Event", stored)
        return ImportResult(tuple(created), tuple(replaced))


def _filter(cls: Any, where: Any, criteria: Mapping[str, Any], lifecycle: Lifecycle) -> Any:
    """The filter to query with: ``where`` or one built from keyword criteria, its
    statuses read leniently (``"launched"``, ``"aborted "``) and checked."""
    if criteria:
        if where is not None:
            raise ValidationError(
                "query", [("where", "pass a filter object or keyword criteria, not both")]
            )
        allowed = [a.name for a in attrs.fields(cls)]
        unknown = sorted(set(criteria) - set(allowed))
        if unknown:
            raise ValidationError(
                "query", [(k, f"unknown criterion; allowed: {', '.join(allowed)}") for k in unknown]
            )
        where = cls(**criteria)
    if where is None:
        return None
    field = lifecycle.field
    statuses = getattr(where, field)
    if statuses is None:
        return where
    canonical = frozenset(lifecycle.canonical(s) for s in statuses)
    return where if canonical == statuses else attrs.evolve(where, **{field: canonical})


def _apply_changes(
    entity: str, entity_id: str, current: E, changes: Mapping[str, Any], allowed: frozenset[str]
) -> E:
    if not isinstance(changes, Mapping):
        raise ValidationError(
            f"{entity} {entity_id}", [("changes", "must be a mapping of attribute names to values")]
        )
    unknown = sorted(set(changes) - allowed)
    if unknown:
        names = ", ".join(sorted(allowed))
        raise ValidationError(
            f"{entity} {entity_id}",
            [(k, f"cannot be changed; changeable attributes: {names}") for k in unknown],
        )
    return attrs.evolve(current, **changes)


def _unknown_state(lifecycle: Lifecycle, value: object) -> str:
    return f"unknown state {value!r}; allowed: {', '.join(repr(s) for s in lifecycle.states)}"


def _stale(entity: str, entity_id: str, stored: int, expected: int) -> ConflictError:
    return ConflictError(
        f"{entity} {entity_id!r} is at revision {stored}, "
        f"the change was based on revision {expected}"
    )


def _download(entities: Iterable[Any], fmt: Format, out: TextIO | None) -> str:
    if out is not None:
        write_documents(entities, fmt, out)
        return ""
    buffer = io.StringIO()
    write_documents(entities, fmt, buffer)
    return buffer.getvalue()


def _purchase_argument_problems(arguments: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with record_purchase's arguments, each named."""
    problems = []
    expected = (
        ("customer", (PartyRef, RelatedParty), "a PartyRef or RelatedParty (ek.PartyRef(id=...))"),
        ("offering_id", (str,), "an offering id (str)"),
        ("order_item", (OrderItemRef,), "an OrderItemRef(order_id=..., item_id=...)"),
    )
    for name, kinds, what in expected:
        value = arguments[name]
        if not isinstance(value, kinds):
            problems.append((name, f"must be {what}, not {type(value).__name__} {value!r}"))
    return problems
