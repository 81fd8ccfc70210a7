"""docs/reference.md is checked against the code: every signature it states (in a
heading or the first column of a table) has the parameters ``inspect.signature``
finds, in order, keyword-only where the code says so. ``...`` marks an elision:
the parameters before it must still match the code's."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import etomkit as ek

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
_CALL = re.compile(r"`((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\(([^`]*)\)`")
_HEADING = re.compile(r"^#+ `([A-Za-z_][\w.]*)")


def split_parameters(text: str) -> list[str]:
    """The top-level comma-separated parts of a parameter list."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def documented(text: str) -> list[tuple[str, bool]]:
    """``(name, keyword_only)`` of each documented parameter; ``("...", False)`` for an elision."""
    found: list[tuple[str, bool]] = []
    keyword_only = False
    for part in split_parameters(text):
        if part == "*":
            keyword_only = True
            continue
        if part in ("...", "…"):
            found.append(("...", False))
            continue
        name = re.split(r"[=:]", part)[0].strip()
        found.append((name, keyword_only or name.startswith("**")))
    return found


def actual(target: Any) -> list[tuple[str, bool]]:
    """``(name, keyword_only)`` of each parameter of the code (``self`` left out)."""
    result = []
    for p in inspect.signature(target).parameters.values():
        if p.name == "self":
            continue
        prefix = {p.VAR_KEYWORD: "**", p.VAR_POSITIONAL: "*"}.get(p.kind, "")  # type: ignore[call-overload]
        result.append((prefix + p.name, p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD)))
    return result


def stated_signatures() -> Iterator[tuple[int, str, str, Any]]:
    """``(line, name, parameters, the code it documents)`` of every stated signature."""
    owner: Any = None
    for number, line in enumerate(REFERENCE.read_text(encoding="utf-8").splitlines(), 1):
        heading = _HEADING.match(line)
        if heading:
            name = heading.group(1)
            owner = getattr(ek, name) if name in ek.__all__ else None
        if heading:
            spans = line
        elif line.startswith("| `"):
            spans = line.split(" | ")[0]
        else:
            continue
        for match in _CALL.finditer(spans):
            name, parameters = match.groups()
            target = None
            if "." in name:
                head, _, attribute = name.rpartition(".")
                holder = ek if head in ("ek", "etomkit") else getattr(ek, head, None)
                target = getattr(holder, attribute, None)
            elif name in ek.__all__:
                target = getattr(ek, name)
            elif owner is not None:
                target = getattr(owner, name, None)
            if callable(target):
                yield number, name, parameters, target


def test_the_reference_states_many_signatures() -> None:
    assert len(list(stated_signatures())) >= 40


def test_every_signature_the_reference_states_matches_the_code() -> None:
    wrong = []
    for number, name, parameters, target in stated_signatures():
        stated, real = documented(parameters), actual(target)
        if ("...", False) in stated:
            head = stated[: stated.index(("...", False))]
            ok = real[: len(head)] == head
        else:
            ok = stated == real
        if not ok:
            wrong.append(f"line {number}: {name}({parameters}) but the code has {real}")
    assert wrong == []
