"""Every store reads back exactly what it accepted (#10, part 3).

The same generated inputs go to an InMemoryStore and to a FileStore that is then
closed and reopened. Either both accept, and return equal entities (the same TMF
JSON too), or both refuse with ValidationError and store nothing. The inputs are
well-formed entities of every stored class with one attribute, anywhere in the
entity, replaced by an awkward value: naive and non-UTC date-times, tuples,
sets, Decimal, int-keyed dicts, lone surrogates, non-finite floats, huge ints,
lenient spellings, None where TMF JSON writes a default.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit import tmf
from etomkit.errors import ValidationError
from etomkit.model.audit import AuditFinding, AuditRun, ManualAudit, RuleScore
from etomkit.model.client import ClientRegistration, Permission, SecretHash
from etomkit.model.issuance import (
    FeasibilityAssessment,
    InitiatingRequest,
    IssuanceRecord,
    IssuedItem,
    RuleRef,
    request_item,
)
from etomkit.model.resource_order import (
    ExternalEntityId,
    ResourceOrder,
    ResourceOrderItem,
    ResourceRefOrValue,
)
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.ordering import FromService, ItemTemplate, ResourceOrderIssuer, Rule, RuleSet
from etomkit.testing import strategies as ek_st

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1), "CET")

AWKWARD: list[Any] = [
    datetime(2025, 1, 1),  # naive
    datetime(2025, 1, 1, 12, 30, 0, 1234, tzinfo=PARIS),
    T0,
    (1, 2),
    ((1, "a"), (2, ("b",))),
    [1, (2, 3)],
    {1: "one"},
    {"a": {2: "b"}},
    {"nested": [{"x": 1.5}]},
    Decimal("1.5"),
    {1, 2},
    frozenset({"a"}),
    "\udcff",
    "caf\u00e9 \U0001f600",
    float("nan"),
    float("inf"),
    -0.0,
    10**5000,
    2**70,
    True,
    0,
    1.0,
    None,
    "",
    "launched",
    "no_change",
    "aborted ",
    b"bytes",
    [],
    {},
    {"name": "shadow"},
    {"@type": "Shadow"},
]


def _awkward() -> st.SearchStrategy[Any]:
    return st.sampled_from(AWKWARD) | ek_st.json_values(max_leaves=3)


def _request(**chars: Any) -> InitiatingRequest:
    return InitiatingRequest(
        kind="serviceOrder",
        id="so-1",
        items=(request_item("1", "add", "fibre", {"bandwidth": "1G", **chars}),),
        requested_start_date=T0,
    )


def _order() -> ResourceOrder:
    return ResourceOrder(
        id="ro-1",
        order_date=T0,
        order_item=(
            ResourceOrderItem(
                id="1",
                resource_specification=ek.EntityRef(id="ont"),
                resource=ResourceRefOrValue(name="ONT"),
                characteristic=(ek.Characteristic(name="model", value="HG8245H"),),
            ),
        ),
        external_reference=(ExternalEntityId(id="so-1", owner="om", entity_type="serviceOrder"),),
    )


def _finding() -> AuditFinding:
    return AuditFinding(rule="r", entity=ek.EntityRef(id="o-1", referred_type="ProductOffering"))


#: A well-formed entity of every class a store holds, with the repository it goes to.
BASES: dict[str, tuple[str, Callable[[], Any]]] = {
    "offering": (
        "offerings",
        lambda: ek.ProductOffering(
            id="o-1",
            name="Fibre",
            last_update=T0,
            valid_for=ek.TimePeriod(start_date_time=T0),
            category=(ek.EntityRef(id="fibre"),),
            extras={"channel": [{"id": "web"}]},
        ),
    ),
    "product": (
        "products",
        lambda: ek.Product(
            id="p-1",
            product_offering=ek.EntityRef(id="o-1"),
            related_party=(ek.RelatedParty(id="c-1", role="customer"),),
            start_date=T0,
            product_order_item=(ek.OrderItemRef(order_id="po-1", item_id="1"),),
            product_characteristic=(ek.Characteristic(name="speed", value=1000),),
        ),
    ),
    "resource order": ("resource_orders", _order),
    "issuance record": (
        "issuance_records",
        lambda: IssuanceRecord(
            id="serviceOrder:so-1",
            request=_request(vlanId=100),
            items=(
                IssuedItem(
                    item_id="1",
                    action="add",
                    outcome="standard",
                    rules=(RuleRef("r", "1"),),
                    resource_orders=("ro-1",),
                ),
            ),
            issued_at=T0,
        ),
    ),
    "feasibility assessment": (
        "feasibility_assessments",
        lambda: FeasibilityAssessment(
            id="fa-1", request_id="so-1", order_item=_order().order_item, assessed_at=T0
        ),
    ),
    "resource specification": (
        "resource_specifications",
        lambda: ResourceSpecification(
            id="ont",
            name="ONT",
            resource_spec_characteristic=(
                ResourceSpecificationCharacteristic(
                    name="model",
                    resource_spec_characteristic_value=(
                        CharacteristicValueSpecification(value="HG8245H"),
                    ),
                ),
            ),
        ),
    ),
    "client": (
        "clients",
        lambda: ClientRegistration(
            id="cl-1",
            name="crm",
            permissions=(Permission("offering", "read", categories={"fibre"}),),
            secret_hash=SecretHash(algorithm="scrypt", salt="00", digest="ff", n=2),
            registered_at=T0,
        ),
    ),
    "audit run": (
        "audit_runs",
        lambda: AuditRun(
            id="ar-1",
            started_at=T0,
            finished_at=T0,
            rules=("r",),
            rule_scores=(RuleScore.of("r", 2, 1),),
            findings=(_finding(),),
        ),
    ),
    "manual audit": (
        "manual_audits",
        lambda: ManualAudit(
            id="ma-1",
            entity=ek.EntityRef(id="o-1", referred_type="ProductOffering"),
            auditor="ann",
            audited_at=T0,
            outcome="passed",
            evidence=(ek.EntityRef(id="doc-1"),),
        ),
    ),
}

Path_ = tuple[str | int, ...]


def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every attribute (and tuple element) path inside an attrs value, except ids."""
    for a in attrs.fields(type(value)):
        if a.name in ("revision", "id") and not prefix:
            continue
        inner = getattr(value, a.name)
        yield (*prefix, a.name)
        if attrs.has(type(inner)):
            yield from _paths(inner, (*prefix, a.name))
        elif isinstance(inner, tuple):
            for i, element in enumerate(inner):
                if attrs.has(type(element)):
                    yield (*prefix, a.name, i)
                    yield from _paths(element, (*prefix, a.name, i))


def _set(value: Any, path: Path_, new: Any) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(value)
        items[head] = _set(items[head], rest, new) if rest else new
        return tuple(items)
    inner = _set(getattr(value, head), rest, new) if rest else new
    return attrs.evolve(value, **{head: inner})


@st.composite
def awkward_entities(draw: st.DrawFn) -> tuple[str, Any]:
    """A base entity with one attribute somewhere replaced by an awkward value."""
    repository, make = BASES[draw(st.sampled_from(sorted(BASES)))]
    entity = make()
    paths = list(_paths(entity))
    for _ in range(draw(st.integers(1, 2))):
        path, value = draw(st.sampled_from(paths)), draw(_awkward())
        # a constructor that refuses the value (or a path into a replaced value) changes nothing
        with contextlib.suppress(
            ValidationError, TypeError, ValueError, LookupError, AttributeError
        ):
            entity = _set(entity, path, value)
    return repository, entity


def _doc(entity: Any) -> str:
    return json.dumps(tmf.to_json(entity), sort_keys=True, default=repr)


@contextmanager
def _stores() -> Iterator[tuple[ek.InMemoryStore, Path]]:
    with tempfile.TemporaryDirectory() as tmp:
        yield ek.InMemoryStore(), Path(tmp) / "store"


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "stored", call()
    except ValidationError as exc:
        return "refused", exc


def _assert_agree(repository: str, entity: Any) -> None:
    with _stores() as (memory, directory):
        in_memory = _outcome(lambda: getattr(memory, repository).add(entity))
        with ek.FileStore(directory, durability="none") as store:
            on_file = _outcome(lambda: getattr(store, repository).add(entity))
        assert in_memory[0] == on_file[0], (in_memory, on_file)
        with ek.FileStore(directory, durability="none") as store:
            stored = list(getattr(store, repository).iterate())  # decodes every record
            kept = list(getattr(memory, repository).iterate())
            assert stored == kept
            assert [_doc(e) for e in stored] == [_doc(e) for e in kept]
            if in_memory[0] == "stored":
                assert stored == [in_memory[1]] == [on_file[1]]
            else:
                assert stored == [] and in_memory[1].problems == on_file[1].problems


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(awkward_entities())
def test_every_store_accepts_and_returns_the_same_or_refuses_the_same(
    case: tuple[str, Any],
) -> None:
    _assert_agree(*case)


def _kind_of(value: Any) -> str:
    return type(value).__name__


@pytest.mark.parametrize("value", AWKWARD, ids=_kind_of)
@pytest.mark.parametrize("kind", sorted(BASES))
def test_an_awkward_value_in_the_first_characteristic_or_extras_is_stored_alike(
    kind: str, value: Any
) -> None:
    repository, make = BASES[kind]
    entity = make()
    for path in _paths(entity):
        if path[-1] in ("value", "extras"):
            new = {"x": value} if path[-1] == "extras" else value
            _assert_agree(repository, _set(entity, path, new))
            return
    text = {"client": "description", "audit run": "scope", "manual audit": "notes"}[kind]
    _assert_agree(repository, _set(entity, (text,), value))  # no free values: a text field


# ------------------------------------------------------------------ through the issuer


def _issuer(store: Any) -> ResourceOrderIssuer:
    rules = RuleSet(
        [
            Rule(
                id="copy",
                specification="fibre",
                action="add",
                produces=[
                    ItemTemplate(
                        resource_specification="ont",
                        characteristics={"v": FromService("v", default="none")},
                    )
                ],
            )
        ]
    )
    if "ont" not in store.resource_specifications:  # constrains no characteristic
        store.resource_specifications.add(ResourceSpecification(id="ont", name="ONT"))
    return ResourceOrderIssuer(store, rules, clock=ek.ManualClock(), ids=ek.SequentialIdFactory())


def _issue_twice_across_a_reopen(request: InitiatingRequest) -> None:
    with _stores() as (memory, directory):
        in_memory = _outcome(lambda: _issuer(memory).issue(request).record)
        with ek.FileStore(directory, durability="none") as store:
            on_file = _outcome(lambda: _issuer(store).issue(request).record)
        assert in_memory[0] == on_file[0], (in_memory, on_file)
        with ek.FileStore(directory, durability="none") as store:
            assert list(store.issuance_records.iterate()) == list(memory.issuance_records.iterate())
            assert list(store.resource_orders.iterate()) == list(memory.resource_orders.iterate())
            again_on_file = _outcome(lambda: _issuer(store).issue(request))
        again_in_memory = _outcome(lambda: _issuer(memory).issue(request))
        assert again_in_memory[0] == again_on_file[0] == in_memory[0]
        if in_memory[0] == "stored":
            assert again_on_file[1].replayed and again_in_memory[1].replayed
            assert again_on_file[1].record == again_in_memory[1].record == in_memory[1]


def test_a_plain_request_is_issued_and_replayed_after_a_reopen() -> None:
    with _stores() as (_, directory):
        with ek.FileStore(directory) as store:
            first = _issuer(store).issue(_request(v="x"))
        with ek.FileStore(directory) as store:
            again = _issuer(store).issue(_request(v="x"))
    assert again.replayed and again.record == first.record
    assert again.orders[0].order_item[0].characteristic_value("v") == "x"


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(value=_awkward(), where=st.sampled_from(["v", "other", "start"]))
def test_issuing_twice_across_a_reopen_replays_or_refuses_alike(value: Any, where: str) -> None:
    if where == "start":
        request = attrs.evolve(_request(), requested_start_date=value)
    else:
        request = _request(**{where: value})
    _issue_twice_across_a_reopen(request)


@pytest.mark.parametrize(
    "value",
    [(1, 2), ((1, "a"), (2,)), {1: "one"}, datetime(2025, 1, 1, tzinfo=PARIS)],
    ids=_kind_of,
)
def test_a_request_whose_values_a_store_would_change_is_refused_not_conflicting(
    value: Any,
) -> None:
    with pytest.raises(ValidationError, match=r"items\[0\]\.service\.service_characteristic"):
        _issuer(ek.InMemoryStore()).issue(_request(v=value))
    _issue_twice_across_a_reopen(_request(v=value))


def test_a_naive_requested_start_date_is_refused_and_does_not_poison_the_store(
    tmp_path: Path,
) -> None:
    naive = attrs.evolve(_request(), requested_start_date=datetime(2025, 1, 1))
    with ek.FileStore(tmp_path / "s") as store:
        with pytest.raises(ValidationError, match="requested_start_date") as caught:
            _issuer(store).issue(naive)
        assert "timezone-aware" in str(caught.value)
        _issuer(store).issue(attrs.evolve(naive, id="so-2", requested_start_date=T0))
    with ek.FileStore(tmp_path / "s") as store:
        assert [r.id for r in store.issuance_records.iterate()] == ["serviceOrder:so-2"]
        assert len(list(store.resource_orders.iterate())) == 1


def test_a_lenient_action_spelling_is_issued_and_replayed_in_tmf_spelling(tmp_path: Path) -> None:
    items = (request_item("1", "add", "fibre", {"bandwidth": "1G"}),)
    spelled = attrs.evolve(_request(), items=(attrs.evolve(items[0], action="ADD"),))
    with ek.FileStore(tmp_path / "s") as store:
        first = _issuer(store).issue(spelled)
    assert first.record.request.items[0].action == "add"
    with ek.FileStore(tmp_path / "s") as store:
        again = _issuer(store).issue(spelled)
        assert again.replayed and again.record == first.record
