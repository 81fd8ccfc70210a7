"""Inserting entities with their index terms: one statement for a few, COPY for many.

A write of a few entities (``add``, a small ``add_all``) is one statement, a
CTE inserting the rows and their terms:

* outside a unit of work it is its own transaction (an autocommit statement,
  one round trip); a taken id or unique key fails the whole statement, so
  nothing stays, and the refusal is then explained;
* inside a unit the CTE skips what conflicts (``ON CONFLICT DO NOTHING``, so
  the unit's transaction is not aborted); if anything was skipped, the rows it
  did insert are deleted again and the refusal explained.

From ``COPY_FROM`` entities on, the rows and the terms go in by two binary
``COPY`` streams inside a savepoint (or a transaction of their own), after one
statement that draws the rows' ``seq`` values and counts their tallied terms: a
unique violation rolls the savepoint back whole. Either way a refusal is the
``DuplicateKeyError`` that adding the entities one by one would have raised.
:func:`insert_together` and :func:`copy_together` do the same for the entities
of several repositories at once, in the round trips of one (the issuer's
orders and records: ``PostgresStore.add_issued``).

The statements of ``remove`` and ``replace`` (:func:`replace_terms` writes a
replaced entity's new terms) are here too: every write of term rows, with its
entity's ``seq`` and its tally count (tally.py), is in this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from etomkit.adapters.file.store import _encode as encode
from etomkit.adapters.postgres.packing import (
    BLOB,
    FLAGS,
    NUMBERS,
    TEXTS,
    blobs,
    flags,
    text,
    texts,
    untext,
)
from etomkit.errors import ConflictError, DuplicateKeyError
from etomkit.model.queries import TERM_SEP

if TYPE_CHECKING:
    from etomkit.adapters.postgres.repositories import PostgresRepository
    from etomkit.adapters.postgres.store import PostgresStore
    from etomkit.adapters.postgres.tally import Tally

__all__ = [
    "COPY_FROM",
    "Prepared",
    "Statements",
    "copy_together",
    "insert",
    "insert_alone",
    "insert_together",
    "replace_terms",
    "text",
    "untext",
]

#: From how many entities a batch goes in by COPY instead of one statement.
COPY_FROM = 64

#: ``(stored entity, id, TMF JSON, [(term, unique)])`` of an entity to insert; from
#: ``COPY_FROM`` entities on the JSON is None: the COPY stream encodes each entity as
#: it sends it, so the server stores rows while the next ones are encoded.
Prepared = tuple[Any, str, bytes | None, list[tuple[str, bool]]]
Conn = psycopg.Connection[Any]


class Statements:
    """The SQL of one repository's inserts (built once per repository). Term rows
    carry their entity's ``seq``; tallied terms are counted in the statement
    that writes them (see tally.py)."""

    def __init__(self, entity: sql.SQL, term: sql.Composable, tally: Tally) -> None:
        rows = (  # parameters: ns, documents, ids (2), starts, lengths (packing.py)
            "INSERT INTO {entity} (ns, id, revision, doc) SELECT %s, x.i, 1, "
            + BLOB
            + f" FROM unnest({TEXTS}, {NUMBERS}, {NUMBERS})"
            " WITH ORDINALITY AS x(i, s, l, n) ORDER BY n"
        )
        terms = (  # parameters: ns, terms (2), ids (2), unique flags; the seq from e
            "INSERT INTO {term} (ns, term, id, uniq, seq) SELECT %s, x.t, x.i, x.u, e.seq"
            f" FROM unnest({TEXTS}, {TEXTS}, {FLAGS}) AS x(t, i, u)"
            " JOIN e ON e.id = x.i"
        )
        names = {"entity": entity, "term": term}
        self.tally = tally
        counts = bool(tally.kinds)
        by_values = sql.SQL(", c AS ({})").format(tally.from_values) if counts else sql.SQL("")
        # the strict CTEs under names of their own, to join other repositories' in
        # one statement (insert_alone): e, t and c become e0, t0, c0 …
        self._strict_ctes = (
            "e{k} AS ("
            + rows
            + " RETURNING id, seq), t{k} AS ("
            + terms.replace("JOIN e ON e.id", "JOIN e{k} AS e ON e.id")
            + " RETURNING 1)"
        )
        self._strict_names = names
        self._by_values = tally.from_values if counts else None
        self._joined: dict[tuple[Statements, ...], bytes] = {}
        added = sql.SQL(", c AS ({})").format(tally.from_rows("t", "")) if counts else sql.SQL("")
        gone = sql.SQL(", c AS ({})").format(tally.from_rows("d", "-")) if counts else sql.SQL("")
        self.strict = sql.SQL(
            "WITH e AS (" + rows + " RETURNING id, seq), t AS (" + terms + " RETURNING 1)"
            "{by_values} SELECT count(*) FROM e"
        ).format(**names, by_values=by_values)
        self.lenient = sql.SQL(
            "WITH e AS (" + rows + " ON CONFLICT DO NOTHING RETURNING id, seq),"
            " t AS (" + terms + " ON CONFLICT DO NOTHING RETURNING term, uniq){added}"
            " SELECT ARRAY(SELECT id FROM e), (SELECT count(*) FROM t WHERE uniq)"
        ).format(**names, added=added)
        self.undo = sql.SQL(
            f"WITH e AS (DELETE FROM {{entity}} WHERE ns = %s AND id = ANY({TEXTS})),"
            f" d AS (DELETE FROM {{term}} WHERE ns = %s AND id = ANY({TEXTS}) RETURNING term)"
            "{gone} SELECT 1"
        ).format(**names, gone=gone)
        # COPY writes the identity column as given: the seqs are drawn first, in
        # the statement that also counts the batch's tallied terms
        self.entity_name = entity.as_string(None)
        self.seqs = sql.SQL(
            ("WITH c AS ({}) " if counts else "{}")
            + "SELECT ARRAY(SELECT nextval((SELECT pg_get_serial_sequence(%s, 'seq'))::regclass)"
            " FROM generate_series(1, %s))"
        ).format(tally.from_values if counts else sql.SQL(""))
        self.copy_rows = sql.SQL(
            "COPY {entity} (ns, id, seq, revision, doc) FROM STDIN (FORMAT BINARY)"
        ).format(**names)
        self.copy_terms = sql.SQL(
            "COPY {term} (ns, term, id, uniq, seq) FROM STDIN (FORMAT BINARY)"
        ).format(**names)
        counted = sql.SQL(", c AS ({})").format(tally.from_rows("t", "-"))
        self.remove = sql.SQL(  # the row if at the revision (or any), its terms, their count
            "WITH d AS (DELETE FROM {entity} WHERE ns = %s AND id = %s"
            " AND (%s::integer IS NULL OR revision = %s) RETURNING revision, doc, id),"
            " t AS (DELETE FROM {term} WHERE ns = %s AND id IN (SELECT id FROM d) RETURNING term)"
            "{counted} SELECT revision, doc, id FROM d"
        ).format(**names, counted=counted if counts else sql.SQL(""))
        self.update = sql.SQL(  # a replace: the row, and its old terms deleted and returned
            "WITH u AS (UPDATE {entity} SET revision = revision + 1, doc = %s"
            " WHERE ns = %s AND id = %s AND revision = %s RETURNING seq, id),"
            " d AS (DELETE FROM {term} WHERE ns = %s AND id IN (SELECT id FROM u) RETURNING term)"
            " SELECT u.seq, ARRAY(SELECT term FROM d) FROM u"
        ).format(**names)
        self.stored_ids = sql.SQL("SELECT id FROM {entity} WHERE ns = %s AND id = ANY(%s)").format(
            **names
        )
        # the statements of every write, rendered once (psycopg renders a Composed
        # object again on every execute: 20-65 µs each here)
        self.strict_b, self.lenient_b = self.strict.as_bytes(None), self.lenient.as_bytes(None)
        self.undo_b, self.seqs_b = self.undo.as_bytes(None), self.seqs.as_bytes(None)
        self.remove_b, self.update_b = self.remove.as_bytes(None), self.update.as_bytes(None)
        self.holders = sql.SQL(
            "SELECT term, id FROM {term} WHERE ns = %s AND uniq AND term = ANY(%s)"
        ).format(**names)

    def ctes(self, k: int) -> sql.Composed:
        """``strict``'s CTEs named ``e{k}``, ``t{k}`` (and ``c{k}``), same parameters."""
        text_of = self._strict_ctes.replace("{k}", str(k))
        ctes = sql.SQL(text_of).format(**self._strict_names)
        if self._by_values is None:
            return ctes
        return sql.Composed([ctes, sql.SQL(f", c{k} AS ("), self._by_values, sql.SQL(")")])

    def joined(self, others: tuple[Statements, ...]) -> bytes:
        """One statement of this repository's strict insert and the others', in
        order (built and rendered once per combination)."""
        statement = self._joined.get(others)
        if statement is None:
            ctes = [q.ctes(k) for k, q in enumerate((self, *others))]
            composed = sql.Composed(
                [sql.SQL("WITH "), sql.SQL(", ").join(ctes), sql.SQL(" SELECT 1")]
            )
            statement = self._joined[others] = composed.as_bytes(None)
        return statement

    def counts(self, ns: str, prepared: Sequence[Prepared]) -> list[Any]:
        """The parameters of ``Tally.from_values`` for the terms of ``prepared``
        (empty if the repository tallies nothing)."""
        if not self.tally.kinds:
            return []
        terms, counts = self.tally.deltas(t for p in prepared for t, _ in p[3])
        return [ns, terms, counts]


def insert(repo: PostgresRepository[Any, Any], prepared: Sequence[Prepared]) -> None:
    """Insert the prepared entities and their terms, all or none (DuplicateKeyError,
    or ConflictError, and nothing stored, if an id or unique key is taken)."""
    if not prepared:
        return
    ns, store, q = repo._ns, repo._store, repo._batch
    ids = [text(p[1]) for p in prepared]
    what = f"add {repo.entity_name}"

    if len(prepared) >= COPY_FROM:
        copy_together(store, [(repo, prepared)])
        return

    if store.in_unit:
        insert_together(store, [(repo, prepared)])
        return
    params, _ = _statement_params(repo, prepared, ids)

    def strict(conn: Conn) -> None:
        try:
            conn.execute(q.strict_b, (*params, *q.counts(ns, prepared)))
        except pg_errors.UniqueViolation:
            raise refusal(repo, conn, prepared) from None

    store.run(what, strict, single=True)


Groups = Sequence[tuple["PostgresRepository[Any, Any]", Sequence[Prepared]]]


def copy_together(store: PostgresStore, groups: Groups) -> None:
    """Insert each group's prepared entities into its repository by two COPY
    streams for all of them (rows, then terms), inside a savepoint (or a
    transaction of its own), after one round trip drawing each group's ``seq``
    values and counting its tallied terms; all or none: a unique violation rolls
    the savepoint back and the first group's refusal is raised."""
    groups = [(repo, prepared) for repo, prepared in groups if prepared]
    if not groups:
        return
    first = groups[0][0]._batch

    def copy(conn: Conn) -> None:
        try:
            with conn.transaction(), conn.cursor() as cur:  # a savepoint in a unit
                with conn.pipeline():
                    drawn = [
                        conn.execute(
                            repo._batch.seqs_b,
                            [
                                *repo._batch.counts(repo._ns, prepared),
                                repo._batch.entity_name,
                                len(prepared),
                            ],
                        )
                        for repo, prepared in groups
                    ]
                seqs = []
                for cursor in drawn:
                    row = cursor.fetchone()
                    seqs.append(sorted(row[0]) if row else [])
                ids = [[text(p[1]) for p in prepared] for _, prepared in groups]
                with cur.copy(first.copy_rows) as stream:
                    stream.set_types(["text", "text", "int8", "int4", "bytea"])
                    for (repo, prepared), group_ids, group_seqs in zip(
                        groups, ids, seqs, strict=True
                    ):
                        ns = repo._ns
                        for sid, seq, p in zip(group_ids, group_seqs, prepared, strict=True):
                            doc = p[2] if p[2] is not None else encode(p[0])
                            stream.write_row((ns, sid, seq, 1, doc))
                with cur.copy(first.copy_terms) as stream:
                    stream.set_types(["text", "text", "text", "bool", "int8"])
                    for (repo, prepared), group_ids, group_seqs in zip(
                        groups, ids, seqs, strict=True
                    ):
                        ns = repo._ns
                        for seq, (_, _, _, terms), sid in zip(
                            group_seqs, prepared, group_ids, strict=True
                        ):
                            for term, unique in terms:
                                stream.write_row((ns, text(term), sid, unique, seq))
        except pg_errors.UniqueViolation:
            errors = [refusal(repo, conn, prepared) for repo, prepared in groups]
            raise next((e for e in errors if isinstance(e, DuplicateKeyError)), errors[0]) from None

    what = "add " + " and ".join(repo.entity_name for repo, _ in groups)
    store.run(what, copy, single=True, copy=True)


def insert_alone(store: PostgresStore, groups: Groups) -> None:
    """Inside a unit of work that has written nothing, insert each group's prepared
    entities (fewer than ``COPY_FROM``) by one statement of every group's strict
    CTEs, sent alone: it commits by itself (the unit's last write, see
    ``PostgresStore.expect_last_write``). All or none: a taken id or unique key
    fails the statement whole, nothing is stored, and the refusal adding the
    groups in order would meet is raised (the unit goes on, still unwritten)."""
    groups = [(repo, prepared) for repo, prepared in groups if prepared]
    if not groups:
        return
    params: list[Any] = []
    for repo, prepared in groups:
        ids = [text(p[1]) for p in prepared]
        params += _statement_params(repo, prepared, ids)[0]
        params += repo._batch.counts(repo._ns, prepared)
    first, *others = (repo._batch for repo, _ in groups)
    statement = first.joined(tuple(others))

    def alone(conn: Conn) -> None:
        try:
            conn.execute(statement, params)
        except pg_errors.UniqueViolation:
            errors = [refusal(repo, conn, prepared) for repo, prepared in groups]
            raise next((e for e in errors if isinstance(e, DuplicateKeyError)), errors[0]) from None

    store.run_alone("add " + " and ".join(repo.entity_name for repo, _ in groups), alone)


def _statement_params(
    repo: PostgresRepository[Any, Any], prepared: Sequence[Prepared], ids: list[str]
) -> tuple[tuple[Any, ...], int]:
    """The parameters of ``Statements.strict`` / ``lenient`` (without the tally's)
    for ``prepared`` and their stored ``ids``, and how many unique terms they hold."""
    term_texts: list[str] = []
    term_ids: list[str] = []
    term_unique: list[bool] = []
    for (_, _, _, terms), sid in zip(prepared, ids, strict=True):
        for term, unique in terms:
            term_texts.append(text(term))
            term_ids.append(sid)
            term_unique.append(unique)
    doc, starts, lengths = blobs([encode(p[0]) if p[2] is None else p[2] for p in prepared])
    ns = repo._ns
    params = (
        ns,
        doc,
        *texts(ids),
        starts,
        lengths,
        ns,
        *texts(term_texts),
        *texts(term_ids),
        flags(term_unique),
    )
    return params, sum(term_unique)


def insert_together(store: PostgresStore, groups: Groups) -> None:
    """Inside the caller's unit of work, insert each group's prepared entities (fewer
    than ``COPY_FROM`` each) into its repository, all groups in one round trip and
    all or none: the statements skip what conflicts, and if anything was skipped
    every row they did insert is deleted again and the refusal of the first
    group that met one is raised (what adding them in order would have raised)."""
    plans = []
    for repo, prepared in groups:
        if not prepared:
            continue
        ids = [text(p[1]) for p in prepared]
        params, unique_count = _statement_params(repo, prepared, ids)
        tallied = [repo._ns, repo._tally.patterns] if repo._tally.kinds else []
        plans.append((repo, prepared, ids, (*params, *tallied), unique_count, tallied))
    if not plans:
        return

    def lenient(conn: Conn) -> None:
        if len(plans) == 1:
            cursors = [conn.execute(plans[0][0]._batch.lenient_b, plans[0][3])]
        else:
            with conn.pipeline():
                cursors = [conn.execute(p[0]._batch.lenient_b, p[3]) for p in plans]
        refused = None
        added_by_plan = []
        for (repo, prepared, ids, _, unique_count, _), cursor in zip(plans, cursors, strict=True):
            row = cursor.fetchone()
            added: list[str] = list(row[0]) if row else []
            added_by_plan.append(added)
            complete = len(added) == len(ids) and row is not None and row[1] == unique_count
            if not complete and refused is None:
                refused = (repo, prepared)
        if refused is None:
            return
        for (repo, *_, tallied), added in zip(plans, added_by_plan, strict=True):
            if added:  # nothing of the groups stays
                ns = repo._ns
                conn.execute(repo._batch.undo_b, (ns, *texts(added), ns, *texts(added), *tallied))
        raise refusal(refused[0], conn, refused[1])

    store.run("add " + " and ".join(p[0].entity_name for p in plans), lenient)


def replace_terms(
    repo: PostgresRepository[Any, Any],
    conn: Conn,
    entity_id: str,
    seq: int,
    terms: list[tuple[str, bool]],
    old: list[str],
) -> int:
    """Insert ``terms`` at ``seq`` (the entity's old terms ``old`` are gone), skipping
    any a unique index refuses, and count the tally's change; returns how many
    of the unique ones went in."""
    terms_changed, counts = repo._tally.deltas([t for t, _ in terms], old)
    if not terms and not terms_changed:
        return 0
    tallied = sql.SQL(", c AS ({})").format(repo._tally.from_values)
    row = conn.execute(
        sql.SQL(
            "WITH i AS (INSERT INTO {} (ns, term, id, uniq, seq)"
            " SELECT %s, t, %s, u, %s FROM unnest(%s::text[], %s::bool[]) AS x(t, u)"
            " ON CONFLICT DO NOTHING RETURNING uniq){} SELECT count(*) FROM i WHERE uniq"
        ).format(repo._term, tallied if terms_changed else sql.SQL("")),
        (
            *(repo._ns, text(entity_id), seq, [text(t) for t, _ in terms]),
            [u for _, u in terms],
            *((repo._ns, terms_changed, counts) if terms_changed else ()),
        ),
    ).fetchone()
    return int(row[0]) if row else 0


def refusal(
    repo: PostgresRepository[Any, Any], conn: Conn, prepared: Sequence[Prepared]
) -> Exception:
    """The error adding ``prepared`` one by one to the stored entities would meet
    first (the batch itself is not stored)."""
    ns, q = repo._ns, repo._batch
    ids = [text(p[1]) for p in prepared]
    unique_terms = [text(t) for p in prepared for t, u in p[3] if u]
    stored = {r[0] for r in conn.execute(q.stored_ids, (ns, ids)).fetchall()}
    holders: dict[str, str] = {}
    if unique_terms:
        holders = {r[0]: r[1] for r in conn.execute(q.holders, (ns, unique_terms)).fetchall()}
    seen: set[str] = set()
    for (_, entity_id, _, terms), sid in zip(prepared, ids, strict=True):
        if sid in stored or sid in seen:
            return DuplicateKeyError(repo.entity_name, "id", entity_id, entity_id)
        for term, unique in terms:
            if not unique:
                continue
            holder = holders.get(text(term))
            if holder is not None and holder != sid:
                for prefix, key in repo._unique:
                    if term.startswith(prefix):
                        value = term[len(prefix) :].replace(TERM_SEP, "/")
                        return DuplicateKeyError(repo.entity_name, key, value, untext(holder))
        seen.add(sid)
        for term, unique in terms:
            if unique:
                holders.setdefault(text(term), sid)
    return ConflictError(f"{repo.entity_name}: an id or unique key is taken")
