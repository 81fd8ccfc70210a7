"""The checked, metered operations of the inventory, built for one principal.

:class:`Guards` turns every operation of :data:`INVENTORY_OPERATIONS` into a
closure that checks the principal's permission and scope and records the call
in a :class:`~etomkit.inventory.usage.UsageMeter`. The host's inventory gets
them as instance attributes (:func:`install_guards`); a
:class:`~etomkit.inventory.session.ClientSession` holds them in its slots.
The closures reach the inventory; nothing reachable from them by attribute does.

Inputs are canonicalised before they are checked: ids must be exact ``str``,
mappings and import documents are copied into plain ``dict``/``list``/``str``
and the copy is what the operation stores. An entity outside the scope answers
exactly like a missing one (recorded as denied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from etomkit.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from etomkit.inventory.operations import INVENTORY_OPERATIONS, KEYED_READS, Operation
from etomkit.inventory.reads import ANONYMOUS, Live, Reads, Who, clock_ns, error_text, text
from etomkit.inventory.scope import (
    HiddenError,
    ScopeCheck,
    Stream,
    arg,
    canonical_ids,
    download,
    scoped_page,
)
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.queries import Page

if TYPE_CHECKING:
    from etomkit.inventory.access import Principal
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ANONYMOUS", "Guards", "Live", "StaleError", "install_guards"]


class StaleError(Exception):
    """Raised inside a retired closure: the registration changed since it was built."""


class _Fixed:
    """The host inventory's guards: built once, never stale."""

    version = 0

    def redispatch(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise AssertionError("the host's guards are never stale")  # pragma: no cover


def _stale(*_: Any) -> Any:
    raise StaleError


def _first_id(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    for value in (*args[:1], kwargs.get("offering_id"), kwargs.get("product_id")):
        if isinstance(value, str):
            return (text(value),)
        entity_id = (
            getattr(value, "id", None) if isinstance(value, (ProductOffering, Product)) else None
        )
        if isinstance(entity_id, str):
            return (text(entity_id),)
    return ()


class Guards:
    """Builds the checked operations of ``target`` (the host's inventory) for one principal."""

    def __init__(
        self,
        target: Any,
        principal: Principal | None,
        meter: UsageMeter,
        reads: Reads,
        refusal: str,
        live: Live | None = None,
    ) -> None:
        self.target = target
        self.impls = type(target)
        self.principal = principal
        self.meter = meter
        self.reads = reads
        self.who = reads.who
        self.refusal = refusal
        self.live: Live = live if live is not None else _Fixed()
        self.version = self.live.version
        self._cells: list[Any] = []  # the readers of the keyed-read closures, retired on change

    def table(self) -> dict[str, Callable[..., Any]]:
        """Every operation, checked."""
        return {op.name: self.build(op) for op in INVENTORY_OPERATIONS.values()}

    def install(self) -> None:
        """Put the checked operations on the target (as instance attributes)."""
        vars(self.target).update(self.table())

    def retire(self) -> None:
        """Make every closure built here redispatch: held references included."""
        for cell in self._cells:
            cell.cell_contents = _stale

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
        meter, who, name, live, version = self.meter, self.who, op.name, self.live, self.version
        client_id = None if who is ANONYMOUS else who[0]

        def refused(*args: Any, **kwargs: Any) -> Any:
            if live.version != version:
                return live.redispatch(name, args, kwargs)
            meter.record(
                who, name, op.action, op.entity_type,
                outcome="denied", entity_ids=_first_id(args, kwargs), error=reason,
            )  # fmt: skip
            raise AccessDeniedError(client_id, op.action, op.entity_type, reason)

        refused.__name__ = name
        return refused

    # ------------------------------------------------------------------ keyed reads

    def keyed_read(self, op: Operation) -> Callable[[str], Any]:
        """The hot path: no clock, no check per call (the permission was checked when
        built; a change of registration swaps ``read`` for one that redispatches)."""
        name, live, reads = op.name, self.live, self.reads
        failed = self.failed_read(op)
        note: Any = None  # a cell: set by _hot, swapped in stamping windows

        def fail(entity_id: Any, exc: BaseException) -> Any:
            """A read that raised: stale (redispatch) or failed (recorded, raised)."""
            if isinstance(exc, StaleError):
                return live.redispatch(name, (entity_id,), {})
            raise failed(entity_id, exc) from None

        if op.name.startswith("get_"):
            read = (
                self.target._get_offering
                if op.entity_type == "offering"
                else self.target._get_product
            )

            def get(entity_id: str) -> Any:  # 3 cells: each one costs every call
                try:
                    entity = read(entity_id)
                except BaseException as exc:
                    return fail(entity_id, exc)
                note(entity_id)
                return entity

            return self._hot(name, get, "read")
        find = (
            self.target._offerings.find
            if op.entity_type == "offering"
            else self.target._products.find
        )
        missed = reads.miss(name)

        def find_one(entity_id: str) -> Any:
            try:
                entity = find(entity_id)
            except BaseException as exc:
                return fail(entity_id, exc)
            if entity is None:
                return missed(entity_id)
            note(entity_id)
            return entity

        return self._hot(name, find_one, "find")

    def _hot(self, name: str, closure: Callable[..., Any], reader: str) -> Callable[..., Any]:
        """Register a keyed-read closure: its ``note`` is set (and swapped in stamping
        windows) by the reads, its ``reader`` retired on a change of registration."""
        cells = dict(zip(closure.__code__.co_freevars, closure.__closure__ or (), strict=True))
        cells["note"].cell_contents = self.reads.hits[name].append
        self.reads.hot(name, closure)
        self._cells.append(cells[reader])
        return closure

    def failed_read(self, op: Operation) -> Callable[[Any, BaseException], BaseException]:
        meter, who = self.meter, self.who
        entity = "ProductOffering" if op.entity_type == "offering" else "Product"

        def failed(entity_id: Any, exc: BaseException) -> BaseException:
            if type(entity_id) is not str:
                exc = ValidationError(
                    entity, [("id", f"must be a str, not {type(entity_id).__name__}")]
                )
            elif not isinstance(exc, NotFoundError):
                exc = NotFoundError(entity, entity_id) if isinstance(exc, KeyError) else exc
            meter.record(
                who, op.name, op.action, op.entity_type, outcome="failed",
                entity_ids=(text(entity_id),), error=error_text(exc),
            )  # fmt: skip
            return exc

        return failed

    # ------------------------------------------------------------------ everything else

    def checked(self, op: Operation, scope: frozenset[str] | None) -> Callable[..., Any]:
        if scope is None and op.subject in _ENTITY_SUBJECTS:
            return self.entity_call(op)
        run = self.scoped(op, scope)
        meter, who, name, action, entity_type = (
            self.meter, self.who, op.name, op.action, op.entity_type
        )  # fmt: skip
        live, version, reads = self.live, self.version, self.reads
        seal, pending = reads.seal, reads.lists
        hide = self.hider(op)

        def call(*args: Any, **kwargs: Any) -> Any:
            if live.version != version:
                return live.redispatch(name, args, kwargs)
            if any(pending):
                seal()
            started = clock_ns()
            try:
                result, ids, count = run(args, kwargs)
            except HiddenError as exc:
                meter.record(
                    who, name, action, entity_type, outcome="denied",
                    entity_ids=_first_id(args, kwargs), error="outside its scope",
                )  # fmt: skip
                return hide(exc)
            except AccessDeniedError as exc:
                meter.record(
                    who, name, action, entity_type, outcome="denied",
                    entity_ids=_first_id(args, kwargs), error=exc.reason,
                )  # fmt: skip
                raise
            except Exception as exc:
                meter.record(
                    who, name, action, entity_type, outcome="failed",
                    entity_ids=_first_id(args, kwargs), error=error_text(exc),
                    duration_ns=clock_ns() - started,
                )  # fmt: skip
                raise
            if isinstance(result, Stream):
                return result.start(meter, who, op, started, live, version)
            meter.record(
                who, name, action, entity_type,
                entity_ids=ids, count=count, duration_ns=clock_ns() - started,
            )  # fmt: skip
            return result

        call.__name__ = name
        call.__doc__ = getattr(self.impls, name).__doc__
        return call

    def entity_call(self, op: Operation) -> Callable[..., Any]:
        """An unscoped operation on one entity: the lean path (creates, changes, reads)."""
        impl = getattr(self.impls, op.name).__get__(self.target)
        meter, who, name, action, entity_type = (
            self.meter, self.who, op.name, op.action, op.entity_type
        )  # fmt: skip
        live, version, reads = self.live, self.version, self.reads
        seal, pending = reads.seal, reads.lists
        explain = self.explainer(op)
        entity = "ProductOffering" if entity_type == "offering" else "Product"
        by_id = op.subject in ("offering-id", "product-id")
        changes = name.startswith("modify_")

        def call(*args: Any, **kwargs: Any) -> Any:
            if live.version != version:
                return live.redispatch(name, args, kwargs)
            if any(pending):
                seal()
            started = clock_ns()
            try:
                if by_id or kwargs:
                    args, kwargs = canonical_ids(entity, args, kwargs, by_id, changes)
                result = impl(*args, **kwargs)
            except ConflictError as exc:
                error = explain(exc)
                meter.record(
                    who, name, action, entity_type, outcome="failed",
                    entity_ids=_first_id(args, kwargs), error=error_text(error),
                    duration_ns=clock_ns() - started,
                )  # fmt: skip
                raise error from None
            except Exception as exc:
                meter.record(
                    who, name, action, entity_type, outcome="failed",
                    entity_ids=_first_id(args, kwargs), error=error_text(exc),
                    duration_ns=clock_ns() - started,
                )  # fmt: skip
                raise
            if result is None:  # find_*: nothing there
                meter.record(
                    who, name, action, entity_type, entity_ids=_first_id(args, kwargs),
                    duration_ns=clock_ns() - started,
                )  # fmt: skip
            else:
                meter.record(
                    who, name, action, entity_type, entity_ids=(result.id,), count=1,
                    duration_ns=clock_ns() - started,
                )  # fmt: skip
            return result

        call.__name__ = name
        call.__doc__ = getattr(self.impls, name).__doc__
        return call

    def hider(self, op: Operation) -> Callable[[HiddenError], Any]:
        """What an out-of-scope entity answers: what a missing one would."""
        if op.name.startswith("find_"):
            return lambda _: None
        if op.name == "customers_of_offering":
            return lambda _: []

        def missing(exc: HiddenError) -> Any:
            raise NotFoundError(*exc.hidden) from None

        return missing

    def scoped(
        self, op: Operation, scope: frozenset[str] | None
    ) -> Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, tuple[str, ...], int]]:
        """The operation with its checks: returns ``(result, entity ids, count)``."""
        target = self.target
        impl = getattr(self.impls, op.name).__get__(target)
        check = ScopeCheck(target, scope, op, self.who, self.principal)
        subject, name = op.subject, op.name
        explain = self.explainer(op)

        def run(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[str, ...], int]:
            args, kwargs = check.canonical(args, kwargs)
            if subject == "offering-id":
                check.offering_id(arg(args, kwargs, "offering_id"))
            elif subject == "product-id":
                check.product_id(arg(args, kwargs, "product_id"))
            elif subject == "offering":
                check.offering_value(arg(args, kwargs, "offering"))
            elif subject == "purchase" or name == "customers_of_offering":
                check.offering_id(
                    kwargs.get("offering_id")
                    if subject == "purchase"
                    else arg(args, kwargs, "offering_id")
                )
            elif subject == "import":
                args, kwargs = check.documents(args, kwargs)
            elif name.startswith("iter_"):
                return Stream(check.keep(impl(*args, **kwargs))), (), 0
            elif name.startswith("download_"):
                return download(target, op, check, *args, **kwargs)
            elif name.startswith("list_") and scope is not None:
                return scoped_page(target, op, check, *args, **kwargs)
            try:
                result = impl(*args, **kwargs)
            except ConflictError as exc:
                raise explain(exc) from None
            if name == "products_of_customer" and scope is not None:
                result = list(check.keep(result))
            return result, *_usage_of(op, args, kwargs, result)

        return run

    def explainer(self, op: Operation) -> Callable[[ConflictError], ConflictError]:
        """Conflict messages that name only what the caller may read."""
        grants = self.principal.grants if self.principal is not None else {}
        sees_all = all(
            grants.get((e, "read"), frozenset()) is None for e in ("offering", "product")
        )

        def explain(exc: ConflictError) -> ConflictError:
            if sees_all:
                return exc
            message = str(exc)
            if op.name == "delete_offering":
                return ConflictError(
                    "the offering is still referenced (by products not yet terminated or by "
                    "live bundles); those must go first"
                )
            if message.startswith("order item "):
                return ConflictError(
                    "the order item already created a product for another customer or offering"
                )
            return exc

        return explain


_ENTITY_SUBJECTS = frozenset({"offering-id", "product-id", "offering", "purchase"})


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


def install_guards(
    target: Any,
    principal: Principal | None,
    meter: UsageMeter,
    who: Who = ANONYMOUS,
    refusal: str = "authenticate first: inventory.as_client(secret)",
) -> Guards:
    """Put the checked, metered operations on ``target`` (the host's inventory)."""
    guards = Guards(target, principal, meter, Reads(meter, who), refusal)
    guards.install()
    guards.reads.watch()
    return guards
