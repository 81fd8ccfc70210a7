"""PostgresStore against FileStore and stdlib sqlite3 (WAL, synchronous=FULL) on the
same products (issue #14), in one run, interleaved round by round.

Writes: one product per transaction, then batches of 10, 100 and 1000 per
transaction (``add_all`` inside ``transaction()``; sqlite stores the same TMF
JSON and the same index terms in a side table, one transaction per batch).
Reads: point reads by id, and the products of one customer (an index, not a
scan: the EXPLAIN is printed) over a store of ``--products`` products, with
p50 and p95. Then ``issue()`` end to end, one request per transaction.
Re-run with:

    python bench/postgres.py                      # 1,000,000 products for the filter
    python bench/postgres.py --products 100000    # quicker

The server is the one of ``--conninfo`` (default the local one); the bench
uses (and drops) a schema of its own.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

import etomkit as ek
from etomkit import tmf
from etomkit.adapters.postgres import PostgresStore
from etomkit.model.queries import product_terms
from etomkit.ordering import ResourceOrderIssuer, RuleSet

OFFERING = ek.EntityRef(id="po-fibre-1g", name="Fibre 1G", referred_type="ProductOffering")
CUSTOMERS = 250_000


def product(n: int, prefix: str = "p") -> ek.Product:
    return ek.Product(
        id=f"{prefix}-{n:08d}",
        name="Fibre 1G",
        status="active",
        product_offering=OFFERING,
        related_party=(
            ek.RelatedParty(id=f"c-{n % CUSTOMERS}", role="customer", referred_type="Customer"),
        ),
        product_order_item=(ek.OrderItemRef(order_id=f"{prefix}o-{n}", item_id="1"),),
        product_characteristic=(ek.Characteristic(name="downloadSpeed", value=1000),),
    )


class SqliteSide:
    """The same TMF JSON and index terms in sqlite3, WAL, synchronous=FULL."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE entity (id TEXT PRIMARY KEY, revision INT, doc BLOB)")
        self.db.execute("CREATE TABLE term (term TEXT, id TEXT, PRIMARY KEY (term, id))")

    def write(self, batch: list[ek.Product]) -> None:
        self.db.execute("BEGIN")
        for p in batch:
            doc = json.dumps(tmf.to_json(p), ensure_ascii=False, separators=(",", ":"))
            self.db.execute("INSERT INTO entity VALUES (?, 1, ?)", (p.id, doc.encode()))
            self.db.executemany(
                "INSERT INTO term VALUES (?, ?)", [(t, p.id) for t in product_terms(p)]
            )
        self.db.execute("COMMIT")


def store_writer(store: Any) -> Callable[[list[ek.Product]], None]:
    def write(batch: list[ek.Product]) -> None:
        if len(batch) == 1:
            store.products.add(batch[0])
        else:
            with store.transaction():
                store.products.add_all(batch)

    return write


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def writes_table(sides: dict[str, Callable[[list[ek.Product]], None]], rounds: int) -> None:
    print("\n## Writes (products/s, median of interleaved rounds)\n")
    print("| batch per transaction | " + " | ".join(sides) + " | Postgres / sqlite |")
    print("|---:|" + "---:|" * (len(sides) + 1))
    counter = iter(range(10**9))
    for size, count in [(1, 200), (10, 1000), (100, 5000), (1000, 10000)]:
        rates: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, write in sides.items():
                prefix = f"{name[0]}{next(counter)}"
                batches = [
                    [product(b * size + i, prefix) for i in range(size)]
                    for b in range(count // size)
                ]
                elapsed = 0.0
                for batch in batches:
                    elapsed += timed(partial(write, batch))
                rates[name].append(count / elapsed)
        medians = {name: statistics.median(r) for name, r in rates.items()}
        cells = " | ".join(f"{medians[n]:,.0f}" for n in sides)
        ratio = medians["PostgresStore"] / medians["sqlite3"]
        print(f"| {size} | {cells} | {ratio:.2f}x |")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.95)] * 1000


def reads_table(store: PostgresStore, total: int) -> None:
    rng = random.Random(1)
    ids = [f"p-{rng.randrange(total):08d}" for _ in range(2000)]
    point = [timed(partial(store.products.get, i)) for i in ids]
    customers = [ek.ProductFilter(customer_id=f"c-{rng.randrange(CUSTOMERS)}") for _ in range(500)]
    by_customer = [timed(partial(store.products.query, c, limit=100)) for c in customers]
    by_status = [
        timed(lambda: store.products.query(ek.ProductFilter(status="active"), limit=100))
        for _ in range(50)
    ]
    print(f"\n## Reads over {total:,} stored products (ms)\n")
    print("| read | p50 | p95 |")
    print("|---|---:|---:|")
    for name, samples in [
        ("point read by id", point),
        ("products of one customer (limit 100)", by_customer),
        ("first page of status=active (limit 100, total counted)", by_status),
    ]:
        p50, p95 = percentiles(samples)
        print(f"| {name} | {p50:.2f} | {p95:.2f} |")


def explain(conninfo: str, schema: str) -> None:
    with psycopg.connect(conninfo) as conn:
        plan = conn.execute(
            f'EXPLAIN SELECT e.revision, e.doc, e.id FROM "{schema}".entity e WHERE e.ns = '
            f"'product' AND EXISTS (SELECT 1 FROM \"{schema}\".term t WHERE t.ns = e.ns AND "
            "t.id = e.id AND t.term = ANY(ARRAY['customer=c-42'])) ORDER BY e.seq LIMIT 100"
        ).fetchall()
    print("\n## EXPLAIN: products of one customer\n")
    print("```")
    for (line,) in plan:
        print(line)
    print("```")


def issuing_table(conninfo: str, schema: str, requests: int) -> None:
    from tests.ordering.helpers import fibre, fibre_rules, fibre_specs, request

    print(f"\n## issue(), one request (2 items) per transaction, {requests} requests\n")
    print("| store | items/s |")
    print("|---|---:|")
    with tempfile.TemporaryDirectory() as folder:
        stores: dict[str, Any] = {
            "PostgresStore": PostgresStore(conninfo, schema=schema + "_issue"),
            "FileStore": ek.FileStore(Path(folder) / "issue", durability="always"),
        }
        for name, store in stores.items():
            store.resource_specifications.add_all(fibre_specs())
            issuer = ResourceOrderIssuer(store, RuleSet(fibre_rules()))
            batch = [
                request(fibre("1"), fibre("2", bandwidth="10G"), request_id=f"SO-{n}")
                for n in range(requests)
            ]
            elapsed = timed(partial(_issue_all, issuer, batch))
            print(f"| {name} | {2 * requests / elapsed:,.0f} |")
            if isinstance(store, PostgresStore):
                store.drop()
            store.close()


def _issue_all(issuer: ResourceOrderIssuer, requests: list[Any]) -> None:
    for request in requests:
        issuer.issue(request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conninfo", default="host=127.0.0.1 user=postgres dbname=test")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        pg = PostgresStore(args.conninfo, schema=schema, pool_size=2)
        file_store = ek.FileStore(Path(folder) / "file", durability="batch")
        lite = SqliteSide(Path(folder) / "lite.db")
        try:
            writes_table(
                {
                    "PostgresStore": store_writer(pg),
                    "FileStore": store_writer(file_store),
                    "sqlite3": lite.write,
                },
                args.rounds,
            )
            with psycopg.connect(args.conninfo, autocommit=True) as conn:
                conn.execute(f'TRUNCATE "{schema}".entity CASCADE')
            start = time.perf_counter()
            for first in range(0, args.products, 5000):
                with pg.transaction():
                    pg.products.add_all(
                        [product(n) for n in range(first, min(first + 5000, args.products))]
                    )
            load = time.perf_counter() - start
            print(f"\nloaded {args.products:,} products in {load:.0f} s")
            with psycopg.connect(args.conninfo, autocommit=True) as conn:
                conn.execute(f'ANALYZE "{schema}".entity')
                conn.execute(f'ANALYZE "{schema}".term')
            reads_table(pg, args.products)
            explain(args.conninfo, schema)
            issuing_table(args.conninfo, schema, 500)
        finally:
            pg.drop()
            pg.close()
            file_store.close()


if __name__ == "__main__":
    main()
