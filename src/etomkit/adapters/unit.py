"""The in-memory unit of work: a re-entrant lock, an undo log, an optional journal,
and the stores' garbage-collection policy.

**Garbage collection.** Stored entities are acyclic (frozen attrs objects), so
reference counting frees them; but every one of them is a container the cyclic
collector tracks, and each full collection walks all of them (about 13 objects
per issued item: a store of 500k items makes a full collection take over a
second). With ``freeze_gc=True`` (the stores' default) a unit of work, after a
committed top-level unit (a ``transaction()`` block, or a single write outside
one) once at least :data:`FREEZE_EVERY` entities have been written since the
last freeze, collects the young generations (``gc.collect(1)``) and calls
:func:`gc.freeze`: every object alive then, the stored ones included, moves to
the collector's permanent generation and is not walked again. Frozen objects
stay freeable by reference counting (a replaced or removed entity goes away as
usual); only garbage *cycles* that had already outlived the young generations
at a freeze (created by the host, waiting for a full collection) stay until
:func:`gc.unfreeze`.

What a host should do: nothing, for a process whose main job is the store (a
service, a batch job). A host that creates many reference cycles of its own and
counts on the collector to free them soon (or that manages ``gc.freeze`` itself,
e.g. before ``fork``) opens its stores with ``freeze_gc=False``, and may call
``gc.collect(); gc.freeze()`` at moments of its own choosing instead. Freezing
is process-wide: one store that freezes freezes everything alive.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["FREEZE_EVERY", "Journal", "Write", "_UnitOfWork"]

Write = tuple[str, str, Any, tuple[str, ...]]
"""One change for a journal: ``(namespace, key, entity or None to remove, index terms)``."""

FREEZE_EVERY = 2_000
"""Entities written between two :func:`gc.freeze` calls of a ``freeze_gc`` store. Each
freeze costs a young-generation collection; fewer entities between them keep the
collections of what is not frozen yet short (bench/gc_policy.py)."""


class Journal(Protocol):
    """Where a durable store commits the writes of a unit of work, all or none."""

    def commit(self, writes: Sequence[Write]) -> None: ...


class _UnitOfWork:
    """A re-entrant lock, an undo log and (for durable stores) a journal.

    ``freeze_gc``: see the module docstring (the garbage-collection policy).
    """

    def __init__(self, journal: Journal | None = None, *, freeze_gc: bool = True) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.undo: list[Callable[[], None]] = []
        self.pending: list[Write] = []
        self.journal = journal
        self.freeze_gc = freeze_gc
        self.fresh = 0  # entities written since the last freeze (or since the start)

    def written(self, write: Write, undo: Callable[[], None]) -> None:
        """Called under the lock after an in-memory change."""
        if self.depth:
            self.undo.append(undo)
            if self.journal is not None:
                self.pending.append(write)
            self.fresh += 1
            return
        if self.journal is not None:
            try:
                self.journal.commit((write,))
            except BaseException:
                undo()
                raise
        self.committed(1)

    def written_many(self, writes: Sequence[Write], undo: Callable[[], None]) -> None:
        """:meth:`written` for several changes with one undo for them all."""
        if self.depth:
            self.undo.append(undo)
            if self.journal is not None:
                self.pending.extend(writes)
            self.fresh += len(writes)
            return
        if self.journal is not None:
            try:
                self.journal.commit(writes)
            except BaseException:
                undo()
                raise
        self.committed(len(writes))

    def committed(self, count: int) -> None:
        """After a committed top-level write of ``count`` entities: freeze if due."""
        self.fresh += count
        if self.freeze_gc and self.fresh >= FREEZE_EVERY:
            self.fresh = 0
            gc.collect(1)  # the young garbage first (cheap): freeze what lives on
            gc.freeze()

    def _rollback(self, mark: int) -> None:
        while len(self.undo) > mark:
            self.undo.pop()()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self.depth += 1
            mark, pending_mark = len(self.undo), len(self.pending)
            try:
                yield
            except BaseException:
                self._rollback(mark)
                del self.pending[pending_mark:]
                self.depth -= 1
                raise
            self.depth -= 1
            if self.depth:
                return
            try:
                if self.pending and self.journal is not None:
                    self.journal.commit(self.pending)
            except BaseException:
                self._rollback(0)
                raise
            finally:
                self.pending = []
                self.undo.clear()
            self.committed(0)
