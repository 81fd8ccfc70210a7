"""PostgresStore beyond the contracts: migrations, lost connections, the usage log,
and import isolation (``import etomkit`` never touches psycopg)."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import cast

import attrs
import psycopg
import pytest
from psycopg import sql

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore, PostgresUsageLog
from etomkit.adapters.postgres.batch import COPY_FROM
from etomkit.adapters.postgres.repositories import PostgresProductRepository
from etomkit.adapters.postgres.schema import SCHEMA_VERSION
from etomkit.model.issuance import FeasibilityAssessment
from etomkit.model.resource_order import ResourceOrderFilter
from etomkit.testing.access_contracts import UsageLogContract, UsageLogFactory
from etomkit.testing.contracts.ordering import issuance_record, resource_order

pytestmark = pytest.mark.usefixtures("postgres_conninfo")


def test_import_etomkit_never_imports_psycopg() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None\n"
        "import etomkit, etomkit.testing.contracts\n"
        "store = etomkit.FileStore\n"
        "assert not [m for m in sys.modules if m.startswith('psycopg') and sys.modules[m]]\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_migrate_records_the_version_and_a_reopen_needs_no_migration(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    assert store.schema_version() == SCHEMA_VERSION
    store.offerings.add(ek.ProductOffering(id="po-1", name="Fibre"))
    again = make_postgres_store(schema=store.schema, migrate=False)
    assert again.offerings.get("po-1").name == "Fibre"
    assert again.migrate() == SCHEMA_VERSION  # idempotent


def test_a_schema_without_etomkit_tables_is_refused_without_migrate(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    with pytest.raises(ek.StorageError, match=f"no etomkit schema.*reads version {SCHEMA_VERSION}"):
        make_postgres_store(migrate=False)


def test_a_schema_newer_than_the_code_is_refused_and_left_unchanged(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'INSERT INTO "{store.schema}".schema_version (version) VALUES (99)')
    for migrate in (False, True):
        with pytest.raises(ek.StorageError, match=f"99.*{SCHEMA_VERSION}|{SCHEMA_VERSION}.*99"):
            make_postgres_store(schema=store.schema, migrate=migrate)
    with psycopg.connect(postgres_conninfo) as conn:
        versions = conn.execute(f'SELECT version FROM "{store.schema}".schema_version').fetchall()
    assert sorted(v for (v,) in versions) == [*range(1, SCHEMA_VERSION + 1), 99]


def test_terminated_connections_leave_no_partial_transaction_and_lose_no_acknowledged_write(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store()
    rng = random.Random(20261201)
    acknowledged: list[str] = []
    killed = 0
    with psycopg.connect(postgres_conninfo, autocommit=True) as admin:
        for round_no in range(60):
            writes = rng.randint(1, 6)
            kill_at = rng.randint(0, writes)  # == writes: kill just before the commit
            ids = [f"r{round_no}-{n}" for n in range(writes)]
            try:
                with store.transaction():
                    for n, offering_id in enumerate(ids):
                        if n == kill_at or (kill_at == writes and n == writes - 1):
                            pid = store._local.conn.info.backend_pid  # type: ignore[union-attr]
                            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                            killed += 1
                        store.offerings.add(ek.ProductOffering(id=offering_id, name="x"))
            except ek.StorageError:
                pass
            else:
                acknowledged.extend(ids)
            stored = {o.id for o in store.offerings.iterate()}  # the next call works
            assert not (set(ids) & stored) or set(ids) <= stored  # all or nothing
            assert set(acknowledged) <= stored
    assert killed >= 50
    assert {o.id for o in store.offerings.iterate()} == set(acknowledged)


def test_a_call_on_a_connection_terminated_while_idle_is_retried_on_a_fresh_one(
    make_postgres_store: Callable[..., PostgresStore], postgres_conninfo: str
) -> None:
    store = make_postgres_store(pool_size=1)
    store.offerings.add(ek.ProductOffering(id="po-1", name="x"))
    with psycopg.connect(postgres_conninfo, autocommit=True) as admin:
        for write in (False, True):
            with store._pool.connection() as conn:  # the pool's one connection
                pid = conn.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # and gone
            if write:  # the dead connection is found before the write is sent: retried
                assert store.offerings.add(ek.ProductOffering(id="po-2", name="y")).revision == 1
            else:  # a read is retried on a fresh connection
                assert store.offerings.get("po-1").id == "po-1"
    assert [o.id for o in store.offerings.iterate()] == ["po-1", "po-2"]


def test_racing_threads_share_one_store_without_lost_updates(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store(pool_size=4)
    store.offerings.add(ek.ProductOffering(id="po-1", name="Counter", description="0"))
    inventory = ek.ProductOfferingInventory(store)

    def bump(times: int) -> None:
        for _ in range(times):
            while True:
                current = inventory.get_offering("po-1")
                try:
                    inventory.modify_offering(
                        "po-1",
                        {"description": str(int(current.description or "0") + 1)},
                        expected_revision=current.revision,
                    )
                    break
                except ek.ConflictError:
                    continue

    threads = [threading.Thread(target=bump, args=(15,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inventory.get_offering("po-1").description == "60"


class TestPostgresUsageLog(UsageLogContract):
    @pytest.fixture
    def make_log(self, make_postgres_store: Callable[..., PostgresStore]) -> UsageLogFactory:
        """One store per test (one pool), its usage table emptied for each log made:
        a store per generated example would hold a pool open per example."""
        store = make_postgres_store(pool_size=1)

        def fresh() -> PostgresUsageLog:
            truncate = sql.SQL("TRUNCATE {}").format(store.qualified("usage"))
            store.run("empty the usage log", lambda c: c.execute(truncate))
            return PostgresUsageLog(store)

        return fresh


def _product(product_id: str, order_id: str) -> ek.Product:
    return ek.Product(
        id=product_id,
        product_offering=ek.EntityRef(id="po-1"),
        related_party=(ek.RelatedParty(id="cust-1", role="customer"),),
        product_order_item=(ek.OrderItemRef(order_id=order_id, item_id="1"),),
    )


def test_a_batch_add_is_all_or_none_and_names_the_key_it_refused(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    store.products.add(_product("p-0", "ord-0"))
    with pytest.raises(ek.DuplicateKeyError) as taken_key:
        store.products.add_all([_product("p-1", "ord-1"), _product("p-2", "ord-0")])
    assert (taken_key.value.key, taken_key.value.existing_id) == ("product_order_item", "p-0")
    with pytest.raises(ek.DuplicateKeyError) as in_batch:
        store.products.add_all([_product("p-3", "ord-3"), _product("p-4", "ord-3")])
    assert in_batch.value.existing_id == "p-3"
    with pytest.raises(ek.DuplicateKeyError) as taken_id:
        store.products.add_all([_product("p-5", "ord-5"), _product("p-0", "ord-6")])
    assert taken_id.value.key == "id"
    assert [p.id for p in store.products.iterate()] == ["p-0"]
    added = store.products.add_all([_product(f"q-{n}", f"o-{n}") for n in range(5)])
    assert [p.id for p in store.products.iterate()] == ["p-0", *[p.id for p in added]]


@pytest.mark.parametrize("size", [2, COPY_FROM + 6], ids=["one statement", "copy"])
@pytest.mark.parametrize("in_unit", [False, True], ids=["own transaction", "in a unit"])
def test_a_batch_of_any_size_refuses_like_adds_one_by_one_and_stores_nothing(
    make_postgres_store: Callable[..., PostgresStore], size: int, in_unit: bool
) -> None:
    store = make_postgres_store()
    store.products.add(_product("p-0", "ord-0"))
    fresh = [_product(f"n-{n}", f"on-{n}") for n in range(size - 1)]
    refused = {
        "a stored order item": ([*fresh, _product("x-1", "ord-0")], "product_order_item", "p-0"),
        "a repeated order item": ([*fresh, _product("x-2", "on-0")], "product_order_item", "n-0"),
        "a stored id": ([*fresh, _product("p-0", "ord-9")], "id", "p-0"),
        "a repeated id": ([*fresh, _product("n-0", "ord-8")], "id", "n-0"),
    }
    for why, (batch, key, holder) in refused.items():
        with store.transaction() if in_unit else contextlib.nullcontext():
            with pytest.raises(ek.DuplicateKeyError) as error:
                store.products.add_all(batch)
            assert (error.value.key, error.value.existing_id) == (key, holder), why
            assert [p.id for p in store.products.iterate()] == ["p-0"], why
            store.products.add(_product("kept", f"kept-{why}"))  # the unit goes on
            store.products.remove("kept")
    added = cast(PostgresProductRepository, store.products).add_all(fresh, checked=True)
    assert [p.id for p in store.products.iterate()] == ["p-0", *[p.id for p in fresh]]
    assert all(p.revision == 1 for p in added)
    found = store.products.find_by_order_item("on-0", "1")
    assert found is not None and found.id == "n-0"
    page = store.products.query(ek.ProductFilter(customer_id="cust-1"), offset=1, limit=2)
    assert (page.total, [p.id for p in page.items]) == (size, [p.id for p in fresh[:2]])


def test_find_many_reads_the_stored_ones_in_one_query_and_remove_takes_the_terms(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    store.products.add_all([_product(f"p-{n}", f"o-{n}") for n in range(3)])
    products = cast(PostgresProductRepository, store.products)
    found = products.find_many(["p-2", "nope", "p-0", "p-2"])
    assert {k: v.id for k, v in found.items()} == {"p-2": "p-2", "p-0": "p-0"}
    assert products.find_many([]) == {}
    with pytest.raises(ek.ConflictError):
        store.products.remove("p-1", expected_revision=7)
    assert store.products.remove("p-1", expected_revision=1).id == "p-1"
    with pytest.raises(ek.NotFoundError):
        store.products.remove("p-1")
    assert store.products.find_by_order_item("o-1", "1") is None
    store.products.add(_product("p-9", "o-1"))  # the order item is free again
    assert store.products.query(ek.ProductFilter(customer_id="cust-1")).total == 3


def test_ids_and_terms_with_nul_and_backslash_round_trip(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    odd = ["a\x00b", "a\\0b", "a\\\\0b", "\\"]
    for n, entity_id in enumerate(odd):
        store.products.add(_product(entity_id, f"ord\x00{n}\\"))
    assert [p.id for p in store.products.iterate()] == odd
    for n, entity_id in enumerate(odd):
        assert store.products.get(entity_id).id == entity_id
        found = store.products.find_by_order_item(f"ord\x00{n}\\", "1")
        assert found is not None and found.id == entity_id


def test_specifications_read_in_a_unit_are_remembered_but_never_past_a_write_or_rollback(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    specs = store.resource_specifications
    specs.add(ek.ResourceSpecification(id="ont", name="a"))

    def rename_then_fail() -> None:
        with store.transaction():
            specs.replace(attrs.evolve(specs.get("ont"), name="b"))
            assert specs.get("ont").name == "b"
            raise RuntimeError

    with store.transaction():
        assert specs.get("ont").name == "a" and specs.find("vlan") is None
        with pytest.raises(RuntimeError):
            rename_then_fail()
        assert specs.get("ont").name == "a"  # the nested unit rolled back
        specs.add(ek.ResourceSpecification(id="vlan", name="v"))
        assert specs.get("vlan").name == "v"  # not the None read before
    assert specs.get("ont").revision == 1 and specs.get("vlan").name == "v"


def test_a_unit_whose_statement_failed_is_not_reported_committed(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()

    def swallow_a_failed_statement() -> None:
        with store.transaction():
            store.offerings.add(ek.ProductOffering(id="po-1", name="x"))
            with contextlib.suppress(ek.StorageError):
                store.run("fail", lambda c: c.execute("SELECT 1/0"))

    with pytest.raises(ek.StorageError, match="rolled back"):
        swallow_a_failed_statement()
    assert "po-1" not in store.offerings
    with store.transaction(), store.transaction():  # empty units: nothing is sent
        pass
    with store.transaction():
        with contextlib.suppress(ek.ConflictError), store.transaction():
            store.offerings.add(ek.ProductOffering(id="po-2", name="x"))
            store.offerings.add(ek.ProductOffering(id="po-2", name="x"))
        store.offerings.add(ek.ProductOffering(id="po-3", name="x"))
    assert [o.id for o in store.offerings.iterate()] == ["po-3"]


@pytest.mark.parametrize("prefetch", [1, 64], ids=["catalogue too large", "read whole"])
def test_a_unit_reads_the_catalogue_it_prefetched_exactly_as_stored(
    make_postgres_store: Callable[..., PostgresStore],
    monkeypatch: pytest.MonkeyPatch,
    prefetch: int,
) -> None:
    store = make_postgres_store()
    specs = store.resource_specifications
    monkeypatch.setattr(type(specs), "PREFETCH", prefetch)
    specs.add_all([ek.ResourceSpecification(id=f"s-{n}", name=f"n{n}") for n in range(3)])
    for _ in range(2):  # the second unit: after the first saw a large catalogue, or not
        with store.transaction():
            assert specs.find("missing") is None
            assert [specs.get(f"s-{n}").name for n in (2, 0, 1, 2)] == ["n2", "n0", "n1", "n2"]
            assert "s-1" in specs and specs.find(None) is None  # type: ignore[arg-type]


def test_an_unchanged_specification_is_the_same_object_in_every_unit_and_a_change_is_read(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    other = make_postgres_store(schema=store.schema)  # another host on the same schema
    specs = store.resource_specifications
    specs.add(ek.ResourceSpecification(id="ont", name="a"))
    with store.transaction():
        first = specs.get("ont")
    with store.transaction():
        assert specs.get("ont") is first  # the issuer's checks stay bound to it
    assert specs.get("ont") is first
    other.resource_specifications.remove("ont")  # gone, then back at revision 1
    other.resource_specifications.add(ek.ResourceSpecification(id="ont", name="b"))
    with store.transaction():
        again = specs.get("ont")
        assert again.name == "b" and again.revision == 1 and again is not first
    other.resource_specifications.replace(attrs.evolve(again, name="c"))
    with store.transaction():
        assert specs.get("ont").name == "c" and specs.get("ont").revision == 2


def _counted_runs(store: PostgresStore) -> list[str]:
    """What each ``store.run`` call from now on says it does, in order (one entry
    per call: a round trip, or one unit-of-work step sent with others)."""
    runs: list[str] = []
    run = store.run

    def counted(what: str, *args: object, **kwargs: object) -> object:
        runs.append(what)
        return run(what, *args, **kwargs)  # type: ignore[arg-type]

    store.run = counted  # type: ignore[assignment,method-assign]
    return runs


def test_assessments_of_the_requests_a_batch_expects_are_read_together_and_never_stale(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    assessments = store.feasibility_assessments
    assessments.add_all(
        [
            FeasibilityAssessment(id="fa-1", request_id="SO-1"),
            FeasibilityAssessment(id="fa-2", request_id="SO-1", item_id="2"),
            FeasibilityAssessment(id="fa-3", request_id="SO-2", item_id="1", feasible=False),
        ]
    )
    reads = _counted_runs(store)
    keys = ["serviceOrder:SO-1", "serviceOrder:SO-2", "serviceOrder:SO-3"]
    with store.transaction():
        assessments.expect_requests(keys)
        found = [assessments.find_for(k, i) for k in keys for i in ("1", "2")]
        assert [a.id if a else None for a in found] == ["fa-1", "fa-2", "fa-3", None, None, None]
        assert reads == ["read feasibility assessments"]  # one query for the three
        with contextlib.suppress(RuntimeError), store.transaction():
            assessments.add(FeasibilityAssessment(id="fa-4", request_id="SO-3"))
            assert assessments.find_for(keys[2], "1").id == "fa-4"  # type: ignore[union-attr]
            raise RuntimeError
        assert assessments.find_for(keys[2], "1") is None  # rolled back with its unit
    assert assessments.find_for(keys[0], "2").id == "fa-2"  # type: ignore[union-attr]


def test_an_expected_catalogue_goes_with_the_units_next_read_and_is_never_stale(
    make_postgres_store: Callable[..., PostgresStore],
) -> None:
    store = make_postgres_store()
    other = make_postgres_store(schema=store.schema, migrate=False)
    specs = store.resource_specifications
    specs.add_all(
        [
            ek.ResourceSpecification(id="ont", name="a"),
            ek.ResourceSpecification(id="vlan", name="v"),
        ]
    )
    runs = _counted_runs(store)
    with store.transaction():
        specs.expect_lookups()
        assert store.issuance_records.find_many(["serviceOrder:SO-1"]) == {}
        assert specs.get("ont").name == "a" and specs.find("gone") is None
        assert runs == ["read IssuanceRecord"]  # the catalogue came with the records
        other.resource_specifications.add(ek.ResourceSpecification(id="olt", name="o"))
    runs.clear()
    with store.transaction():
        specs.expect_lookups()
        assert specs.get("olt").name == "o"  # a new unit reads the catalogue afresh
        assert runs == ["read resource specifications"]
        with contextlib.suppress(RuntimeError), store.transaction():
            specs.add(ek.ResourceSpecification(id="pon", name="p"))
            specs.expect_lookups()
            assert store.issuance_records.find_many(["serviceOrder:SO-1"]) == {}
            assert specs.get("pon").name == "p"  # read after the write, in the same unit
            raise RuntimeError
        assert specs.find("pon") is None  # rolled back with its unit


@pytest.mark.parametrize("requests", [1, 3, COPY_FROM + 1])
def test_issued_orders_and_records_go_in_one_step_all_or_none(
    make_postgres_store: Callable[..., PostgresStore], requests: int
) -> None:
    store = make_postgres_store()
    orders = [resource_order(f"ro-{n}", request=f"serviceOrder:so-{n}") for n in range(requests)]
    records = [issuance_record(f"serviceOrder:so-{n}") for n in range(requests)]
    store.issuance_records.add(records[-1])  # the last request was issued meanwhile
    runs = _counted_runs(store)
    with store.transaction():
        with pytest.raises(ek.DuplicateKeyError) as refused:
            store.add_issued(orders, records)
        assert refused.value.value == records[-1].id
        assert runs[0] == "add ResourceOrder and IssuanceRecord"  # one step for both
        stored = store.add_issued(orders[:-1], records[:-1])
    assert len(store.resource_orders) == requests - 1 == len(stored)
    assert len(store.issuance_records) == requests
    assert store.resource_orders.find_many([str(o.id) for o in orders]) == {o.id: o for o in stored}
    counts = store.resource_orders.query(ResourceOrderFilter(state="acknowledged")).total
    assert counts == requests - 1  # the tally saw the undone rows go
