"""Notebook-native results: tables, DataFrames and pictures from ``rows()``.

A leaf of the package (standard library only; pandas and matplotlib are
imported when asked for, from the optional ``etomkit[notebook]`` extra):

* :mod:`etomkit.notebook.tables`: the text and the escaped HTML table of a
  list of rows, the one both ``_repr_pretty_`` and ``_repr_html_`` show;
* :mod:`etomkit.notebook.display`: :class:`Tabular`, the mixin that gives a
  result class with ``rows()`` its ``_repr_html_``, ``_repr_pretty_`` and
  ``to_pandas()``;
* :mod:`etomkit.notebook.plots`: matplotlib figures of audit scores over
  time, usage and cost per period and client, issuing outcomes per rule.

Rows use one convention: a list of flat dicts whose keys are snake_case
field names (``entity_type``, ``cost_units``, ``item_reason``), values
plain JSON-ready scalars or strings.
"""

from etomkit.notebook.display import Tabular
from etomkit.notebook.plots import plot_audit_scores, plot_outcomes, plot_usage
from etomkit.notebook.tables import html_table, text_table, to_pandas

__all__ = [
    "Tabular",
    "html_table",
    "plot_audit_scores",
    "plot_outcomes",
    "plot_usage",
    "text_table",
    "to_pandas",
]
