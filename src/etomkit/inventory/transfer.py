"""Download and import of TMF JSON: a document (JSON array) or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TextIO, TypeVar

from etomkit import tmf
from etomkit.errors import Problem, ValidationError
from etomkit.inputs import decode_text, json_lines, parse_json

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


class _Unreadable:
    """A JSON line that does not parse: its problems."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)


def _raw_documents(source: str | bytes | Iterable[Any], entity: str) -> Iterator[tuple[str, Any]]:
    """Yield ``(where, JSON value)`` from a JSON array text, JSON lines text or parsed list.

    ``where`` is ``[3]`` (the element of an array) or ``line 4`` (JSON lines).
    """
    if isinstance(source, bytes | bytearray):
        source = decode_text(source, entity)
    if not isinstance(source, str):
        try:
            docs = list(source)
        except TypeError:
            raise ValidationError(
                entity, [("$", f"must be JSON text or a list, got {type(source).__name__}")]
            ) from None
        for i, doc in enumerate(docs):
            yield f"[{i}]", doc
        return
    stripped = source.lstrip()
    if stripped.startswith("["):
        docs = parse_json(stripped, entity, check=False)  # each document is checked alone
        for i, doc in enumerate(docs):
            yield f"[{i}]", doc
        return
    for number, line in json_lines(source):
        try:
            yield f"line {number}", parse_json(line, entity, f"line {number}", check=False)
        except ValidationError as exc:  # reported with the other lines' problems
            yield f"line {number}", _Unreadable(exc.problems)


def read_documents(
    source: str | bytes | Iterable[Any], cls: type[T]
) -> tuple[list[tuple[str, T]], list[Problem]]:
    """Parse every document: ``(where, entity)`` for each that parsed, and every
    problem, its path prefixed with where the document stands (``[3]``, ``line 4``)."""
    entities: list[tuple[str, T]] = []
    problems: list[Problem] = []
    for where, doc in _raw_documents(source, cls.__name__):
        if isinstance(doc, _Unreadable):
            problems.extend(doc.problems)
            continue
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
