"""PostgresStore: every repository of the library in one PostgreSQL schema, shared
by many processes on many hosts (psycopg 3, the ``postgres`` extra).

The store owns (or borrows) a connection pool; a unit of work is one
transaction on one pooled connection, bound to the calling thread; nested
units are savepoints; writes outside any unit are transactions of their own.
Driver errors are translated in one place (:func:`translated`).
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from typing import Any, TypeVar, cast

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from etomkit.adapters.postgres.batch import (
    COPY_FROM,
    copy_together,
    insert_alone,
    insert_together,
)
from etomkit.adapters.postgres.repositories import (
    PostgresAuditRunRepository,
    PostgresClientRepository,
    PostgresFeasibilityAssessmentRepository,
    PostgresIssuanceRecordRepository,
    PostgresManualAuditRepository,
    PostgresOfferingRepository,
    PostgresProductRepository,
    PostgresRepository,
    PostgresResourceOrderRepository,
    PostgresResourceSpecificationRepository,
)
from etomkit.adapters.postgres.schema import SCHEMA_VERSION, migration_sql
from etomkit.adapters.postgres.tally import fold
from etomkit.errors import EtomkitError, StorageError, ValidationError
from etomkit.model.issuance import IssuanceRecord
from etomkit.model.resource_order import ResourceOrder
from etomkit.ports import OrderingStore, Store

__all__ = ["PostgresStore", "translated"]

R = TypeVar("R")

#: How often an operation outside any unit of work is retried after a
#: serialization failure or a deadlock (the server rolled it back whole).
RETRIES = 5
_RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
_MIGRATION_LOCK = 0x65746F6D  # pg_advisory_xact_lock key: "etom"


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Driver errors become StorageError (``raise … from e``); library errors pass."""
    try:
        yield
    except EtomkitError:
        raise
    except PoolTimeout as e:
        raise StorageError(f"{what}: no database connection available ({e})") from e
    except psycopg.Error as e:
        raise StorageError(f"{what}: {type(e).__name__}: {e}".strip()) from e


def _idle_and_alive(conn: psycopg.Connection[Any]) -> bool:
    """True unless the server has already said something on an idle connection (a
    terminated backend's FATAL, or its EOF): checked without a round trip, before
    a write that is its own transaction, so that a dead pooled connection is
    replaced instead of leaving the write's fate unknown."""
    if conn.closed:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable


class _Local(threading.local):
    """The calling thread's unit of work: its connection, the commands not sent
    yet (BEGIN, SAVEPOINT, RELEASE: they go with the next write, in one round
    trip), how often they were sent (``begun_at``: how often before the unit
    began; more means it has written), whether its next write is its last
    (``last_write``) or its last write committed it (``committed``), and the
    read cache."""

    conn: psycopg.Connection[Any] | None = None
    depth = 0
    flushes = 0
    begun_at = 0
    last_write = False
    committed = False
    pending: list[str]
    prefetch: list[Prefetch]
    cache: dict[Any, Any] | None = None

    def __init__(self) -> None:
        self.pending = []
        self.prefetch = []


#: ``(statement, parameters, what to do with its rows)``: a read a repository asked
#: the unit to send with its next read (:meth:`PostgresStore.prefetch`).
Prefetch = tuple[sql.SQL | sql.Composed | bytes, tuple[Any, ...], Callable[[list[Any]], None]]


class PostgresStore(Store, OrderingStore):
    """Every repository (offerings, products, clients, audit runs, manual audits,
    resource orders, issuance records, feasibility assessments, resource
    specifications) in the PostgreSQL schema ``schema``.

    ``conninfo``: a libpq connection string or URL, or a
    ``psycopg_pool.ConnectionPool`` the host owns (the store then never
    closes it). ``migrate=True`` creates or upgrades the schema; otherwise
    the schema must be at this code's version (StorageError naming both).
    ``statement_timeout`` (seconds) bounds every statement; ``connect_timeout``
    every connection attempt; ``pool_size`` the connections of a pool the
    store makes itself.
    """

    def __init__(
        self,
        conninfo: str | ConnectionPool[Any],
        *,
        schema: str = "etomkit",
        migrate: bool = True,
        statement_timeout: float | None = 30.0,
        connect_timeout: float = 10.0,
        pool_size: int = 4,
    ) -> None:
        if not isinstance(schema, str) or not schema or len(schema) > 63:
            raise ValidationError("PostgresStore", [("schema", "must be a name of 1-63 chars")])
        self.schema = schema
        self._schema_sql = sql.Identifier(schema)
        self._local = _Local()
        self._closed = False
        if isinstance(conninfo, ConnectionPool):
            self._pool, self._owns_pool = conninfo, False
        elif isinstance(conninfo, str):
            options = (
                f"-c statement_timeout={int(statement_timeout * 1000)}" if statement_timeout else ""
            )
            with translated("PostgresStore"):
                self._pool = ConnectionPool(
                    conninfo,
                    min_size=1,
                    max_size=max(1, pool_size),
                    kwargs={
                        "connect_timeout": max(1, int(connect_timeout)),
                        "options": options,
                        "autocommit": True,
                    },
                    timeout=connect_timeout,
                    open=True,
                    name=f"etomkit-{schema}",
                )
                self._owns_pool = True
        else:
            raise ValidationError(
                "PostgresStore",
                [("conninfo", "must be a connection string or a psycopg_pool.ConnectionPool")],
            )
        try:
            if migrate:
                self.migrate()
            else:
                self._check_version()
        except BaseException:
            self.close()
            raise
        self.offerings = PostgresOfferingRepository(self)
        self.products = PostgresProductRepository(self)
        self.clients = PostgresClientRepository(self)
        self.audit_runs = PostgresAuditRunRepository(self)
        self.manual_audits = PostgresManualAuditRepository(self)
        self.resource_orders = PostgresResourceOrderRepository(self)
        self.issuance_records = PostgresIssuanceRecordRepository(self)
        self.feasibility_assessments = PostgresFeasibilityAssessmentRepository(self)
        self.resource_specifications = PostgresResourceSpecificationRepository(self)

    # ------------------------------------------------------------------ schema

    def qualified(self, table: str) -> sql.SQL:
        """``schema.table`` as a safely quoted SQL identifier (rendered once: composing
        a statement of it then costs no escaping call)."""
        return sql.SQL(
            sql.SQL("{}.{}").format(self._schema_sql, sql.Identifier(table)).as_string(None)
        )

    def schema_version(self) -> int | None:
        """The version recorded in the schema, or None if it has none yet."""

        def read(conn: psycopg.Connection[Any]) -> int | None:
            exists = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'"{self.schema}".schema_version',)
            ).fetchone()
            if not exists or not exists[0]:
                return None
            row = conn.execute(
                sql.SQL("SELECT max(version) FROM {}").format(self.qualified("schema_version"))
            ).fetchone()
            return None if row is None or row[0] is None else int(row[0])

        return self.run("read the schema version", read)

    def _check_version(self) -> None:
        found = self.schema_version()
        if found != SCHEMA_VERSION:
            said = "no etomkit schema" if found is None else f"schema version {found}"
            raise StorageError(
                f"PostgresStore schema {self.schema!r} has {said}; this etomkit reads "
                f"version {SCHEMA_VERSION} (run PostgresStore.migrate())"
            )

    def migrate(self) -> int:
        """Create or upgrade the schema to this code's version; returns the version.

        A schema newer than the code is refused (StorageError naming both) and
        left unchanged. Safe to run from several hosts at once. Folds the term
        tallies (see :meth:`fold_tallies`).
        """
        quoted = self._schema_sql.as_string(None)

        def apply(conn: psycopg.Connection[Any]) -> int:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            found = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'"{self.schema}".schema_version',)
            ).fetchone()
            current = 0
            if found and found[0]:
                row = conn.execute(
                    sql.SQL("SELECT coalesce(max(version), 0) FROM {}").format(
                        self.qualified("schema_version")
                    )
                ).fetchone()
                current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"PostgresStore schema {self.schema!r} is at version {current}, newer than "
                    f"this etomkit's {SCHEMA_VERSION}; upgrade etomkit"
                )
            if current < SCHEMA_VERSION:  # a backfill may outlast statement_timeout
                conn.execute("SET LOCAL statement_timeout = 0")
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in migration_sql(version, quoted):
                    conn.execute(statement.encode())
                conn.execute(
                    sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                        self.qualified("schema_version")
                    ),
                    (version,),
                )
            fold(conn, self.qualified("term_tally"))
            return SCHEMA_VERSION

        return self.run("migrate", apply)

    def fold_tallies(self) -> int:
        """Merge each term's tally rows (one per backend that wrote it) into one;
        returns how many rows were merged. Never waits for a writer: rows a
        transaction holds are left for the next fold. Maintenance: queries fold
        the rows of their term when they see many, ``migrate()`` folds all."""
        return self.run(
            "fold the term tallies",
            lambda conn: fold(conn, self.qualified("term_tally")),
            single=True,
        )

    def drop(self) -> None:
        """Drop the store's schema and everything in it (tests, teardown)."""
        self.run(
            "drop the schema",
            lambda conn: conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(self._schema_sql)
            ),
        )

    # ------------------------------------------------------------------ units of work

    @property
    def conninfo(self) -> str:
        """The connection string of the store's pool (for listeners of the event feed)."""
        conninfo = self._pool.conninfo
        return conninfo() if callable(conninfo) else conninfo

    @property
    def in_unit(self) -> bool:
        """True while the calling thread is inside a ``transaction()`` block."""
        return self._local.conn is not None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in autocommit mode (a host's pool gets its mode back):
        a single statement is then a transaction of one round trip, and
        ``conn.transaction()`` sends BEGIN and COMMIT itself."""
        with self._pool.connection() as conn:
            previous = conn.autocommit
            if not previous:
                conn.autocommit = True
            try:
                yield conn
            finally:
                if not previous and not conn.closed:
                    with suppress(psycopg.Error):  # the pool resets a broken one
                        conn.autocommit = False

    def run(
        self,
        what: str,
        work: Callable[[psycopg.Connection[Any]], R],
        *,
        snapshot: bool = False,
        read: bool = False,
        single: bool = False,
        copy: bool = False,
    ) -> R:
        """Run ``work(conn)``: inside the thread's unit of work if one is open,
        else in a transaction of its own (REPEATABLE READ with ``snapshot``, so
        several reads agree), retried after serialization failures and
        deadlocks, and, for a ``read``, once after a lost connection (a write
        is not: its commit may have happened). ``single``: ``work`` sends one
        statement (atomic by itself: no BEGIN/COMMIT round trips) or opens its
        own ``conn.transaction()``; ``copy``: it uses COPY (no pipeline mode).
        ``work`` must not leave partial writes when it raises a library error; a
        driver error dooms the unit it happened in."""
        if self._closed:
            raise StorageError(f"PostgresStore: {what}: the store is closed")
        local = self._local
        conn = local.conn
        if conn is not None:
            with translated(what):
                if read and local.flushes == local.begun_at:
                    # nothing written yet: the read needs no transaction (in READ
                    # COMMITTED every statement reads its own snapshot anyway), so
                    # BEGIN waits for the first write
                    return self._with_prefetch(local, conn, work, begin=False)
                if read and local.prefetch:
                    return self._with_prefetch(local, conn, work)
                if not read:
                    local.last_write = False
                    if local.committed:
                        raise StorageError(
                            f"PostgresStore: {what}: the unit of work was committed by"
                            " the write expect_last_write() announced as its last"
                        )
                if not local.pending:
                    return work(conn)
                commands, local.pending = local.pending, []
                local.flushes += 1
                if copy:  # COPY cannot run in pipeline mode: the commands as one query
                    conn.execute("; ".join(commands).encode())
                    return work(conn)
                with conn.pipeline():  # the deferred commands and the work: one round trip
                    for command in commands:
                        conn.execute(command.encode())
                    return work(conn)
        for attempt in range(RETRIES + 1):
            begun = False
            try:
                with translated(what), self._connection() as fresh, ExitStack() as stack:
                    if single:
                        if not _idle_and_alive(fresh):
                            fresh.close()  # the pool replaces it
                            raise psycopg.OperationalError("the pooled connection was closed")
                    else:
                        stack.enter_context(fresh.transaction())  # BEGIN: nothing sent before
                    begun = True
                    if snapshot and not single:
                        fresh.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    return work(fresh)
            except StorageError as e:
                cause = e.__cause__
                # a connection found dead before the write, or during a read, is safe to retry
                lost = (
                    isinstance(cause, psycopg.OperationalError)
                    and not isinstance(cause, PoolTimeout)  # it waited already
                    and (read or not begun)
                )
                if attempt == RETRIES or not (isinstance(cause, _RETRYABLE) or lost):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def prefetch(
        self,
        statement: sql.SQL | sql.Composed | bytes,
        params: tuple[Any, ...],
        done: Callable[[list[Any]], None],
    ) -> bool:
        """Inside a unit of work, queue a read to go with the unit's next read, in
        its round trip; ``done(rows)`` gets its rows right after that read (not
        if it fails). False, and nothing queued, outside a unit. Only reads carry
        it: a write in between cannot make its rows stale."""
        local = self._local
        if local.conn is None:
            return False
        local.prefetch.append((statement, params, done))
        return True

    def send_prefetched(self, what: str) -> None:
        """Send the reads queued by :meth:`prefetch` now (with the deferred commands)."""
        if self._local.prefetch:
            self.run(what, lambda _conn: None, read=True)

    def _with_prefetch(
        self,
        local: _Local,
        conn: psycopg.Connection[Any],
        work: Callable[..., R],
        *,
        begin: bool = True,
    ) -> R:
        """The deferred commands (unless not ``begin``), the queued prefetches and
        the read ``work``: one round trip."""
        prefetched, local.prefetch = local.prefetch, []
        if not prefetched and not begin:
            return work(conn)
        commands: list[str] = []
        if begin:
            commands, local.pending = local.pending, []
        if commands:
            local.flushes += 1
        with conn.pipeline():
            for command in commands:
                conn.execute(command.encode())
            cursors = [conn.execute(statement, params) for statement, params, _ in prefetched]
            result = work(conn)
            rows = [cursor.fetchall() for cursor in cursors]
        for (_, _, done), fetched in zip(prefetched, rows, strict=True):
            done(fetched)
        return result

    def expect_last_write(self) -> None:
        """Inside the outermost unit of work, while it has written nothing: its next
        write, if an ``add_issued`` below ``COPY_FROM`` of each, is sent as one
        statement that commits by itself (batch.insert_alone: one round trip, no
        BEGIN or COMMIT). A write after it raises StorageError; if it is refused,
        nothing is stored and the unit goes on as before."""
        local = self._local
        if local.conn is not None and local.depth == 0 and local.flushes == local.begun_at:
            local.last_write = True

    def run_alone(self, what: str, work: Callable[[psycopg.Connection[Any]], R]) -> R:
        """Run the single-statement write ``work(conn)`` on the unit's connection
        outside any transaction (it commits by itself); the unit is then
        committed: it takes no more writes."""
        conn = self._local.conn
        if conn is None:  # pragma: no cover - only called inside a unit
            raise StorageError(f"PostgresStore: {what}: not inside a unit of work")
        with translated(what):
            result = work(conn)
        self._local.committed = True
        return result

    def add_issued(
        self, orders: Sequence[ResourceOrder], records: Sequence[IssuanceRecord]
    ) -> list[ResourceOrder]:
        """Inside a unit of work: below ``COPY_FROM`` of each, both in one round trip
        without a savepoint (batch.insert_together; announced as the unit's last
        write, one statement committing by itself: batch.insert_alone), else by
        one pair of COPY streams (batch.copy_together); outside one, as the port
        says."""
        if not self.in_unit:
            return super().add_issued(orders, records)
        local = self._local
        last, local.last_write = local.last_write, False
        pairs: tuple[tuple[PostgresRepository[Any, Any], Sequence[Any]], ...] = (
            (cast(PostgresRepository[Any, Any], self.resource_orders), orders),
            (cast(PostgresRepository[Any, Any], self.issuance_records), records),
        )
        streamed = len(orders) >= COPY_FROM or len(records) >= COPY_FROM  # encoded as sent
        groups = [
            (repo, [repo._prepared(e, True, not streamed) for e in entities])
            for repo, entities in pairs
        ]
        if streamed:
            copy_together(self, groups)
        elif last and local.flushes == local.begun_at:
            insert_alone(self, groups)
        else:
            insert_together(self, groups)
        return [p[0] for p in groups[0][1]]

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN, SAVEPOINT and RELEASE are deferred to the next statement of the
        unit (sent with it, pipelined); a unit or nested unit that sent nothing
        costs no round trip."""
        local = self._local
        if local.conn is not None:
            yield from self._nested(local)
            return
        if self._closed:
            raise StorageError("PostgresStore: transaction: the store is closed")
        with translated("transaction"), self._connection() as conn:
            local.conn, local.cache, local.pending, local.depth = conn, {}, ["BEGIN"], 0
            local.prefetch, local.last_write, local.committed = [], False, False
            flushes = local.begun_at = local.flushes
            try:
                yield
            except BaseException:
                if local.flushes != flushes and not conn.closed:
                    with suppress(psycopg.Error):  # a broken connection rolled back
                        conn.execute(b"ROLLBACK")
                raise
            else:
                if local.flushes != flushes:
                    commands, local.pending = local.pending, []
                    with conn.pipeline():
                        for command in commands:
                            conn.execute(command.encode())
                        done = conn.execute(b"COMMIT")
                    if done.statusmessage != "COMMIT":  # the server rolled it back
                        raise StorageError(
                            "PostgresStore: transaction: rolled back (a statement in it failed)"
                        )
            finally:
                local.conn = local.cache = None
                local.pending, local.prefetch = [], []
                local.last_write = local.committed = False

    def _nested(self, local: _Local) -> Iterator[None]:
        """A savepoint, sent with the next statement; released with the one after."""
        local.depth += 1
        name = f"etomkit_{local.depth}"
        flushes, index = local.flushes, len(local.pending)
        local.pending.append(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.forget()  # what was read in it may be rolled back
            if local.flushes == flushes:  # nothing of it was sent
                del local.pending[index:]
            else:
                local.pending += [f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}"]
            raise
        else:
            if local.flushes == flushes:
                del local.pending[index:]
            else:
                local.pending.append(f"RELEASE SAVEPOINT {name}")
        finally:
            local.depth -= 1

    @property
    def unit_cache(self) -> dict[Any, Any] | None:
        """The calling thread's unit-of-work read cache (None outside a unit)."""
        return self._local.cache

    def forget(self) -> None:
        """Empty the unit-of-work read cache (a cached entity was written, or a
        nested unit rolled back), and drop the reads queued to go with the next one."""
        if self._local.cache:
            self._local.cache.clear()
        self._local.prefetch = []

    def close(self) -> None:
        """Close the pool if the store made it; the store is unusable afterwards."""
        if self._closed:
            return
        self._closed = True
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"
