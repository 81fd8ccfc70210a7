"""PostgresStore against FileStore and stdlib sqlite3 (WAL, synchronous=FULL), issue #14:
one run, the same records, rounds interleaved (the tables show medians).

1. The document column: ``bytea`` vs ``jsonb``, the same TMF JSON, raw psycopg.
2. Product writes: one per transaction, then batches of 10, 100 and 1000.
3. Reads over ``--products`` stored products (1,000,000; ``--quick`` 100,000):
   point reads, one customer's products, ``status=active``, ``suspended``, both,
   and a customer's active products (limit 100, with the total), p50/p95, and
   the ``EXPLAIN ANALYZE`` of the statements the store sends.
4. ``issue_many`` end to end on bench/issuing.py's workload (1,000 rules, service
   orders of 10 items) at 1 and 100 requests per transaction: PostgresStore,
   FileStore (``durability="batch"``: one fsync per transaction; no compaction in the
   run, which would re-encode every stored record) and sqlite3
   writing the same issued orders and records with their index terms (serialised
   in the loop; no planning, so sqlite's figure is an upper bound for an issuer);
   beside them two floors by raw psycopg on pre-encoded rows: the fewest round
   trips an issuer needs (the reads, then the rows and their terms), and the bare
   rows alone (no reads, no terms, one index: what storing the documents costs
   the driver and the server at all).
5. ``issue_many`` (100 per transaction) from 1, 2 and 4 worker processes against
   one schema, disjoint request streams: aggregate items/s.

    python bench/postgres.py            # 1,000,000 products, 3 rounds
    python bench/postgres.py --quick    # 100,000 products, fewer requests, 2 rounds

The server is the one of ``--conninfo`` (default the local one); the bench uses
(and drops) schemas of its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.issuing import make_requests, make_rules, make_specs

import etomkit as ek
from etomkit import tmf
from etomkit.adapters.postgres import PostgresStore
from etomkit.adapters.postgres.repositories import PostgresProductRepository
from etomkit.model.issuance import InitiatingRequest, issuance_record_terms
from etomkit.model.queries import product_terms
from etomkit.model.resource_order import resource_order_terms
from etomkit.ordering import InMemoryOrderingStore, ResourceOrderIssuer, RuleSet

OFFERING = ek.EntityRef(id="po-fibre-1g", name="Fibre 1G", referred_type="ProductOffering")
CUSTOMERS = 250_000
RULES = 1_000


def product(n: int, prefix: str = "p") -> ek.Product:
    return ek.Product(
        id=f"{prefix}-{n:08d}",
        name="Fibre 1G",
        status="suspended" if n % 20 == 7 else "active",
        product_offering=OFFERING,
        related_party=(
            ek.RelatedParty(id=f"c-{n % CUSTOMERS}", role="customer", referred_type="Customer"),
        ),
        product_order_item=(ek.OrderItemRef(order_id=f"{prefix}o-{n}", item_id="1"),),
        product_characteristic=(ek.Characteristic(name="downloadSpeed", value=1000),),
    )


def encoded(entity: Any) -> bytes:
    return json.dumps(tmf.to_json(entity), ensure_ascii=False, separators=(",", ":")).encode()


class SqliteSide:
    """TMF JSON and index terms in sqlite3, WAL, synchronous=FULL, as the stores keep them."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE entity (ns TEXT, id TEXT, revision INT, doc BLOB, PRIMARY KEY (ns, id))"
        )
        self.db.execute(
            "CREATE TABLE term (ns TEXT, term TEXT, id TEXT, PRIMARY KEY (ns, term, id))"
        )

    def write(self, batch: Sequence[Any]) -> None:
        self.db.execute("BEGIN")
        for entity in batch:
            ns, terms = _SQLITE_TERMS[type(entity)]
            self.db.execute(
                "INSERT INTO entity VALUES (?, ?, 1, ?)", (ns, entity.id, encoded(entity))
            )
            self.db.executemany(
                "INSERT INTO term VALUES (?, ?, ?)", [(ns, t, entity.id) for t in terms(entity)]
            )
        self.db.execute("COMMIT")


_SQLITE_TERMS: dict[type, tuple[str, Callable[[Any], tuple[str, ...]]]] = {
    ek.Product: ("product", product_terms),
    ek.ResourceOrder: ("resourceOrder", resource_order_terms),
    ek.IssuanceRecord: ("issuanceRecord", issuance_record_terms),
}


class DriverFloor:
    """The least a PostgreSQL issuer must do per transaction, by raw psycopg on
    pre-encoded rows (no planning, no encoding): one round trip reading the
    requests' records and the catalogue, then the rows and their terms in one
    autocommit statement (a few requests) or two COPY streams and COMMIT."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.schema = schema
        q = sql.Identifier(schema).as_string(None)
        self.read = f"SELECT revision, doc, id FROM {q}.entity WHERE ns = %s AND id = ANY(%s)"
        self.catalogue = f"SELECT revision, doc, id FROM {q}.entity WHERE ns = %s LIMIT 65"
        self.insert = (
            f"WITH e AS (INSERT INTO {q}.entity (ns, id, revision, doc)"
            " SELECT n, i, 1, d FROM unnest(%s::text[], %s::text[], %s::bytea[]) AS x(n, i, d)"
            f" RETURNING ns, id, seq), t AS (INSERT INTO {q}.term (ns, term, id, uniq, seq)"
            " SELECT x.n, x.t, x.i, x.u, e.seq"
            " FROM unnest(%s::text[], %s::text[], %s::text[], %s::bool[]) AS x(n, t, i, u)"
            " JOIN e ON e.ns = x.n AND e.id = x.i RETURNING 1) SELECT count(*) FROM e"
        )
        self.copy_rows = f"COPY {q}.entity (ns, id, revision, doc) FROM STDIN (FORMAT BINARY)"
        self.bare = (
            f"INSERT INTO {q}.bare (ns, id, revision, doc)"
            " SELECT n, i, 1, d FROM unnest(%s::text[], %s::text[], %s::bytea[]) AS x(n, i, d)"
        )
        self.copy_bare = f"COPY {q}.bare (ns, id, revision, doc) FROM STDIN (FORMAT BINARY)"
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {q}.bare (ns text, id text, revision int, doc bytea,"
            " PRIMARY KEY (ns, id))"
        )
        self.copy_terms = f"COPY {q}.term (ns, term, id, uniq, seq) FROM STDIN (FORMAT BINARY)"

    @staticmethod
    def prepared(batch: Sequence[Any]) -> tuple[list[Any], list[Any], list[str]]:
        """``(rows, terms, request keys)`` of the entities of a batch, encoded."""
        rows, terms, keys = [], [], []
        for entity in batch:
            ns, terms_of = _SQLITE_TERMS[type(entity)]
            rows.append((ns, entity.id, encoded(entity)))
            terms += [(ns, t, entity.id, t.startswith("id=")) for t in terms_of(entity)]
            if isinstance(entity, ek.IssuanceRecord):
                keys.append(entity.id)
        return rows, terms, keys

    def write_bare(self, prepared: tuple[list[Any], list[Any], list[str]]) -> None:
        """The rows alone, one transaction: no reads, no terms, one index (the key):
        what the server and driver take to store the documents at all."""
        rows = prepared[0]
        if len(rows) < 64:
            self.conn.execute(self.bare, [list(c) for c in zip(*rows, strict=True)])
            return
        with (
            self.conn.transaction(),
            self.conn.cursor() as cur,
            cur.copy(self.copy_bare) as stream,
        ):
            stream.set_types(["text", "text", "int4", "bytea"])
            for ns, entity_id, doc in rows:
                stream.write_row((ns, entity_id, 1, doc))

    def write(self, prepared: tuple[list[Any], list[Any], list[str]]) -> None:
        rows, terms, keys = prepared
        conn = self.conn
        with conn.pipeline():
            found = conn.execute(self.read, ("issuanceRecord", keys))
            specs = conn.execute(self.catalogue, ("resourceSpecification",))
        found.fetchall(), specs.fetchall()
        if len(rows) < 64:
            columns = [list(c) for c in zip(*rows, strict=True)]
            conn.execute(self.insert, (*columns, *(list(c) for c in zip(*terms, strict=True))))
            return
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(self.copy_rows) as stream:
                stream.set_types(["text", "text", "int4", "bytea"])
                for ns, entity_id, doc in rows:
                    stream.write_row((ns, entity_id, 1, doc))
            seqs: dict[str, int] = dict(
                cur.execute(
                    f'SELECT id, seq FROM "{self.schema}".entity WHERE ns = ANY(%s) AND id = ANY(%s)',
                    (["resourceOrder", "issuanceRecord"], [r[1] for r in rows]),
                ).fetchall()
            )
            with cur.copy(self.copy_terms) as stream:
                stream.set_types(["text", "text", "text", "bool", "int8"])
                for ns, term, entity_id, unique in terms:
                    stream.write_row((ns, term, entity_id, unique, seqs[entity_id]))


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.95)] * 1000


# ---------------------------------------------------------------------- 1. jsonb vs bytea


def document_column(conninfo: str, schema: str, docs: list[bytes], rounds: int) -> None:
    print(f"\n## The document column: bytea vs jsonb ({len(docs):,} resource orders' TMF JSON)\n")
    texts = [d.decode() for d in docs]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for kind in ("bytea", "jsonb"):
            conn.execute(f'CREATE TABLE "{schema}".doc_{kind} (id text PRIMARY KEY, doc {kind})')
        rates: dict[str, list[float]] = {"bytea write": [], "jsonb write": []}
        rates |= {"bytea read": [], "jsonb read": []}
        for r in range(rounds):
            for kind, values, cast in (("bytea", docs, "bytea"), ("jsonb", texts, "text")):
                table = f'"{schema}".doc_{kind}'
                ids = [f"{r}-{n}" for n in range(len(docs))]
                insert = (
                    f"INSERT INTO {table} SELECT i, d::{kind}"
                    f" FROM unnest(%s::text[], %s::{cast}[]) AS x(i, d)"
                )
                start = time.perf_counter()
                for b in range(0, len(ids), 1000):
                    with conn.transaction():
                        conn.execute(insert, (ids[b : b + 1000], values[b : b + 1000]))
                rates[f"{kind} write"].append(len(ids) / (time.perf_counter() - start))
                select = f"SELECT doc FROM {table} WHERE id = ANY(%s)"
                start = time.perf_counter()
                for b in range(0, len(ids), 1000):
                    for (doc,) in conn.execute(select, (ids[b : b + 1000],)).fetchall():
                        if kind == "bytea":
                            json.loads(doc)  # jsonb arrives parsed by psycopg's loader
                rates[f"{kind} read"].append(len(ids) / (time.perf_counter() - start))
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("| column | writes/s (1000 per tx) | reads/s (1000 per query, parsed) |")
    print("|---|---:|---:|")
    for kind in ("bytea", "jsonb"):
        print(f"| {kind} | {med[f'{kind} write']:,.0f} | {med[f'{kind} read']:,.0f} |")
    print(
        f"\nbytea / jsonb: writes {med['bytea write'] / med['jsonb write']:.2f}x, "
        f"reads {med['bytea read'] / med['jsonb read']:.2f}x"
    )


# ---------------------------------------------------------------------- 2. writes


def store_writer(store: Any) -> Callable[[list[Any]], None]:
    def write(batch: list[Any]) -> None:
        if len(batch) == 1:
            store.products.add(batch[0])
        else:
            with store.transaction():
                store.products.add_all(batch)

    return write


def writes_table(sides: dict[str, Callable[[list[Any]], None]], rounds: int) -> None:
    print("\n## Product writes (products/s)\n")
    print("| batch per transaction | " + " | ".join(sides) + " | Postgres / sqlite |")
    print("|---:|" + "---:|" * (len(sides) + 1))
    counter = iter(range(10**9))
    for size, count in [(1, 300), (10, 2000), (100, 5000), (1000, 10000)]:
        rates: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, write in sides.items():
                prefix = f"{name[0]}{next(counter)}"
                batches = [
                    [product(b * size + i, prefix) for i in range(size)]
                    for b in range(count // size)
                ]
                elapsed = sum(timed(partial(write, batch)) for batch in batches)
                rates[name].append(count / elapsed)
        med = {name: statistics.median(r) for name, r in rates.items()}
        cells = " | ".join(f"{med[n]:,.0f}" for n in sides)
        print(f"| {size} | {cells} | {med['PostgresStore'] / med['sqlite3']:.2f}x |")


# ---------------------------------------------------------------------- 3. reads


def reads_table(store: PostgresStore, total: int) -> None:
    products = cast(PostgresProductRepository, store.products)
    rng = random.Random(1)
    ids = [f"p-{rng.randrange(total):08d}" for _ in range(2000)]
    point = [timed(partial(store.products.get, i)) for i in ids]
    batch = [timed(partial(products.find_many, ids[n : n + 100])) for n in range(0, 2000, 100)]
    customers = [ek.ProductFilter(customer_id=f"c-{rng.randrange(CUSTOMERS)}") for _ in range(500)]
    by_customer = [timed(partial(store.products.query, c, limit=100)) for c in customers]
    active = ek.ProductFilter(status="active")
    by_status = [timed(partial(store.products.query, active, limit=100)) for _ in range(100)]
    suspended = ek.ProductFilter(status="suspended")
    by_rare = [timed(partial(store.products.query, suspended, limit=100)) for _ in range(100)]
    either = ek.ProductFilter(status={"active", "suspended"})
    by_set = [timed(partial(store.products.query, either, limit=100)) for _ in range(100)]
    both = [ek.ProductFilter(customer_id=c.customer_id, status="active") for c in customers[:100]]
    by_both = [timed(partial(store.products.query, b, limit=100)) for b in both]
    common = ek.ProductFilter(status="active", offering_id=OFFERING.id)
    by_common = [timed(partial(store.products.query, common, limit=100)) for _ in range(10)]
    print(f"\n## Reads over {total:,} stored products (ms)\n")
    print("| read | p50 | p95 |")
    print("|---|---:|---:|")
    for name, samples in [
        ("point read by id", point),
        ("find_many of 100 ids", batch),
        ("products of one customer (limit 100, total counted)", by_customer),
        ("status=suspended (1 in 20): first 100 and the total", by_rare),
        ("status=active (19 in 20): first 100 and the total", by_status),
        ("status in {active, suspended}: first 100 and the total", by_set),
        ("one customer's active products (two criteria)", by_both),
        ("status=active and the offering (two common criteria, 10 runs)", by_common),
    ]:
        p50, p95 = percentiles(samples)
        print(f"| {name} | {p50:.2f} | {p95:.2f} |")
    explained = [("products of one customer", customers[0]), ("status=suspended", suspended)]
    explained += [("status=active", active), ("status in {active, suspended}", either)]
    for title, where in [*explained, ("one customer's active products", both[0])]:
        statement, params = products.query_statement(where, 0, 100)
        with psycopg.connect(store.conninfo) as conn:
            plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, COSTS OFF) ") + statement, params)
            lines = [line for (line,) in plan.fetchall()]
        print(f"\n### EXPLAIN ANALYZE: {title} (the statement `query` sends)\n\n```")
        print("\n".join(lines))
        print("```")


# ---------------------------------------------------------------------- 4. issue_many


def requests_for(prefix: str, count: int) -> list[InitiatingRequest]:
    return make_requests(RULES, count * 10, prefix=prefix)


def issued_records(requests: list[InitiatingRequest]) -> list[list[Any]]:
    """What issuing each request stores (its orders and its record), from memory."""
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(make_specs())
    issuer = ResourceOrderIssuer(store, RuleSet(make_rules(RULES)))
    return [[*result.orders, result.record] for result in map(issuer.issue, requests)]


def issue_all(issuer: ResourceOrderIssuer, requests: list[Any], per_tx: int) -> None:
    for n in range(0, len(requests), per_tx):
        for outcome in issuer.issue_many(requests[n : n + per_tx]):
            if isinstance(outcome, ek.EtomkitError):
                raise outcome


def issuing_table(conninfo: str, schema: str, counts: dict[int, int], rounds: int) -> None:
    print("\n## issue_many end to end (service order items/s)\n")
    rules = RuleSet(make_rules(RULES))
    with tempfile.TemporaryDirectory() as folder:
        pg = PostgresStore(conninfo, schema=schema + "_issue", pool_size=1)
        # no compaction inside the timed run (as in bench/filestore.py): a compaction
        # re-encodes every live record, which would slow the FileStore side of the table
        files = ek.FileStore(Path(folder) / "issue", durability="batch", compact_min_bytes=1 << 40)
        lite = SqliteSide(Path(folder) / "issue.db")
        floor_store = PostgresStore(conninfo, schema=schema + "_floor", pool_size=1)
        floor = DriverFloor(conninfo, schema + "_floor")
        for store in (pg, files):
            store.resource_specifications.add_all(make_specs())
        issuers = {"PostgresStore": ResourceOrderIssuer(pg, rules)}
        issuers["FileStore"] = ResourceOrderIssuer(files, rules)
        print(
            "| requests per transaction | PostgresStore | FileStore | sqlite3 (writes only) "
            "| psycopg floor (pre-encoded) | bare rows (no terms, no reads) "
            "| Postgres / FileStore | Postgres / sqlite | floor / sqlite |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        try:
            for per_tx, count in counts.items():
                rates: dict[str, list[float]] = {
                    "PostgresStore": [],
                    "FileStore": [],
                    "sqlite3": [],
                    "floor": [],
                    "bare": [],
                }
                for r in range(rounds):
                    for name, issuer in issuers.items():
                        requests = requests_for(f"{name[0]}{per_tx}-{r}", count)
                        elapsed = timed(partial(issue_all, issuer, requests, per_tx))
                        rates[name].append(10 * count / elapsed)
                    records = issued_records(requests_for(f"S{per_tx}-{r}", count))
                    batches = [
                        [e for rec in records[n : n + per_tx] for e in rec]
                        for n in range(0, count, per_tx)
                    ]
                    elapsed = sum(timed(partial(lite.write, b)) for b in batches)
                    rates["sqlite3"].append(10 * count / elapsed)
                    records = issued_records(requests_for(f"R{per_tx}-{r}", count))
                    ready = [
                        DriverFloor.prepared([e for rec in records[n : n + per_tx] for e in rec])
                        for n in range(0, count, per_tx)
                    ]
                    elapsed = sum(timed(partial(floor.write, b)) for b in ready)
                    rates["floor"].append(10 * count / elapsed)
                    elapsed = sum(timed(partial(floor.write_bare, b)) for b in ready)
                    rates["bare"].append(10 * count / elapsed)
                m = {k: statistics.median(v) for k, v in rates.items()}
                print(
                    f"| {per_tx} | {m['PostgresStore']:,.0f} | {m['FileStore']:,.0f} "
                    f"| {m['sqlite3']:,.0f} | {m['floor']:,.0f} | {m['bare']:,.0f} "
                    f"| {m['PostgresStore'] / m['FileStore']:.2f}x "
                    f"| {m['PostgresStore'] / m['sqlite3']:.2f}x "
                    f"| {m['floor'] / m['sqlite3']:.2f}x |"
                )
        finally:
            pg.drop()
            pg.close()
            floor.conn.close()
            floor_store.drop()
            floor_store.close()
            files.close()


# ---------------------------------------------------------------------- 5. workers


def _worker(conninfo: str, schema: str, prefix: str, count: int, go: Any, out: Any) -> None:
    store = PostgresStore(conninfo, schema=schema, migrate=False, pool_size=1)
    issuer = ResourceOrderIssuer(store, RuleSet(make_rules(RULES)))
    requests = requests_for(prefix, count)
    out.put("ready")
    go.wait()
    start = time.time()
    issue_all(issuer, requests, 100)
    out.put((start, time.time(), 10 * count))
    store.close()


def workers_table(conninfo: str, schema: str, per_worker: int) -> None:
    print(
        f"\n## issue_many from worker processes (100 per transaction, {per_worker} requests each)\n"
    )
    name = schema + "_workers"
    setup = PostgresStore(conninfo, schema=name, pool_size=1)
    setup.resource_specifications.add_all(make_specs())
    context = mp.get_context("spawn")
    print("| workers | aggregate items/s | vs 1 worker |")
    print("|---:|---:|---:|")
    first = 0.0
    try:
        for workers in (1, 2, 4):
            go, out = context.Event(), context.Queue()
            procs = [
                context.Process(
                    target=_worker, args=(conninfo, name, f"W{workers}-{w}", per_worker, go, out)
                )
                for w in range(workers)
            ]
            for proc in procs:
                proc.start()
            for _ in procs:
                assert out.get(timeout=300) == "ready"
            go.set()
            results = [out.get(timeout=900) for _ in procs]
            for proc in procs:
                proc.join()
            span = max(r[1] for r in results) - min(r[0] for r in results)
            rate = sum(r[2] for r in results) / span
            first = first or rate
            print(f"| {workers} | {rate:,.0f} | {rate / first:.2f}x |")
    finally:
        setup.drop()
        setup.close()


# ---------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conninfo", default="host=127.0.0.1 user=postgres dbname=test")
    parser.add_argument("--quick", action="store_true", help="100,000 products, fewer requests")
    parser.add_argument("--products", type=int, help="stored products for the reads")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3; --quick 2)")
    parser.add_argument("--only", default="12345", help="the sections to run, e.g. 45")
    args = parser.parse_args()
    quick = args.quick
    total = args.products or (100_000 if quick else 1_000_000)
    rounds = args.rounds or (2 if quick else 3)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        pg = PostgresStore(args.conninfo, schema=schema, pool_size=2)
        try:
            if "1" in args.only:
                orders = [e for rec in issued_records(requests_for("D", 500)) for e in rec]
                document_column(args.conninfo, schema, [encoded(o) for o in orders], rounds)
            if "2" in args.only:
                file_store = ek.FileStore(
                    Path(folder) / "file", durability="batch", compact_min_bytes=1 << 40
                )
                lite = SqliteSide(Path(folder) / "lite.db")
                sides = {"PostgresStore": store_writer(pg), "FileStore": store_writer(file_store)}
                writes_table({**sides, "sqlite3": lite.write}, rounds)
                file_store.close()
            if "3" in args.only:
                with psycopg.connect(args.conninfo, autocommit=True) as conn:
                    conn.execute(
                        f'TRUNCATE "{schema}".entity, "{schema}".term, "{schema}".term_tally'
                    )
                start = time.perf_counter()
                for first in range(0, total, 5000):
                    with pg.transaction():
                        pg.products.add_all(
                            [product(n) for n in range(first, min(first + 5000, total))]
                        )
                load = time.perf_counter() - start
                print(f"\nloaded {total:,} products in {load:.0f} s ({total / load:,.0f}/s)")
                with psycopg.connect(args.conninfo, autocommit=True) as conn:
                    conn.execute(f'VACUUM ANALYZE "{schema}".entity')
                    conn.execute(f'VACUUM ANALYZE "{schema}".term')
                reads_table(pg, total)
            if "4" in args.only:
                counts = {1: 200, 100: 2000} if quick else {1: 500, 100: 5000}
                issuing_table(args.conninfo, schema, counts, rounds)
            if "5" in args.only:
                workers_table(args.conninfo, schema, 400 if quick else 1500)
        finally:
            pg.drop()
            pg.close()


if __name__ == "__main__":
    main()
