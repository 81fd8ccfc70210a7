"""docs/postgres.md lists the SQL of every schema version as the code has it."""

from __future__ import annotations

from pathlib import Path

from etomkit.adapters.postgres.schema import MIGRATIONS, migration_sql

DOC = Path(__file__).resolve().parents[3] / "docs" / "postgres.md"


def test_the_postgres_guide_lists_every_migration_statement() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [
        statement
        for version in range(1, len(MIGRATIONS) + 1)
        for statement in migration_sql(version, '"etomkit"')
        if f"{statement};" not in text
    ]
    assert missing == []
