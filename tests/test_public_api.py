"""The curated public API: a change to it shows up here in review."""

from __future__ import annotations

import etomkit

PUBLIC = {
    # services
    "ProductOfferingInventory", "ImportResult", "ResourceOrderIssuer", "IssuanceResult",
    # access control, usage and cost, shortcomings (#5)
    "AccessControl", "Permission", "ClientRegistration", "RegisteredClient", "ClientSession",
    "UsageMeter", "CostModel", "UsageRecord", "UsageReport", "ShortcomingPolicy",
    "ShortcomingsReport", "TechnicalShortcoming", "UsageLog", "InMemoryUsageLog", "FileUsageLog",
    "ResourceDevelopmentSink", "InMemoryResourceDevelopmentSink", "AccessDeniedError",
    # information requirements and audits (#6)
    "InformationRequirements", "InventoryAuditor", "AuditRun", "AuditFinding", "AuditComparison",
    "ManualAudit",
    # names the docs and examples use every day (#15)
    "InformationRequirement", "ValueRequirement", "AuditRule", "audit_rule", "ServiceOrderItem",
    "ServiceRefOrValue", "ResourceOrderItem", "ResourceSpecificationCharacteristic",
    "CharacteristicValueSpecification", "request_item", "StoredOffering", "StoredProduct",
    "RuleSet", "Rule", "ItemTemplate", "FromService",
    # domain model
    "ProductOffering", "Product", "CharacteristicValueUse", "Characteristic", "EntityRef",
    "PartyRef", "RelatedParty", "OrderItemRef", "TimePeriod", "Note", "ExternalId", "Event",
    "ServiceOrder", "InitiatingRequest", "ResourceOrder", "ResourceSpecification",
    "FeasibilityAssessment", "IssuanceRecord", "Lifecycle", "OFFERING_LIFECYCLE",
    "PRODUCT_LIFECYCLE", "OfferingFilter", "ProductFilter", "Page",
    # ports and adapters
    "Store", "OfferingRepository", "ProductRepository", "Clock", "IdFactory", "EventSink",
    "InMemoryStore", "OrderingStore", "InMemoryOrderingStore", "ProvisioningTracker",
    "FeasibilityChecker", "InMemoryProvisioningTracker", "FileStore", "RecoveryReport", "verify",
    "InMemoryEventSink", "SystemClock", "ManualClock", "RandomIdFactory", "SequentialIdFactory",
    # errors
    "EtomkitError", "NotFoundError", "ConflictError", "DuplicateKeyError", "ValidationError",
    "TransitionError",
    "StorageError", "StorageCorruptedError", "StoreLockedError",
    # the TMF JSON edge
    "tmf", "__version__",
}  # fmt: skip


def test_the_public_names_are_exactly_the_curated_list() -> None:
    assert set(etomkit.__all__) == PUBLIC
    assert len(etomkit.__all__) == len(PUBLIC)  # no name listed twice


def test_every_public_name_is_importable_from_the_root() -> None:
    missing = [name for name in etomkit.__all__ if not hasattr(etomkit, name)]
    assert missing == []


def test_every_error_shares_the_root_and_mixes_in_its_builtin() -> None:
    assert issubclass(etomkit.NotFoundError, KeyError)
    assert issubclass(etomkit.ValidationError, ValueError)
    for name in etomkit.__all__:
        obj = getattr(etomkit, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, etomkit.EtomkitError), name
