"""Storage priced by record-days (issue #16): three weeks of daily samples, records
added and removed mid-period, against a hand calculation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import etomkit as ek
from etomkit.inventory.reports import record_days

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, midnight
DAY = timedelta(days=1)


def _offering(n: int) -> ek.ProductOffering:
    return ek.ProductOffering(id=f"po-{n}", name=f"Offer {n}", lifecycle_status="Launched")


def _product(n: int) -> ek.Product:
    return ek.Product(
        id=f"p-{n}",
        product_offering=ek.EntityRef(id="po-0"),
        related_party=(ek.RelatedParty(id=f"c-{n}", role="customer"),),
    )


def _three_weeks(store: Any, meter: ek.UsageMeter, clock: ek.ManualClock) -> None:
    """10 offerings and 100 products; 20 products added at noon on day 5, 4 offerings
    removed at noon on day 12; a storage sample every midnight from day 0 to day 20."""
    store.offerings.add_all([_offering(n) for n in range(10)])
    store.products.add_all([_product(n) for n in range(100)])
    for day in range(21):
        meter.sample_storage(store)
        clock.advance(timedelta(hours=12))
        if day == 5:
            store.products.add_all([_product(n) for n in range(100, 120)])
        if day == 12:
            for n in range(6, 10):
                store.offerings.remove(f"po-{n}")
        clock.advance(timedelta(hours=12))


# By hand, each count holding from its sample to the next:
#   products:  100 x 6 days (days 0-5) + 120 x 15 days (days 6-20) = 2400 record-days
#   offerings:  10 x 13 days (days 0-12) + 6 x 8 days (days 13-20) =  178 record-days
# at the default 0.001 per record and day: 2.4 and 0.178 cost units.
HAND = {"offering": 178.0, "product": 2400.0}


@pytest.mark.parametrize("on_file", [False, True])
def test_three_weeks_of_storage_are_priced_by_record_days(tmp_path: Path, on_file: bool) -> None:
    clock = ek.ManualClock(T0)
    log = ek.FileUsageLog(tmp_path / "usage.log") if on_file else None
    meter = ek.UsageMeter(log, clock=clock)
    store = ek.InMemoryStore()
    _three_weeks(store, meter, clock)
    assert clock.now() == T0 + 21 * DAY
    report = meter.report(period="week", since=T0, until=T0 + 21 * DAY, store=store)
    assert report.storage_record_days == HAND
    assert report.storage_cost == {"offering": 0.178, "product": 2.4}
    # the samples are not calls
    assert report.lines == () and report.cost_units == 0
    assert report.to_json()["storageRecordDays"] == HAND
    # the old pricing (what is stored now, over the whole period) would say otherwise
    assert meter.costs.store_cost(store, 21) != report.storage_cost


def test_a_report_over_part_of_the_period_prices_that_part() -> None:
    clock = ek.ManualClock(T0)
    meter = ek.UsageMeter(clock=clock)
    store = ek.InMemoryStore()
    _three_weeks(store, meter, clock)
    second_week = meter.report(since=T0 + 7 * DAY, until=T0 + 14 * DAY, store=store)
    # offerings: 10 x 6 days (days 7-12) + 6 x 1 day (day 13); products: 120 x 7 days
    assert second_week.storage_record_days == {"offering": 66.0, "product": 840.0}


def test_a_report_up_to_now_counts_what_the_store_holds_since_the_last_sample() -> None:
    clock = ek.ManualClock(T0)
    meter = ek.UsageMeter(clock=clock)
    store = ek.InMemoryStore()
    store.products.add_all([_product(n) for n in range(10)])
    meter.sample_storage(store)
    clock.advance(DAY)
    store.products.add_all([_product(n) for n in range(10, 30)])
    clock.advance(DAY)  # no sample since the additions: the store at report time counts
    report = meter.report(since=T0, until=T0 + 4 * DAY, store=store)
    assert report.storage_record_days["product"] == 10 * 2 + 30 * 2


def test_without_samples_the_store_is_priced_as_it_is_now() -> None:
    clock = ek.ManualClock(T0 + 7 * DAY)
    meter = ek.UsageMeter(clock=clock)
    store = ek.InMemoryStore()
    store.products.add_all([_product(n) for n in range(5)])
    report = meter.report(since=T0, until=T0 + 7 * DAY, store=store)
    assert report.storage_record_days == {"offering": 0.0, "product": 35.0}
    explicit = meter.report(store=store, storage_days=2)  # the explicit form is unchanged
    assert explicit.storage_cost == {"offering": 0.0, "product": 0.01}


def test_record_days_hold_each_sample_until_the_next() -> None:
    samples = [(T0 + DAY, 4), (T0 + 3 * DAY, 10)]
    assert record_days(samples, T0, T0 + 5 * DAY) == 4 * 3 + 10 * 2  # first count before it
    assert record_days(samples, T0 + 2 * DAY, T0 + 4 * DAY) == 4 + 10
    assert record_days([], T0, T0 + DAY) == 0.0
    assert record_days(samples, T0 + DAY, T0 + DAY) == 0.0
