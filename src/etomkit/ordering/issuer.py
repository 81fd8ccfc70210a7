"""ResourceOrderIssuer: eTOM 1.5.6.7 Issue Resource Orders over an OrderingStore.

For each item of an initiating request the issuer decides one outcome:

* ``standard``: the rules' standard set of resource order items is issued;
* ``preassessed``: special requirements and a feasibility assessment exists,
  so the items it determined are issued;
* ``special``: special requirements and no assessment, so an order marked
  special handling (with the reason) is issued and handed to Track & Manage
  Resource Provisioning;
* ``infeasible``: the feasibility assessment says no; nothing is issued;
* ``noChange``: nothing to do.

One resource order per item (a change order for ``modify``, a recovery order
for ``delete``, both superseding the service's earlier orders). The orders and
the :class:`IssuanceRecord` are written in one unit of work; issuing the same
request again returns the same record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import attrs

from etomkit.adapters.runtime import SystemClock
from etomkit.errors import (
    ConflictError,
    EtomkitError,
    NotFoundError,
    ValidationError,
)
from etomkit.model._copy import replace
from etomkit.model.canonical import canonical_request, storable_problems
from etomkit.model.issuance import (
    InitiatingRequest,
    IssuanceRecord,
    request_problems,
)
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.orders import REQUEST_KINDS
from etomkit.model.resource_order import (
    ASSESSING_CANCELLATION,
    RESOURCE_ORDER_LIFECYCLE,
    ResourceOrder,
    ResourceOrderFilter,
    ResourceRefOrValue,
    check_resource_order_transition,
)
from etomkit.model.values import Note
from etomkit.ordering.batch import IdMaker, issue_batch, planned_record
from etomkit.ordering.explain import Explanation, build_explanation
from etomkit.ordering.planner import Planner, UnknownEarlierOrder, _Detail
from etomkit.ordering.ports import FeasibilityChecker, OrderingStore, ProvisioningTracker
from etomkit.ordering.result import IssuanceResult, replay_conflict
from etomkit.ordering.rules import RuleSet
from etomkit.ordering.tracking import InMemoryProvisioningTracker
from etomkit.ports import Clock, EventSink, IdFactory
from etomkit.publishing import EventPublisher

__all__ = ["IssuanceResult", "ResourceOrderIssuer"]


def _no_hint(*_args: object) -> None:
    """A port hint the store does not take (it predates it): nothing to do."""


class ResourceOrderIssuer:
    """Issue resource orders for initiating requests (eTOM 1.5.6.7).

    ``store`` holds resource orders, issuance records, feasibility
    assessments and resource specifications; ``rules`` is the RuleSet.
    ``feasibility`` is consulted for rules that require it; ``provisioning``
    receives special-handling orders (an InMemoryProvisioningTracker by
    default, see ``issuer.provisioning``). ``unknown_earlier_order``: what a
    modify/delete of a service with no known earlier order becomes,
    ``"special"`` (special handling, the default) or ``"error"`` (ValidationError).
    """

    def __init__(
        self,
        store: OrderingStore,
        rules: RuleSet,
        *,
        feasibility: FeasibilityChecker | None = None,
        provisioning: ProvisioningTracker | None = None,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        events: EventSink | None = None,
        lifecycle: Lifecycle = RESOURCE_ORDER_LIFECYCLE,
        unknown_earlier_order: UnknownEarlierOrder = "special",
    ) -> None:
        wrong: list[tuple[str, str]] = []
        if not isinstance(rules, RuleSet):
            shown = f"{type(rules).__name__} {rules!r}"
            wrong.append(("rules", f"must be a RuleSet (RuleSet.from_toml(path)), not {shown}"))
        if not isinstance(store, OrderingStore) and not hasattr(store, "resource_orders"):
            wrong.append(("store", f"must be an OrderingStore (InMemoryStore()), not {store!r}"))
        if unknown_earlier_order not in ("special", "error"):
            wrong.append(("unknown_earlier_order", "must be 'special' or 'error'"))
        if wrong:
            raise ValidationError("ResourceOrderIssuer", wrong)
        self.store = store
        self.rules = rules
        self.provisioning: ProvisioningTracker = provisioning or InMemoryProvisioningTracker()
        self.lifecycle = lifecycle
        self._orders = store.resource_orders
        self._records = store.issuance_records
        self._assessments = store.feasibility_assessments
        # the port's optional steps, as a store or repository that predates them lacks them
        self._add_issued = getattr(store, "add_issued", None) or partial(
            OrderingStore.add_issued, store
        )
        self._expect_lookups = getattr(store.resource_specifications, "expect_lookups", _no_hint)
        self._expect_requests = getattr(self._assessments, "expect_requests", _no_hint)
        self._expect_last_write = getattr(store, "expect_last_write", _no_hint)
        self._clock = clock or SystemClock()
        self._ids = ids
        self._events = EventPublisher(events, self._clock)
        self._new_id = IdMaker(ids)
        self._planner = Planner(
            store,
            rules,
            new_id=self._new_id,
            lifecycle=lifecycle,
            feasibility=feasibility,
            unknown_earlier_order=unknown_earlier_order,
        )

    @property
    def feasibility(self) -> FeasibilityChecker | None:
        """The FeasibilityChecker consulted for rules that require one."""
        return self._planner.feasibility

    @property
    def unknown_earlier_order(self) -> UnknownEarlierOrder:
        """What a modify/delete of a service with no known earlier order becomes."""
        return self._planner.unknown_earlier_order

    # ------------------------------------------------------------------ issuing

    def issue(self, request: InitiatingRequest) -> IssuanceResult:
        """Issue the resource orders for ``request`` and record them.

        Idempotent per ``request.key``: the same request again returns the
        stored record (``replayed=True``); a different payload under the same
        key raises ConflictError. Raises ValidationError (bad request, an
        item that would not satisfy its resource specification, a rule
        mapping that has no value for the item, or an unknown earlier order
        with ``unknown_earlier_order="error"``); nothing is stored then.
        """
        handoffs: list[tuple[ResourceOrder, str]] = []
        result = self._issue_one(request, None, handoffs)
        if not result.replayed:
            self._after_commit(result.orders, handoffs, result.record.issued_at)
        return result

    def issue_many(
        self, requests: Iterable[InitiatingRequest]
    ) -> list[IssuanceResult | EtomkitError]:
        """Issue a batch of requests in one unit of work (one commit, one clock read).

        Returns, per request in order, what :meth:`issue` would have returned
        for it, or the library error it would have raised: one bad request
        stores nothing of its own and does not fail the others. Requests see
        the ones before them (a modify may follow its add in the same batch; a
        repeated request replays). The requests are planned first and written
        together (one idempotency lookup, one write per repository; see
        :mod:`etomkit.ordering.batch`). Events and hand-offs follow the commit.
        A StorageError (the store could not write or commit; with PostgreSQL
        also a deadlock between overlapping batches) and any exception that is
        not a library error (a failing FeasibilityChecker) fail the whole batch
        and store nothing of it: issuing is idempotent, so run the batch again.
        """
        batch = list(requests)
        now = self._clock.now()
        handoffs: list[tuple[ResourceOrder, str]] = []
        with self.store.transaction():
            outcomes = issue_batch(self, batch, now, handoffs)
        issued = [o for o in outcomes if isinstance(o, IssuanceResult) and not o.replayed]
        self._after_commit([order for o in issued for order in o.orders], handoffs, now)
        return outcomes

    def _issue_one(
        self,
        request: InitiatingRequest,
        now: datetime | None,
        handoffs: list[tuple[ResourceOrder, str]],
    ) -> IssuanceResult:
        """Issue (or replay) one request in a unit of work of its own, nested in the
        caller's if one is open; appends its hand-offs. ``now`` None: read the clock."""
        if not isinstance(request, InitiatingRequest):
            raise ValidationError(
                "InitiatingRequest",
                [("$", f"must be an InitiatingRequest, got {type(request).__name__}")],
            )
        key = request.key
        request = canonical_request(request)  # as stored, so that a replay compares like with like
        unstorable = storable_problems(request)
        if unstorable:
            raise ValidationError(f"InitiatingRequest {key}", unstorable)
        try:
            with self.store.transaction():  # the record read with the catalogue
                self._expect_lookups()
                existing = self._records.find(key)
                if existing is None:
                    invalid = request_problems(request, items=False)
                    if invalid:
                        raise ValidationError(f"InitiatingRequest {key}", invalid)
                    if now is None:
                        now = self._clock.now()
                    run, record = planned_record(self._planner.plan, request, now)
                    for assessment in run.assessments:
                        self._assessments.add(assessment)
                    self._expect_last_write()
                    orders = self._add_issued(run.orders, (record,))
        except ConflictError:  # issued meanwhile by another thread or host
            existing = self._records.find(key)
            if existing is None:
                raise
        if existing is not None:
            return self._replay(existing, request)
        handoffs.extend(run.handoffs)
        return IssuanceResult(record, tuple(orders))

    def _replay(self, record: IssuanceRecord, request: InitiatingRequest) -> IssuanceResult:
        conflict = replay_conflict(record, request)
        if conflict is not None:
            raise ConflictError(conflict)
        ids = record.resource_order_ids
        found = self._orders.find_many(ids)  # one read; get() raises for a missing one
        orders = tuple(found[i] if i in found else self._orders.get(i) for i in ids)
        return IssuanceResult(record, orders, replayed=True)

    def _after_commit(
        self,
        orders: Sequence[ResourceOrder],
        handoffs: list[tuple[ResourceOrder, str]],
        now: datetime | None,
    ) -> None:
        if self._events.sink is not None:
            for order in orders:
                self._events.publish("ResourceOrderCreateEvent", order, now=now)
        for order, reason in handoffs:
            self.provisioning.hand_off(order, reason)

    def link_service(self, request_key: str, item_id: str, service_id: str) -> IssuanceRecord:
        """Record that request item ``item_id`` created service ``service_id`` (known only
        once Service Order Management has created it), so later modify/delete items
        for the service find the orders. Raises NotFoundError, ConflictError."""
        with self.store.transaction():
            record = self._records.get(request_key)
            entries = list(record.items)
            for n, entry in enumerate(entries):
                if entry.item_id == item_id:
                    if entry.service_id not in (None, service_id):
                        raise ConflictError(
                            f"item {item_id!r} of {request_key!r} is already linked to service "
                            f"{entry.service_id!r}"
                        )
                    entries[n] = replace(entry, service_id=service_id)
                    break
            else:
                raise NotFoundError(f"item of IssuanceRecord {request_key!r}", item_id)
            return self._records.replace(replace(record, items=tuple(entries)))

    # ------------------------------------------------------------------ lifecycle

    def transition(
        self,
        order_id: str,
        target: str,
        *,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> ResourceOrder:
        """Move a resource order (and its items in the same state) to ``target``.

        Entering ``assessingCancellation`` remembers the state to return to;
        from there only that state or ``pendingCancellation`` are allowed. A
        ``reason`` is kept as a note. Raises NotFoundError, TransitionError,
        ConflictError (stale ``expected_revision``).
        """
        with self.store.transaction():
            current = self._orders.get(order_id)
            if expected_revision is not None and expected_revision != current.revision:
                raise ConflictError(
                    f"ResourceOrder {order_id!r} is at revision {current.revision}, "
                    f"the change was based on revision {expected_revision}"
                )
            state = check_resource_order_transition(current, target, self.lifecycle)
            now = self._clock.now()
            changes: dict[str, Any] = {"state": state}
            old = current.state
            changes["state_before_cancellation"] = old if state == ASSESSING_CANCELLATION else None
            if state == "inProgress" and current.start_date is None:
                changes["start_date"] = now
            if self.lifecycle.is_terminal(state) and current.completion_date is None:
                changes["completion_date"] = now
            if reason:
                changes["note"] = (*current.note, Note(text=f"{state}: {reason}", date=now))
            changes["order_item"] = tuple(
                replace(it, state=state) if it.state == old else it for it in current.order_item
            )
            stored = self._orders.replace(
                attrs.evolve(current, **changes), expected_revision=current.revision
            )
        self._events.publish("ResourceOrderStateChangeEvent", stored, "state", now=now)
        return stored

    def cancel(self, order_id: str, *, reason: str | None = None) -> ResourceOrder:
        """Ask to cancel: move the order to ``assessingCancellation``.

        Then ``transition(order_id, "pendingCancellation")`` and ``"cancelled"``,
        or back to the state it came from.
        """
        return self.transition(order_id, ASSESSING_CANCELLATION, reason=reason)

    def record_delivery(
        self, order_id: str, resources: Mapping[str, ResourceRefOrValue | str]
    ) -> ResourceOrder:
        """Record the resources delivered for items of an order (``{item id: resource}``),
        so that later change and recovery orders reference them by id.
        Raises NotFoundError (order or item)."""
        with self.store.transaction():
            current = self._orders.get(order_id)
            known = {it.id for it in current.order_item}
            for item_id in resources:
                if item_id not in known:
                    raise NotFoundError(f"item of ResourceOrder {order_id!r}", item_id)
            items = tuple(
                it
                if it.id not in resources
                else replace(it, resource=_resource(resources[it.id], it.resource))
                for it in current.order_item
            )
            stored = self._orders.replace(replace(current, order_item=items))
        self._events.publish("ResourceOrderAttributeValueChangeEvent", stored, "orderItem")
        return stored

    # ------------------------------------------------------------------ queries

    def get_order(self, order_id: str) -> ResourceOrder:
        """The resource order. Raises NotFoundError."""
        return self._orders.get(order_id)

    def record_of(self, request: InitiatingRequest | str) -> IssuanceRecord | None:
        """The issuance record of a request, its key (``"serviceOrder:SO-1"``) or its
        bare id (``"SO-1"``), or None if not issued.

        Raises ValidationError when a bare id was issued under several request
        kinds (pass the key then), TypeError when ``request`` is neither.
        """
        if isinstance(request, InitiatingRequest):
            return self._records.find(request.key)
        if not isinstance(request, str):
            raise TypeError(
                "request must be an InitiatingRequest, a request key or a request id, "
                f"not {type(request).__name__}"
            )
        found = self._records.find(request)
        if found is not None:
            return found
        matches = [
            record
            for kind in REQUEST_KINDS
            if (record := self._records.find(InitiatingRequest.key_of(kind, request))) is not None
        ]
        if len(matches) > 1:
            keys = ", ".join(repr(r.id) for r in matches)
            raise ValidationError(
                "request lookup",
                [("request", f"request id {request!r} is ambiguous: issued as {keys}; pass one")],
            )
        return matches[0] if matches else None

    def orders_of_request(self, request: InitiatingRequest | str) -> list[ResourceOrder]:
        """The orders issued for a request (its key or bare id, see :meth:`record_of`),
        in item order; ``[]`` if it was not issued."""
        record = self.record_of(request)
        if record is None:
            return []
        return [self._orders.get(order_id) for order_id in record.resource_order_ids]

    def request_of_order(self, order_id: str) -> InitiatingRequest:
        """The initiating request an order was issued for. Raises NotFoundError."""
        order = self._orders.get(order_id)
        key = order.request_key
        record = None if key is None else self._records.find(key)
        if record is None:
            raise NotFoundError("IssuanceRecord for ResourceOrder", order_id)
        return record.request

    def orders_of_service(self, service_id: str) -> list[ResourceOrder]:
        """Every order issued for a service (by id), oldest first."""
        ids = [
            order_id
            for record in self._records.records_for_service(service_id)
            for entry in record.items
            if entry.service_id == service_id
            for order_id in entry.resource_orders
        ]
        return [self._orders.get(order_id) for order_id in ids]

    def open_special_orders(self) -> list[ResourceOrder]:
        """Special-handling orders not yet in a terminal state, oldest first."""
        terminal = self.lifecycle.terminal_states
        return [
            o
            for o in self._orders.iterate(ResourceOrderFilter(special_handling=True))
            if o.state not in terminal
        ]

    # ------------------------------------------------------------------ explaining

    def explain(
        self, request: InitiatingRequest, *, consult_feasibility: bool = False
    ) -> Explanation:
        """Dry run: per item, the candidate rules, why each did or did not match,
        the outcome and the items that would be issued. Nothing is stored or
        handed off; the FeasibilityChecker is asked only if ``consult_feasibility``.

        Returns an :class:`~etomkit.ordering.explain.Explanation` (``str()`` it,
        or ``.rows()`` for a notebook table). It predicts ``issue()``: a request
        issued before is ``already_issued`` (replayed), and with a different
        payload ``conflict`` says why ``issue()`` would raise ConflictError.
        Raises ValidationError for a bad request that was not issued before.
        """
        if not isinstance(request, InitiatingRequest):
            raise ValidationError(
                "InitiatingRequest",
                [("$", f"must be an InitiatingRequest, got {type(request).__name__}")],
            )
        # As issue() does: the request as it would be stored (refused if it cannot
        # be), then a request issued before is replayed (or conflicts).
        request = canonical_request(request)
        unstorable = storable_problems(request)
        if unstorable:
            raise ValidationError(f"InitiatingRequest {request.key}", unstorable)
        existing = self._records.find(request.key)
        conflict = None if existing is None else replay_conflict(existing, request)
        problems = request_problems(request)
        if problems:
            if existing is None:
                raise ValidationError(f"InitiatingRequest {request.key}", problems)
            return build_explanation(self.rules, request, [], problems, existing, conflict)
        details: list[_Detail] = []
        with self.store.transaction():
            run = self._planner.plan(
                request, self._clock.now(), dry=True, consult=consult_feasibility, details=details
            )
        problems = [*run.invalid, *run.problems]
        return build_explanation(self.rules, request, details, problems, existing, conflict)


def _resource(
    value: ResourceRefOrValue | str, old: ResourceRefOrValue | None
) -> ResourceRefOrValue:
    if isinstance(value, ResourceRefOrValue):
        return value
    return ResourceRefOrValue(id=value) if old is None else replace(old, id=value)
