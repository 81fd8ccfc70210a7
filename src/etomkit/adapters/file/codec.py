"""The bytes of a stored value: TMF JSON, spelled one way whichever encoder runs.

The spelling is the standard library's ``json`` with ``ensure_ascii=False`` and
``separators=(",", ":")``, UTF-8. When ``orjson`` is installed (the
``etomkit[fast]`` extra) it encodes instead where it gives the same bytes: orjson
spells some floats differently (``1e-7``, not ``1e-07``) and NaN as ``null``, and
refuses integers beyond 64 bits, so a document that may hold a float (the caller
says: ``floats=True``, the default) or that orjson refuses is encoded by the
standard library. The environment variable
``ETOMKIT_JSON=stdlib`` (read at import) or :func:`use_backend` selects the
standard library alone; the FileStore then writes most values as text straight
from the entity (:mod:`etomkit._tmf_text`), the same bytes without a document.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from etomkit._tmf_text import json_text

__all__ = ["BACKENDS", "backend", "dumps", "stdlib_dumps", "use_backend"]

BACKENDS = ("stdlib", "orjson")

# json_text: the standard library's C encoder, built once (no circularity check:
# repositories store only entities whose values are JSON values nested at most
# MAX_JSON_DEPTH deep, model/canonical.py, so no cycle reaches here).


def stdlib_dumps(doc: Any, floats: bool = True) -> bytes:  # noqa: ARG001
    """The standard library's bytes of ``doc``: the on-disk spelling.

    ``floats=False`` promises ``doc`` holds no float (a fast backend may then run)."""
    return json_text(doc).encode()


try:  # the optional fast encoder (etomkit[fast])
    import orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    orjson = None  # type: ignore[assignment]


def _make_orjson_dumps() -> Callable[[Any, bool], bytes] | None:
    if orjson is None:
        return None
    encode = orjson.dumps
    # Types the standard library refuses are refused here too, so it decides.
    option = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

    def orjson_dumps(doc: Any, floats: bool = True) -> bytes:
        if floats:  # orjson spells some floats differently, and NaN as null
            return stdlib_dumps(doc)
        try:
            out: bytes = encode(doc, option=option)
        except TypeError:  # big ints, non-string keys, surrogates, too deep: stdlib's call
            return stdlib_dumps(doc)
        return out

    return orjson_dumps


_ORJSON_DUMPS = _make_orjson_dumps()
_backend = "stdlib"
dumps: Callable[[Any, bool], bytes] = stdlib_dumps
"""The bytes of a TMF JSON document with the selected backend."""


def backend() -> str:
    """The backend in use: ``"orjson"`` or ``"stdlib"``."""
    return _backend


def use_backend(name: str | None = None) -> str:
    """Select ``"stdlib"`` or ``"orjson"`` (None: orjson if installed, unless
    ``ETOMKIT_JSON=stdlib``); returns the one now in use. The bytes are the same."""
    global _backend, dumps
    if name is None:
        wanted = os.environ.get("ETOMKIT_JSON", "").strip().lower()
        name = "stdlib" if wanted == "stdlib" or _ORJSON_DUMPS is None else "orjson"
    if name not in BACKENDS:
        raise ValueError(f"JSON backend must be one of {BACKENDS}, not {name!r}")
    if name == "orjson":
        if _ORJSON_DUMPS is None:
            raise ValueError("the orjson backend needs orjson (pip install 'etomkit[fast]')")
        dumps = _ORJSON_DUMPS
    else:
        dumps = stdlib_dumps
    _backend = name
    return name


use_backend()
