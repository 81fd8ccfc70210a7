"""Usage, access and cost tracking of the inventory (eTOM 1.2.4.2).

A :class:`UsageMeter` turns every call into a :class:`UsageRecord` priced by a
:class:`CostModel` and appends it to a :class:`UsageLog`. Records are buffered
and written in batches (``flush_every``), at once for denials, and on
:meth:`UsageMeter.flush`/:meth:`UsageMeter.collect`.

Keyed reads (``get_*``/``find_*``) are the hot path: reading the clock twice
costs about as much as an in-memory read itself. So by default a session notes
their ids only, and :meth:`UsageMeter.collect` (or any other call of that
session, or its ``flush``/``close``) turns them into one record per operation
(``calls`` = how many, ``entity_ids`` in call order, no duration), stamped
then. With ``time_keyed_reads=True`` each keyed read is timed and recorded on
its own, like every other call (for stores where reads are slow enough to
watch: a latency budget on ``get_*`` needs it).
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
        self._pending: list[UsageRow] = []
        # POSIX seconds (converted when read) are 10x cheaper than datetime.now()
        self._now: Callable[[], Any] = (
            time.time if isinstance(self.clock, SystemClock) else self.clock.now
        )
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
    ) -> None:
        """Record one call (or ``calls`` keyed reads), stamped now."""
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
            self._now(), client[0], operation, action, entity_type, outcome, tuple(entity_ids),
            count, calls, duration_ns, units, error, client[1],
        )  # fmt: skip
        pending = self._pending
        pending.append(row)  # atomic; flush() removes only what it wrote
        if outcome == "denied" or len(pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write the buffered records to the log (and make them durable)."""
        with self._lock:
            pending = self._pending
            batch = pending[:]
            if batch:
                self.log.append_rows(batch)  # on error the batch stays pending
                del pending[: len(batch)]
        self.log.flush()

    def collect(self) -> None:
        """Seal every open session's pending keyed reads, then flush."""
        for session in list(self._sessions):
            session.seal_reads()
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

        return identify_shortcomings(
            self.records(since=since), store=store, audit_runs=audit_runs, policy=policy,
            sink=sink, clock=self.clock,
        )  # fmt: skip

    def watch(self, session: Any) -> None:
        """Include ``session``'s pending reads in :meth:`collect` (weakly held)."""
        self._sessions.add(session)

    def close(self) -> None:
        """Collect, flush and close the log."""
        self.collect()
        self.log.close()
