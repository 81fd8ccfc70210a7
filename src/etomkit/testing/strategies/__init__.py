"""Hypothesis strategies for etomkit's entities and values.

Every strategy takes keyword arguments only and generates well-formed objects:
offerings and products pass :func:`~etomkit.model.offering_problems` /
:func:`~etomkit.model.product_problems`, service orders pass
``service_order_problems``, date-times are timezone-aware UTC, sequences are
tuples, and every TMF entity round-trips through :func:`etomkit.tmf.to_json` /
:func:`etomkit.tmf.from_json` to an equal object. Generated entities are never
stored (``revision`` 0). Strategies compose: pass a fixed value or a strategy
for the fields a test cares about (``product_offerings(lifecycle_status="Active")``,
``resource_orders(ids=st.sampled_from(["ro-1", "ro-2"]))``).

>>> from hypothesis import given
>>> from etomkit.testing import strategies as ets
>>> @given(ets.product_offerings(lifecycle_status="Active"))
... def test_active_offerings_can_be_sold(offering): ...

The ``hypothesis`` entry point (the top-level module ``_etomkit_hypothesis``)
registers them lazily, so ``st.from_type(ProductOffering)`` (and every other
entity and value type) uses these strategies once etomkit is installed, and
this package imports before or after hypothesis alike.

Modules: :mod:`~.values` (building blocks and values), :mod:`~.inventory`,
:mod:`~.ordering`, :mod:`~.records` (access, usage, audits, events),
:mod:`~.rules` (rule sets) and :mod:`~.documents` (TMF JSON documents, valid
or adversarial).
"""

from __future__ import annotations

from etomkit.testing.strategies.documents import (
    UNICODE_EDGE_CASES,
    audit_comparisons,
    offering_filters,
    product_filters,
    spellings,
    tmf_documents,
    unicode_edge_cases,
)
from etomkit.testing.strategies.inventory import (
    information_requirements,
    product_offerings,
    products,
    value_requirements,
)
from etomkit.testing.strategies.ordering import (
    characteristic_value_specifications,
    feasibility_assessments,
    initiating_requests,
    issuance_records,
    resource_order_items,
    resource_orders,
    resource_spec_characteristics,
    resource_specifications,
    service_order_items,
    service_orders,
    service_refs,
)
from etomkit.testing.strategies.records import (
    audit_findings,
    audit_runs,
    client_registrations,
    events,
    manual_audits,
    permissions,
    technical_shortcomings,
    usage_records,
)
from etomkit.testing.strategies.rules import (
    from_services,
    item_templates,
    predicates,
    rule_set_toml,
    rule_sets,
    rules,
)
from etomkit.testing.strategies.values import (
    characteristic_value_uses,
    characteristics,
    entity_ids,
    entity_refs,
    external_ids,
    extras,
    json_values,
    names,
    notes,
    order_item_refs,
    party_refs,
    related_parties,
    time_periods,
    utc_datetimes,
)

__all__ = [
    "characteristic_value_specifications",
    "information_requirements",
    "resource_spec_characteristics",
    "service_refs",
    "value_requirements",
    # building blocks
    "entity_ids",
    "names",
    "utc_datetimes",
    "json_values",
    "extras",
    # values
    "time_periods",
    "entity_refs",
    "party_refs",
    "related_parties",
    "order_item_refs",
    "characteristics",
    "characteristic_value_uses",
    "notes",
    "external_ids",
    # inventory
    "product_offerings",
    "products",
    # ordering
    "service_order_items",
    "service_orders",
    "initiating_requests",
    "resource_order_items",
    "resource_orders",
    "resource_specifications",
    "feasibility_assessments",
    "issuance_records",
    # access, usage, audits, events
    "permissions",
    "client_registrations",
    "usage_records",
    "technical_shortcomings",
    "audit_findings",
    "audit_runs",
    "manual_audits",
    "events",
    "audit_comparisons",
    # rules
    "predicates",
    "from_services",
    "item_templates",
    "rules",
    "rule_sets",
    "rule_set_toml",
    # queries
    "offering_filters",
    "product_filters",
    # TMF documents, valid or adversarial
    "tmf_documents",
    "spellings",
    "unicode_edge_cases",
    "UNICODE_EDGE_CASES",
]


def _register_hypothesis_strategies() -> None:
    """Make ``st.from_type`` use these strategies (the entry point does it already)."""
    import _etomkit_hypothesis as _hypothesis_hook

    _hypothesis_hook._registered = False
    _hypothesis_hook.register()
