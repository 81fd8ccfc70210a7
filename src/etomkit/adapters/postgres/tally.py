"""Filtered queries over the term index: a page in insertion order from the
``term_seq`` index, and an exact total from the ``term_tally`` table (schema
version 3, issue #14).

The page. Every term row carries its entity's ``seq``, so the page of one term
is ``... FROM term t JOIN entity e ... WHERE t.ns = $1 AND t.term = $2 ORDER BY
t.seq OFFSET LIMIT``: a range scan of ``term_seq (ns, term, seq)`` that reads
only the page's rows, however common or rare the term. Several terms of one
single-valued kind (``status`` in a set) take each term's first ``offset +
limit`` rows and merge them.

The total. Counting a common term's posting (95% of the products are active)
reads every entry: about 150 ms at 1M products. So the kinds of
``schema.TALLIED`` are counted as they are written, in ``term_tally (ns, term,
shard, n)``:

* every statement that inserts or deletes tallied term rows also upserts
  ``n = n ± k`` into its own backend's row (``shard = pg_backend_pid()``), in
  the same statement or transaction as the term change: the count is
  consistent with any snapshot, and rolls back with a savepoint or a failed
  transaction;
* a backend runs one transaction at a time, so no two concurrent transactions
  ever update the same tally row: no contention on a hot term (every new
  product is active), and no deadlock;
* the total is ``sum(n)`` over the term's rows: one per backend that wrote it
  since the last fold. :func:`fold` merges a term's rows into one (``DELETE ...
  WHERE ctid IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING n``, the sum
  inserted as a new row keyed by the fold's own transaction id, in the same
  statement): it never waits (rows a writer holds are left for the next
  fold), and whatever it deletes it adds back. A query folds after it saw
  more than ``FOLD_ABOVE`` rows (outside a unit of work);
  ``PostgresStore.migrate()`` and ``PostgresStore.fold_tallies()`` fold them
  all.

A single counter row per term would serialise every writer of ``status=active``
on one row lock (and deadlock writers that take two such rows in different
orders); an append-only delta log would need a compaction that waits.

The tally answers a total only where it is exact: one term, or several terms of
one single-valued kind (no entity holds two). A filter on several criteria
joins their postings on ``seq`` (the page stops early, the total counts the
intersection); a filter the terms cannot express (``exact_terms`` false)
reads every candidate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from etomkit.adapters.postgres.batch import text as _text
from etomkit.model.queries import Page, check_page_bounds

if TYPE_CHECKING:
    from etomkit.adapters.postgres.repositories import PostgresRepository

__all__ = ["FOLD_ABOVE", "Tally", "fold", "query", "query_statement"]

#: A query folds a term's tally rows when it sees more than this many.
FOLD_ABOVE = 16

Conn = psycopg.Connection[Any]

_UPSERT = " ON CONFLICT (ns, term, shard) DO UPDATE SET n = {tally}.n + excluded.n"


class Tally:
    """One repository's tallied term kinds (``prefix -> single-valued``) and the
    SQL that keeps their counts."""

    def __init__(self, ns: str, table: sql.Composable, kinds: Mapping[str, bool]) -> None:
        self.ns = ns
        self.table = table
        self.kinds = dict(kinds)
        self._prefixes = tuple(self.kinds)
        escaped = (p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for p in kinds)
        self.patterns = [p + "%" for p in escaped]
        self.from_values = sql.SQL(
            "INSERT INTO {tally} (ns, term, shard, n)"
            " SELECT %s, x.t, pg_backend_pid(), x.n"
            " FROM unnest(%s::text[], %s::bigint[]) AS x(t, n)" + _UPSERT
        ).format(tally=table)

    def counted(self, term: str) -> bool:
        """True if ``term`` is of a tallied kind."""
        return bool(self._prefixes) and term.startswith(self._prefixes)

    def deltas(
        self, added: Iterable[str], removed: Iterable[str] = ()
    ) -> tuple[list[str], list[int]]:
        """The non-zero count changes (stored term texts, ``n``) of tallied terms."""
        prefixes = self._prefixes
        if not prefixes:
            return [], []
        change: Counter[str] = Counter(_text(t) for t in added if t.startswith(prefixes))
        change.subtract(_text(t) for t in removed if t.startswith(prefixes))
        terms = [t for t, n in change.items() if n]
        return terms, [change[t] for t in terms]

    def from_rows(self, cte: str, sign: str) -> sql.Composed:
        """An upsert counting the rows (with a ``term`` column) a CTE returns, ``sign``
        ``""`` or ``"-"``; its parameters are ``(ns, self.patterns)``."""
        return sql.SQL(
            "INSERT INTO {tally} (ns, term, shard, n)"
            " SELECT %s, term, pg_backend_pid(), " + sign + "count(*) FROM " + cte + ""
            " WHERE term LIKE ANY(%s) GROUP BY term" + _UPSERT
        ).format(tally=self.table)

    def _kind(self, terms: list[str]) -> str | None:
        """The tallied kind all of ``terms`` are of, if one."""
        kinds = {next((p for p in self._prefixes if t.startswith(p)), None) for t in terms}
        return kinds.pop() if len(kinds) == 1 else None

    def exact(self, terms: list[str]) -> bool:
        """True if the tally gives the number of entities holding any of ``terms``."""
        kind = self._kind(terms)
        return kind is not None and (len(terms) == 1 or self.kinds[kind])

    def single_valued(self, terms: list[str]) -> bool:
        """True if ``terms`` are of one single-valued tallied kind (no entity holds two)."""
        kind = self._kind(terms)
        return kind is not None and self.kinds[kind]


def fold(
    conn: Conn, table: sql.Composable, ns: str | None = None, terms: Sequence[str] = ()
) -> int:
    """Merge the tally rows of ``terms`` of ``ns`` (of every term if ``ns`` is None)
    into one per term, skipping rows a transaction holds; returns how many rows
    went. One statement: run it as a transaction of its own."""
    where = sql.SQL("true") if ns is None else sql.SQL("ns = %s AND term = ANY(%s)")
    params = () if ns is None else (ns, [_text(t) for t in terms])
    statement = sql.SQL(
        "WITH l AS MATERIALIZED (SELECT ctid FROM {tally} WHERE {where} FOR UPDATE SKIP LOCKED),"
        " d AS (DELETE FROM {tally} WHERE ctid IN (SELECT ctid FROM l) RETURNING ns, term, n),"
        " f AS (INSERT INTO {tally} (ns, term, shard, n)"
        " SELECT ns, term, -(pg_current_xact_id()::text::bigint), sum(n) FROM d"
        " GROUP BY ns, term HAVING sum(n) <> 0)"
        " SELECT count(*) FROM d"
    ).format(tally=table, where=where)
    row = conn.execute(statement, params).fetchone()
    return int(row[0]) if row else 0


# ---------------------------------------------------------------------- queries


def query_statement(
    repo: PostgresRepository[Any, Any], where: Any, offset: int = 0, limit: int | None = None
) -> tuple[sql.Composed, list[Any]]:
    """The statement :func:`query` sends: for an exact filter one row ``(tally rows
    or NULL, NULL, NULL, total)`` and the page's rows ``(revision, doc, id,
    NULL)``; otherwise every candidate row, in insertion order."""
    term_sets: list[list[str]] = [] if where is None else where.term_sets()
    exact = where is None or getattr(where, "exact_terms", True)
    if exact and len(term_sets) == 1 and term_sets[0]:
        return _one_criterion(repo, list(dict.fromkeys(term_sets[0])), offset, limit)
    if exact and len(term_sets) > 1 and all(_joinable(repo, ts) for ts in term_sets):
        return _several_criteria(repo, term_sets, offset, limit)
    conditions: list[sql.Composable] = [sql.SQL("e.ns = %s")]
    params: list[Any] = [repo._ns]
    for terms in term_sets:
        conditions.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM {} t WHERE t.ns = e.ns AND t.id = e.id AND t.term = ANY(%s))"
            ).format(repo._term)
        )
        params.append([_text(t) for t in terms])
    condition = sql.SQL(" AND ").join(conditions)
    if not exact:
        return sql.SQL("SELECT e.revision, e.doc, e.id FROM {} e WHERE {} ORDER BY e.seq").format(
            repo._entity, condition
        ), params
    statement = sql.SQL(
        "SELECT NULL::integer, NULL::bytea, NULL::text, count(*) FROM {entity} e WHERE {c}"
        " UNION ALL (SELECT e.revision, e.doc, e.id, NULL FROM {entity} e WHERE {c}"
        " ORDER BY e.seq OFFSET %s LIMIT %s)"
    ).format(entity=repo._entity, c=condition)
    return statement, [*params, *params, offset, limit]


def _joinable(repo: PostgresRepository[Any, Any], terms: list[str]) -> bool:
    """True if no entity holds two of ``terms`` (one term, or a single-valued kind)."""
    return len(set(terms)) == 1 or repo._tally.single_valued(terms)


def _several_criteria(
    repo: PostgresRepository[Any, Any], term_sets: list[list[str]], offset: int, limit: int | None
) -> tuple[sql.Composed, list[Any]]:
    """Every criterion (each one term, or terms of a single-valued kind): the
    postings joined on ``seq``, so that their ``term_seq`` ranges merge in
    order. The page stops at its last row; the total counts the intersection
    (exact, but in proportion to the postings of the criteria)."""
    params: list[Any] = []
    postings = "{term} t0"
    for k, terms in enumerate(term_sets[1:], 1):
        postings += f" JOIN {{term}} t{k} ON t{k}.ns = t0.ns AND t{k}.seq = t0.seq AND "
        postings += _matching(f"t{k}", terms, params)
    where = " WHERE t0.ns = %s AND " + _matching("t0", term_sets[0], [])
    first = [repo._ns, _first(term_sets[0])]
    names = {"term": repo._term, "entity": repo._entity}
    statement = sql.SQL(
        "SELECT NULL::integer, NULL::bytea, NULL::text, count(*) FROM " + postings + where + ""
        " UNION ALL (SELECT e.revision, e.doc, e.id, NULL FROM " + postings + ""
        " JOIN {entity} e ON e.ns = t0.ns AND e.id = t0.id" + where + ""
        " ORDER BY t0.seq OFFSET %s LIMIT %s)"
    ).format(**names)
    return statement, [*params, *first, *params, *first, offset, limit]


def _matching(alias: str, terms: list[str], params: list[Any]) -> str:
    """``alias.term`` equal to the one term (an ordered range of ``term_seq``) or any
    of several; appends the parameter."""
    params.append(_first(terms))
    return f"{alias}.term = %s" if len(set(terms)) == 1 else f"{alias}.term = ANY(%s)"


def _first(terms: list[str]) -> Any:
    """The parameter of :func:`_matching`: the one term, or the list of them."""
    return _text(terms[0]) if len(set(terms)) == 1 else [_text(t) for t in terms]


def _one_criterion(
    repo: PostgresRepository[Any, Any], terms: list[str], offset: int, limit: int | None
) -> tuple[sql.Composed, list[Any]]:
    """Any of ``terms``: the total from the tally where it is exact, else from the
    term index; the page from ``term_seq``."""
    tally, ns, stored = repo._tally, repo._ns, [_text(t) for t in terms]
    names = {"term": repo._term, "entity": repo._entity, "tally": tally.table}
    if tally.exact(terms):
        total = sql.SQL(
            "SELECT count(*)::integer, NULL::bytea, NULL::text, coalesce(sum(n), 0)::bigint"
            " FROM {tally} WHERE ns = %s AND term = ANY(%s)"
        )
    else:
        counted = "count(*)" if len(terms) == 1 else "count(DISTINCT t.id)"
        total = sql.SQL(
            "SELECT NULL::integer, NULL::bytea, NULL::text, " + counted + " FROM {term} t"
            " WHERE t.ns = %s AND t.term = ANY(%s)"
        )
    params: list[Any] = [ns, stored]
    if len(terms) == 1:
        page = sql.SQL(
            "SELECT e.revision, e.doc, e.id, NULL FROM {term} t"
            " JOIN {entity} e ON e.ns = t.ns AND e.id = t.id"
            " WHERE t.ns = %s AND t.term = %s ORDER BY t.seq OFFSET %s LIMIT %s"
        )
        params += [ns, stored[0], offset, limit]
    elif tally.single_valued(terms):  # no entity holds two: merge each term's first rows
        page = sql.SQL(
            "SELECT e.revision, e.doc, e.id, NULL FROM unnest(%s::text[]) AS k(term)"
            " CROSS JOIN LATERAL (SELECT t.id, t.seq FROM {term} t"
            " WHERE t.ns = %s AND t.term = k.term ORDER BY t.seq LIMIT %s) t"
            " JOIN {entity} e ON e.ns = %s AND e.id = t.id ORDER BY t.seq OFFSET %s LIMIT %s"
        )
        first = None if limit is None else offset + limit
        params += [stored, ns, first, ns, offset, limit]
    else:
        page = sql.SQL(
            "SELECT e.revision, e.doc, e.id, NULL FROM {entity} e WHERE e.ns = %s"
            " AND EXISTS (SELECT 1 FROM {term} t WHERE t.ns = e.ns AND t.id = e.id"
            " AND t.term = ANY(%s)) ORDER BY e.seq OFFSET %s LIMIT %s"
        )
        params += [ns, stored, offset, limit]
    statement = sql.SQL("{} UNION ALL ({})").format(total.format(**names), page.format(**names))
    return statement, params


def query(
    repo: PostgresRepository[Any, Any], where: Any, offset: int, limit: int | None
) -> Page[Any]:
    """A page of ``repo``'s entities matching ``where`` and their total: one statement
    (so the two agree), then a fold if the total read many tally rows."""
    check_page_bounds(offset, limit)
    statement, params = query_statement(repo, where, offset, limit)
    store = repo._store
    rows = store.run(
        f"query {repo.entity_name}",
        # never prepared: a generic plan, blind to how common a term is, would
        # walk every holder of a common one (status=active) to sort them
        lambda c: c.execute(statement, params, prepare=False).fetchall(),
        read=True,
        single=True,
    )
    if where is not None and not getattr(where, "exact_terms", True):
        matching = [e for e in map(repo._decode, rows) if where.matches(e)]
        end = None if limit is None else offset + limit
        return Page(tuple(matching[offset:end]), len(matching), offset, limit)
    head = next((r for r in rows if r[2] is None), None)
    if head is not None and head[0] is not None and head[0] > FOLD_ABOVE and not store.in_unit:
        terms = where.term_sets()[0]
        store.run(
            f"fold the tally of {repo.entity_name}",
            lambda c: fold(c, repo._tally.table, repo._ns, terms),
            single=True,
        )
    items = tuple(repo._decode(r) for r in rows if r[2] is not None)
    return Page(items, 0 if head is None else int(head[3]), offset, limit)
