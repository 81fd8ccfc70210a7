"""The inventory as one client sees it: every operation checked and recorded.

:func:`install_guards` puts a checked, metered version of every operation in
:data:`INVENTORY_OPERATIONS` on an inventory object (as instance attributes,
which take precedence over the class's methods). :class:`ClientSession` is an
authenticated client's view: a ProductOfferingInventory over the same store
whose operations all pass the check.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from etomkit.errors import AccessDeniedError, NotFoundError
from etomkit.inventory.access import AccessControl, Principal, RegisteredClient
from etomkit.inventory.operations import INVENTORY_OPERATIONS, KEYED_READS, Operation
from etomkit.inventory.service import ProductOfferingInventory
from etomkit.inventory.transfer import read_documents, write_documents
from etomkit.model.client import ClientRegistration, Permission
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.queries import Page
from etomkit.ports import Store

if TYPE_CHECKING:
    from etomkit.inventory.reports import UsageReport
    from etomkit.inventory.shortcomings import ShortcomingsReport
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ClientSession", "install_guards"]

T = TypeVar("T")
Who = tuple[str, str]
ANONYMOUS: Who = ("anonymous", "unauthenticated caller")
_clock_ns = time.perf_counter_ns


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _first_id(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    for value in (*args[:1], kwargs.get("offering_id"), kwargs.get("product_id")):
        if isinstance(value, str):
            return (value,)
        entity_id = getattr(value, "id", None)
        if isinstance(entity_id, str):
            return (entity_id,)
    return ()


class _Reads:
    """A session's keyed reads since the last batch: ids per operation."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {name: [] for name in KEYED_READS}
        self.misses: dict[str, list[str]] = {name: [] for name in KEYED_READS}
        self.lists = (*self.ids.values(), *self.misses.values())  # any(lists): reads pending


class _Guards:
    """Builds the checked operations of one inventory object for one principal."""

    def __init__(
        self,
        target: ProductOfferingInventory,
        principal: Principal | None,
        meter: UsageMeter,
        who: Who,
        refusal: str,
    ) -> None:
        self.target = target
        self.principal = principal
        self.meter = meter
        self.who = who
        self.refusal = refusal
        self.reads = _Reads()

    def install(self) -> None:
        slots = self.target.__dict__
        for op in INVENTORY_OPERATIONS.values():
            slots[op.name] = self.build(op)

    def build(self, op: Operation) -> Callable[..., Any]:
        principal = self.principal
        if principal is None:
            return self.refuse(op, self.refusal)
        key = (op.entity_type, op.action)
        if key not in principal.grants:
            return self.refuse(op, f"it has no {op.action!r} permission on {op.entity_type!r}")
        scope = principal.grants[key]
        if op.name in KEYED_READS and scope is None and not self.meter.time_keyed_reads:
            return self.keyed_read(op)
        return self.checked(op, scope)

    # ------------------------------------------------------------------ refusals

    def refuse(self, op: Operation, reason: str) -> Callable[..., Any]:
        meter, who, name = self.meter, self.who, op.name
        client_id = None if who is ANONYMOUS else who[0]

        def refused(*args: Any, **kwargs: Any) -> Any:
            error = AccessDeniedError(client_id, op.action, op.entity_type, reason)
            meter.record(
                who, name, op.action, op.entity_type,
                outcome="denied", entity_ids=_first_id(args, kwargs), error=reason,
            )  # fmt: skip
            raise error

        refused.__name__ = name
        return refused

    # ------------------------------------------------------------------ keyed reads

    def keyed_read(self, op: Operation) -> Callable[[str], Any]:
        """No clock, no check per call: the permission was checked when built."""
        failed = self.failed_read(op)
        if op.name.startswith("get_"):
            read = self.reader(op.entity_type)
            note = self.reads.ids[op.name].append

            def get(entity_id: str) -> Any:
                try:
                    entity = read(entity_id)
                except BaseException as exc:
                    raise failed(entity_id, exc) from None
                note(entity_id)
                return entity

            return get
        find = self.finder(op.entity_type)
        hit, miss = self.reads.ids[op.name].append, self.reads.misses[op.name].append

        def find_one(entity_id: str) -> Any:
            entity = find(entity_id)
            (miss if entity is None else hit)(entity_id)
            return entity

        return find_one

    def failed_read(self, op: Operation) -> Callable[[Any, BaseException], BaseException]:
        meter, who = self.meter, self.who
        entity = "ProductOffering" if op.entity_type == "offering" else "Product"

        def failed(entity_id: Any, exc: BaseException) -> BaseException:
            if isinstance(exc, TypeError):  # an unhashable id
                exc = NotFoundError(entity, str(entity_id))
            meter.record(
                who, op.name, op.action, op.entity_type, outcome="failed",
                entity_ids=(str(entity_id),), error=_error(exc),
            )  # fmt: skip
            return exc

        return failed

    def reader(self, entity_type: str) -> Callable[[str], Any]:
        target = self.target
        return target._get_offering if entity_type == "offering" else target._get_product

    def finder(self, entity_type: str) -> Callable[[str], Any]:
        target = self.target
        return target._offerings.find if entity_type == "offering" else target._products.find

    def seal_reads(self) -> None:
        """Record the keyed reads since the last batch, one record per operation."""
        reads = self.reads
        for name, ids in reads.ids.items():
            misses = reads.misses[name]
            if not ids and not misses:
                continue
            batch, lost = ids[:], misses[:]
            del ids[: len(batch)], misses[: len(lost)]
            op = INVENTORY_OPERATIONS[name]
            self.meter.record(
                self.who, name, op.action, op.entity_type,
                entity_ids=batch + lost, count=len(batch), calls=len(batch) + len(lost),
            )  # fmt: skip

    # ------------------------------------------------------------------ everything else

    def checked(self, op: Operation, scope: frozenset[str] | None) -> Callable[..., Any]:
        if scope is None and op.subject in _ENTITY_SUBJECTS:
            return self.entity_call(op)
        run = self.scoped(op, scope)
        meter, who, name, action, entity_type = (
            self.meter,
            self.who,
            op.name,
            op.action,
            op.entity_type,
        )
        seal, lists = self.seal_reads, self.reads.lists

        def call(*args: Any, **kwargs: Any) -> Any:
            if any(lists):
                seal()
            started = _clock_ns()
            try:
                result, ids, count = run(args, kwargs)
            except AccessDeniedError as exc:
                meter.record(
                    who, name, action, entity_type, outcome="denied",
                    entity_ids=_first_id(args, kwargs), error=exc.reason,
                )  # fmt: skip
                raise
            except Exception as exc:
                meter.record(
                    who, name, action, entity_type, outcome="failed",
                    entity_ids=_first_id(args, kwargs), error=_error(exc),
                    duration_ns=_clock_ns() - started,
                )  # fmt: skip
                raise
            if isinstance(result, _Stream):
                return result.recorded(meter, who, op, started)
            meter.record(
                who, name, action, entity_type,
                entity_ids=ids, count=count, duration_ns=_clock_ns() - started,
            )  # fmt: skip
            return result

        call.__name__ = name
        call.__doc__ = getattr(ProductOfferingInventory, name).__doc__
        return call

    def entity_call(self, op: Operation) -> Callable[..., Any]:
        """An unscoped operation on one entity: the lean path (creates, changes, reads)."""
        impl = getattr(ProductOfferingInventory, op.name).__get__(self.target)
        meter, who, name, action, entity_type = (
            self.meter, self.who, op.name, op.action, op.entity_type
        )  # fmt: skip
        seal, lists = self.seal_reads, self.reads.lists

        def call(*args: Any, **kwargs: Any) -> Any:
            if any(lists):
                seal()
            started = _clock_ns()
            try:
                result = impl(*args, **kwargs)
            except Exception as exc:
                meter.record(
                    who, name, action, entity_type, outcome="failed",
                    entity_ids=_first_id(args, kwargs), error=_error(exc),
                    duration_ns=_clock_ns() - started,
                )  # fmt: skip
                raise
            if result is None:  # find_*: nothing there
                meter.record(
                    who, name, action, entity_type, entity_ids=_first_id(args, kwargs),
                    duration_ns=_clock_ns() - started,
                )  # fmt: skip
            else:
                meter.record(
                    who, name, action, entity_type, entity_ids=(result.id,), count=1,
                    duration_ns=_clock_ns() - started,
                )  # fmt: skip
            return result

        call.__name__ = name
        call.__doc__ = getattr(ProductOfferingInventory, name).__doc__
        return call

    def scoped(
        self, op: Operation, scope: frozenset[str] | None
    ) -> Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, tuple[str, ...], int]]:
        """The operation with its scope checks: returns ``(result, entity ids, count)``."""
        target = self.target
        impl = getattr(ProductOfferingInventory, op.name).__get__(target)
        check = _ScopeCheck(target, scope, op, self.who)
        principal = self.principal
        subject = op.subject

        def run(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[str, ...], int]:
            if subject == "offering-id":
                check.offering_id(_arg(args, kwargs, "offering_id"))
                if op.name == "modify_offering":
                    check.changed_categories(args[1] if len(args) > 1 else kwargs.get("changes"))
            elif subject == "product-id":
                check.product_id(_arg(args, kwargs, "product_id"))
            elif subject == "offering":
                check.offering_value(_arg(args, kwargs, "offering"))
            elif subject == "purchase" or op.name == "customers_of_offering":
                check.offering_id(_arg(args, kwargs, "offering_id"))
            elif subject == "import":
                args, kwargs = check.documents(args, kwargs, principal)
            elif op.name.startswith("iter_"):
                return _Stream(check.keep(impl(*args, **kwargs))), (), 0
            elif op.name.startswith("download_"):
                return _download(target, op, check, *args, **kwargs)
            elif op.name.startswith("list_") and scope is not None:
                return _scoped_page(target, op, check, *args, **kwargs)
            result = impl(*args, **kwargs)
            if op.name == "products_of_customer" and scope is not None:
                result = list(check.keep(result))
            return result, *_usage_of(op, args, kwargs, result)

        return run


_ENTITY_SUBJECTS = frozenset({"offering-id", "product-id", "offering", "purchase"})


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], name: str) -> Any:
    return args[0] if args else kwargs.get(name)


def _usage_of(
    op: Operation, args: tuple[Any, ...], kwargs: Mapping[str, Any], result: Any
) -> tuple[tuple[str, ...], int]:
    if isinstance(result, Page):
        return (), len(result.items)
    if isinstance(result, list):
        return _first_id(args, kwargs) if op.subject == "parties" else (), len(result)
    if op.subject == "import":
        return (*result.created, *result.replaced), result.count
    if isinstance(result, (ProductOffering, Product)) and result.id:
        return (result.id,), 1
    return _first_id(args, kwargs), int(result is not None)


class _ScopeCheck:
    """Access checks that depend on the entity: offering categories in scope."""

    def __init__(
        self,
        target: ProductOfferingInventory,
        scope: frozenset[str] | None,
        op: Operation,
        who: Who,
    ) -> None:
        self.target = target
        self.scope = scope
        self.op = op
        self.client_id = who[0]

    def deny(self, reason: str) -> AccessDeniedError:
        return AccessDeniedError(self.client_id, self.op.action, self.op.entity_type, reason)

    def in_scope(self, offering: ProductOffering | None) -> bool:
        assert self.scope is not None
        return offering is not None and not self.scope.isdisjoint(offering.category_ids)

    def offering_value(self, offering: Any) -> None:
        if self.scope is None or not isinstance(offering, ProductOffering):
            return  # the operation itself reports a bad argument
        if not self.in_scope(offering):
            raise self.deny(self.out_of_scope())
        if offering.id:
            self.offering_id(offering.id)

    def changed_categories(self, changes: Any) -> None:
        """A change may not move an offering out of the client's categories."""
        if self.scope is None or not isinstance(changes, Mapping) or "category" not in changes:
            return
        new = changes["category"]
        ids = {getattr(c, "id", None) for c in new} if isinstance(new, (list, tuple)) else set()
        if self.scope.isdisjoint(ids):
            raise self.deny(self.out_of_scope())

    def offering_id(self, offering_id: Any) -> None:
        if self.scope is None or not isinstance(offering_id, str):
            return
        offering = self.target._offerings.find(offering_id)
        if offering is not None and not self.in_scope(offering):
            raise self.deny(self.out_of_scope())

    def product_id(self, product_id: Any) -> None:
        if self.scope is None or not isinstance(product_id, str):
            return
        product = self.target._products.find(product_id)
        if product is not None and not self.product_in_scope(product):
            raise self.deny(f"product {product_id!r} is on an offering outside its categories")

    def product_in_scope(self, product: Product) -> bool:
        return self.in_scope(self.target._offerings.find(product.product_offering.id))

    def keep(self, entities: Iterable[Any]) -> Iterator[Any]:
        """Only the entities in scope."""
        if self.scope is None:
            return iter(entities)
        if self.op.entity_type == "offering":
            return (e for e in entities if self.in_scope(e))
        return (e for e in entities if self.product_in_scope(e))

    def documents(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], principal: Principal | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Check an import: upserts need ``update`` too; scoped clients import only in scope."""
        grants = principal.grants if principal is not None else {}
        if kwargs.get("mode") == "upsert" and (self.op.entity_type, "update") not in grants:
            raise self.deny("an upsert import replaces records: it needs 'update' too")
        if self.scope is None:
            return args, kwargs
        source = _arg(args, kwargs, "source")
        if not isinstance(source, (str, bytes)):
            source = list(source)  # read twice: here and by the import
        cls: type[Any] = ProductOffering if self.op.entity_type == "offering" else Product
        parsed, _ = read_documents(source, cls)
        for where, entity in parsed:
            if isinstance(entity, ProductOffering):
                inside = self.in_scope(entity)
            else:
                inside = self.product_in_scope(entity)
            if not inside:
                raise self.deny(f"document {where} is outside its categories")
            if entity.id is not None:  # an upsert may not replace a record out of scope
                if isinstance(entity, ProductOffering):
                    self.offering_id(entity.id)
                else:
                    self.product_id(entity.id)
        rest = {k: v for k, v in kwargs.items() if k != "source"}
        return (source, *args[1:]), rest

    def out_of_scope(self) -> str:
        assert self.scope is not None  # the entity's own categories are not revealed
        return f"the offering is outside its scope (categories {sorted(self.scope)})"


class _Stream:
    """An iterator result: recorded when it is exhausted or closed."""

    def __init__(self, items: Iterator[Any]) -> None:
        self.items = items

    def recorded(self, meter: UsageMeter, who: Who, op: Operation, started: int) -> Iterator[Any]:
        count = 0
        outcome, error = "ok", None
        try:
            for item in self.items:
                count += 1
                yield item
        except Exception as exc:
            outcome, error = "failed", _error(exc)
            raise
        finally:
            meter.record(
                who, op.name, op.action, op.entity_type, outcome=outcome, count=count,
                error=error, duration_ns=_clock_ns() - started,
            )  # fmt: skip


def _download(
    target: ProductOfferingInventory,
    op: Operation,
    check: _ScopeCheck,
    where: Any = None,
    *,
    format: Any = "json",
    out: Any = None,
) -> tuple[str, tuple[str, ...], int]:
    iterate = (
        ProductOfferingInventory.iter_offerings
        if op.entity_type == "offering"
        else ProductOfferingInventory.iter_products
    )
    entities: Iterator[Any] = iterate(target, where)
    buffer = out if out is not None else io.StringIO()
    count = write_documents(check.keep(entities), format, buffer)
    return ("" if out is not None else buffer.getvalue()), (), count


def _scoped_page(
    target: ProductOfferingInventory,
    op: Operation,
    check: _ScopeCheck,
    where: Any = None,
    *,
    offset: int = 0,
    limit: int | None = 100,
    **criteria: Any,
) -> tuple[Page[Any], tuple[str, ...], int]:
    everything: Iterator[Any]
    if op.entity_type == "offering":
        everything = ProductOfferingInventory.iter_offerings(target, where, **criteria)
    else:
        everything = ProductOfferingInventory.iter_products(target, where, **criteria)
    kept = list(check.keep(everything))
    end = None if limit is None else offset + limit
    items = tuple(itertools.islice(kept, offset, end))
    return Page(items=items, total=len(kept), offset=offset, limit=limit), (), len(items)


def install_guards(
    target: ProductOfferingInventory,
    principal: Principal | None,
    meter: UsageMeter,
    who: Who = ANONYMOUS,
    refusal: str = "authenticate first: inventory.as_client(secret)",
) -> _Guards:
    """Put the checked, metered operations on ``target``; returns the guards."""
    guards = _Guards(target, principal, meter, who, refusal)
    guards.install()
    return guards


class ClientSession(ProductOfferingInventory):
    """The inventory as an authenticated client sees it (``inventory.as_client(secret)``).

    Every operation of ProductOfferingInventory is checked against the
    client's permissions (AccessDeniedError otherwise) and recorded in the
    usage log. Use it as a context manager, or call :meth:`close`, so that its
    last keyed reads are recorded. Revoking the client or rotating its secret
    ends the session; changing its permissions applies at once.
    """

    client_id: str
    client_name: str
    _principal: Principal
    _meter: UsageMeter
    _access: AccessControl
    _guards: _Guards

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("open a session with inventory.as_client(secret)")

    @classmethod
    def _open(
        cls,
        inventory: ProductOfferingInventory,
        principal: Principal,
        meter: UsageMeter,
        access: AccessControl,
    ) -> ClientSession:
        session = object.__new__(cls)
        state = {k: v for k, v in vars(inventory).items() if k not in INVENTORY_OPERATIONS}
        vars(session).update(state)
        session.client_id, session.client_name = principal.client_id, principal.name
        session._principal = principal
        session._meter = meter
        session._access = access
        # A client gets the operations, not the host's registry or meter: through
        # those it could grant itself permissions or write usage records.
        session.access = None
        session.usage = None
        session._guards = install_guards(
            session, principal, meter, (principal.client_id, principal.name)
        )
        meter.watch(session)
        access.listen(principal.client_id, session)
        return session

    def __repr__(self) -> str:
        return f"<ClientSession of {self.client_name!r} ({self.client_id})>"

    @property
    def access_mode(self) -> str:
        """``"client session"``: every call checked against this client's permissions."""
        return "client session"

    @property
    def store(self) -> Store:
        """Never handed to a client: every read goes through the checked operations."""
        raise AccessDeniedError(self.client_id, "read", "store", "clients use the operations")

    def as_client(self, secret: str) -> ClientSession:
        """Not from a session: ask the inventory (the host's object)."""
        raise AccessDeniedError(
            self.client_id, "authenticate", "client", "open sessions from the inventory"
        )

    @property
    def principal(self) -> Principal:
        """Who this session acts for and what it may do."""
        return self._principal

    def seal_reads(self) -> None:
        """Record the keyed reads made since the last batch (see UsageMeter)."""
        self._guards.seal_reads()

    def flush(self) -> None:
        """Record pending keyed reads and write the usage records out."""
        self.seal_reads()
        self._meter.flush()

    def close(self) -> None:
        """:meth:`flush`; the session stays usable (closing is about records)."""
        self.flush()

    def __enter__(self) -> ClientSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def access_changed(self, reason: str | None, principal: Principal | None) -> None:
        """Called by AccessControl: end the session (``reason``) or apply new permissions."""
        self.seal_reads()
        who = (self.client_id, self.client_name)
        if reason is not None:
            self._guards = install_guards(self, None, self._meter, who, f"session ended: {reason}")
            self._principal = Principal(self.client_id, self.client_name, {})
        elif principal is not None:
            self._principal = principal
            self._guards = install_guards(self, principal, self._meter, who)

    # ------------------------------------------------------------------ client registry

    def register_client(
        self, name: str, permissions: Iterable[Permission], *, description: str | None = None
    ) -> RegisteredClient:
        """Register a client (needs ``admin`` on ``client``); its secret is shown once."""
        return self._admin(
            "register_client",
            lambda: self._access.register(name, permissions, description=description),
        )

    def rotate_secret(self, client_id: str | None = None) -> RegisteredClient:
        """A new secret for a client (its own: no permission needed; another: ``admin``)."""
        target = client_id or self.client_id
        if target == self.client_id:
            return self._admin(
                "rotate_secret", lambda: self._access.rotate_secret(target), needs=False
            )
        return self._admin("rotate_secret", lambda: self._access.rotate_secret(target), target)

    def revoke_client(self, client_id: str) -> ClientRegistration:
        """Revoke a client (needs ``admin`` on ``client``)."""
        return self._admin("revoke_client", lambda: self._access.revoke(client_id), client_id)

    def set_permissions(
        self, client_id: str, permissions: Iterable[Permission]
    ) -> ClientRegistration:
        """Replace a client's permissions (needs ``admin`` on ``client``)."""
        return self._admin(
            "set_permissions",
            lambda: self._access.set_permissions(client_id, permissions),
            client_id,
        )

    def registered_clients(self, *, status: str | None = None) -> list[ClientRegistration]:
        """Registrations (needs ``admin`` on ``client``)."""
        return self._admin("registered_clients", lambda: self._access.registered(status=status))

    # ------------------------------------------------------------------ usage

    def usage_report(self, **options: Any) -> UsageReport:
        """The usage report (needs ``read`` on ``usage``); options as ``UsageMeter.report``."""
        return self._admin(
            "usage_report", lambda: self._meter.report(**options), entity=("usage", "read")
        )

    def shortcomings(self, **options: Any) -> ShortcomingsReport:
        """The shortcomings report (needs ``read`` on ``usage``); options as
        ``UsageMeter.shortcomings``."""
        return self._admin(
            "shortcomings", lambda: self._meter.shortcomings(**options), entity=("usage", "read")
        )

    def _admin(
        self,
        name: str,
        run: Callable[[], T],
        subject: str | None = None,
        *,
        needs: bool = True,
        entity: tuple[str, str] = ("client", "admin"),
    ) -> T:
        """Run a registry or usage call, checked against ``entity`` (type, action) and recorded."""
        self.seal_reads()
        who = (self.client_id, self.client_name)
        ids = (subject,) if subject else ()
        entity_type, action = entity
        if needs and not self._principal.allows(entity_type, action):
            reason = f"it has no {action!r} permission on {entity_type!r}"
            self._meter.record(
                who, name, action, entity_type, outcome="denied", entity_ids=ids, error=reason
            )
            raise AccessDeniedError(self.client_id, action, entity_type, reason)
        started = _clock_ns()
        try:
            result = run()
        except Exception as exc:
            self._meter.record(
                who, name, action, entity_type, outcome="failed", entity_ids=ids, error=_error(exc)
            )
            raise
        self._meter.record(
            who,
            name,
            action,
            entity_type,
            entity_ids=ids,
            count=1,
            duration_ns=_clock_ns() - started,
        )
        return result
