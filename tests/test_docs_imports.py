"""Every import in the docs, the README and the examples comes from a public place:
the package root or a module docs/reference.md lists as public, and the name
is in that module's ``__all__``."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_MODULES = {
    "etomkit",
    "etomkit.tmf",
    "etomkit.ordering",
    "etomkit.inventory.audit",
    "etomkit.ports",
    "etomkit.model.canonical",
    "etomkit.adapters.postgres",
    "etomkit.notebook",
    "etomkit.cli",
    "etomkit.testing.contracts",
    "etomkit.testing.strategies",
    "etomkit.testing.stateful",
}
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def sources() -> list[tuple[str, str]]:
    """``(where, python source)`` of every doc block, notebook cell and example."""
    found: list[tuple[str, str]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(_FENCE.findall(path.read_text(encoding="utf-8"))):
            found.append((f"{path.relative_to(ROOT)} block {i + 1}", block))
    for path in sorted((ROOT / "docs" / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                text = "".join(cell["source"])
                lines = [line for line in text.splitlines() if not line.startswith("%")]
                found.append((f"{path.relative_to(ROOT)} cell {i}", "\n".join(lines)))
    for path in sorted((ROOT / "examples").rglob("*.py")):
        found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return found


def etomkit_imports(source: str) -> list[tuple[str, str | None]]:
    """``(module, name)`` of every etomkit import (name None for ``import etomkit.x``)."""
    imports: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "etomkit":
            imports.extend((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            imports.extend(
                (alias.name, None) for alias in node.names if alias.name.split(".")[0] == "etomkit"
            )
    return imports


def test_the_reference_lists_every_public_module() -> None:
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert [m for m in sorted(PUBLIC_MODULES - {"etomkit"}) if f"`{m}`" not in reference] == []


@pytest.mark.parametrize(("where", "source"), sources(), ids=lambda v: str(v)[:60])
def test_docs_and_examples_import_only_public_names(where: str, source: str) -> None:
    wrong = []
    for module, name in etomkit_imports(source):
        if module not in PUBLIC_MODULES:
            wrong.append(f"{module} is not a public module")
            continue
        public = getattr(importlib.import_module(module), "__all__", ())
        if name is not None and name not in public and f"{module}.{name}" not in PUBLIC_MODULES:
            wrong.append(f"{name} is not in {module}.__all__")
    assert wrong == [], where
