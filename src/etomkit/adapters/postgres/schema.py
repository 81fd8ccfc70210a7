"""The PostgresStore's schema as versioned migrations (data, not code).

Each migration is a list of SQL statements with ``{schema}`` standing for the
store's quoted schema name. ``PostgresStore.migrate()`` applies the ones the
schema's version table does not list, in one transaction, under an advisory
lock (so several hosts starting at once migrate once). ``docs/postgres.md``
lists the SQL of every version.

Tables (version 1):

``entity``
    one row per stored entity of every repository: ``ns`` (the repository's
    namespace, as in the FileStore journal), ``id``, ``seq`` (insertion order,
    from an identity column), ``revision`` and ``doc`` (the entity's TMF JSON,
    UTF-8, as ``bytea``).
``term`` (version 2: without a foreign key; the repositories write and delete
    an entity's terms in the statement that writes or deletes the entity)
    the entity's index terms (status, category, customer, offering, order item,
    request, service …, the same terms the in-memory and file adapters index):
    every filter of the ports is answered from the ``(ns, term)`` index. Terms
    of a repository's unique keys carry ``uniq`` and fall under a partial
    ``UNIQUE`` index: the database refuses a second holder atomically.
``outbox``
    TMF notification events written in the transaction of the change, read by
    ``PostgresEventFeed`` in transaction order without gaps.
``feed_position``
    each named consumer's position in the outbox.
``usage``
    the usage log (one row per usage record).

Version 3 (issue #14: a filter on one term answers from the index, in the
entity's insertion order, with an exact total that is not counted):

``term.seq``
    the entity's ``seq``, written with every term row (backfilled); the
    primary key becomes ``term_seq (ns, term, seq)`` (as unique as ``(ns,
    term, id)``, one seq per entity): a page of one term is a range scan of
    that index, touching only the page's rows.
``term_tally``
    per-term counts of the kinds in :data:`TALLIED`, one row per writing
    backend (``shard = pg_backend_pid()``, folded rows a negative shard); a
    term's total is the sum of its rows (see tally.py for the design).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "TALLIED", "migration_sql"]

#: ``(namespace, term prefix)`` of the term kinds whose holders ``term_tally``
#: counts (version 3): statuses, and kinds whose postings can be a large share
#: of a repository (a product's offering, an offering's category, an audit's
#: entity type). Never a unique key's terms (they have one holder at most).
#: Changing it takes a migration that backfills the new kinds.
TALLIED: tuple[tuple[str, str], ...] = (
    ("productOffering", "status="),
    ("productOffering", "category="),
    ("product", "status="),
    ("product", "offering="),
    ("resourceOrder", "state="),
    ("issuanceRecord", "outcome="),
    ("client", "status="),
    ("manualAudit", "outcome="),
    ("manualAudit", "type="),
)
_KINDS = ", ".join(f"('{ns}', '{prefix}')" for ns, prefix in TALLIED)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: entities, terms, outbox, feed positions, usage log
        "CREATE SCHEMA IF NOT EXISTS {schema}",
        "CREATE TABLE IF NOT EXISTS {schema}.schema_version ("
        " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE {schema}.entity ("
        " ns text NOT NULL, id text NOT NULL,"
        " seq bigint GENERATED ALWAYS AS IDENTITY,"
        " revision integer NOT NULL, doc bytea NOT NULL,"
        " PRIMARY KEY (ns, id))",
        "CREATE INDEX entity_seq ON {schema}.entity (ns, seq)",
        "CREATE TABLE {schema}.term ("
        " ns text NOT NULL, term text NOT NULL, id text NOT NULL,"
        " uniq boolean NOT NULL DEFAULT false,"
        " PRIMARY KEY (ns, term, id),"
        " FOREIGN KEY (ns, id) REFERENCES {schema}.entity (ns, id) ON DELETE CASCADE)",
        "CREATE UNIQUE INDEX term_unique ON {schema}.term (ns, term) WHERE uniq",
        "CREATE INDEX term_entity ON {schema}.term (ns, id)",
        "CREATE TABLE {schema}.outbox ("
        " tx xid8 NOT NULL DEFAULT pg_current_xact_id(),"
        " seq bigint GENERATED ALWAYS AS IDENTITY,"
        " event_type text NOT NULL, event bytea NOT NULL,"
        " recorded_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (tx, seq))",
        "CREATE TABLE {schema}.feed_position ("
        " consumer text PRIMARY KEY, tx xid8 NOT NULL, seq bigint NOT NULL)",
        "CREATE TABLE {schema}.usage ("
        " seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " at timestamptz NOT NULL, record bytea NOT NULL)",
        "CREATE INDEX usage_at ON {schema}.usage (at)",
    ),
    (  # 2: terms without a foreign key (each term row cost a row lock on its entity)
        "ALTER TABLE {schema}.term DROP CONSTRAINT IF EXISTS term_ns_id_fkey",
    ),
    (  # 3: the insertion order in the term index, and per-term tallies
        # the term rows rewritten with their entity's seq (terms of no entity, none
        # expected, dropped); (ns, term, seq) is as unique as (ns, term, id) was
        # (one seq per entity), so it becomes the key instead of another index
        "CREATE TABLE {schema}.term_v3 ("
        " ns text NOT NULL, term text NOT NULL, id text NOT NULL,"
        " uniq boolean NOT NULL DEFAULT false, seq bigint NOT NULL)",
        "INSERT INTO {schema}.term_v3 (ns, term, id, uniq, seq)"
        " SELECT t.ns, t.term, t.id, t.uniq, e.seq FROM {schema}.term t"
        " JOIN {schema}.entity e ON e.ns = t.ns AND e.id = t.id",
        "DROP TABLE {schema}.term",
        "ALTER TABLE {schema}.term_v3 RENAME TO term",
        "ALTER TABLE {schema}.term ADD CONSTRAINT term_seq PRIMARY KEY (ns, term, seq)",
        "CREATE UNIQUE INDEX term_unique ON {schema}.term (ns, term) WHERE uniq",
        "CREATE INDEX term_entity ON {schema}.term (ns, id)",
        "CREATE TABLE {schema}.term_tally ("
        " ns text NOT NULL, term text NOT NULL, shard bigint NOT NULL, n bigint NOT NULL,"
        " PRIMARY KEY (ns, term, shard))",
        "INSERT INTO {schema}.term_tally (ns, term, shard, n)"
        " SELECT t.ns, t.term, 0, count(*) FROM {schema}.term t"
        f" JOIN (VALUES {_KINDS}) AS k(ns, prefix)"
        " ON k.ns = t.ns AND starts_with(t.term, k.prefix) AND NOT t.uniq"
        " GROUP BY t.ns, t.term",
    ),
)

#: The schema version this code reads and writes.
SCHEMA_VERSION = len(MIGRATIONS)


def migration_sql(version: int, schema: str) -> list[str]:
    """The statements of migration ``version`` (1-based) for the quoted ``schema``."""
    return [statement.format(schema=schema) for statement in MIGRATIONS[version - 1]]
