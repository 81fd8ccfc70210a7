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

import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from etomkit.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from etomkit.inventory.operations import INVENTORY_OPERATIONS, KEYED_READS, Operation
from etomkit.inventory.reads import ANONYMOUS, Reads, Who, clock_ns, error_text, text
from etomkit.inventory.transfer import read_documents, write_documents
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.queries import Page
from etomkit.model.values import EntityRef

if TYPE_CHECKING:
    from etomkit.inventory.access import Principal
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ANONYMOUS", "Guards", "Live", "StaleError", "install_guards"]


class StaleError(Exception):
    """Raised inside a retired closure: the registration changed since it was built."""


class Live(Protocol):
    """What a closure asks when its registration may have changed."""

    version: int

    def redispatch(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``name`` with the client's current registration."""


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


def _exact_id(entity: str, value: Any) -> str:
    if type(value) is not str:
        raise ValidationError(entity, [("id", f"must be a str, not {type(value).__name__}")])
    return value


class _HiddenError(NotFoundError):
    """Out of scope: raised to the client as the NotFoundError a missing entity gives."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(entity, entity_id)
        self.hidden = (entity, entity_id)


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
        hit = reads.hits[name].append
        if op.name.startswith("get_"):
            read = (
                self.target._get_offering
                if op.entity_type == "offering"
                else self.target._get_product
            )

            def get(entity_id: str) -> Any:
                try:
                    entity = read(entity_id)
                except StaleError:
                    return live.redispatch(name, (entity_id,), {})
                except BaseException as exc:
                    raise failed(entity_id, exc) from None
                note(entity_id)
                return entity

            note = hit
            reads.hot(name, get)
            self._cells.append(get.__closure__[get.__code__.co_freevars.index("read")])  # type: ignore[index]
            return get
        find = (
            self.target._offerings.find
            if op.entity_type == "offering"
            else self.target._products.find
        )
        missed = reads.miss(name)

        def find_one(entity_id: str) -> Any:
            try:
                entity = find(entity_id)
            except StaleError:
                return live.redispatch(name, (entity_id,), {})
            if entity is None:
                return missed(entity_id)
            note(entity_id)
            return entity

        note = hit
        reads.hot(name, find_one)
        self._cells.append(find_one.__closure__[find_one.__code__.co_freevars.index("find")])  # type: ignore[index]
        return find_one

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
            except _HiddenError as exc:
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
            if isinstance(result, _Stream):
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
                    args, kwargs = _canonical_ids(entity, args, kwargs, by_id, changes)
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

    def hider(self, op: Operation) -> Callable[[_HiddenError], Any]:
        """What an out-of-scope entity answers: what a missing one would."""
        if op.name.startswith("find_"):
            return lambda _: None
        if op.name == "customers_of_offering":
            return lambda _: []

        def missing(exc: _HiddenError) -> Any:
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
                check.offering_id(_arg(args, kwargs, "offering_id"))
            elif subject == "product-id":
                check.product_id(_arg(args, kwargs, "product_id"))
            elif subject == "offering":
                check.offering_value(_arg(args, kwargs, "offering"))
            elif subject == "purchase" or name == "customers_of_offering":
                check.offering_id(
                    kwargs.get("offering_id")
                    if subject == "purchase"
                    else _arg(args, kwargs, "offering_id")
                )
            elif subject == "import":
                args, kwargs = check.documents(args, kwargs)
            elif name.startswith("iter_"):
                return _Stream(check.keep(impl(*args, **kwargs))), (), 0
            elif name.startswith("download_"):
                return _download(target, op, check, *args, **kwargs)
            elif name.startswith("list_") and scope is not None:
                return _scoped_page(target, op, check, *args, **kwargs)
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


def _canonical_ids(
    entity: str, args: tuple[Any, ...], kwargs: dict[str, Any], by_id: bool, changes: bool
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The id arguments as exact str, a changes mapping as a plain dict."""
    if by_id and args:
        args = (_exact_id(entity, args[0]), *args[1:])
    for key in ("offering_id", "product_id"):
        if key in kwargs:
            kwargs[key] = _exact_id(entity, kwargs[key])
    if changes:
        given = args[1] if len(args) > 1 else kwargs.get("changes")
        if isinstance(given, Mapping):
            copied = _plain_changes(entity, given)
            if len(args) > 1:
                args = (args[0], copied, *args[2:])
            else:
                kwargs["changes"] = copied
    return args, kwargs


def _plain_changes(entity: str, changes: Mapping[Any, Any]) -> dict[str, Any]:
    copied = {}
    for k, v in list(changes.items()):
        if not isinstance(k, str):
            raise ValidationError(entity, [("changes", "attribute names must be str")])
        copied[str.__str__(k)] = v
    return copied


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


def plain(value: Any, path: str = "$") -> Any:
    """A JSON-like value copied into exact ``dict``/``list``/``str``/numbers (keys ``str``)."""
    kind = type(value)
    if value is None or kind in (bool, int, float):
        return value
    if kind is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in list(value.items()):
            if not isinstance(key, str):
                raise ValidationError("document", [(path, "keys must be strings")])
            copied[str.__str__(key)] = plain(item, f"{path}.{key}")
        return copied
    if isinstance(value, (list, tuple)):
        return [plain(item, f"{path}[{i}]") for i, item in enumerate(list(value))]
    if isinstance(value, (int, float)):
        return int(value) if isinstance(value, int) else float(value)
    raise ValidationError("document", [(path, f"not a JSON value: {type(value).__name__}")])


def _categories(value: Any, where: str) -> tuple[EntityRef, ...]:
    """Category references copied into a tuple of EntityRefs with exact-str ids."""
    if not isinstance(value, (list, tuple)):
        raise ValidationError(where, [("category", "must be a list of EntityRef")])
    refs = tuple(value)
    for i, ref in enumerate(refs):
        if type(ref) is not EntityRef or type(ref.id) is not str:
            raise ValidationError(where, [(f"category[{i}]", "must be an EntityRef with a str id")])
    return refs


class ScopeCheck:
    """Checks that depend on the entity: offering categories in scope."""

    def __init__(
        self,
        target: Any,
        scope: frozenset[str] | None,
        op: Operation,
        who: Who,
        principal: Principal | None,
    ) -> None:
        self.target = target
        self.scope = scope
        self.op = op
        self.client_id = who[0]
        self.grants = principal.grants if principal is not None else {}

    def deny(self, reason: str) -> AccessDeniedError:
        return AccessDeniedError(self.client_id, self.op.action, self.op.entity_type, reason)

    def canonical(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Ids as exact str, changes as a plain dict, offerings with plain categories."""
        op, subject = self.op, self.op.subject
        entity = "ProductOffering" if op.entity_type == "offering" else "Product"
        if subject in ("offering-id", "product-id") or op.name == "customers_of_offering":
            key = (
                "offering_id"
                if subject == "offering-id" or op.name == "customers_of_offering"
                else "product_id"
            )
            if args:
                args = (_exact_id(entity, args[0]), *args[1:])
            elif key in kwargs:
                kwargs[key] = _exact_id(entity, kwargs[key])
        if subject == "purchase" and "offering_id" in kwargs:
            kwargs["offering_id"] = _exact_id("ProductOffering", kwargs["offering_id"])
        if op.name in ("modify_offering", "modify_product"):
            changes = args[1] if len(args) > 1 else kwargs.get("changes")
            if isinstance(changes, Mapping):
                copied = _plain_changes(entity, changes)
                if "category" in copied:
                    copied["category"] = _categories(copied["category"], entity)
                    if self.scope is not None and self.scope.isdisjoint(
                        c.id for c in copied["category"]
                    ):
                        raise self.deny(self.out_of_scope())
                if len(args) > 1:
                    args = (args[0], copied, *args[2:])
                else:
                    kwargs["changes"] = copied
        if subject == "offering" and self.scope is not None:
            offering = _arg(args, kwargs, "offering")
            if isinstance(offering, ProductOffering):
                if type(offering.id) not in (str, type(None)):
                    raise ValidationError(entity, [("id", "must be a str")])
                offering = attrs.evolve(offering, category=_categories(offering.category, entity))
                args, kwargs = (
                    ((offering, *args[1:]), kwargs)
                    if args
                    else ((), {**kwargs, "offering": offering})
                )
        return args, kwargs

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

    def offering_id(self, offering_id: Any) -> None:
        if self.scope is None or type(offering_id) is not str:
            return
        offering = self.target._offerings.find(offering_id)
        if offering is not None and not self.in_scope(offering):
            raise _HiddenError("ProductOffering", offering_id)

    def product_id(self, product_id: Any) -> None:
        if self.scope is None or type(product_id) is not str:
            return
        product = self.target._products.find(product_id)
        if product is not None and not self.product_in_scope(product):
            raise _HiddenError("Product", product_id)

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
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Check an import: upserts need ``update`` too; scoped clients import only in
        scope. The documents are copied into plain JSON values first; that copy is
        what is checked and what is imported."""
        if kwargs.get("mode") == "upsert" and (self.op.entity_type, "update") not in self.grants:
            raise self.deny("an upsert import replaces records: it needs 'update' too")
        source = _arg(args, kwargs, "source")
        if type(source) is bytes:
            source = source.decode("utf-8", "replace")
        elif isinstance(source, (str, bytes)):
            source = (
                bytes(source).decode("utf-8", "replace")
                if isinstance(source, bytes)
                else str.__str__(source)
            )
        else:
            source = [plain(doc, f"[{i}]") for i, doc in enumerate(list(source))]
        rest = {k: v for k, v in kwargs.items() if k != "source"}
        if self.scope is None:
            return (source, *args[1:]), rest
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
                try:
                    if isinstance(entity, ProductOffering):
                        self.offering_id(entity.id)
                    else:
                        self.product_id(entity.id)
                except _HiddenError:
                    raise self.deny(
                        f"document {where} would replace a record outside its categories"
                    ) from None
        return (source, *args[1:]), rest

    def out_of_scope(self) -> str:
        assert self.scope is not None  # the entity's own categories are not revealed
        return f"the offering is outside its scope (categories {sorted(self.scope)})"


class _Stream:
    """An iterator result: checked on every step, recorded once when exhausted,
    closed or collected (with what was read by then)."""

    def __init__(self, items: Iterator[Any]) -> None:
        self.items = items

    def start(
        self, meter: UsageMeter, who: Who, op: Operation, started: int, live: Live, version: int
    ) -> Iterator[Any]:
        return _Recorded(self.items, meter, who, op, started, live, version)


class _Recorded:
    __slots__ = (
        "_count",
        "_done",
        "_items",
        "_live",
        "_meter",
        "_op",
        "_started",
        "_version",
        "_who",
    )

    def __init__(
        self, items: Iterator[Any], meter: UsageMeter, who: Who, op: Operation,
        started: int, live: Live, version: int,
    ) -> None:  # fmt: skip
        self._items, self._meter, self._who, self._op = items, meter, who, op
        self._started, self._live, self._version = started, live, version
        self._count, self._done = 0, False

    def __iter__(self) -> _Recorded:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        if self._live.version != self._version:
            self._finish("denied", "the client's registration changed during the stream")
            op = self._op
            raise AccessDeniedError(
                self._who[0], op.action, op.entity_type, "the session changed; start again"
            )
        try:
            item = next(self._items)
        except StopIteration:
            self._finish("ok", None)
            raise
        except Exception as exc:
            self._finish("failed", error_text(exc))
            raise
        self._count += 1
        return item

    def close(self) -> None:
        """Stop reading: what was read so far is recorded."""
        self._finish("ok", None)

    def __del__(self) -> None:
        self._finish("ok", None)

    def _finish(self, outcome: str, error: str | None) -> None:
        if self._done:
            return
        self._done = True
        op = self._op
        self._meter.record(
            self._who, op.name, op.action, op.entity_type, outcome=outcome, count=self._count,
            error=error, duration_ns=clock_ns() - self._started,
        )  # fmt: skip


def _download(
    target: Any, op: Operation, check: ScopeCheck, where: Any = None, *,
    format: Any = "json", out: Any = None,
) -> tuple[str, tuple[str, ...], int]:  # fmt: skip
    impls = type(target)
    iterate = impls.iter_offerings if op.entity_type == "offering" else impls.iter_products
    entities: Iterator[Any] = iterate(target, where)
    buffer = out if out is not None else io.StringIO()
    count = write_documents(check.keep(entities), format, buffer)
    return ("" if out is not None else buffer.getvalue()), (), count


def _scoped_page(
    target: Any, op: Operation, check: ScopeCheck, where: Any = None, *,
    offset: int = 0, limit: int | None = 100, **criteria: Any,
) -> tuple[Page[Any], tuple[str, ...], int]:  # fmt: skip
    impls = type(target)
    iterate = impls.iter_offerings if op.entity_type == "offering" else impls.iter_products
    kept = list(check.keep(iterate(target, where, **criteria)))
    end = None if limit is None else offset + limit
    items = tuple(itertools.islice(kept, offset, end))
    return Page(items=items, total=len(kept), offset=offset, limit=limit), (), len(items)


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
