"""Many processes share one PostgresStore: nothing lost, skipped or duplicated
(worker processes, SIGKILL mid-transaction)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.ordering.helpers import fibre_specs

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore

ROOT = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("worker.py")
WORKERS = 4


def _start(job: str, conninfo: str, schema: str, *args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    process = subprocess.Popen(
        [sys.executable, str(WORKER), job, conninfo, schema, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _run_together(processes: list[subprocess.Popen[str]]) -> list[dict[str, object]]:
    for process in processes:  # release them all at once
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _launched(store: PostgresStore) -> str:
    inventory = ek.ProductOfferingInventory(store)
    offering = inventory.create_offering(ek.ProductOffering(name="Fibre 1G"))
    for state in ["In design", "In test", "Active", "Launched"]:
        offering = inventory.transition_offering(str(offering.id), state)
    return str(offering.id)


def test_worker_processes_buying_the_same_order_items_get_one_product_each(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    offering_id = _launched(store)
    items = 500
    workers = [
        _start("buy", postgres_conninfo, store.schema, offering_id, items) for _ in range(WORKERS)
    ]
    results = _run_together(workers)
    assert all(r["products"] == results[0]["products"] for r in results)
    assert len(store.products) == items
    for n in range(items):
        found = store.products.find_by_order_item(f"ord-{n}", "1")
        assert found is not None and found.id == results[0]["products"][f"ord-{n}"]  # type: ignore[index]


def test_version_checked_modifies_from_several_processes_lose_no_update(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    offering = store.offerings.add(ek.ProductOffering(id="po-1", name="Counter", description="0"))
    times = 25
    workers = [
        _start("modify", postgres_conninfo, store.schema, offering.id, times)
        for _ in range(WORKERS)
    ]
    _run_together(workers)
    final = store.offerings.get("po-1")
    assert final.description == str(WORKERS * times)
    assert final.revision == 1 + WORKERS * times


def test_processes_issuing_overlapping_requests_store_one_record_each(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    store.resource_specifications.add_all(fibre_specs())
    spans = [(0, 40), (20, 60), (10, 50), (0, 60)]
    workers = [_start("issue", postgres_conninfo, store.schema, a, b) for a, b in spans]
    results = _run_together(workers)
    assert sum(int(r["issued"]) for r in results) == 60  # type: ignore[call-overload]
    assert len(store.issuance_records) == 60
    orders = list(store.resource_orders.iterate())
    on_record = [o for r in store.issuance_records.iterate() for o in r.resource_order_ids]
    assert sorted(str(o.id) for o in orders) == sorted(on_record)  # no order without its record
    assert len(set(on_record)) == len(on_record)


def test_processes_running_issue_many_over_overlapping_streams_store_one_record_per_request(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    store.resource_specifications.add_all(fibre_specs())
    spans = [(0, 100), (50, 150), (25, 125), (0, 150)]
    workers = [_start("issue_many", postgres_conninfo, store.schema, a, b, 10) for a, b in spans]
    results = _run_together(workers)
    assert sum(int(r["issued"]) for r in results) == 150  # type: ignore[call-overload]
    assert len(store.issuance_records) == 150
    on_record = [o for r in store.issuance_records.iterate() for o in r.resource_order_ids]
    assert sorted(str(o.id) for o in store.resource_orders.iterate()) == sorted(on_record)
    assert len(set(on_record)) == len(on_record) == 300


def test_a_worker_killed_mid_transaction_leaves_nothing_of_it(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    before = store.offerings.add(ek.ProductOffering(id="kept", name="acknowledged"))
    worker = _start("hold", postgres_conninfo, store.schema, 20)
    os.kill(worker.pid, signal.SIGKILL)
    worker.communicate(timeout=30)  # reaps it and closes its pipes
    assert [o.id for o in store.offerings.iterate()] == [before.id]
    store.offerings.add(ek.ProductOffering(id="killed-0", name="the id is free"))
    assert len(store.offerings) == 2


pytestmark = pytest.mark.usefixtures("postgres_conninfo")
