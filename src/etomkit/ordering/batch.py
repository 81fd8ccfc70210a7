"""Issuing a batch of requests (``ResourceOrderIssuer.issue_many``): every request is
planned as ``issue()`` would plan it, and the planned ones are written together.

A request that reads what is planned and not written yet (a repeated request key,
a modify or delete of a service an earlier request of the batch touched) first
writes what is pending, then takes the per-request path. A request with a
feasibility assessment to store (the checker's object, checked as it is added) is
written on its own, as ``issue()`` writes it. A batched write refused with ConflictError
or ValidationError (an id clash, another process issuing one of the requests)
is done again request by request, which attributes each outcome as ``issue()`` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etomkit.adapters.runtime import RandomIdFactory
from etomkit.errors import ConflictError, EtomkitError, StorageError, ValidationError
from etomkit.model.canonical import canonical_request, storable_problems
from etomkit.model.issuance import (
    InitiatingRequest,
    IssuanceRecord,
    request_problems,
)
from etomkit.model.orders import ServiceOrderItem
from etomkit.model.resource_order import ResourceOrder
from etomkit.ordering.result import IssuanceResult
from etomkit.ports import IdFactory

if TYPE_CHECKING:
    from etomkit.ordering.issuer import ResourceOrderIssuer

__all__ = ["IdMaker", "issue_batch"]


class IdMaker:
    """New ids for the planner: from the IdFactory if given, else one random prefix
    per issuer plus a counter (unique and cheap). Holds no reference to the issuer,
    so a dropped issuer is freed at once (no reference cycle)."""

    __slots__ = ("counter", "ids", "prefix")

    def __init__(self, ids: IdFactory | None) -> None:
        self.ids = ids
        self.prefix = RandomIdFactory().new_id("ResourceOrder")[:23]
        self.counter = itertools.count(1)

    def __call__(self, entity: str) -> str:
        if self.ids is not None:
            return self.ids.new_id(entity)
        return f"{self.prefix}{next(self.counter)}"


class _Pending:
    """Requests of a batch planned and not yet written: written together by a flush."""

    __slots__ = ("keys", "orders", "planned", "records", "services")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget what was written."""
        self.planned: list[tuple[int, InitiatingRequest, int, list[tuple[ResourceOrder, str]]]] = []
        self.records: list[IssuanceRecord] = []
        self.orders: list[ResourceOrder] = []
        self.keys: set[str] = set()
        self.services: set[str] = set()

    def add(
        self, position: int, request: InitiatingRequest, record: IssuanceRecord, run: Any
    ) -> None:
        self.planned.append((position, request, len(run.orders), run.handoffs))
        self.records.append(record)
        self.orders.extend(run.orders)
        self.keys.add(record.id)
        for entry in record.items:
            if entry.service_id is not None:
                self.services.add(entry.service_id)

    def needed_by(self, request: InitiatingRequest) -> bool:
        """True if planning ``request`` reads what is pending: the records of a service
        or of a service order issued earlier in the batch (a modify or delete item)."""
        items = request.items
        if type(items) is not tuple:
            return False
        for item in items:
            if type(item) is not ServiceOrderItem or item.action not in _READS_EARLIER:
                continue
            service = item.service
            service_id = getattr(service, "id", None)
            if type(service_id) is str and service_id in self.services:
                return True
            for related in getattr(service, "service_order_item", None) or ():
                order_id = getattr(related, "service_order_id", None)
                if type(order_id) is str and f"serviceOrder:{order_id}" in self.keys:
                    return True
        return False


_READS_EARLIER = frozenset({"modify", "delete"})


def issue_batch(
    issuer: ResourceOrderIssuer,
    batch: list[InitiatingRequest],
    now: datetime,
    handoffs: list[tuple[ResourceOrder, str]],
) -> list[IssuanceResult | EtomkitError]:
    """Plan each request as ``issuer._issue_one`` would and write the planned ones
    together (:func:`_flush`). A request that reads what is planned and not yet
    written (a repeated key, a modify of a service added earlier in the batch)
    first flushes, then takes the per-request path. In the caller's unit of work."""
    keys = [r.key for r in batch if isinstance(r, InitiatingRequest)]
    issuer._expect_lookups()  # read with the records
    found = issuer._records.find_many(keys)
    issuer._expect_requests(k for k in keys if k not in found)
    outcomes: list[Any] = [None] * len(batch)
    pending = _Pending()
    issued: set[str] = set()  # keys issued in this batch (pending or written)
    plan = issuer._planner.plan
    for n, request in enumerate(batch):
        try:
            if not isinstance(request, InitiatingRequest):
                outcomes[n] = issuer._issue_one(request, now, handoffs)  # raises
                continue
            key = request.key
            request = canonical_request(request)
            if key in issued or (pending.planned and pending.needed_by(request)):
                _flush(issuer, pending, outcomes, now, handoffs)
                outcomes[n] = issuer._issue_one(request, now, handoffs)
                issued.add(key)
                continue
            unstorable = storable_problems(request)
            if unstorable:
                raise ValidationError(f"InitiatingRequest {key}", unstorable)
            existing = found.get(key)
            if existing is not None:
                outcomes[n] = issuer._replay(existing, request)
                continue
            invalid = request_problems(request, items=False)
            if invalid:
                raise ValidationError(f"InitiatingRequest {key}", invalid)
            run, record = planned_record(plan, request, now)
            issued.add(key)
            if run.assessments:  # the checker's own objects: written (and checked) alone
                _flush(issuer, pending, outcomes, now, handoffs)
                outcomes[n] = _write_one(issuer, request, record, run, handoffs)
            else:
                pending.add(n, request, record, run)
        except StorageError:
            raise  # the store failed, not the request: the batch stores nothing
        except EtomkitError as e:
            outcomes[n] = e
    issuer._expect_last_write()  # the batch's unit writes nothing after this flush
    _flush(issuer, pending, outcomes, now, handoffs)
    return outcomes


def _flush(
    issuer: ResourceOrderIssuer,
    pending: _Pending,
    outcomes: list[Any],
    now: datetime,
    handoffs: list[tuple[ResourceOrder, str]],
) -> None:
    """Write the pending requests in one nested unit of work; on ConflictError or
    ValidationError (nothing of them stored) issue them one by one instead."""
    if not pending.planned:
        return
    planned = pending.planned
    try:
        orders = issuer._add_issued(pending.orders, pending.records)
    except (ConflictError, ValidationError):
        for n, request, _, _ in planned:
            try:
                outcomes[n] = issuer._issue_one(request, now, handoffs)
            except StorageError:
                raise
            except EtomkitError as e:
                outcomes[n] = e
    else:
        start = 0
        for (n, _, count, handed), record in zip(planned, pending.records, strict=True):
            outcomes[n] = IssuanceResult(record, tuple(orders[start : start + count]))
            start += count
            handoffs.extend(handed)
    pending.clear()


def planned_record(
    plan: Callable[..., Any], request: InitiatingRequest, now: datetime
) -> tuple[Any, IssuanceRecord]:
    """The issuing plan of ``request`` (the checker consulted) and the record it makes;
    raises the ValidationError ``issue()`` raises for it. Writes nothing."""
    key = request.key
    run = plan(request, now, dry=False, consult=True)
    if run.invalid:
        raise ValidationError(f"InitiatingRequest {key}", run.invalid)
    if run.problems:
        raise ValidationError(f"resource orders for {key}", run.problems)
    record = IssuanceRecord(
        id=key, request=request, items=tuple(run.entries), issued_at=now, revision=1
    )
    return run, record


def _write_one(
    issuer: ResourceOrderIssuer,
    request: InitiatingRequest,
    record: IssuanceRecord,
    run: Any,
    handoffs: list[tuple[ResourceOrder, str]],
) -> IssuanceResult:
    """Write one planned request in a nested unit of work, as ``issue()`` writes it."""
    try:
        with issuer.store.transaction():
            for assessment in run.assessments:
                issuer._assessments.add(assessment)
            orders = issuer._orders.add_all(run.orders, checked=True) if run.orders else []
            issuer._records.add_all((record,), checked=True)
    except ConflictError:
        existing = issuer._records.find(record.id)
        if existing is None:
            raise
        return issuer._replay(existing, request)
    handoffs.extend(run.handoffs)
    return IssuanceResult(record, tuple(orders))
