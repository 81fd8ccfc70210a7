"""The notebooks under docs/notebooks run headless, top to bottom, without a cell error."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "docs" / "notebooks"

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")
pytest.importorskip("matplotlib", reason="the notebooks plot (the notebook extra)")


@pytest.mark.parametrize("name", ["rule-prototyping.ipynb", "inventory-quality.ipynb"])
def test_the_notebook_runs_and_draws_its_tables_and_pictures(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    kinds = {kind for o in outputs for kind in o.get("data", {})}
    assert "text/html" in kinds  # the results' _repr_html_ tables
    assert "image/png" in kinds  # the plots
    assert not [o for o in outputs if o.get("output_type") == "error"]


def test_the_notebooks_are_stored_without_outputs() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), path
