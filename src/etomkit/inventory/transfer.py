"""Download and import of TMF JSON: a document (JSON array) or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TextIO, TypeVar

from etomkit import tmf
from etomkit.errors import Problem, ValidationError

__all__ = ["Format", "located", "read_documents", "write_documents"]

Format = Literal["json", "jsonl"]
T = TypeVar("T")


def write_documents(entities: Iterable[Any], fmt: Format, out: TextIO) -> int:
    """Write entities as TMF JSON to ``out``; return how many were written."""
    if fmt not in ("json", "jsonl"):
        raise ValidationError("download", [("format", f"must be 'json' or 'jsonl', not {fmt!r}")])
    count = 0
    to_json, dumps = tmf.to_json, json.dumps
    if fmt == "jsonl":
        for entity in entities:
            out.write(dumps(to_json(entity), ensure_ascii=False))
            out.write("\n")
            count += 1
        return count
    out.write("[")
    for entity in entities:
        out.write(",\n" if count else "\n")
        out.write(dumps(to_json(entity), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _raw_documents(source: str | bytes | Iterable[Any], entity: str) -> Iterator[tuple[str, Any]]:
    """Yield ``(path, JSON value)`` from a JSON array text, JSON lines text or parsed list."""
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    if not isinstance(source, str):
        for i, doc in enumerate(source):
            yield f"[{i}]", doc
        return
    stripped = source.lstrip()
    if stripped.startswith("["):
        try:
            docs = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValidationError(entity, [("$", f"not valid JSON: {exc}")]) from None
        for i, doc in enumerate(docs):
            yield f"[{i}]", doc
        return
    # split on "\n" only: str.splitlines() would also break on U+2028 and friends,
    # which json.dumps(ensure_ascii=False) leaves raw inside strings
    for number, line in enumerate(source.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                entity, [(f"line {number}", f"not valid JSON: {exc.msg}")]
            ) from None


def read_documents(
    source: str | bytes | Iterable[Any], cls: type[T]
) -> tuple[list[tuple[str, T]], list[Problem]]:
    """Parse every document: ``(where, entity)`` for each that parsed, and every
    problem, its path prefixed with where the document stands (``[3]``, ``line 4``)."""
    entities: list[tuple[str, T]] = []
    problems: list[Problem] = []
    for where, doc in _raw_documents(source, cls.__name__):
        try:
            entities.append((where, tmf.from_json(cls, doc)))
        except ValidationError as exc:
            problems.extend((f"{where}{path.removeprefix('$')}", msg) for path, msg in exc.problems)
    return entities, problems


def located(where: str, problems: Iterable[Problem]) -> list[Problem]:
    """Model problems (attribute paths) of one document, as JSON paths under ``where``."""
    return [
        (f"{where}{tmf.json_path('$.' + path).removeprefix('$')}", msg) for path, msg in problems
    ]
