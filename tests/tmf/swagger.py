"""Validate JSON against the TMF Open API specifications vendored in ``tests/tmf/specs``.

The Swagger 2.0 files are unmodified TM Forum copies (Apache-2.0; see
``specs/NOTICE`` for their origin). The tests read nothing outside the
repository. A missing file fails the test with a message that says where it was
looked for.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

__all__ = ["SPEC_DIR", "TMF620", "TMF637", "load_spec", "schema_errors"]

SPEC_DIR = Path(__file__).resolve().parent / "specs"
TMF620 = "TMF620-ProductCatalog-v4.1.0.swagger.json"
TMF637 = "TMF637-ProductInventory-v4.0.0.swagger.json"

# RFC 3339 date-time (what Swagger's "date-time" format means); jsonschema checks
# it only with an optional dependency, so the tests bring their own.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")  # type: ignore[untyped-decorator]
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _RFC3339.match(value) is not None


@functools.cache
def load_spec(name: str) -> dict[str, Any]:
    """The parsed specification file ``name`` from :data:`SPEC_DIR`."""
    path = SPEC_DIR / name
    if not path.is_file():
        pytest.fail(
            f"TMF specification {name!r} not found at {path.resolve()}; these tests read the "
            "TM Forum Swagger files vendored in tests/tmf/specs",
            pytrace=False,
        )
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


@functools.cache
def _validator(spec_name: str, definition: str) -> Any:
    definitions = load_spec(spec_name)["definitions"]
    if definition not in definitions:
        pytest.fail(f"{spec_name} has no definition {definition!r}", pytrace=False)
    schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
    return jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


def schema_errors(spec_name: str, definition: str, document: Any) -> list[str]:
    """Every way ``document`` breaks ``definition`` of the spec, as ``"path: message"``."""
    errors = _validator(spec_name, definition).iter_errors(document)
    return sorted(
        f"$.{'.'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in errors
    )
