"""The issuer's decisions: for each request item, its outcome and the order to issue.

The Planner reads the repositories (earlier orders, feasibility assessments,
resource specifications) and writes nothing; :class:`ResourceOrderIssuer`
stores what it decides. Plain ``add`` items that the rules map to a standard
set take the standard path (:class:`etomkit.ordering.fastpath.Bucket`: each
bucket shape interpreted, then compiled once used often); everything else goes
through the general one. Modify and delete items are in ``earlier.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import attrs

from etomkit.errors import Problem, ValidationError
from etomkit.model._copy import replace
from etomkit.model.issuance import FeasibilityAssessment, InitiatingRequest, IssuedItem
from etomkit.model.lifecycle import Lifecycle
from etomkit.model.orders import (
    SERVICE_ORDER_STATES,
    ServiceOrderItem,
    ServiceRefOrValue,
    canonical_action,
    service_order_item_problems,
)
from etomkit.model.resource_order import ExternalEntityId, ResourceOrder, ResourceOrderItem
from etomkit.model.resource_spec import SpecificationCheck
from etomkit.model.values import Characteristic, EntityRef
from etomkit.ordering._fast import factory
from etomkit.ordering.earlier import check_items, current_orders, position, produce_changes
from etomkit.ordering.fastpath import STALE, Bucket, bound_builder
from etomkit.ordering.index import BucketShape, CompiledRule
from etomkit.ordering.ports import FeasibilityChecker, OrderingStore
from etomkit.ordering.produce import CompiledTemplate, TemplateBuilder
from etomkit.ordering.rules import RuleSet

__all__ = ["Planner", "UnknownEarlierOrder"]

UnknownEarlierOrder = Literal["special", "error"]

_ISSUE_ACTIONS = frozenset({"add", "modify"})  # items checked against their specification
_UNSEEN: Any = object()
_PLAIN_STATES = frozenset({None, *SERVICE_ORDER_STATES})  # else: validated on the general path


class _Run:
    """The state of one issue (or dry run) across the items of a request."""

    __slots__ = (
        "assessments",
        "checks",
        "consult",
        "details",
        "dry",
        "entries",
        "handoffs",
        "invalid",
        "key",
        "now",
        "orders",
        "problems",
        "proto",
        "request",
        "seen",
    )

    def __init__(
        self,
        request: InitiatingRequest,
        now: datetime,
        proto: ResourceOrder | None,
        *,
        dry: bool,
        consult: bool,
    ) -> None:
        self.request = request
        self.key = request.key
        self.now = now
        self.proto = proto
        self.dry = dry
        self.consult = consult
        self.entries: list[IssuedItem] = []
        self.orders: list[ResourceOrder] = []
        self.assessments: list[FeasibilityAssessment] = []
        self.handoffs: list[tuple[ResourceOrder, str]] = []
        self.invalid: list[Problem] = []  # the request is bad
        self.problems: list[Problem] = []  # the orders would be incomplete
        self.seen: set[str] = set()
        self.checks: dict[str, SpecificationCheck | None] = {}
        self.details: list[_Detail] | None = None


@attrs.frozen
class _Detail:
    """What a dry run keeps per item for :meth:`ResourceOrderIssuer.explain`."""

    item: ServiceOrderItem
    values: Mapping[str, Any]
    matched: tuple[CompiledRule, ...]
    entry: IssuedItem
    produced: tuple[ResourceOrderItem, ...]
    problems: tuple[Problem, ...]
    note: str | None


class Planner:
    """Decides, per request item, the outcome and the resource order (writes nothing)."""

    #: Plain 'add' items take the standard path, fastpath.Bucket (False: the general one).
    generated = True

    def __init__(
        self,
        store: OrderingStore,
        rules: RuleSet,
        *,
        new_id: Callable[[str], str],
        lifecycle: Lifecycle,
        feasibility: FeasibilityChecker | None = None,
        unknown_earlier_order: UnknownEarlierOrder = "special",
    ) -> None:
        self.rules = rules
        self.feasibility = feasibility
        self.lifecycle = lifecycle
        self.unknown_earlier_order = unknown_earlier_order
        self._store = store
        self._assessments = store.feasibility_assessments
        self._specs = store.resource_specifications
        self._issue_id = new_id
        self._checks: dict[str, SpecificationCheck] = {}
        self._builders: dict[CompiledTemplate, TemplateBuilder] = {}
        self._proto = ResourceOrder(revision=1, state=lifecycle.initial)
        # The standard path's code per bucket shape (RuleIndex.shapes), made when first used.
        self._codes: list[Bucket | None] = [_UNSEEN] * len(rules.index.shapes)
        # A standard order: the planner's constants and the request's shared fields.
        self._make_order = factory(
            self._proto,
            "id",
            "order_item",
            "order_date",
            "external_reference",
            "priority",
            "requested_start_date",
            "requested_completion_date",
            "related_party",
        )
        self._standard_entry = factory(
            IssuedItem(item_id="", action="add", outcome="standard"),
            "item_id",
            "service_specification",
            "rules",
            "resource_orders",
        )

    # ------------------------------------------------------------------ planning

    def plan(
        self,
        request: InitiatingRequest,
        now: datetime,
        *,
        dry: bool,
        consult: bool,
        details: list[_Detail] | None = None,
    ) -> _Run:
        """Decide every item's outcome and build its order; nothing is written."""
        run = _Run(request, now, None, dry=dry, consult=consult)
        run.details = details
        if details is not None or request.special:
            for index, item in enumerate(request.items):
                self._plan_checked(run, index, item)
            return run
        # The standard path for plain 'add' items: each rule bucket's generated code
        # (fastpath.py); anything else (or anything odd) goes through _plan_checked,
        # which validates and decides.
        codes = self._codes
        adds = self.rules.index.adds
        checks = run.checks
        seen = run.seen
        entries = run.entries
        orders = run.orders
        issue_id = None if dry else self._issue_id
        make_order = self._make_order
        standard_entry = self._standard_entry
        external = (
            ExternalEntityId(id=request.id, owner=request.source, entity_type=request.kind),
        )
        priority = request.priority
        start = request.requested_start_date
        completion = request.requested_completion_date
        party = request.related_party
        found: list[Problem] = []
        for index, item in enumerate(request.items):
            if type(item) is not ServiceOrderItem or item.action != "add":
                self._plan_checked(run, index, item)
                continue
            service = item.service
            item_id = item.id
            spec = service.service_specification if type(service) is ServiceRefOrValue else None
            chars = service.service_characteristic
            if (
                type(spec) is not EntityRef
                or service.id is not None
                or type(item_id) is not str
                or not item_id
                or item_id in seen
                or type(chars) is not tuple
                or item.state not in _PLAIN_STATES
            ):
                self._plan_checked(run, index, item)
                continue
            spec_id = spec.id
            bucket = adds.get(spec_id)
            if bucket is None:  # no 'add' rules for it
                self._plan_checked(run, index, item)
                continue
            shape, rule_refs = bucket
            code = codes[shape.number]
            if code is _UNSEEN:
                code = self._bucket(shape)
            if code is None:
                self._plan_checked(run, index, item)
                continue
            try:
                values = {c.name: c.value for c in chars}
            except AttributeError:  # not a Characteristic: let validation say so
                self._plan_checked(run, index, item)
                continue
            planned = code.plan(values, chars, spec.version, checks, found, rule_refs)
            if planned is STALE:
                self._rebind(run, code)
                planned = code.plan(values, chars, spec.version, checks, found, rule_refs)
            if planned is None:
                self._plan_checked(run, index, item)
                continue
            seen.add(item_id)
            items, refs = planned
            if found:
                run.problems.extend((f"items[{index}].{p}", m) for p, m in found)
                found = []
            if items:
                order_id = "(new ResourceOrder)" if issue_id is None else issue_id("ResourceOrder")
                orders.append(
                    make_order(order_id, items, now, external, priority, start, completion, party)
                )
                entries.append(standard_entry(item_id, spec_id, refs, (order_id,)))
            else:
                entries.append(
                    IssuedItem(
                        item_id=item_id,
                        action="add",
                        outcome="standard",
                        service_specification=spec_id,
                        rules=refs,
                        reason="nothing to issue",
                    )
                )
        return run

    def _bucket(self, shape: BucketShape) -> Bucket | None:
        """The standard path's code for the 'add' buckets of ``shape`` (None: off)."""
        bucket = Bucket(shape.rules, self._builders) if self.generated else None
        self._codes[shape.number] = bucket
        return bucket

    def _rebind(self, run: _Run, bucket: Bucket) -> None:
        """Load the request's checks of the bucket's specifications; generated code
        bound to other checks goes back to interpreting."""
        current = tuple(self._spec_check(run, s) for s in bucket.spec_ids)
        bound = bucket.checks
        if bound is not None and not all(a is b for a, b in zip(current, bound, strict=True)):
            bucket.unbind()

    def _request_proto(self, run: _Run) -> ResourceOrder:
        """The fields every order of the request shares (the general path's template)."""
        if run.proto is None:
            request = run.request
            run.proto = replace(
                self._proto,
                order_date=run.now,
                external_reference=(
                    ExternalEntityId(id=request.id, owner=request.source, entity_type=request.kind),
                ),
                priority=request.priority,
                requested_start_date=request.requested_start_date,
                requested_completion_date=request.requested_completion_date,
                related_party=request.related_party,
            )
        return run.proto

    def _plan_checked(self, run: _Run, index: int, item: object) -> None:
        """Validate one item, then decide its outcome (the general path)."""
        path = f"items[{index}]"
        invalid = service_order_item_problems(item, path)
        item_id = getattr(item, "id", None)
        if isinstance(item_id, str):
            if item_id in run.seen:
                invalid.append((f"{path}.id", f"{item_id!r} is used by another item"))
            run.seen.add(item_id)
        if invalid:
            run.invalid.extend(invalid)
            return
        assert isinstance(item, ServiceOrderItem)
        action = canonical_action(item.action)
        if action != item.action:
            item = replace(item, action=action)
        self._plan_item(run, index, item)

    def _plan_item(self, run: _Run, index: int, item: ServiceOrderItem) -> None:
        action = item.action
        service = item.service
        spec = service.service_specification
        spec_id = spec.id if spec is not None else None
        service_id = service.id
        request = run.request
        if action == "noChange":
            self._finish(
                run,
                item,
                {},
                (),
                IssuedItem(
                    item_id=item.id,
                    action=action,
                    outcome="noChange",
                    service_id=service_id,
                    service_specification=spec_id,
                    reason="the item asks for no change",
                ),
                (),
                None,
            )
            return
        chars = service.service_characteristic
        values = {c.name: c.value for c in chars}
        matched = (
            self.rules.index.match(spec_id, spec.version, action, values)  # type: ignore[union-attr]
            if spec_id is not None
            else []
        )
        refs = tuple(r.ref for r in matched)
        path = f"items[{index}]"
        problems: list[Problem] = []

        earlier: list[ResourceOrder] = []
        special_reason: str | None = None
        if action in ("modify", "delete"):
            earlier, unknown = current_orders(self._store, item)
            if unknown is not None:
                if self.unknown_earlier_order == "error":
                    run.invalid.append((f"{path}.service.id", unknown))
                    entry = IssuedItem(
                        item_id=item.id,
                        action=action,
                        outcome="special",
                        service_id=service_id,
                        service_specification=spec_id,
                        rules=refs,
                        reason=unknown,
                    )
                    self._finish(
                        run, item, values, matched, entry, (), None, [("service.id", unknown)]
                    )
                    return
                special_reason = unknown

        if special_reason is None:
            if request.special:
                special_reason = request.special_reason or f"request {run.key} is flagged special"
            else:
                flagged = next((r for r in matched if r.special), None)
                if flagged is not None:
                    special_reason = flagged.rule.reason or f"rule {flagged.ref} marks it special"
                elif not matched and action != "delete":
                    special_reason = self._no_rule_reason(spec_id, spec, action)

        produced, guessed = self._produce(run, matched, action, values, chars, earlier, problems)
        if guessed and special_reason is None:
            special_reason = guessed
        supersedes = tuple(o.id for o in earlier if o.id is not None)

        def entry_for(outcome: str, **details: Any) -> IssuedItem:
            return IssuedItem(
                item_id=item.id,
                action=action,
                outcome=outcome,
                service_id=service_id,
                service_specification=spec_id,
                rules=refs,
                supersedes=supersedes,
                **details,
            )

        note: str | None = None
        assessment: FeasibilityAssessment | None = None
        needs_check = special_reason is None and any(r.requires_feasibility for r in matched)
        if special_reason is not None or needs_check:
            assessment = self._assessments.find_for(run.key, item.id)
            if assessment is None and needs_check:
                if self.feasibility is None:
                    special_reason = (
                        f"rule {next(r for r in matched if r.requires_feasibility).ref} requires "
                        "a feasibility assessment and none was made (no FeasibilityChecker)"
                    )
                elif not run.consult:
                    note = "a FeasibilityChecker would be consulted before issuing"
                else:
                    assessment = self._assess(run, item, produced)
            if assessment is not None and not assessment.feasible:
                reason = assessment.reason or "the feasibility assessment found it not feasible"
                entry = entry_for("infeasible", feasibility_assessment=assessment.id, reason=reason)
                self._finish(run, item, values, matched, entry, (), note)
                return

        outcome = "standard"
        special = False
        if assessment is not None and (special_reason is not None or assessment.order_item):
            outcome = "preassessed"
            initial = self.lifecycle.initial
            produced = tuple(
                it if it.state == initial else replace(it, state=initial)
                for it in assessment.order_item
            )
            by = f"feasibility assessment {assessment.id}"
            problems = check_items(
                produced,
                _ISSUE_ACTIONS,
                [by] * len(produced),
                lambda spec_id: self._spec_check(run, spec_id),
            )
            special_reason = None
        elif special_reason is not None:
            outcome = "special"
            special = True

        if problems:
            run.problems.extend((f"{path}.{p}", m) for p, m in problems)
        order: ResourceOrder | None = None
        if produced or special:
            order = replace(
                self._request_proto(run),
                id=self._new_id(run),
                order_item=produced,
                special_handling=special,
                special_handling_reason=special_reason if special else None,
                feasibility_assessment=None
                if assessment is None
                else EntityRef(id=assessment.id or "", referred_type="FeasibilityAssessment"),
                supersedes=tuple(
                    EntityRef(id=o.id or "", href=o.href, referred_type="ResourceOrder")
                    for o in earlier
                ),
            )
            run.orders.append(order)
            if special:
                run.handoffs.append((order, special_reason or "special handling"))
        entry = entry_for(
            outcome,
            feasibility_assessment=None if assessment is None else assessment.id,
            resource_orders=() if order is None else (order.id or "",),
            reason=special_reason if special else (None if produced else "nothing to issue"),
        )
        self._finish(run, item, values, matched, entry, produced, note, problems)

    def _finish(
        self,
        run: _Run,
        item: ServiceOrderItem,
        values: Mapping[str, Any],
        matched: Sequence[CompiledRule],
        entry: IssuedItem,
        produced: tuple[ResourceOrderItem, ...],
        note: str | None,
        problems: Sequence[Problem] = (),
    ) -> None:
        run.entries.append(entry)
        if run.details is not None:
            run.details.append(
                _Detail(item, values, tuple(matched), entry, produced, tuple(problems), note)
            )

    def _no_rule_reason(self, spec_id: str | None, spec: EntityRef | None, action: str) -> str:
        if spec_id is None:
            return "the item names no service specification, so no rule can match it"
        version = f" version {spec.version!r}" if spec is not None and spec.version else ""
        if not self.rules.index.candidates(spec_id, action):
            return f"no rule for service specification {spec_id!r}{version} and action {action!r}"
        return (
            f"none of the rules for service specification {spec_id!r}{version} and action "
            f"{action!r} matched (see explain())"
        )

    def _assess(
        self, run: _Run, item: ServiceOrderItem, proposed: tuple[ResourceOrderItem, ...]
    ) -> FeasibilityAssessment:
        assert self.feasibility is not None
        assessment = self.feasibility.assess(run.request, item, proposed)
        if not isinstance(assessment, FeasibilityAssessment):
            raise ValidationError(
                "FeasibilityChecker",
                [
                    (
                        "assess",
                        f"must return a FeasibilityAssessment, not {type(assessment).__name__}",
                    )
                ],
            )
        assessment = attrs.evolve(
            assessment,
            id=assessment.id or self._new_id(run, "FeasibilityAssessment"),
            request_id=run.request.id,
            request_kind=run.request.kind,
            item_id=item.id,
            assessed_at=assessment.assessed_at or run.now,
            revision=0,
        )
        run.assessments.append(assessment)
        return assessment

    # ------------------------------------------------------------------ producing items

    def _builder(self, run: _Run, template: CompiledTemplate) -> TemplateBuilder:
        check = run.checks.get(template.spec_id, _UNSEEN)
        if check is _UNSEEN:
            check = self._spec_check(run, template.spec_id)
        return bound_builder(self._builders, template, check)

    def _produce(
        self,
        run: _Run,
        matched: Sequence[CompiledRule],
        action: str,
        values: Mapping[str, Any],
        chars: Sequence[Characteristic],
        earlier: Sequence[ResourceOrder],
        problems: list[Problem],
    ) -> tuple[tuple[ResourceOrderItem, ...], str | None]:
        """The items the matched rules produce, checked against their specifications;
        for modify/delete, merged with the earlier orders' resources.
        Returns (items, why they would be a guess)."""
        if action == "add":
            out: list[ResourceOrderItem] = []
            for rule in matched:
                for template in rule.templates:
                    builder = self._builder(run, template)
                    item_id = position(len(out))
                    out.append(builder.build(item_id, action, values, chars, problems, rule.ref))
            return tuple(out), None
        return produce_changes(
            matched,
            action,
            values,
            chars,
            earlier,
            problems,
            lambda template: self._builder(run, template),
            lambda spec_id: self._spec_check(run, spec_id),
        )

    def _spec_check(self, run: _Run, spec_id: str) -> SpecificationCheck | None:
        """The compiled check of a resource specification as stored now (once per request)."""
        checks = run.checks
        if spec_id in checks:
            return checks[spec_id]
        spec = self._specs.find(spec_id)
        check: SpecificationCheck | None = None
        if spec is not None:
            cached = self._checks.get(spec_id)
            if cached is not None and cached.spec is spec:
                check = cached
            else:
                check = self._checks[spec_id] = SpecificationCheck(spec)
        checks[spec_id] = check
        return check

    def _new_id(self, run: _Run, entity: str = "ResourceOrder") -> str:
        return f"(new {entity})" if run.dry else self._issue_id(entity)
