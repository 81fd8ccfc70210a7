"""Contracts of the audit repositories (issue #6): audit runs and manual audits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import hypothesis.strategies as st

from etomkit.model.audit import AuditRun, AuditRunFilter, ManualAudit, ManualAuditFilter
from etomkit.model.values import EntityRef
from etomkit.ports import AuditRunRepository, ManualAuditRepository, Repository
from etomkit.testing import strategies as ets
from etomkit.testing.contracts._base import RepositoryContract

__all__ = [
    "AuditRunRepositoryContract",
    "ManualAuditRepositoryContract",
    "audit_run",
    "manual_audit",
]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_RICH_RUNS = ets.audit_runs()
_RICH_AUDITS = ets.manual_audits()


def audit_run(run_id: str | None, *, scope: str | None = None) -> AuditRun:
    """A minimal audit run over ``scope`` (None: the whole inventory)."""
    return AuditRun(id=run_id, started_at=_T0, finished_at=_T0, scope=scope)


def manual_audit(
    audit_id: str | None,
    *,
    entity_id: str = "po-1",
    entity_type: str = "ProductOffering",
    auditor: str = "ann",
    outcome: str = "passed",
) -> ManualAudit:
    """A minimal manual audit of one entity."""
    return ManualAudit(
        id=audit_id,
        entity=EntityRef(id=entity_id, referred_type=entity_type),
        auditor=auditor,
        audited_at=_T0,
        outcome=outcome,
    )


class AuditRunRepositoryContract(RepositoryContract[AuditRun, AuditRunFilter]):
    """The contract of :class:`~etomkit.ports.AuditRunRepository` (``store.audit_runs``)."""

    port = AuditRunRepository

    def repository(self, store: Any) -> Repository[AuditRun, AuditRunFilter]:
        return store.audit_runs  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> AuditRun:
        return audit_run(entity_id)

    def changed(self, entity: AuditRun, label: str) -> AuditRun:
        return attrs.evolve(entity, rules=(label,))

    def rich_entities(self) -> st.SearchStrategy[AuditRun]:
        return _RICH_RUNS

    def test_query_by_scope_where_empty_means_the_whole_inventory(
        self, repo: Repository[AuditRun, AuditRunFilter]
    ) -> None:
        whole = repo.add(audit_run("r-1"))
        active = repo.add(audit_run("r-2", scope="lifecycle=Active"))
        again = repo.add(audit_run("r-3"))
        assert repo.query(AuditRunFilter(scope="")).items == (whole, again)
        assert repo.query(AuditRunFilter(scope="lifecycle=Active")).items == (active,)


class ManualAuditRepositoryContract(RepositoryContract[ManualAudit, ManualAuditFilter]):
    """The contract of :class:`~etomkit.ports.ManualAuditRepository` (``store.manual_audits``)."""

    port = ManualAuditRepository

    def repository(self, store: Any) -> Repository[ManualAudit, ManualAuditFilter]:
        return store.manual_audits  # type: ignore[no-any-return]

    def entity(self, entity_id: str | None) -> ManualAudit:
        return manual_audit(entity_id)

    def changed(self, entity: ManualAudit, label: str) -> ManualAudit:
        return attrs.evolve(entity, notes=label)

    def rich_entities(self) -> st.SearchStrategy[ManualAudit]:
        return _RICH_AUDITS

    def test_query_by_entity_auditor_and_outcome(
        self, repo: Repository[ManualAudit, ManualAuditFilter]
    ) -> None:
        a = repo.add(manual_audit("m-1"))
        b = repo.add(manual_audit("m-2", entity_id="pr-1", entity_type="Product", outcome="failed"))
        c = repo.add(manual_audit("m-3", auditor="bo", outcome="inconclusive"))
        assert repo.query(ManualAuditFilter(entity_type="Product")).items == (b,)
        assert repo.query(ManualAuditFilter(entity_id="po-1")).items == (a, c)
        assert repo.query(ManualAuditFilter(auditor="bo")).items == (c,)
        assert repo.query(ManualAuditFilter(outcome=("failed", "passed"))).items == (a, b)
        where = ManualAuditFilter(entity_type="ProductOffering", entity_id="po-1", auditor="ann")
        assert repo.query(where).items == (a,)
