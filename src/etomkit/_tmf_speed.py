"""Speed for :mod:`etomkit.tmf`'s converters: the same documents, fewer calls (issue #13).

Every converter gets the faster container hooks. Within ``tmf._stored_doc`` (a
store encoding a record) the converter also remembers shared sub-documents and
notes floats; ``tmf.to_json`` gets fresh documents from the same converter:

Entities and their values are frozen, and the issuer reuses the same objects in many
records (a rule's resource order items, specification refs, a request's external id;
a replaced issuance record keeps its request). The converter remembers the
document of such an object by identity (the entry keeps the object alive, so its id
is not reused while remembered). Those documents are shared by the documents that
embed them: they go straight to a JSON encoder, are never handed out, and no hook
changes a nested document in place. It also notes whether a float passed, so the
store knows which documents a fast encoder may spell differently.
"""

from __future__ import annotations

import threading
import types
import typing
from collections.abc import Callable
from typing import Any

import cattrs
from cattrs.fns import identity

from etomkit.model.issuance import InitiatingRequest
from etomkit.model.resource_order import ExternalEntityId, ResourceOrderItem

__all__ = [
    "FLOATS",
    "MEMO_SIZES",
    "PLAIN",
    "count_float",
    "memoise",
    "register_faster_containers",
    "remembered",
]

#: The scalars an ``Any`` attribute's hook returns as they are (float: the float hook notes it).
PLAIN = frozenset((str, int, bool, type(None)))


def register_faster_containers(conv: cattrs.Converter) -> None:
    """The same documents with fewer calls: ``str | None`` (and the like) unstructured
    as the identity, not by a function testing for None; ``tuple[X, ...]`` by a
    list comprehension, not ``list()`` of a generator; a plain scalar in an ``Any``
    attribute as itself, without a dispatch on its type."""

    def other_of(t: Any) -> Any:
        if typing.get_origin(t) not in (typing.Union, types.UnionType):
            return None
        args = typing.get_args(t)
        if len(args) != 2 or type(None) not in args:
            return None
        return args[0] if args[1] is type(None) else args[1]

    def identity_optional(t: Any) -> bool:
        other = other_of(t)
        return other is not None and conv.get_unstructure_hook(other) is identity

    def is_homogeneous_tuple(t: Any) -> bool:
        args = typing.get_args(t)
        return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis

    def tuple_hook(t: Any) -> Callable[[Any], Any]:
        hook = conv.get_unstructure_hook(typing.get_args(t)[0])
        if hook is identity:
            return list
        return lambda values: [hook(v) for v in values]

    unstructure = conv.unstructure
    plain = PLAIN

    def any_value(value: Any) -> Any:  # an ``Any`` attribute: mostly a plain scalar
        return value if type(value) in plain else unstructure(value)

    conv.register_unstructure_hook_func(lambda t: t is Any, any_value)
    conv.register_unstructure_hook_func(identity_optional, identity)
    conv.register_unstructure_hook_factory(is_homogeneous_tuple, tuple_hook)


#: Per class: how many documents are remembered before the memo starts afresh.
#: Measured (bench/filestore.py): an issuer's orders encode 4-5x faster with the items
#: remembered; small refs (EntityRef, RuleRef) cost about what remembering them saves.
MEMO_SIZES: dict[type, int] = {
    ResourceOrderItem: 4096,  # a rule's items, shared by every order it issues
    ExternalEntityId: 4096,  # a request's, shared by its orders
    # ~4.5 kB of JSON, ~150 objects each: a record re-uses the document of the request
    # encoded just before it. 256 kept cost more than they save (records encoded ~1.4x
    # slower, out of cache; bench/filestore.py --converter): a rewritten record finds its
    # request's bytes in the store's own cache (adapters/file/store.py).
    InitiatingRequest: 16,
}


class _Floats(threading.local):
    active = False  # this thread is in tmf._stored_doc: memos in use
    seen = False  # a float passed since the current document began (this thread)


FLOATS = _Floats()


def count_float(value: float) -> float:
    """The float hook: the float itself, noted in FLOATS."""
    FLOATS.seen = True
    return value


def memoise(conv: cattrs.Converter, cls: type) -> None:
    """Make ``conv`` remember ``cls``'s documents by identity (if MEMO_SIZES names it)."""
    size = MEMO_SIZES.get(cls)
    if size is not None:
        conv.register_unstructure_hook(cls, remembered(conv.get_unstructure_hook(cls), size))


def remembered(base: Callable[[Any], Any], size: int) -> Callable[[Any], Any]:
    """``base``, remembering up to ``size`` documents by identity within ``_stored_doc``."""
    memo: dict[int, tuple[Any, Any, bool]] = {}
    get, floats = memo.get, FLOATS

    def unstructure(obj: Any) -> Any:
        if not floats.active:  # tmf.to_json: a fresh document the caller may change
            return base(obj)
        hit = get(id(obj))
        if hit is not None and hit[0] is obj:
            if hit[2]:
                floats.seen = True  # it holds a float: so does the document embedding it
            return hit[1]
        outer = floats.seen
        floats.seen = False
        doc = base(obj)
        seen = floats.seen
        floats.seen = outer or seen
        if len(memo) >= size:
            memo.clear()
        memo[id(obj)] = (obj, doc, seen)
        return doc

    return unstructure
