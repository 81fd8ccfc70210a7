"""A worker process for the multi-process PostgreSQL tests (run as a script).

``python worker.py JOB CONNINFO SCHEMA [ARGS...]``; prints ``ready`` once it
has connected, then does its job and prints one JSON line with its result.
"""

from __future__ import annotations

import json
import sys
import time

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore
from etomkit.ordering import ResourceOrderIssuer, RuleSet


def buy(store: PostgresStore, offering_id: str, items: int) -> dict[str, object]:
    """Record a purchase for each of ``items`` order items (the same items in every worker)."""
    inventory = ek.ProductOfferingInventory(store)
    products = {}
    for n in range(items):
        product = inventory.record_purchase(
            customer=ek.PartyRef(id=f"cust-{n}"),
            offering_id=offering_id,
            order_item=ek.OrderItemRef(order_id=f"ord-{n}", item_id="1"),
        )
        products[f"ord-{n}"] = product.id
    return {"products": products}


def modify(store: PostgresStore, offering_id: str, times: int) -> dict[str, object]:
    """Append one note to the offering's description ``times`` times, version-checked,
    retrying on conflicts: no increment may be lost."""
    inventory = ek.ProductOfferingInventory(store)
    conflicts = 0
    for _ in range(times):
        while True:
            current = inventory.get_offering(offering_id)
            count = int(current.description or "0")
            try:
                inventory.modify_offering(
                    offering_id,
                    {"description": str(count + 1)},
                    expected_revision=current.revision,
                )
                break
            except ek.ConflictError:
                conflicts += 1
    return {"conflicts": conflicts}


def issue(store: PostgresStore, first: int, last: int) -> dict[str, object]:
    """Issue service orders SO-first … SO-last (workers overlap)."""
    from tests.ordering.helpers import fibre, fibre_rules, request

    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    replayed = issued = 0
    for n in range(first, last):
        result = issuer.issue(
            request(fibre("1"), fibre("2", bandwidth="10G"), request_id=f"SO-{n}")
        )
        replayed += result.replayed
        issued += not result.replayed
    return {"issued": issued, "replayed": replayed}


def issue_batches(store: PostgresStore, first: int, last: int, size: int) -> dict[str, object]:
    """issue_many over SO-first … SO-last in batches of ``size``; a batch that fails
    with StorageError (a deadlock with another worker's batch) is run again."""
    from tests.ordering.helpers import fibre, fibre_rules, request

    issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
    issued = replayed = retries = 0
    for start in range(first, last, size):
        batch = [
            request(fibre("1"), fibre("2", bandwidth="10G"), request_id=f"SO-{n}")
            for n in range(start, min(start + size, last))
        ]
        while True:
            try:
                outcomes = issuer.issue_many(batch)
                break
            except ek.StorageError:
                retries += 1
        for outcome in outcomes:
            assert isinstance(outcome, ek.ordering.IssuanceResult), outcome
            replayed += outcome.replayed
            issued += not outcome.replayed
    return {"issued": issued, "replayed": replayed, "retries": retries}


def hold(store: PostgresStore, count: int) -> dict[str, object]:
    """Write ``count`` offerings in one transaction, then wait to be killed."""
    with store.transaction():
        for n in range(count):
            store.offerings.add(ek.ProductOffering(id=f"killed-{n}", name="never committed"))
        print("ready", flush=True)
        time.sleep(600)
    return {}


JOBS = {"buy": buy, "modify": modify, "issue": issue, "issue_many": issue_batches, "hold": hold}


def main() -> None:
    job, conninfo, schema, *args = sys.argv[1:]
    store = PostgresStore(conninfo, schema=schema, migrate=False, pool_size=1)
    try:
        if job != "hold":
            print("ready", flush=True)
            sys.stdin.readline()  # the parent starts every worker at once
        values = [int(a) if a.isdigit() else a for a in args]
        result = JOBS[job](store, *values)  # type: ignore[operator]
        print(json.dumps(result), flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main()
