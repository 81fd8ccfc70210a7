"""Usage and access tracking, the cost model and the reports (issue #5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import etomkit as ek

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> ek.ManualClock:
    return ek.ManualClock(T0)


def _controlled(
    clock: ek.ManualClock, meter: ek.UsageMeter
) -> tuple[ek.ProductOfferingInventory, ek.ClientSession]:
    store = ek.InMemoryStore()
    access = ek.AccessControl(store.clients, clock=clock, scrypt_n=16, insecure_low_cost=True)
    inv = ek.ProductOfferingInventory(store, clock=clock, access=access, usage=meter)
    return inv, inv.as_client(access.bootstrap("ops").secret)


def test_allowed_denied_and_failed_calls_are_each_recorded(clock: ek.ManualClock) -> None:
    meter = ek.UsageMeter(clock=clock)
    inv, admin = _controlled(clock, meter)
    offering = admin.create_offering(ek.ProductOffering(name="Fibre"))
    with pytest.raises(ek.NotFoundError):
        admin.modify_offering("missing", {"description": "x"})
    with pytest.raises(ek.AccessDeniedError):
        inv.delete_offering(offering.id or "")
    created, failed, denied = meter.records()
    assert (created.client_name, created.operation, created.action, created.entity_type) == (
        "ops", "create_offering", "create", "offering",
    )  # fmt: skip
    assert (created.outcome, created.entity_ids, created.count) == ("ok", (offering.id,), 1)
    assert created.duration_ns is not None and created.duration_ns > 0
    assert created.cost_units == 5.0 and created.at == T0
    assert (failed.operation, failed.outcome, failed.entity_ids) == (
        "modify_offering", "failed", ("missing",),
    )  # fmt: skip
    assert failed.error is not None and "NotFoundError" in failed.error
    assert failed.cost_units == 3.0  # a failed call costs its call price
    assert (denied.client_id, denied.operation, denied.outcome) == (
        "anonymous", "delete_offering", "denied",
    )  # fmt: skip
    assert denied.cost_units == 0.0 and denied.entity_ids == (offering.id,)


def test_keyed_reads_are_recorded_in_one_record_per_batch(clock: ek.ManualClock) -> None:
    meter = ek.UsageMeter(clock=clock)
    _, admin = _controlled(clock, meter)
    a = admin.create_offering(ek.ProductOffering(name="a"))
    b = admin.create_offering(ek.ProductOffering(name="b"))
    for key in (a.id, b.id, a.id):
        admin.get_offering(key or "")
    assert admin.find_offering("nope") is None
    admin.find_offering(b.id or "")
    with pytest.raises(ek.NotFoundError):
        admin.get_offering("gone")  # a failure is recorded at once
    clock.advance(timedelta(minutes=5))
    admin.close()
    reads = {r.operation: r for r in meter.records() if r.action == "read"}
    get, find = reads["get_offering"], reads["find_offering"]
    assert (get.calls, get.count, get.entity_ids) == (3, 3, (a.id, b.id, a.id))
    assert get.duration_ns is None and get.at == T0  # stamped when read, not when sealed
    assert get.cost_units == pytest.approx(3 * 1.0 + 3 * 0.1)
    assert (find.calls, find.count, set(find.entity_ids)) == (2, 1, {"nope", b.id})
    failed = [r for r in meter.records() if r.outcome == "failed"]
    assert [(r.operation, r.entity_ids) for r in failed] == [("get_offering", ("gone",))]


def test_timing_keyed_reads_records_each_with_its_duration(clock: ek.ManualClock) -> None:
    meter = ek.UsageMeter(clock=clock, time_keyed_reads=True)
    _, admin = _controlled(clock, meter)
    a = admin.create_offering(ek.ProductOffering(name="a"))
    admin.get_offering(a.id or "")
    admin.get_offering(a.id or "")
    gets = [r for r in meter.records() if r.operation == "get_offering"]
    assert len(gets) == 2 and all(r.duration_ns is not None and r.calls == 1 for r in gets)


def test_reads_of_a_dropped_session_are_collected_by_the_meter(clock: ek.ManualClock) -> None:
    meter = ek.UsageMeter(clock=clock)
    _, admin = _controlled(clock, meter)
    a = admin.create_offering(ek.ProductOffering(name="a"))
    admin.get_offering(a.id or "")
    meter.collect()  # what reports do first
    assert [r.operation for r in meter.log.records()][-1] == "get_offering"


def test_lists_and_downloads_count_the_records_they_return(clock: ek.ManualClock) -> None:
    meter = ek.UsageMeter(clock=clock)
    _, admin = _controlled(clock, meter)
    for name in ("a", "b", "c"):
        admin.create_offering(ek.ProductOffering(name=name))
    admin.list_offerings(limit=2)
    admin.download_offerings(format="jsonl")
    assert sum(1 for _ in admin.iter_offerings()) == 3
    listed, downloaded, iterated = list(meter.records())[-3:]
    assert (listed.operation, listed.count) == ("list_offerings", 2)
    assert listed.cost_units == pytest.approx(1.0 + 2 * 0.1)
    assert downloaded.count == 3
    assert downloaded.cost_units == pytest.approx(10.0 + 3 * 0.5)
    assert (iterated.operation, iterated.count) == ("iter_offerings", 3)


# ---------------------------------------------------------------------- costs and periods


def _record(at: datetime, client: str, operation: str, **fields: object) -> ek.UsageRecord:
    action = {"get_offering": "read", "create_offering": "create"}.get(operation, "download")
    return ek.UsageRecord(
        at=at, client_id=client, operation=operation, action=action, entity_type="offering",
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_cost_and_period_aggregation_by_hand(clock: ek.ManualClock) -> None:
    costs = ek.CostModel(
        per_call={"read": 2.0, "create": 10.0, "download": 4.0},
        per_record_returned=0.5,
        per_record_downloaded=0.25,
    )
    meter = ek.UsageMeter(clock=clock, costs=costs)
    crm, billing = ("crm", "CRM"), ("billing", "Billing")
    # Mon 2 Mar: crm creates twice; Tue 3 Mar: billing downloads 40 records;
    # Mon 9 Mar (next week): crm reads 4 offerings in one batch, billing is denied once;
    # Wed 1 Apr (next month): crm creates once and fails a create.
    meter.record(crm, "create_offering", "create", "offering", entity_ids=("o1",), count=1)
    meter.record(crm, "create_offering", "create", "offering", entity_ids=("o2",), count=1)
    clock.advance(timedelta(days=1))
    meter.record(billing, "download_offerings", "download", "offering", count=40)
    clock.advance(datetime(2026, 3, 9, 12, tzinfo=UTC) - clock.now())
    meter.record(crm, "get_offering", "read", "offering", count=4, calls=4)
    meter.record(billing, "delete_offering", "delete", "offering", outcome="denied")
    clock.advance(datetime(2026, 4, 1, 8, tzinfo=UTC) - clock.now())
    meter.record(crm, "create_offering", "create", "offering", count=1)
    meter.record(crm, "create_offering", "create", "offering", outcome="failed")

    daily = meter.report(period="day")
    assert [(r["period"], r["client_id"], r["operation"], r["calls"], r["cost_units"])
            for r in daily.rows()] == [
        ("2026-03-02", "crm", "create_offering", 2, 20.0),
        ("2026-03-03", "billing", "download_offerings", 1, 14.0),  # 4 + 40 x 0.25
        ("2026-03-09", "billing", "delete_offering", 1, 0.0),
        ("2026-03-09", "crm", "get_offering", 4, 10.0),  # 4 x 2 + 4 x 0.5
        ("2026-04-01", "crm", "create_offering", 2, 20.0),
    ]  # fmt: skip
    weekly = {t.key: t.cost_units for t in meter.report(period="week").totals("period")}
    assert weekly == {"2026-03-02": 34.0, "2026-03-09": 10.0, "2026-03-30": 20.0}
    monthly = {t.key: t.calls for t in meter.report(period="month").totals("period")}
    assert monthly == {"2026-03-01": 8, "2026-04-01": 2}
    by_client = {t.key: (t.calls, t.ok, t.denied, t.failed, t.cost_units)
                 for t in daily.totals("client")}  # fmt: skip
    assert by_client == {"crm": (8, 7, 0, 1, 50.0), "billing": (2, 1, 1, 0, 14.0)}
    assert [t.key for t in daily.top_consumers(1)] == ["crm"]
    by_operation = {t.key: t.records for t in daily.totals("operation")}
    assert by_operation["download_offerings"] == 40
    assert [(r.client_id, r.operation) for r in daily.denied_attempts] == [
        ("billing", "delete_offering")
    ]
    march = meter.report(
        period="month", since=datetime(2026, 3, 1, tzinfo=UTC),
        until=datetime(2026, 4, 1, tzinfo=UTC),
    )  # fmt: skip
    assert march.cost_units == 44.0


def test_storage_cost_per_record_and_day(clock: ek.ManualClock) -> None:
    store = ek.InMemoryStore()
    inv = ek.ProductOfferingInventory(store, clock=clock)
    for i in range(3):
        inv.create_offering(ek.ProductOffering(name=f"o{i}"))
    meter = ek.UsageMeter(clock=clock, costs=ek.CostModel(per_record_stored_per_day=0.5))
    report = meter.report(store=store, since=T0, until=T0 + timedelta(days=7))
    assert report.storage_cost == {"offering": 3 * 0.5 * 7, "product": 0.0}
    assert report.to_json()["storageCost"] == {"offering": 10.5, "product": 0.0}


def test_the_report_as_tmf_style_json(clock: ek.ManualClock) -> None:
    meter = ek.UsageMeter(clock=clock)
    meter.record(("crm", "CRM"), "get_offering", "read", "offering", count=1)
    meter.record(("crm", "CRM"), "delete_offering", "delete", "offering", outcome="denied",
                 error="no permission")  # fmt: skip
    doc = meter.report(period="week").to_json()
    assert doc["@type"] == "UsageReport" and doc["period"] == "week"
    assert doc["usageLine"][0]["clientId"] == "crm"
    assert doc["usageLine"][0]["period"] == "2026-03-02"
    assert doc["deniedAttempt"] == [{
        "at": "2026-03-02T09:00:00Z", "clientId": "crm", "operation": "delete_offering",
        "entityType": "offering", "entityIds": [], "reason": "no permission",
    }]  # fmt: skip
    assert doc["topConsumer"][0]["costUnits"] == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"per_call": {"read": -1}}, "per_call.read"),
        ({"per_call": {"write": 1}}, "per_call.write"),
        ({"per_record_returned": "1"}, "per_record_returned"),
    ],
)
def test_a_bad_cost_model_names_the_field(bad: dict[str, object], field: str) -> None:
    with pytest.raises(ek.ValidationError) as error:
        ek.CostModel(**bad)  # type: ignore[arg-type]
    assert field in [path for path, _ in error.value.problems]


def test_a_bad_period_is_refused(clock: ek.ManualClock) -> None:
    with pytest.raises(ek.ValidationError, match="period"):
        ek.UsageMeter(clock=clock).report(period="fortnight")


# ---------------------------------------------------------------------- the file log


def test_the_file_log_keeps_records_across_reopening(tmp_path: Path, clock: ek.ManualClock) -> None:
    path = tmp_path / "usage.log"
    meter = ek.UsageMeter(ek.FileUsageLog(path), clock=clock)
    _, admin = _controlled(clock, meter)
    admin.create_offering(ek.ProductOffering(name="a"))
    meter.close()
    reopened = ek.FileUsageLog(path)
    assert [r.operation for r in reopened.records()] == ["create_offering"]
    assert len(reopened) == 1
    reopened.close()


def test_the_file_log_cuts_a_torn_tail_and_refuses_damage(tmp_path: Path) -> None:
    path = tmp_path / "usage.log"
    log = ek.FileUsageLog(path)
    record = _record(T0, "crm", "get_offering")
    log.append([record])
    log.append([record])
    log.close()
    intact = path.stat().st_size
    with path.open("ab") as f:
        f.write(b"\x40\x00\x00\x00partial")  # a crash mid-append
    log = ek.FileUsageLog(path)
    assert len(log) == 2 and log.torn_tail_cut == intact
    log.close()
    data = bytearray(path.read_bytes())
    data[30] ^= 0xFF  # inside the first frame, with a frame after it
    path.write_bytes(bytes(data))
    with pytest.raises(ek.StorageCorruptedError):
        ek.FileUsageLog(path)


def test_one_writer_per_file_log(tmp_path: Path) -> None:
    log = ek.FileUsageLog(tmp_path / "usage.log")
    with pytest.raises(ek.StoreLockedError):
        ek.FileUsageLog(tmp_path / "usage.log")
    log.close()
    ek.FileUsageLog(tmp_path / "usage.log").close()
