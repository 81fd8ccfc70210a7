"""PostgresUsageLog: the usage log of many hosts in one table of the store's schema."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from psycopg import sql

from etomkit import tmf
from etomkit.adapters.postgres.store import PostgresStore
from etomkit.errors import StorageError, ValidationError
from etomkit.model.usage import UsageRecord
from etomkit.ports import UsageLog

__all__ = ["PostgresUsageLog"]


class PostgresUsageLog(UsageLog):
    """Usage records in the ``usage`` table of ``store``'s schema, in append order.

    ``append`` writes the batch in one statement (one round trip); several
    hosts may append at once. Records are TMF-style JSON, the FileUsageLog's
    fields.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        table = store.qualified("usage")
        self._insert = sql.SQL(
            "INSERT INTO {} (at, record) SELECT * FROM unnest(%s::timestamptz[], %s::bytea[])"
        ).format(table)
        self._select = sql.SQL(
            "SELECT record FROM {} WHERE (%s::timestamptz IS NULL OR at >= %s)"
            " AND (%s::timestamptz IS NULL OR at < %s) ORDER BY seq"
        ).format(table)
        self._count = sql.SQL("SELECT count(*) FROM {}").format(table)

    def append(self, records: Sequence[UsageRecord]) -> None:
        if not records:
            return
        ats = [r.at for r in records]
        docs = [
            json.dumps(tmf.to_json(r), ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "backslashreplace"
            )
            for r in records
        ]
        self._store.run(
            "append usage records", lambda c: c.execute(self._insert, (ats, docs)), single=True
        )

    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[UsageRecord]:
        rows = self._store.run(
            "read usage records",
            lambda c: c.execute(self._select, (since, since, until, until)).fetchall(),
            read=True,
            single=True,
        )
        for (raw,) in rows:
            yield self._decode(bytes(raw))

    @staticmethod
    def _decode(raw: bytes) -> UsageRecord:
        try:
            data: Any = json.loads(raw)
            return tmf.from_json(UsageRecord, data)
        except (ValueError, ValidationError) as e:
            raise StorageError(f"PostgresUsageLog: a stored record does not decode: {e}") from e

    def __len__(self) -> int:
        row = self._store.run(
            "count usage records",
            lambda c: c.execute(self._count).fetchone(),
            read=True,
            single=True,
        )
        return int(row[0]) if row else 0
