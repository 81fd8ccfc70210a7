"""Pictures where people would rather look: matplotlib figures from result rows.

Each function returns a ``matplotlib.figure.Figure`` built without pyplot
(no global state, works headless); a notebook shows the figure when it is a
cell's value, a script calls ``fig.savefig(path)``. matplotlib comes from the
optional ``etomkit[notebook]`` extra and is imported only here, when called.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["plot_audit_scores", "plot_outcomes", "plot_usage"]


def _figure(width: float = 7.0, height: float = 3.6) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'etomkit[notebook]'") from exc
    return Figure(figsize=(width, height), layout="constrained")


def plot_audit_scores(runs: Sequence[Any], *, rules: Iterable[str] | None = None) -> Any:
    """Score per rule and overall over a sequence of :class:`AuditRun` (oldest first)."""
    fig = _figure()
    ax = fig.add_subplot()
    ordered = sorted(runs, key=lambda r: r.started_at)
    when = [r.started_at for r in ordered]
    wanted = None if rules is None else set(rules)
    names = list(dict.fromkeys(s.rule for r in ordered for s in r.rule_scores))
    for name in names:
        if wanted is not None and name not in wanted:
            continue
        scores = [next((s.score for s in r.rule_scores if s.rule == name), None) for r in ordered]
        ax.plot(when, scores, marker=".", linewidth=1, label=name)
    ax.plot(when, [r.overall_score for r in ordered], marker="o", linewidth=2.5, color="black",
            label="overall")  # fmt: skip
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (share passed)")
    ax.set_title(f"Audit scores over {len(ordered)} run(s)")
    ax.legend(fontsize="small", loc="lower left", ncols=2)
    fig.autofmt_xdate()
    return fig


def plot_usage(report: Any, *, by: str = "client") -> Any:
    """Cost units per period, stacked by ``by`` (``client``, ``operation`` or
    ``entity_type``), from a :class:`UsageReport`'s rows; calls on the right."""
    rows = report.rows()
    periods = sorted({row["period"] for row in rows})
    keys = sorted({str(row[by]) for row in rows})
    cost: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    calls: dict[str, int] = Counter()
    for row in rows:
        cost[str(row[by])][row["period"]] += row["cost_units"]
        calls[str(row[by])] += row["calls"]
    fig = _figure(9.0)
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    bottom = [0.0] * len(periods)
    for key in keys:
        heights = [cost[key][p] for p in periods]
        left.bar(periods, heights, bottom=bottom, label=key)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    left.set_ylabel("cost units")
    left.set_title(f"Cost per {getattr(report, 'period', 'period')}, by {by}")
    if keys:
        left.legend(fontsize="small")
    right.barh(keys, [calls[k] for k in keys])
    right.xaxis.get_major_locator().set_params(integer=True)
    right.set_xlabel("calls")
    right.set_title(f"Calls by {by}")
    return fig


def plot_outcomes(records: Iterable[Any]) -> Any:
    """Request items per rule and outcome, from issuance records or results."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for found in records:
        record = getattr(found, "record", found)
        for item in record.items:
            rules = [str(r) for r in item.rules] or ["(no rule)"]
            for rule in rules:
                counts[rule][item.outcome] += 1
    names = sorted(counts)
    outcomes = sorted({o for c in counts.values() for o in c})
    fig = _figure(7.0, max(2.5, 0.45 * len(names) + 1))
    ax = fig.add_subplot()
    left = [0] * len(names)
    for outcome in outcomes:
        widths = [counts[n][outcome] for n in names]
        ax.barh(names, widths, left=left, label=outcome)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("request items")
    ax.set_title("Issuing outcomes per rule")
    if outcomes:
        ax.legend(fontsize="small")
    ax.invert_yaxis()
    return fig
