"""Keyed reads awaiting their usage record, stamped when they happen.

Keyed reads (``get_*``/``find_*``) are the hot path: a session notes the entity
read and nothing else, and :meth:`Reads.seal` turns the notes into one usage
record per operation. Such a batch must not straddle a UTC day (reports bucket
by day, ISO week and month), yet reading the clock per read would cost about as
much as the read. So:

* with the system clock, one daemon thread opens a *window* around every UTC
  midnight (from 2 s before to 2 s after): it seals every pending batch at the
  start (stamped then, before midnight) and, inside the window, every read is
  stamped with the clock and a batch is sealed when the day changes;
* with any other clock (tests, replays), every keyed read is stamped with it.

A batch's record carries the time of its last read (or, outside a window, the
time it was sealed: the same UTC day).
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from etomkit.inventory.operations import INVENTORY_OPERATIONS, KEYED_READS

if TYPE_CHECKING:
    from etomkit.inventory.usage import UsageMeter

__all__ = ["ANONYMOUS", "Live", "Reads", "Who", "clock_ns", "error_text", "text"]

Who = tuple[str, str]
ANONYMOUS: Who = ("anonymous", "unauthenticated caller")
clock_ns = time.perf_counter_ns
WINDOW_S = 2.0  #: seconds either side of UTC midnight in which every keyed read is stamped


class Live(Protocol):
    """What a closure asks when its registration may have changed."""

    version: int

    def redispatch(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``name`` with the client's current registration."""


def text(value: Any) -> str:
    """``value`` as an exact ``str`` (a str subclass's own characters; else its type)."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    return f"<{type(value).__name__}>"


def error_text(exc: BaseException) -> str:
    """``"<type>: <message>"`` of an error, for the usage record."""
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # a message that cannot be rendered
        return type(exc).__name__


def _day(at: Any) -> int:
    if isinstance(at, datetime):
        return at.astimezone(UTC).toordinal() if at.tzinfo else at.toordinal()
    return int(at // 86400)


class Reads:
    """One session's keyed reads since the last batch: ids found, ids missed."""

    def __init__(self, meter: UsageMeter, who: Who) -> None:
        self.meter = meter
        self.who = who
        self.hits: dict[str, list[Any]] = {name: [] for name in KEYED_READS}
        self.misses: dict[str, list[str]] = {name: [] for name in KEYED_READS}
        # any(lists): reads pending (a list: sealing puts a fresh hits list in place)
        self.lists = [*self.hits.values(), *self.misses.values()]
        self._slot = {name: i for i, name in enumerate(KEYED_READS)}
        self.last_at: dict[str, Any] = dict.fromkeys(KEYED_READS)
        self.day: dict[str, int | None] = dict.fromkeys(KEYED_READS)
        self.stamped = not meter.system_clock or MIDNIGHT.open
        self._hot: list[tuple[str, Callable[..., Any]]] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ noting

    def hot(self, name: str, closure: Callable[..., Any]) -> None:
        """Register a keyed-read closure whose ``note`` is swapped in stamping windows."""
        self._hot.append((name, closure))
        if self.stamped:
            self._swap(name, closure, True)

    def _swap(self, name: str, closure: Callable[..., Any], stamped: bool) -> None:
        cell = closure.__closure__[closure.__code__.co_freevars.index("note")]  # type: ignore[index]
        cell.cell_contents = self._stamped(name) if stamped else self.hits[name].append

    def _stamped(self, name: str) -> Callable[[Any], None]:
        hits = self.hits

        def note(entity_id: Any) -> None:
            self._stamp(name)
            hits[name].append(entity_id)

        return note

    def _stamp(self, name: str) -> None:
        at = self.meter.now()
        day = _day(at)
        if self.day[name] is not None and self.day[name] != day:
            self.seal_one(name)
        self.day[name], self.last_at[name] = day, at

    def miss(self, name: str) -> Callable[[Any], None]:
        """The note of a ``find_*`` that found nothing (the id checked: exact ``str``)."""
        misses = self.misses[name]
        entity = "ProductOffering" if name.endswith("offering") else "Product"

        def missed(entity_id: Any) -> None:
            if type(entity_id) is not str:
                from etomkit.errors import ValidationError

                problem = ("id", f"must be a str, not {type(entity_id).__name__}")
                self.meter.record(
                    self.who, name, "read", INVENTORY_OPERATIONS[name].entity_type,
                    outcome="failed", entity_ids=(text(entity_id),), error=problem[1],
                )  # fmt: skip
                raise ValidationError(entity, [problem])
            if self.stamped:
                self._stamp(name)
            misses.append(entity_id)
            return

        return missed

    # ------------------------------------------------------------------ sealing

    def seal(self) -> None:
        """Record the keyed reads since the last batch, one record per operation."""
        for name in KEYED_READS:
            self.seal_one(name)

    def seal_one(self, name: str) -> None:
        hits, misses = self.hits[name], self.misses[name]
        if not hits and not misses:
            return
        with self._lock:  # the noted list becomes the record's: no copy, no per-id work
            batch = hits
            self.hits[name] = self.lists[self._slot[name]] = []
            for hot_name, closure in self._hot:
                if hot_name == name:
                    self._swap(name, closure, self.stamped)
            lost = misses[:]
            del misses[: len(lost)]
            at, self.last_at[name], self.day[name] = self.last_at[name], None, None
        if not batch and not lost:
            return
        # An id that is not a str can only hit by comparing equal to a stored one; it
        # is recorded as its type when the record is read or written (see usage_record).
        op = INVENTORY_OPERATIONS[name]
        self.meter.record(
            self.who, name, op.action, op.entity_type,
            entity_ids=batch + lost if lost else batch, count=len(batch),  # a list: kept as is
            calls=len(batch) + len(lost), at=at,
        )  # fmt: skip

    # ------------------------------------------------------------------ windows

    def watch(self) -> None:
        """Be sealed by the meter's ``collect`` and switched by the midnight windows."""
        self.meter.watch(self)
        if self.meter.system_clock:
            MIDNIGHT.add(self)

    def enter_window(self) -> None:
        """Stamp every read from now on; seal what is pending (before midnight)."""
        self.stamped = True
        for name, closure in self._hot:
            self._swap(name, closure, True)
        self.seal()

    def leave_window(self) -> None:
        """Seal the stamped batch; back to the unstamped hot path."""
        self.seal()
        if self.meter.system_clock:
            self.stamped = False
            for name, closure in self._hot:
                self._swap(name, closure, False)


class _Midnight:
    """The process's one thread that opens the stamping window around UTC midnight."""

    def __init__(self) -> None:
        self.reads: weakref.WeakSet[Reads] = weakref.WeakSet()
        self.open = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, reads: Reads) -> None:
        with self._lock:
            self.reads.add(reads)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="etomkit-midnight", daemon=True
                )
                self._thread.start()

    def switch(self, open_: bool) -> None:
        """Open (True) or close the window for every watched session now."""
        self.open = open_
        with self._lock:
            watched = list(self.reads)
        for reads in watched:
            with contextlib.suppress(Exception):  # one session's trouble is not the others'
                reads.enter_window() if open_ else reads.leave_window()

    def _run(self) -> None:  # pragma: no cover - waits for midnight
        while True:
            midnight = (time.time() // 86400 + 1) * 86400
            _sleep_until(midnight - WINDOW_S)
            self.switch(True)
            _sleep_until(midnight + WINDOW_S)
            self.switch(False)


def _sleep_until(moment: float) -> None:  # pragma: no cover - waits for midnight
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 60.0))


MIDNIGHT = _Midnight()
