"""Rows as a text table, an escaped HTML table, or a pandas DataFrame."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

__all__ = ["cell", "html_table", "text_table", "to_pandas"]

Rows = Sequence[dict[str, Any]]

MAX_ROWS = 30
"""Rows a table shows before it says how many more there are."""


def cell(value: Any) -> str:
    """One value as table text: ``-`` for None, 3 significant digits for floats."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(cell(v) for v in value)
    return str(value).replace("\n", " ")


def _columns(rows: Rows, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def text_table(
    rows: Rows, columns: Sequence[str] | None = None, *, max_rows: int | None = None
) -> str:
    """``rows`` as an aligned text table; ``(none)`` when there are none."""
    if not rows:
        return "(none)"
    names = _columns(rows, columns)
    shown = rows if max_rows is None else rows[:max_rows]
    cells = [[cell(row.get(name)) for name in names] for row in shown]
    widths = [max(len(name), *(len(r[i]) for r in cells)) for i, name in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more row(s)")
    return "\n".join(lines)


def html_table(
    rows: Rows,
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
    max_rows: int = MAX_ROWS,
) -> str:
    """``rows`` as a compact HTML table, every text escaped, at most ``max_rows`` rows."""
    parts = ['<div class="etomkit">']
    if title:
        parts.append(f"<p><b>{html.escape(title)}</b></p>")
    if not rows:
        parts.append("<p><i>(none)</i></p></div>")
        return "".join(parts)
    names = _columns(rows, columns)
    parts.append('<table border="1" style="border-collapse:collapse;font-size:90%">')
    parts.append(
        "<thead><tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr></thead>"
    )
    parts.append("<tbody>")
    for row in rows[:max_rows]:
        parts.append(
            "<tr>" + "".join(f"<td>{html.escape(cell(row.get(n)))}</td>" for n in names) + "</tr>"
        )
    parts.append("</tbody></table>")
    if len(rows) > max_rows:
        parts.append(f"<p><i>... {len(rows) - max_rows} more row(s)</i></p>")
    parts.append("</div>")
    return "".join(parts)


def to_pandas(rows: Rows, columns: Sequence[str] | None = None) -> Any:
    """``rows`` as a ``pandas.DataFrame``. Raises ImportError naming the extra to install."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("to_pandas() needs pandas: pip install 'etomkit[notebook]'") from exc
    return pandas.DataFrame(list(rows), columns=_columns(rows, columns) if rows else columns)
