"""The documentation runs: every ```python block of README.md and of every page
under docs/ (but the pages in NOT_YET_RUNNABLE, each with its reason).

Blocks of one file run in order in one fresh namespace (like notebook cells),
in a temporary working directory, so a later block may use what an earlier
one defined and nothing leaks between files. A page may import from a folder
of the repository (the how-to imports its worked example, ``sqlite_store``).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

import etomkit

ROOT = Path(__file__).resolve().parent.parent
#: Pages whose blocks do not run yet, and why (remove a page once it runs).
NOT_YET_RUNNABLE: dict[str, str] = {}
#: Pages whose blocks need a PostgreSQL server (skipped without one, except under CI).
NEEDS_POSTGRES = {"docs/postgres.md"}
DOCUMENTS = [
    "README.md",
    *(
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "docs").glob("*.md"))
        if str(path.relative_to(ROOT)) not in NOT_YET_RUNNABLE
        and "```python" in path.read_text(encoding="utf-8")
    ),
]
#: Folders a page's blocks import from (the how-to imports its worked example).
IMPORTS_FROM = {"docs/howto-write-an-adapter.md": ROOT / "examples" / "sqlite_adapter"}
QUICK_START = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && sh examples/cli/main_job.sh",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
]

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, source)`` of every ```python block in a Markdown text."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _FENCE.finditer(text)]


def test_python_blocks_are_found_in_markdown() -> None:
    text = "intro\n```python\nx = 1\n```\ntext\n```bash\nls\n```\n```python\ny = x\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (10, "y = x\n")]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_block_runs_in_order(
    document: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if document in NEEDS_POSTGRES:
        _require_postgres()
    path = ROOT / document
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    assert blocks, f"{document} has no python blocks"
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict[str, Any] = {"__name__": f"docs_{path.stem}"}
    if document in IMPORTS_FROM:
        monkeypatch.syspath_prepend(str(IMPORTS_FROM[document]))
    guide_schema = f'"etomkit_guide_{uuid.uuid4().hex[:8]}"'  # runs may share one server
    for line, source in blocks:
        source = source.replace('"etomkit_guide"', guide_schema)
        # Compiled against the document so a traceback points at its line.
        code = compile("\n" * (line - 1) + source, str(path), "exec")
        exec(code, namespace)


def _require_postgres() -> None:
    """Skip (fail under CI) unless the test server answers."""
    conninfo = os.environ.get(
        "ETOMKIT_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=test"
    )
    try:
        import psycopg

        psycopg.connect(conninfo, connect_timeout=3).close()
    except Exception as e:  # no driver or no server
        message = f"no PostgreSQL server at {conninfo!r} ({type(e).__name__}); see docs/postgres.md"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def test_the_howto_sqlite_store_serves_an_inventory() -> None:
    """The how-to's worked example serves an inventory (examples/sqlite_adapter passes
    the whole kit too)."""
    from examples.sqlite_adapter.sqlite_store import SQLiteStore

    howto = (ROOT / "docs" / "howto-write-an-adapter.md").read_text(encoding="utf-8")
    assert "examples/sqlite_adapter/sqlite_store.py" in howto
    store = SQLiteStore(":memory:")
    inv = etomkit.ProductOfferingInventory(store, ids=etomkit.SequentialIdFactory())
    offer = inv.create_offering(etomkit.ProductOffering(name="Fibre 1G"))
    for state in ("In design", "In test", "Active", "Launched"):
        offer = inv.transition_offering(str(offer.id), state)
    item = etomkit.OrderItemRef(order_id="ord-1", item_id="1")
    customer = etomkit.PartyRef(id="cust-1")
    product = inv.record_purchase(customer=customer, offering_id=str(offer.id), order_item=item)
    again = inv.record_purchase(customer=customer, offering_id=str(offer.id), order_item=item)
    assert again == product == store.products.get(str(product.id))
    assert inv.get_offering(str(offer.id)) == offer
    with pytest.raises(etomkit.ConflictError):
        store.offerings.replace(offer, expected_revision=offer.revision - 1)

    def create_then_fail() -> None:
        with store.transaction():
            inv.create_offering(etomkit.ProductOffering(name="Rolled back"))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        create_then_fail()
    assert [o.name for o in inv.iter_offerings()] == ["Fibre 1G"]
    store.close()


def test_readme_quick_start_has_exactly_the_two_set_up_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^```bash\n(.*?)\n```$", section, re.DOTALL | re.MULTILINE)
    assert commands == QUICK_START


def test_ci_runs_the_readme_test_command_the_main_job_and_the_demo() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()]
    assert QUICK_START[1] in lines  # the README's test command, verbatim
    main_job = QUICK_START[0].rsplit(" && ", 1)[1]
    assert sum(main_job in line for line in lines) == 2  # the README's main job, twice
    assert any(line.startswith(".venv/bin/python -m etomkit demo") for line in lines)


def test_reference_names_every_public_name() -> None:
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    missing = [name for name in etomkit.__all__ if f"`{name}" not in reference]
    assert missing == []


def test_every_page_with_python_blocks_runs_or_says_why_not() -> None:
    pages = {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")}
    assert set(NOT_YET_RUNNABLE) <= pages
    with_code = {p for p in pages if "```python" in (ROOT / p).read_text(encoding="utf-8")}
    assert with_code - set(NOT_YET_RUNNABLE) <= set(DOCUMENTS)


def test_the_docs_index_links_every_page() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name != "index.md")
    assert [page for page in pages if f"]({page})" not in index] == []
