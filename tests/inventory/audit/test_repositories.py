"""The audit repositories of both stores: keyed storage, index queries, rollback, reopen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.inventory.audit.helpers import NOW

import etomkit as ek
from etomkit.inventory.audit import AuditRunFilter, ManualAuditFilter


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield ek.InMemoryStore()
    else:
        with ek.FileStore(tmp_path / "store", durability="none") as file_store:
            yield file_store


def audit(n: int, entity_id: str, outcome: str = "passed", auditor: str = "ann") -> ek.ManualAudit:
    return ek.ManualAudit(
        id=f"ma-{n}",
        entity=ek.EntityRef(id=entity_id, referred_type="Product"),
        auditor=auditor,
        audited_at=NOW + timedelta(hours=n),
        outcome=outcome,
    )


def test_manual_audits_are_queried_by_entity_auditor_and_outcome(store: Any) -> None:
    repo = store.manual_audits
    repo.add_all([audit(1, "p-1"), audit(2, "p-2", "failed"), audit(3, "p-1", "failed", "bob")])

    def ids(where: ManualAuditFilter) -> list[str | None]:
        return [a.id for a in repo.iterate(where)]

    assert ids(ManualAuditFilter(entity_type="Product", entity_id="p-1")) == ["ma-1", "ma-3"]
    assert ids(ManualAuditFilter(outcome="failed")) == ["ma-2", "ma-3"]
    assert ids(ManualAuditFilter(auditor="bob", outcome=["passed", "failed"])) == ["ma-3"]
    assert ids(ManualAuditFilter(entity_type="ProductOffering")) == []
    changed = repo.replace(ek.model._copy.replace(repo.get("ma-1"), outcome="failed"))
    assert changed.revision == 2 and ids(ManualAuditFilter(outcome="failed"))[0] == "ma-1"
    with pytest.raises(ek.ConflictError):
        repo.add(audit(1, "p-9"))
    assert repo.remove("ma-2").id == "ma-2" and len(repo) == 2


def test_audit_runs_are_queried_by_scope_and_roll_back_with_the_store(store: Any) -> None:
    runs = store.audit_runs
    whole = ek.AuditRun(id="r-1", started_at=NOW, finished_at=NOW)
    part = ek.AuditRun(id="r-2", started_at=NOW, finished_at=NOW, scope="products: status=active")
    runs.add_all([whole, part])
    assert [r.id for r in runs.iterate(AuditRunFilter(scope=""))] == ["r-1"]
    assert [r.id for r in runs.iterate(AuditRunFilter(scope=part.scope))] == ["r-2"]

    def fail() -> None:
        with store.transaction():
            runs.add(ek.AuditRun(id="r-3", started_at=NOW, finished_at=NOW))
            store.manual_audits.add(audit(1, "p-1"))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        fail()
    assert [r.id for r in runs.iterate()] == ["r-1", "r-2"] and len(store.manual_audits) == 0


def test_file_store_audit_records_survive_reopening(tmp_path: Path) -> None:
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        store.manual_audits.add(audit(1, "p-1", "failed"))
        store.manual_audits.remove("ma-1")
        store.manual_audits.add(audit(2, "p-1", "failed"))
    with ek.FileStore(tmp_path / "s", durability="none") as store:
        found = list(store.manual_audits.iterate(ManualAuditFilter(entity_id="p-1")))
        assert [(a.id, a.revision) for a in found] == [("ma-2", 1)]
        assert found[0] == ek.model._copy.replace(audit(2, "p-1", "failed"), revision=1)
