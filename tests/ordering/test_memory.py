"""The in-memory ordering repositories: the repository contract, indexes and rollback."""

from __future__ import annotations

import pytest

import etomkit as ek
from etomkit.adapters.memory import _UnitOfWork
from etomkit.model.issuance import (
    FeasibilityAssessment,
    FeasibilityAssessmentFilter,
    IssuanceRecord,
    IssuanceRecordFilter,
    IssuedItem,
    request_item,
)
from etomkit.model.issuance import InitiatingRequest as Request
from etomkit.model.resource_order import ExternalEntityId, ResourceOrder, ResourceOrderFilter
from etomkit.ordering import InMemoryOrderingStore


def order(order_id: str, *, special: bool = False, request_id: str = "SO-1") -> ResourceOrder:
    return ResourceOrder(
        id=order_id,
        special_handling=special,
        external_reference=(
            ExternalEntityId(id=request_id, owner="bss", entity_type="serviceOrder"),
        ),
    )


def record(request_id: str, *service_ids: str | None) -> IssuanceRecord:
    items = tuple(
        IssuedItem(item_id=str(n), action="modify", outcome="standard", service_id=s)
        for n, s in enumerate(service_ids, 1)
    )
    req = Request(kind="serviceOrder", id=request_id, items=(request_item("1", "add", "x"),))
    return IssuanceRecord(id=req.key, request=req, items=items)


def test_orders_are_stored_at_revision_one_and_replaced_with_optimistic_concurrency() -> None:
    orders = InMemoryOrderingStore().resource_orders
    stored = orders.add(order("ro-1"))
    assert stored.revision == 1 and orders.get("ro-1") == stored
    changed = orders.replace(ek.model._copy.replace(stored, state="inProgress"))
    assert changed.revision == 2
    with pytest.raises(ek.ConflictError, match="revision 2"):
        orders.replace(ek.model._copy.replace(stored, state="held"))
    with pytest.raises(ek.ConflictError, match="already exists"):
        orders.add(order("ro-1"))
    with pytest.raises(ek.ValidationError, match="must be set"):
        orders.add(ResourceOrder())
    with pytest.raises(ek.NotFoundError):
        orders.get("ro-2")
    assert orders.find("ro-2") is None and "ro-1" in orders and len(orders) == 1
    assert orders.remove("ro-1", expected_revision=2) == changed
    assert len(orders) == 0


def test_adding_several_orders_checks_them_all_first() -> None:
    orders = InMemoryOrderingStore().resource_orders
    orders.add(order("ro-2"))
    with pytest.raises(ek.ConflictError):
        orders.add_all([order("ro-1"), order("ro-2")])
    with pytest.raises(ek.ConflictError):
        orders.add_all([order("ro-3"), order("ro-3")])
    assert [o.id for o in orders.iterate()] == ["ro-2"]


def test_a_failed_transaction_rolls_back_every_repository() -> None:
    store = InMemoryOrderingStore()
    store.resource_orders.add(order("ro-0"))

    def crash() -> None:
        with store.transaction():
            store.resource_orders.add_all([order("ro-1"), order("ro-2", special=True)])
            store.issuance_records.add(record("SO-1", "svc-1"))
            store.resource_orders.remove("ro-0")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert [o.id for o in store.resource_orders.iterate()] == ["ro-0"]
    assert len(store.issuance_records) == 0
    assert store.issuance_records.records_for_service("svc-1") == []
    assert store.resource_orders.query(ResourceOrderFilter(special_handling=True)).items == ()


def test_orders_are_queried_by_special_handling_state_and_request() -> None:
    orders = InMemoryOrderingStore().resource_orders
    orders.add_all(
        [
            order("ro-1"),
            order("ro-2", special=True),
            order("ro-3", special=True, request_id="SO-2"),
        ]
    )
    assert [o.id for o in orders.iterate(ResourceOrderFilter(special_handling=True))] == [
        "ro-2",
        "ro-3",
    ]
    page = orders.query(ResourceOrderFilter(request_key="serviceOrder:SO-1"), limit=1)
    assert ([o.id for o in page.items], page.total, page.next_offset) == (["ro-1"], 2, 1)
    assert orders.query(ResourceOrderFilter(state="inProgress")).total == 0


def test_records_are_found_by_the_services_their_items_name() -> None:
    records = InMemoryOrderingStore().issuance_records
    records.add_all([record("SO-1", "svc-1", None), record("SO-2", "svc-2", "svc-1")])
    assert [r.id for r in records.records_for_service("svc-1")] == [
        "serviceOrder:SO-1",
        "serviceOrder:SO-2",
    ]
    assert records.query(IssuanceRecordFilter(service_id="svc-2")).total == 1
    assert records.query(IssuanceRecordFilter(outcome="special")).total == 0


def test_the_latest_assessment_for_an_item_wins_over_one_for_the_whole_request() -> None:
    assessments = InMemoryOrderingStore().feasibility_assessments
    assessments.add_all(
        [
            FeasibilityAssessment(id="fa-1", request_id="SO-1"),
            FeasibilityAssessment(id="fa-2", request_id="SO-1", item_id="2"),
            FeasibilityAssessment(id="fa-3", request_id="SO-1", item_id="2", feasible=False),
        ]
    )
    find = assessments.find_for
    assert find("serviceOrder:SO-1", "2").id == "fa-3"  # type: ignore[union-attr]
    assert find("serviceOrder:SO-1", "1").id == "fa-1"  # type: ignore[union-attr]
    assert find("serviceOrder:SO-9", "1") is None
    assert assessments.query(FeasibilityAssessmentFilter(item_id="2")).total == 2


def test_ordering_repositories_can_share_a_unit_of_work_with_other_stores() -> None:
    unit = _UnitOfWork()
    first, second = InMemoryOrderingStore(unit), InMemoryOrderingStore(unit)

    def crash() -> None:
        with first.transaction():
            second.resource_orders.add(order("ro-1"))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert len(second.resource_orders) == 0
