"""Checks that depend on the input and the entity: canonical inputs, offering
categories in scope, streams recorded when they end (see ``guards``)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from etomkit.errors import AccessDeniedError, NotFoundError, ValidationError
from etomkit.inventory.operations import Operation
from etomkit.inventory.reads import Live, Who, clock_ns, error_text
from etomkit.inventory.transfer import read_documents, write_documents
from etomkit.model.offering import ProductOffering
from etomkit.model.product import Product
from etomkit.model.queries import Page
from etomkit.model.values import EntityRef

if TYPE_CHECKING:
    from etomkit.inventory.access import Principal
    from etomkit.inventory.usage import UsageMeter

__all__ = [
    "HiddenError", "ScopeCheck", "Stream", "arg", "canonical_ids", "download", "plain",
    "scoped_page",
]  # fmt: skip


def _exact_id(entity: str, value: Any) -> str:
    if type(value) is not str:
        raise ValidationError(entity, [("id", f"must be a str, not {type(value).__name__}")])
    return value


class HiddenError(NotFoundError):
    """Out of scope: raised to the client as the NotFoundError a missing entity gives."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(entity, entity_id)
        self.hidden = (entity, entity_id)


def canonical_ids(
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


def arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], name: str) -> Any:
    return args[0] if args else kwargs.get(name)


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
            offering = arg(args, kwargs, "offering")
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
            raise HiddenError("ProductOffering", offering_id)

    def product_id(self, product_id: Any) -> None:
        if self.scope is None or type(product_id) is not str:
            return
        product = self.target._products.find(product_id)
        if product is not None and not self.product_in_scope(product):
            raise HiddenError("Product", product_id)

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
        source = arg(args, kwargs, "source")
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
                except HiddenError:
                    raise self.deny(
                        f"document {where} would replace a record outside its categories"
                    ) from None
        return (source, *args[1:]), rest

    def out_of_scope(self) -> str:
        assert self.scope is not None  # the entity's own categories are not revealed
        return f"the offering is outside its scope (categories {sorted(self.scope)})"


class Stream:
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


def download(
    target: Any, op: Operation, check: ScopeCheck, where: Any = None, *,
    format: Any = "json", out: Any = None,
) -> tuple[str, tuple[str, ...], int]:  # fmt: skip
    impls = type(target)  # a full pass: decoded records are not kept (``stream``)
    stream = impls._stream_offerings if op.entity_type == "offering" else impls._stream_products
    entities: Iterator[Any] = stream(target, where)
    buffer = out if out is not None else io.StringIO()
    count = write_documents(check.keep(entities), format, buffer)
    return ("" if out is not None else buffer.getvalue()), (), count


def scoped_page(
    target: Any, op: Operation, check: ScopeCheck, where: Any = None, *,
    offset: int = 0, limit: int | None = 100, **criteria: Any,
) -> tuple[Page[Any], tuple[str, ...], int]:  # fmt: skip
    impls = type(target)
    iterate = impls.iter_offerings if op.entity_type == "offering" else impls.iter_products
    kept = list(check.keep(iterate(target, where, **criteria)))
    end = None if limit is None else offset + limit
    items = tuple(itertools.islice(kept, offset, end))
    return Page(items=items, total=len(kept), offset=offset, limit=limit), (), len(items)
