"""Values as the server receives them: escaped texts, and lists sent as one packed
parameter the server unpacks (issue #14).

Text cannot hold U+0000, so ids and terms go through :func:`text` (backslash and
NUL escaped, injectively) and come back through :func:`untext`.

psycopg dumps a Python list into a PostgreSQL array element by element in
Python (measured here: ~170 µs for a statement's 70 ids, terms and documents,
more than the statement's round trip). A packed parameter is one value that
psycopg dumps in C and the server splits:

* a list of texts: each preceded by a separator that none of them holds
  (U+001F mostly), split by ``(string_to_array(%s, %s))[2:]`` (:data:`TEXTS`;
  the leading separator keeps a list of one empty text apart from no texts);
* a list of byte strings (documents): concatenated, with their starts and
  lengths as texts of numbers, cut by ``substring`` (:data:`BLOB`);
* a list of booleans: a text of ``t``/``f``, one character each (:data:`FLAGS`).

Every packed statement means what the array form means; the tests send ids
and terms holding separators, NUL, backslashes and empty texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate

__all__ = ["BLOB", "FLAGS", "NUMBERS", "TEXTS", "blobs", "flags", "text", "texts", "untext"]


def text(value: str) -> str:
    """``value`` as a PostgreSQL text value: text cannot hold U+0000, so backslash
    and NUL are escaped (injectively)."""
    if "\\" not in value and "\x00" not in value:
        return value
    return value.replace("\\", "\\\\").replace("\x00", "\\0")


_ESCAPED = re.compile(r"\\(.)")


def untext(value: str) -> str:
    """The value :func:`text` was given."""
    if "\\" not in value:
        return value
    return _ESCAPED.sub(lambda m: "\x00" if m[1] == "0" else m[1], value)


#: SQL unpacking a :func:`texts` parameter pair into ``text[]``.
TEXTS = "(string_to_array(%s, %s))[2:]"
#: SQL unpacking :func:`blobs`' starts or lengths into ``int[]``.
NUMBERS = "string_to_array(%s, ',')::int[]"
#: SQL unpacking a :func:`flags` parameter into ``bool[]``.
FLAGS = "string_to_array(%s, NULL)::bool[]"
#: SQL cutting value ``n`` of a :func:`blobs` concatenation (``s``, ``l``: its start, length).
BLOB = "substring(%s::bytea FROM s FOR l)"

_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x1c", "\ufdd0", "\ufdd1")


def texts(values: Sequence[str]) -> tuple[str, str]:
    """``values`` as the two parameters of :data:`TEXTS`: the packed text and its
    separator (a character that no value holds)."""
    if not values:
        return "", _SEPARATORS[0]
    whole = "".join(values)
    for sep in _SEPARATORS:
        if sep not in whole:
            break
    else:  # the values hold every one: the first character they do not hold
        held = set(whole)
        sep = next(chr(c) for c in range(0xE000, 0x110000) if chr(c) not in held)
    return sep + sep.join(values), sep


def blobs(values: Sequence[bytes]) -> tuple[bytes, str, str]:
    """``values`` as ``(concatenation, starts, lengths)``: value ``n`` is
    ``substring(concatenation FROM start FOR length)`` (1-based)."""
    lengths = [len(v) for v in values]
    starts = accumulate(lengths[:-1], initial=1) if lengths else iter(())
    return b"".join(values), ",".join(map(str, starts)), ",".join(map(str, lengths))


def flags(values: Sequence[bool]) -> str:
    """``values`` as a text of ``t`` and ``f``, one character each."""
    return "".join(["t" if v else "f" for v in values])
