"""Schema version 3 (issue #14): pages from the ``term_seq`` index in insertion
order, totals from the per-backend ``term_tally`` rows. The totals and pages
agree with the in-memory store after generated writes (rolled-back units and
savepoints, refused keys, the COPY path), under concurrent writers and folds,
and after upgrading a populated version-2 schema."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import attrs
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore
from etomkit.adapters.postgres.batch import COPY_FROM
from etomkit.adapters.postgres.schema import SCHEMA_VERSION, TALLIED, migration_sql
from etomkit.adapters.postgres.tally import FOLD_ABOVE
from etomkit.ports import Store

STATUSES = ("active", "suspended", "created")
OFFERINGS = ("po-a", "po-b")
CUSTOMERS = ("c-1", "c-2", "c-3")
Make = Callable[..., PostgresStore]


class RolledBackError(Exception):
    """Rolls a unit of work back."""


def product(n: int, status: str, offering: str, customer: str, item: int | None = None) -> Any:
    return ek.Product(
        id=f"p-{n}",
        status=status,
        product_offering=ek.EntityRef(id=offering, referred_type="ProductOffering"),
        related_party=(ek.RelatedParty(id=customer, role="customer", referred_type="Customer"),),
        product_order_item=(
            ek.OrderItemRef(order_id=f"o-{n if item is None else item}", item_id="1"),
        ),
    )


def filters() -> list[Any]:
    """Every filter the tests compare: each term alone, sets of one kind, and pairs."""
    found: list[Any] = [None, ek.ProductFilter(status={"active", "created"})]
    found += [ek.ProductFilter(status=s) for s in STATUSES]
    found += [ek.ProductFilter(offering_id=o) for o in OFFERINGS]
    found += [ek.ProductFilter(customer_id=c) for c in CUSTOMERS]
    found += [ek.ProductFilter(status="active", customer_id=c) for c in CUSTOMERS]
    found += [ek.ProductFilter(status={"active", "created"}, offering_id=o) for o in OFFERINGS]
    found += [ek.ProductFilter(status="suspended", offering_id="po-b", customer_id="c-2")]
    return found


def assert_agree(pg: Store, ref: Store) -> None:
    """Totals and pages (whole, and one from the middle) equal the reference's."""
    for where in filters():
        for offset, limit in [(0, None), (1, 3)]:
            got = pg.products.query(where, offset=offset, limit=limit)
            want = ref.products.query(where, offset=offset, limit=limit)
            assert got.total == want.total, where
            assert [p.id for p in got.items] == [p.id for p in want.items], where


def assert_consistent(conninfo: str, schema: str) -> None:
    """Every tally equals the count of its term's rows; every term row has its
    entity's seq."""
    kinds = [(ns, prefix + "%") for ns, prefix in TALLIED]
    with psycopg.connect(conninfo) as conn:
        tallies = conn.execute(
            f'SELECT ns, term, sum(n) FROM "{schema}".term_tally GROUP BY ns, term'
            " HAVING sum(n) <> 0"
        ).fetchall()
        counts = conn.execute(
            f'SELECT t.ns, t.term, count(*) FROM "{schema}".term t'
            " JOIN unnest(%s::text[], %s::text[]) AS k(ns, p) ON k.ns = t.ns AND t.term LIKE k.p"
            " GROUP BY t.ns, t.term",
            ([k[0] for k in kinds], [k[1] for k in kinds]),
        ).fetchall()
        assert sorted(tallies) == sorted(counts)
        astray = conn.execute(
            f'SELECT count(*) FROM "{schema}".term t LEFT JOIN "{schema}".entity e'
            " ON e.ns = t.ns AND e.id = t.id WHERE e.seq IS DISTINCT FROM t.seq"
        ).fetchone()
        assert astray == (0,)


# ---------------------------------------------------------------------- generated writes

_values = st.tuples(st.sampled_from(STATUSES), st.sampled_from(OFFERINGS))
_write = st.one_of(
    st.tuples(st.just("add"), _values, st.sampled_from(CUSTOMERS)),
    st.tuples(st.just("add_all"), st.sampled_from([3, COPY_FROM + 2]), _values),
    st.tuples(st.just("taken"), st.sampled_from([1, 3, COPY_FROM + 2]), st.integers(0, 99)),
    st.tuples(st.just("replace"), st.integers(0, 99), _values),
    st.tuples(st.just("remove"), st.integers(0, 99)),
)
_step = st.one_of(
    _write,
    st.tuples(st.just("savepoint"), st.lists(_write, max_size=3), st.booleans()),
)
_batch = st.one_of(
    _write,
    st.tuples(st.just("unit"), st.lists(_step, max_size=5), st.booleans()),
)


class Writer:
    """Applies generated steps to a store (the ids picked from the reference)."""

    def __init__(self, ref: Store) -> None:
        self.ref = ref
        self.next = 0

    def fresh(self, status: str, offering: str, customer: str, item: int | None = None) -> Any:
        self.next += 1
        return product(self.next, status, offering, customer, item)

    def stored(self, index: int) -> Any:
        page = self.ref.products.query()
        return page.items[index % len(page.items)] if page.items else None

    def plan(self, step: tuple[Any, ...]) -> Callable[[Store], object] | None:
        """The step as a write both stores make (None if it has nothing to act on)."""
        kind = step[0]
        if kind == "add":
            status, offering = step[1]
            entity = self.fresh(status, offering, step[2])
            return lambda s: s.products.add(entity)
        if kind == "add_all":
            status, offering = step[2]
            batch = [self.fresh(status, offering, CUSTOMERS[n % 3]) for n in range(step[1])]
            return lambda s: s.products.add_all(batch)
        if kind == "taken":  # the last entity reuses a stored product's order item
            holder = self.stored(step[2])
            if holder is None:
                return None
            item = int(holder.product_order_item[0].order_id[2:])
            batch = [self.fresh("active", "po-a", "c-1") for _ in range(step[1] - 1)]
            batch.append(self.fresh("suspended", "po-b", "c-2", item))
            return lambda s: s.products.add_all(batch)
        target = self.stored(step[1])
        if target is None:
            return None
        if kind == "replace":
            status, offering = step[2]
            ref = ek.EntityRef(id=offering, referred_type="ProductOffering")
            changed = attrs.evolve(target, status=status, product_offering=ref)
            return lambda s: s.products.replace(changed)
        return lambda s: s.products.remove(target.id)

    def both(self, stores: tuple[Store, Store], step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind in ("unit", "savepoint"):
            _, steps, commit = step
            with suppress(RolledBackError), stores[0].transaction(), stores[1].transaction():
                for inner in steps:
                    self.both(stores, inner)
                if not commit:
                    raise RolledBackError
            return
        write = self.plan(step)
        if write is None:
            return
        outcomes: list[str | None] = []
        for store in stores:
            try:
                write(store)
                outcomes.append(None)
            except ek.DuplicateKeyError as e:
                outcomes.append(e.key)
        assert outcomes[0] == outcomes[1], step


@pytest.fixture
def pg_schema(make_postgres_store: Make, postgres_conninfo: str) -> tuple[PostgresStore, str]:
    store = make_postgres_store()
    return store, postgres_conninfo


def _emptied(store: PostgresStore, conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        names = ", ".join(f'"{store.schema}".{t}' for t in ("entity", "term", "term_tally"))
        conn.execute(f"TRUNCATE {names}")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(_batch, min_size=1, max_size=8))
def test_totals_and_pages_agree_with_the_in_memory_store(
    pg_schema: tuple[PostgresStore, str], batches: list[tuple[Any, ...]]
) -> None:
    pg, conninfo = pg_schema
    _emptied(pg, conninfo)
    ref = ek.InMemoryStore()
    writer = Writer(ref)
    for batch in batches:
        writer.both((pg, ref), batch)
    assert_agree(pg, ref)
    assert_consistent(conninfo, pg.schema)


# ---------------------------------------------------------------------- order


def test_a_replaced_product_keeps_its_place_in_every_page(make_postgres_store: Make) -> None:
    pg, ref = make_postgres_store(), ek.InMemoryStore()
    for store in (pg, ref):
        store.products.add_all([product(n, "active", "po-a", "c-1") for n in range(5)])
        store.products.add(product(9, "suspended", "po-b", "c-1"))
        for status in ("suspended", "active"):  # p-1 leaves status=active and comes back
            current = store.products.get("p-1")
            store.products.replace(attrs.evolve(current, status=status))
    page = pg.products.query(ek.ProductFilter(status="active"), offset=1, limit=2)
    assert [p.id for p in page.items] == ["p-1", "p-2"]
    assert page.total == 5
    assert_agree(pg, ref)


# ---------------------------------------------------------------------- folds


def _tally_rows(conninfo: str, schema: str, term: str) -> list[tuple[int, int]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f'SELECT shard, n FROM "{schema}".term_tally WHERE ns = %s AND term = %s',
            ("product", term),
        ).fetchall()
    return [(int(s), int(n)) for s, n in rows]


def test_a_query_folds_a_term_written_by_many_backends(
    make_postgres_store: Make, postgres_conninfo: str
) -> None:
    first = make_postgres_store()
    writers = FOLD_ABOVE + 4
    for n in range(writers):  # each store its own connection, so its own backend
        store = make_postgres_store(first.schema, migrate=False, pool_size=1)
        store.products.add(product(n, "suspended", "po-a", "c-1"))
        store.close()
    assert len(_tally_rows(postgres_conninfo, first.schema, "status=suspended")) == writers
    page = first.products.query(ek.ProductFilter(status="suspended"), limit=1)
    assert page.total == writers
    assert _tally_rows(postgres_conninfo, first.schema, "status=suspended")[0][1] == writers
    assert len(_tally_rows(postgres_conninfo, first.schema, "status=suspended")) == 1
    assert first.products.query(ek.ProductFilter(status="suspended")).total == writers


def test_a_fold_skips_the_rows_an_open_transaction_holds(
    make_postgres_store: Make, postgres_conninfo: str
) -> None:
    holder = make_postgres_store(pool_size=1)
    other = make_postgres_store(holder.schema, migrate=False, pool_size=1)
    other.products.add(product(1, "active", "po-a", "c-1"))
    folder = make_postgres_store(holder.schema, migrate=False, statement_timeout=5)
    with holder.transaction():
        holder.products.add(product(2, "active", "po-a", "c-1"))
        assert folder.fold_tallies() >= 1  # took other's rows, did not wait for holder's
        assert folder.products.query(ek.ProductFilter(status="active")).total == 1
    assert folder.products.query(ek.ProductFilter(status="active")).total == 2
    assert folder.fold_tallies() >= 1
    assert _tally_rows(postgres_conninfo, holder.schema, "status=active")[0][1] == 2
    assert len(_tally_rows(postgres_conninfo, holder.schema, "status=active")) == 1


def test_concurrent_writers_and_folds_lose_and_double_no_count(
    make_postgres_store: Make, postgres_conninfo: str
) -> None:
    schema = make_postgres_store().schema
    workers, rounds = 4, 30
    stores = [make_postgres_store(schema, migrate=False, pool_size=1) for _ in range(workers)]
    folders = [make_postgres_store(schema, migrate=False, pool_size=1) for _ in range(2)]
    expected = [dict.fromkeys(STATUSES, 0) for _ in range(workers)]
    errors: list[BaseException] = []
    done = threading.Event()

    def write(k: int) -> None:
        store, mine = stores[k], expected[k]
        try:
            for r in range(rounds):
                n = k * 10_000 + r * 10
                batch = [product(n + i, STATUSES[(r + i) % 3], "po-a", "c-1") for i in range(3)]
                with suppress(RolledBackError), store.transaction():
                    store.products.add_all(batch)
                    with suppress(RolledBackError), store.transaction():  # a savepoint rolled back
                        store.products.add(product(n + 5, "created", "po-b", "c-2"))
                        raise RolledBackError
                    if r % 4 == 3:
                        raise RolledBackError  # the whole unit rolled back
                if r % 4 == 3:
                    continue
                for p in batch:
                    mine[p.status] += 1
                changed = attrs.evolve(store.products.get(f"p-{n}"), status="suspended")
                store.products.replace(changed)
                mine[batch[0].status] -= 1
                mine["suspended"] += 1
                removed = store.products.remove(f"p-{n + 1}")
                mine[removed.status] -= 1
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    def fold(store: PostgresStore) -> None:
        try:
            while not done.is_set():
                store.fold_tallies()
                store.products.query(ek.ProductFilter(status="active"), limit=1)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(workers)]
    folding = [threading.Thread(target=fold, args=(f,)) for f in folders]
    for thread in threads + folding:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in folding:
        thread.join()
    assert errors == []
    for status in STATUSES:
        want = sum(mine[status] for mine in expected)
        assert stores[0].products.query(ek.ProductFilter(status=status)).total == want
    assert_consistent(postgres_conninfo, schema)
    folders[0].fold_tallies()
    for status in STATUSES:
        assert len(_tally_rows(postgres_conninfo, schema, f"status={status}")) <= 1


# ---------------------------------------------------------------------- version 2 → 3


def test_a_populated_version_2_schema_upgrades_to_version_3(
    make_postgres_store: Make, postgres_conninfo: str
) -> None:
    ref = ek.InMemoryStore()
    current = make_postgres_store()
    old = make_postgres_store().schema
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{old}" CASCADE')
        with conn.transaction():
            for version in (1, 2):
                for statement in migration_sql(version, f'"{old}"'):
                    conn.execute(statement.encode())
                conn.execute(f'INSERT INTO "{old}".schema_version (version) VALUES ({version})')
    writer = Writer(ref)
    for store in (current, ref):
        writer.next = 0
        batch = [
            writer.fresh(STATUSES[n % 2], OFFERINGS[n % 2], CUSTOMERS[n % 3]) for n in range(80)
        ]
        store.products.add_all(batch)
        store.products.replace(attrs.evolve(store.products.get("p-3"), status="created"))
        store.products.remove("p-4")
        store.offerings.add(ek.ProductOffering(id="po-a", name="Fibre", lifecycle_status="Active"))
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:  # what version 2 held
        new, v2 = f'"{current.schema}"', f'"{old}"'
        conn.execute(
            f"INSERT INTO {v2}.entity (ns, id, seq, revision, doc) OVERRIDING SYSTEM VALUE"
            f" SELECT ns, id, seq, revision, doc FROM {new}.entity"
        )
        conn.execute(
            f"INSERT INTO {v2}.term (ns, term, id, uniq) SELECT ns, term, id, uniq FROM {new}.term"
        )
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{v2}.entity', 'seq'), max(seq))"
            f" FROM {v2}.entity"
        )
    with pytest.raises(ek.StorageError, match=f"version 2.*version {SCHEMA_VERSION}"):
        make_postgres_store(old, migrate=False)
    upgraded = make_postgres_store(old)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert_consistent(postgres_conninfo, old)
    assert_agree(upgraded, ref)
    assert upgraded.offerings.query(ek.OfferingFilter(lifecycle_status="Active")).total == 1
    for store in (upgraded, ref):  # and it goes on writing in order
        store.products.add(product(500, "active", "po-a", "c-1"))
        store.products.replace(attrs.evolve(store.products.get("p-1"), status="active"))
    assert_agree(upgraded, ref)
    assert_consistent(postgres_conninfo, old)
