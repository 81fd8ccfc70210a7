"""TMF JSON documents of generated entities: TMF-valid, or adversarial.

``tmf_documents(ets.product_offerings())`` gives what :func:`etomkit.tmf.to_json`
writes: documents that validate against the TMF specifications.
``adversarial=True`` gives what a lenient reader must still accept: state
fields in other spellings (``"in design"``, ``"IN_PROGRESS"``), unknown
attributes with odd names, and unicode edge cases (combining marks,
right-to-left text, zero-width joiners, astral characters) in names and
descriptions. :func:`etomkit.tmf.from_json` reads both.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import hypothesis.strategies as st

from etomkit import tmf
from etomkit.model.audit import AuditComparison
from etomkit.model.queries import OfferingFilter, ProductFilter
from etomkit.testing.strategies.records import audit_runs
from etomkit.testing.strategies.values import _optional, entity_ids, json_values

__all__ = [
    "UNICODE_EDGE_CASES",
    "unicode_edge_cases",
    "spellings",
    "tmf_documents",
    "offering_filters",
    "product_filters",
    "audit_comparisons",
]

T = TypeVar("T")

#: Text that trips naive handling: combining marks, NFC/NFD twins, right-to-left,
#: zero-width joiners, astral characters, a BOM, a non-breaking space inside.
UNICODE_EDGE_CASES = (
    "Caf\u00e9",  # precomposed e-acute
    "Cafe\u0301",  # e + combining acute
    "\u05e9\u05dc\u05d5\u05dd",  # right-to-left (Hebrew)
    "abc\u200dxyz",  # zero-width joiner
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",  # an emoji family (astral, ZWJ)
    "\ufeffleading BOM",
    "non\u00a0breaking",
    "\U0001d518\U0001d52b\U0001d526",  # mathematical fraktur (astral)
    "\u216b \u00bd \u00b2",  # roman numeral, fraction, superscript
)

_STATE_FIELDS = ("lifecycleStatus", "status", "state")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_TEXT_FIELDS = ("name", "description")


def unicode_edge_cases() -> st.SearchStrategy[str]:
    """One of :data:`UNICODE_EDGE_CASES`, or generated text from the rarer categories."""
    rare = st.text(
        st.characters(categories=("Mn", "Mc", "Lo", "So", "Sk")), min_size=1, max_size=8
    ).map(lambda t: f"x{t}")
    return st.sampled_from(UNICODE_EDGE_CASES) | rare


def spellings(value: str) -> st.SearchStrategy[str]:
    """Ways a lenient client may spell an enum ``value``: any case, spaces, ``_``, ``-``."""
    words = _WORDS.findall(value) or [value]
    cases = st.sampled_from([str.lower, str.upper, str.title, lambda w: w])
    separators = st.sampled_from(["", " ", "_", "-"])
    return st.builds(lambda sep, case: sep.join(case(w) for w in words), separators, cases)


def _adversarial(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    doc = dict(doc)
    for field in _STATE_FIELDS:
        if isinstance(doc.get(field), str) and doc[field].strip():
            doc[field] = data.draw(spellings(doc[field].strip()), label=field)
    for field in _TEXT_FIELDS:
        if isinstance(doc.get(field), str) and data.draw(st.booleans(), label=f"odd {field}"):
            doc[field] = data.draw(unicode_edge_cases(), label=field)
    unknown = st.dictionaries(
        unicode_edge_cases() | st.sampled_from(("x_vendor", "@unknownAttr", "ünïcødé")),
        json_values(max_leaves=3),
        max_size=2,
    )
    for key, value in data.draw(unknown, label="unknown attributes").items():
        doc.setdefault(key, value)
    return doc


def tmf_documents(
    entities: st.SearchStrategy[Any], *, adversarial: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """The TMF JSON document of each entity; ``adversarial=True`` roughs it up (module doc)."""
    documents = entities.map(tmf.to_json)
    if not adversarial:
        return documents
    return st.tuples(documents, st.data()).map(lambda pair: _adversarial(pair[0], pair[1]))


def offering_filters() -> st.SearchStrategy[OfferingFilter]:
    """Offering queries by status, category and name (any may be unset)."""
    from etomkit.model import OFFERING_LIFECYCLE

    return st.builds(
        OfferingFilter,
        lifecycle_status=_optional(st.sets(st.sampled_from(OFFERING_LIFECYCLE.states), min_size=1)),
        category_id=_optional(entity_ids()),
        name=_optional(st.sampled_from(("Fibre 1G", "DSL"))),
    )


def product_filters() -> st.SearchStrategy[ProductFilter]:
    """Product queries by status, customer and offering (any may be unset)."""
    from etomkit.model import PRODUCT_LIFECYCLE

    return st.builds(
        ProductFilter,
        status=_optional(st.sets(st.sampled_from(PRODUCT_LIFECYCLE.states), min_size=1)),
        customer_id=_optional(entity_ids()),
        offering_id=_optional(entity_ids()),
    )


def audit_comparisons() -> st.SearchStrategy[AuditComparison]:
    """Two generated audit runs compared."""
    return st.builds(AuditComparison.of, audit_runs(), audit_runs())
