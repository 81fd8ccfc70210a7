"""etomkit's ``hypothesis`` entry point: makes ``st.from_type`` use etomkit's strategies.

Hypothesis calls :func:`register` while ``import hypothesis`` runs. This is a
top-level module, outside the ``etomkit`` package, so that loading it imports
no part of etomkit (a broken etomkit must not break ``import hypothesis``);
it imports nothing else heavy, and :func:`register` never raises. If etomkit
is not imported yet it does nothing: ``import etomkit`` calls :func:`register`
itself once it has loaded (``etomkit/__init__.py``).

Each type gets a resolver function, not a strategy (hypothesis would
materialise a strategy to check it): ``st.from_type`` calls it, and only then
is :mod:`etomkit.testing.strategies` imported, so that module can be imported
before or after hypothesis, in any order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["REGISTRATIONS", "register"]

#: ``(module, class name, strategy name in etomkit.testing.strategies)``.
REGISTRATIONS: tuple[tuple[str, str, str], ...] = (
    ("etomkit.model.values", "TimePeriod", "time_periods"),
    ("etomkit.model.values", "EntityRef", "entity_refs"),
    ("etomkit.model.values", "PartyRef", "party_refs"),
    ("etomkit.model.values", "RelatedParty", "related_parties"),
    ("etomkit.model.values", "OrderItemRef", "order_item_refs"),
    ("etomkit.model.values", "Characteristic", "characteristics"),
    ("etomkit.model.values", "Note", "notes"),
    ("etomkit.model.values", "ExternalId", "external_ids"),
    ("etomkit.model.offering", "CharacteristicValueUse", "characteristic_value_uses"),
    ("etomkit.model.offering", "ProductOffering", "product_offerings"),
    ("etomkit.model.product", "Product", "products"),
    ("etomkit.model.orders", "ServiceOrder", "service_orders"),
    ("etomkit.model.orders", "ServiceOrderItem", "service_order_items"),
    ("etomkit.model.issuance", "InitiatingRequest", "initiating_requests"),
    ("etomkit.model.issuance", "FeasibilityAssessment", "feasibility_assessments"),
    ("etomkit.model.issuance", "IssuanceRecord", "issuance_records"),
    ("etomkit.model.resource_order", "ResourceOrder", "resource_orders"),
    ("etomkit.model.resource_order", "ResourceOrderItem", "resource_order_items"),
    ("etomkit.model.resource_spec", "ResourceSpecification", "resource_specifications"),
    ("etomkit.model.client", "Permission", "permissions"),
    ("etomkit.model.client", "ClientRegistration", "client_registrations"),
    ("etomkit.model.usage", "UsageRecord", "usage_records"),
    ("etomkit.model.usage", "TechnicalShortcoming", "technical_shortcomings"),
    ("etomkit.model.audit", "AuditFinding", "audit_findings"),
    ("etomkit.model.audit", "AuditRun", "audit_runs"),
    ("etomkit.model.audit", "ManualAudit", "manual_audits"),
    ("etomkit.model.events", "Event", "events"),
    ("etomkit.ordering.rules", "Rule", "rules"),
    ("etomkit.ordering.rules", "RuleSet", "rule_sets"),
    ("etomkit.ordering.rules", "ItemTemplate", "item_templates"),
    ("etomkit.ordering.rules", "FromService", "from_services"),
    ("etomkit.model.audit", "AuditComparison", "audit_comparisons"),
    ("etomkit.model.queries", "OfferingFilter", "offering_filters"),
    ("etomkit.model.queries", "ProductFilter", "product_filters"),
    ("etomkit.model.orders", "ServiceRefOrValue", "service_refs"),
    (
        "etomkit.model.resource_spec",
        "ResourceSpecificationCharacteristic",
        "resource_spec_characteristics",
    ),
    (
        "etomkit.model.resource_spec",
        "CharacteristicValueSpecification",
        "characteristic_value_specifications",
    ),
    ("etomkit.inventory.requirement_specs", "InformationRequirement", "information_requirements"),
    ("etomkit.inventory.requirement_specs", "ValueRequirement", "value_requirements"),
)

_registered = False


def _resolver(name: str) -> Callable[[Any], Any]:
    """What ``st.from_type`` calls to get the strategy: ``name`` of
    etomkit.testing.strategies, imported only then."""

    def resolve(_type: Any) -> Any:
        from etomkit.testing import strategies

        return getattr(strategies, name)()

    return resolve


def register() -> None:
    """Register a lazy resolver per etomkit type with ``st.register_type_strategy``.

    Does nothing until etomkit has been imported; never raises.
    """
    global _registered
    import sys

    etomkit = sys.modules.get("etomkit")
    if _registered or not hasattr(etomkit, "__version__") or "hypothesis" not in sys.modules:
        return  # etomkit not (fully) imported yet: its __init__ calls register()
    try:
        import importlib

        import hypothesis.strategies as st

        for module_name, class_name, strategy_name in REGISTRATIONS:
            try:
                cls = getattr(importlib.import_module(module_name), class_name)
            except Exception:  # a missing type is no reason to fail
                continue
            st.register_type_strategy(cls, _resolver(strategy_name))
        _registered = True
    except Exception:  # must never break `import hypothesis`
        pass
