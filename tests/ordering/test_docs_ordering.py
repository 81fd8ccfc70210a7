"""docs/ordering.md runs: its python blocks in order, printing what its text blocks show."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from etomkit.ordering import RuleSet

DOC = Path(__file__).parents[2] / "docs" / "ordering.md"
_FENCE = re.compile(r"^```(\w+)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """``(language, line, source)`` of every fenced block."""
    return [
        (m.group(1), text.count("\n", 0, m.start()) + 2, m.group(2)) for m in _FENCE.finditer(text)
    ]


def test_every_python_block_runs_and_prints_the_text_block_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = fenced_blocks(DOC.read_text(encoding="utf-8"))
    assert sum(lang == "python" for lang, _, _ in blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs_ordering"}
    for n, (lang, line, source) in enumerate(blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile("\n" * (line - 1) + source, str(DOC), "exec"), namespace)
        following = blocks[n + 1] if n + 1 < len(blocks) else None
        if following is not None and following[0] == "text":
            assert out.getvalue() == following[2], f"output of the block at line {line}"


def test_the_toml_block_is_a_valid_rule_file() -> None:
    (toml,) = [
        src for lang, _, src in fenced_blocks(DOC.read_text(encoding="utf-8")) if lang == "toml"
    ]
    rules = RuleSet.from_toml_text(toml)
    assert [r.id for r in rules] == ["fibre-access", "fibre-new-build"]
