"""Every result a notebook shows is a compact, escaped table built from its rows()."""

from __future__ import annotations

import re
from typing import Any

import pytest

import etomkit as ek
from etomkit.model.issuance import InitiatingRequest
from etomkit.model.orders import ServiceOrder, ServiceOrderItem, ServiceRefOrValue
from etomkit.notebook import Tabular, html_table, plot_audit_scores, plot_outcomes, text_table

RULES = """
[[rule]]
id = "fibre-access"
description = "FTTH <b>access</b> & a VLAN"
specification = "fibre-broadband"
when = [{ characteristic = "bandwidth", in = ["100M", "1G"] }]
[[rule.produces]]
resource_specification = "ont"
"""


class Pretty:
    """What IPython's pretty printer hands to ``_repr_pretty_``."""

    def __init__(self) -> None:
        self.written = ""

    def text(self, text: str) -> None:
        self.written += text


def fibre_order(order_id: str, bandwidth: str) -> InitiatingRequest:
    item = ServiceOrderItem(
        id="1",
        action="add",
        service=ServiceRefOrValue(
            service_specification=ek.EntityRef(id="fibre-broadband"),
            service_characteristic=(ek.Characteristic(name="bandwidth", value=bandwidth),),
        ),
    )
    order = ServiceOrder(id=order_id, service_order_item=(item,))
    return InitiatingRequest.from_service_order(order)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    """One of every kind of result, from one small inventory and one issuer."""
    store = ek.InMemoryStore()
    meter = ek.UsageMeter()
    inv = ek.ProductOfferingInventory(store, usage=meter)
    inv.import_offerings([{"id": "po-1", "name": "<Fibre> & co", "lifecycleStatus": "Launched"}])
    inv.record_purchase(
        customer=ek.PartyRef(id="cust-1"),
        offering_id="po-1",
        order_item=ek.OrderItemRef(order_id="o-1", item_id="1"),
    )
    auditor = ek.InventoryAuditor(store)
    first, second = auditor.run(), auditor.run()
    rules = ek.RuleSet.from_toml_text(RULES)
    store.resource_specifications.add(ek.ResourceSpecification(id="ont", name="ONT"))
    issuer = ek.ResourceOrderIssuer(store, rules)
    issued = issuer.issue(fibre_order("SO-1", "1G"))
    return {
        "explanation": issuer.explain(fibre_order("SO-2", "10G")),
        "result": issued,
        "record": issued.record,
        "rules": rules,
        "page": inv.list_offerings(),
        "products": inv.list_products(),
        "run": second,
        "comparison": auditor.compare(first, second),
        "usage": meter.report(period="day"),
        "shortcomings": meter.shortcomings(store=store),
        "runs": [first, second],
    }


KINDS = [
    "explanation", "result", "record", "rules", "page", "products", "run", "comparison",
    "usage", "shortcomings",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_every_result_shows_as_an_html_table_and_as_text(
    results: dict[str, Any], kind: str
) -> None:
    shown = results[kind]
    assert isinstance(shown, Tabular)
    page = shown._repr_html_()
    assert page.startswith('<div class="etomkit">') and page.endswith("</div>")
    pretty = Pretty()
    shown._repr_pretty_(pretty, False)
    assert pretty.written and len(pretty.written) < 5000


@pytest.mark.parametrize("kind", KINDS)
def test_rows_use_snake_case_keys(results: dict[str, Any], kind: str) -> None:
    rows = results[kind].rows()
    assert isinstance(rows, list)
    for row in rows:
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in row), row


def test_html_escapes_what_the_data_says(results: dict[str, Any]) -> None:
    page = results["page"]._repr_html_()
    assert "&lt;Fibre&gt; &amp; co" in page and "<Fibre>" not in page
    rules = results["rules"]._repr_html_()
    assert "FTTH &lt;b&gt;access&lt;/b&gt; &amp; a VLAN" in rules


def test_an_explanation_reads_as_its_text_view(results: dict[str, Any]) -> None:
    pretty = Pretty()
    results["explanation"]._repr_pretty_(pretty, False)
    assert pretty.written == results["explanation"].text()


def test_an_audit_run_shows_its_scores_and_lists_its_findings_as_rows(
    results: dict[str, Any],
) -> None:
    run = results["run"]
    assert "<td>overall</td>" in run._repr_html_()
    assert [row["rule"] for row in run.rows()] == [f.rule for f in run.findings]


def test_long_tables_say_how_many_rows_they_left_out() -> None:
    rows = [{"n": i} for i in range(50)]
    assert "20 more row(s)" in html_table(rows, max_rows=30)
    assert text_table(rows, max_rows=10).endswith("... 40 more row(s)")
    assert text_table([]) == "(none)"


def test_to_pandas_gives_a_data_frame_of_the_rows(results: dict[str, Any]) -> None:
    pytest.importorskip("pandas")
    frame = results["usage"].to_pandas()
    assert list(frame.columns) == list(results["usage"].rows()[0])
    assert len(frame) == len(results["usage"].rows())


def test_plots_are_matplotlib_figures(results: dict[str, Any]) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    scores = plot_audit_scores(results["runs"])
    assert isinstance(scores, Figure)
    assert {line.get_label() for line in scores.axes[0].get_lines()} >= {"overall", "orphans"}
    assert isinstance(results["usage"].plot(), Figure)
    outcomes = plot_outcomes([results["result"]])
    assert [t.get_text() for t in outcomes.axes[0].get_yticklabels()] == ["fibre-access@1"]


def test_importing_etomkit_imports_neither_pandas_nor_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, etomkit, etomkit.notebook, etomkit.cli; "
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
