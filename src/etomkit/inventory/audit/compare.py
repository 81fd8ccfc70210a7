"""Audit runs over time: run-to-run comparison and score trends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from etomkit.model.audit import AuditComparison, AuditRun

__all__ = ["compare_runs", "score_trend"]


def compare_runs(before: AuditRun, after: AuditRun) -> AuditComparison:
    """Classify every finding of two runs, by key (rule + entity), as new in
    ``after``, fixed since ``before``, or persisting. A finding whose detail
    changed but whose rule and entity did not is persisting."""
    return AuditComparison.of(before, after)


def score_trend(runs: Iterable[AuditRun]) -> list[dict[str, Any]]:
    """One flat row per run, oldest first: when, overall score, each rule's score
    and the number of findings (``pandas.DataFrame(score_trend(runs))``)."""
    rows = []
    for run in sorted(runs, key=lambda r: r.finished_at):
        row: dict[str, Any] = {
            "run": run.id,
            "finished at": run.finished_at,
            "scope": run.scope,
            "findings": len(run.findings),
            "overall": run.overall_score,
        }
        row.update({score.rule: score.score for score in run.rule_scores})
        rows.append(row)
    return rows
