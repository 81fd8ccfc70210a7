"""Usage, access and cost tracking of the inventory (eTOM 1.2.4.2).

A :class:`UsageMeter` turns every call into a :class:`UsageRecord` priced by a
:class:`CostModel` and appends it to a :class:`UsageLog`. Records are buffered
and written in batches (``flush_every``), at once for denials, and on
:meth:`UsageMeter.flush`/:meth:`UsageMeter.collect`.

Keyed reads (``get_*``/``find_*``) are the hot path: reading the clock twice
costs about as much as an in-memory read itself. So by default a session notes
what it read only, and :meth:`UsageMeter.collect` (or any other call of that
session, its ``flush``/``close``, or the session being dropped) turns them into
one record per operation (``calls`` = how many, ``entity_ids`` in call order,
no duration), never straddling a UTC day (see ``etomkit.inventory.reads``).
With ``time_keyed_reads=True`` each keyed read is timed and recorded on its
own, like every other call (a latency budget on ``get_*`` needs it).

Recording never raises and never blocks: a record the log cannot take is
dropped and counted, a log that fails keeps the records pending (up to
``max_pending``) and is retried; :attr:`UsageMeter.recording` counts both and
:meth:`UsageMeter.shortcomings` reports them.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from etomkit.adapters.runtime import InMemoryUsageLog, SystemClock
from etomkit.errors import ValidationError
from etomkit.model.client import OPERATIONS
from etomkit.model.usage import UsageRecord, UsageRow
from etomkit.ports import Clock, ResourceDevelopmentSink, Store, UsageLog

if TYPE_CHECKING:
    from etomkit.inventory.reports import UsageReport
    from etomkit.inventory.shortcomings import ShortcomingPolicy, ShortcomingsReport

__all__ = ["CostModel", "UsageMeter"]

_LOOKBACK = timedelta(days=2)  # how far before a report's start its last storage sample is sought
_SEQUENCES = (tuple, list)  # entity ids a row keeps as given (a sealed batch's list)
_DEFAULT_CALL_COSTS = {
    "read": 1.0,
    "create": 5.0,
    "modify": 3.0,
    "update": 3.0,
    "delete": 3.0,
    "download": 10.0,
    "admin": 1.0,
}


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValidationError(
            "CostModel", [(attribute.name, f"must be a number >= 0, not {value!r}")]
        )


def _call_costs(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    problems = []
    for key, units in dict(value).items():
        if attribute.name == "per_call" and key not in OPERATIONS:
            problems.append(
                (f"per_call.{key}", f"unknown action; allowed: {', '.join(OPERATIONS)}")
            )
        if not isinstance(units, (int, float)) or isinstance(units, bool) or units < 0:
            problems.append((f"{attribute.name}.{key}", f"must be a number >= 0, not {units!r}"))
    if problems:
        raise ValidationError("CostModel", problems)


@attrs.frozen(kw_only=True)
class CostModel:
    """Cost units of inventory use.

    A call costs ``per_call[action]`` (or ``per_operation[operation]`` if set),
    plus ``per_record_returned`` for each record a read returns and
    ``per_record_downloaded`` for each record downloaded. Denied calls cost
    nothing; failed calls cost their call price. Storage costs
    ``per_record_stored_per_day`` for each stored record and day.
    """

    per_call: Mapping[str, float] = attrs.field(
        factory=lambda: dict(_DEFAULT_CALL_COSTS), validator=_call_costs
    )
    per_operation: Mapping[str, float] = attrs.field(factory=dict, validator=_call_costs)
    per_record_returned: float = attrs.field(default=0.1, validator=_non_negative)
    per_record_downloaded: float = attrs.field(default=0.5, validator=_non_negative)
    per_record_stored_per_day: float = attrs.field(default=0.001, validator=_non_negative)

    def call_cost(
        self, operation: str, action: str, *, outcome: str = "ok", count: int = 0, calls: int = 1
    ) -> float:
        """Cost units of ``calls`` calls that returned or stored ``count`` records in all."""
        if outcome == "denied":
            return 0.0
        base = self.per_operation.get(operation)
        if base is None:
            base = self.per_call.get(action, 0.0)
        units = base * calls
        if outcome == "ok":
            if action == "download":
                units += self.per_record_downloaded * count
            elif action == "read":
                units += self.per_record_returned * count
        return units

    def storage_cost(self, records: int, days: float) -> float:
        """Cost units of keeping ``records`` records for ``days`` days."""
        return self.per_record_stored_per_day * records * days

    def store_cost(self, store: Store, days: float) -> dict[str, float]:
        """Storage cost units per entity type of what ``store`` holds now, over ``days``."""
        return {
            "offering": self.storage_cost(len(store.offerings), days),
            "product": self.storage_cost(len(store.products), days),
        }


class UsageMeter:
    """Records every access to an inventory in ``log`` (default: in memory),
    priced by ``costs``, stamped by ``clock``.

    Pass it as ``ProductOfferingInventory(store, usage=meter)``. Reports read
    the log; call :meth:`collect` first (reports do) so that pending keyed
    reads are written.
    """

    def __init__(
        self,
        log: UsageLog | None = None,
        *,
        costs: CostModel | None = None,
        clock: Clock | None = None,
        flush_every: int = 512,
        time_keyed_reads: bool = False,
        max_pending: int = 100_000,
    ) -> None:
        if not isinstance(flush_every, int) or flush_every < 1:
            raise ValidationError(
                "UsageMeter", [("flush_every", f"must be an int >= 1, not {flush_every!r}")]
            )
        self.log: UsageLog = log if log is not None else InMemoryUsageLog()
        self.costs = costs or CostModel()
        self.clock: Clock = clock or SystemClock()
        self.flush_every = flush_every
        self.time_keyed_reads = time_keyed_reads
        self.max_pending = max_pending
        self._pending: list[UsageRow] = []
        self.system_clock = isinstance(self.clock, SystemClock)
        # POSIX seconds (converted when read) are 10x cheaper than datetime.now()
        self.now: Callable[[], Any] = time.time if self.system_clock else self.clock.now
        #: What could not be recorded: ``failed_writes`` (log appends that raised),
        #: ``dropped`` (records lost), ``last_error``.
        self.recording: dict[str, Any] = {"failed_writes": 0, "dropped": 0, "last_error": None}
        self._lock = threading.Lock()
        self._sessions: weakref.WeakSet[Any] = weakref.WeakSet()

    def record(
        self,
        client: tuple[str, str],
        operation: str,
        action: str,
        entity_type: str,
        *,
        outcome: str = "ok",
        entity_ids: Sequence[str] = (),
        count: int = 0,
        calls: int = 1,
        duration_ns: int | None = None,
        error: str | None = None,
        at: Any = None,
    ) -> None:
        """Record one call (or ``calls`` keyed reads), stamped ``at`` (default: now).
        Never raises."""
        costs = self.costs
        base = costs.per_operation.get(operation)
        if base is None:
            base = costs.per_call.get(action, 0.0)
        if outcome == "ok":
            units = base * calls
            if action == "read":
                units += costs.per_record_returned * count
            elif action == "download":
                units += costs.per_record_downloaded * count
        else:
            units = 0.0 if outcome == "denied" else base * calls
        row = (
            self.now() if at is None else at, client[0], operation, action, entity_type,
            outcome, entity_ids if type(entity_ids) in _SEQUENCES else tuple(entity_ids),
            count, calls, duration_ns, units, error, client[1],
        )  # fmt: skip
        pending = self._pending
        pending.append(row)  # atomic; flush() removes only what it wrote
        if outcome == "denied" or len(pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write the buffered records to the log (and make them durable). Never
        raises: see :attr:`recording`."""
        with self._lock:
            pending = self._pending
            batch = pending[:]
            if batch:
                try:
                    self.log.append_rows(batch)
                except Exception as exc:
                    self._failed(exc)
                    kept = self._salvage(batch)
                    del pending[: len(batch)]
                    pending[:0] = kept[-self.max_pending :]
                    self.recording["dropped"] += max(0, len(kept) - self.max_pending)
                else:
                    del pending[: len(batch)]
            try:
                self.log.flush()
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self.recording["failed_writes"] += 1
        self.recording["last_error"] = f"{type(exc).__name__}: {exc}"

    def _salvage(self, batch: list[UsageRow]) -> list[UsageRow]:
        """Write a refused batch row by row: a row the log refuses while it takes
        others is dropped (counted); if it takes none, all stay pending."""
        kept: list[UsageRow] = []
        wrote = False
        for row in batch:
            if not wrote and len(kept) >= 3:  # the log is down: keep the rest for later
                return kept + batch[len(kept) :]
            try:
                self.log.append_rows([row])
                wrote = True
            except Exception as exc:
                self._failed(exc)
                kept.append(row)
        if wrote:
            self.recording["dropped"] += len(kept)
            return []
        return kept

    def collect(self) -> None:
        """Seal every open session's pending keyed reads, then flush."""
        for reads in list(self._sessions):
            try:
                reads.seal()
            except Exception as exc:
                self._failed(exc)
        self.flush()

    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterable[UsageRecord]:
        """Every record so far (after :meth:`collect`), optionally within ``[since, until)``."""
        self.collect()
        return self.log.records(since=since, until=until)

    def sample_storage(self, store: Store) -> None:
        """Note how many offerings and products ``store`` holds now (a storage sample in
        the log; take one a day): reports price storage by record-days from them."""
        from etomkit.inventory.reports import STORAGE_SAMPLE

        for entity_type, held in (("offering", len(store.offerings)),
                                  ("product", len(store.products))):  # fmt: skip
            self.record(("system", "storage sampler"), STORAGE_SAMPLE, "admin", entity_type,
                        count=held, calls=0)  # fmt: skip
        self.flush()

    def report(
        self,
        *,
        period: str = "day",
        since: datetime | None = None,
        until: datetime | None = None,
        store: Store | None = None,
        storage_days: float | None = None,
    ) -> UsageReport:
        """Usage and cost by client, operation, entity type and ``period``.

        With ``store``, the report also prices storage by record-days over
        ``[since, until)`` (default: from the first storage sample to now): the
        counts of :meth:`sample_storage` and what the store holds now, each
        holding until the next. With ``storage_days``, it prices what the store
        holds now over that many days instead.
        """
        from etomkit.inventory.reports import record_days, storage_samples, usage_report

        storage = held = None
        records = list(self.records(since=since, until=until))
        if store is not None and storage_days is not None:
            storage = self.costs.store_cost(store, storage_days)
        elif store is not None:
            now = self.clock.now()
            earlier = (
                [] if since is None else self.log.records(since=since - _LOOKBACK, until=since)
            )
            samples = storage_samples([*earlier, *records])
            current = {"offering": len(store.offerings), "product": len(store.products)}
            held, storage = {}, {}
            for entity_type, count in current.items():
                points = samples.get(entity_type, [])
                if until is None or now < until or not points:
                    points.append((now, count))  # without samples: what it holds now
                start = since or min(at for at, _ in points)
                end = until or now
                held[entity_type] = round(record_days(points, start, end), 9)
                storage[entity_type] = round(
                    self.costs.per_record_stored_per_day * held[entity_type], 9
                )
        return usage_report(
            records, period=period, since=since, until=until, storage_cost=storage,
            storage_record_days=held,
        )  # fmt: skip

    def shortcomings(
        self,
        *,
        store: Store | None = None,
        audit_runs: Iterable[Any] = (),
        policy: ShortcomingPolicy | None = None,
        sink: ResourceDevelopmentSink | None = None,
        since: datetime | None = None,
    ) -> ShortcomingsReport:
        """The repository's technical shortcomings from this log (since ``since``), the
        store's figures and audit runs, each submitted to ``sink``."""
        from etomkit.inventory.shortcomings import identify_shortcomings

        records = list(self.records(since=since))
        return identify_shortcomings(
            records, store=store, audit_runs=audit_runs, policy=policy,
            sink=sink, clock=self.clock, recording=dict(self.recording),
        )  # fmt: skip

    def watch(self, reads: Any) -> None:
        """Include ``reads.seal()`` in :meth:`collect` (weakly held)."""
        self._sessions.add(reads)

    def close(self) -> None:
        """Collect, flush and close the log."""
        self.collect()
        self.log.close()
