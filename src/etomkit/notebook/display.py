"""``Tabular``: the notebook face of a result class that has ``rows()``."""

from __future__ import annotations

from typing import Any

from etomkit.notebook.tables import html_table, text_table, to_pandas

__all__ = ["Tabular"]


class Tabular:
    """Mixin for result classes with ``rows()``: a notebook shows them as a table.

    ``_repr_html_`` (Jupyter) and ``_repr_pretty_`` (IPython's text view) draw
    the same rows, ``to_pandas()`` turns them into a DataFrame. A class may
    override ``_display_title()`` (the caption), ``_display_rows()`` (when the
    table shown is not ``rows()``, e.g. an audit run's scores) and
    ``_display_text()`` (a text view of its own, e.g. an explanation).
    """

    __slots__ = ()

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per row, snake_case keys."""
        raise NotImplementedError

    def _display_title(self) -> str:
        return type(self).__name__

    def _display_rows(self) -> list[dict[str, Any]]:
        return self.rows()

    def _display_text(self) -> str:
        return f"{self._display_title()}\n{text_table(self._display_rows(), max_rows=30)}"

    def _repr_html_(self) -> str:
        return html_table(self._display_rows(), title=self._display_title())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"<{type(self).__name__} ...>" if cycle else self._display_text())

    def to_pandas(self) -> Any:
        """``rows()`` as a ``pandas.DataFrame`` (needs the ``etomkit[notebook]`` extra)."""
        return to_pandas(self.rows())
