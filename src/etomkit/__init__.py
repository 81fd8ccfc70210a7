"""etomkit: product offering inventory and resource order issuing for telecom operators.

TM Forum eTOM 1.2.4.2 (Manage Product Offering Inventory) and 1.5.6.7 (Issue
Resource Orders), with TMF Open API JSON at the edge (:mod:`etomkit.tmf`).
"""

from etomkit import tmf
from etomkit.adapters.file import FileStore, RecoveryReport, verify
from etomkit.adapters.file.usage_log import FileUsageLog
from etomkit.adapters.memory import InMemoryStore
from etomkit.adapters.runtime import (
    InMemoryEventSink,
    InMemoryResourceDevelopmentSink,
    InMemoryUsageLog,
    ManualClock,
    RandomIdFactory,
    SequentialIdFactory,
    SystemClock,
)
from etomkit.errors import (
    AccessDeniedError,
    ConflictError,
    DuplicateKeyError,
    EtomkitError,
    NotFoundError,
    StorageCorruptedError,
    StorageError,
    StoreLockedError,
    TransitionError,
    ValidationError,
)
from etomkit.inventory import ImportResult
from etomkit.inventory.access import AccessControl, RegisteredClient
from etomkit.inventory.audit import (
    AuditComparison,
    AuditFinding,
    AuditRule,
    AuditRun,
    InventoryAuditor,
    ManualAudit,
    audit_rule,
)
from etomkit.inventory.reports import UsageReport
from etomkit.inventory.requirements import (
    InformationRequirement,
    InformationRequirements,
    ValueRequirement,
)
from etomkit.inventory.shortcomings import ShortcomingPolicy, ShortcomingsReport
from etomkit.inventory.typed import ClientSession, ProductOfferingInventory
from etomkit.inventory.usage import CostModel, UsageMeter
from etomkit.model import (
    OFFERING_LIFECYCLE,
    PRODUCT_LIFECYCLE,
    Characteristic,
    CharacteristicValueUse,
    EntityRef,
    ExternalId,
    Lifecycle,
    Note,
    OrderItemRef,
    PartyRef,
    Product,
    ProductOffering,
    RelatedParty,
    TimePeriod,
)
from etomkit.model.client import ClientRegistration, Permission
from etomkit.model.events import Event
from etomkit.model.issuance import (
    FeasibilityAssessment,
    InitiatingRequest,
    IssuanceRecord,
    request_item,
)
from etomkit.model.orders import ServiceOrder, ServiceOrderItem, ServiceRefOrValue
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.model.resource_order import ResourceOrder, ResourceOrderItem
from etomkit.model.resource_spec import (
    CharacteristicValueSpecification,
    ResourceSpecification,
    ResourceSpecificationCharacteristic,
)
from etomkit.model.stored import StoredOffering, StoredProduct
from etomkit.model.usage import TechnicalShortcoming, UsageRecord
from etomkit.ordering import (
    FeasibilityChecker,
    FromService,
    InMemoryOrderingStore,
    InMemoryProvisioningTracker,
    IssuanceResult,
    ItemTemplate,
    OrderingStore,
    ProvisioningTracker,
    ResourceOrderIssuer,
    Rule,
    RuleSet,
)
from etomkit.ports import (
    Clock,
    EventSink,
    IdFactory,
    OfferingRepository,
    ProductRepository,
    ResourceDevelopmentSink,
    Store,
    UsageLog,
)

__version__ = "0.1.0"

__all__ = [
    # services: 1.2.4.2 inventory, 1.5.6.7 issuing
    "ProductOfferingInventory",
    "ImportResult",
    # access control, usage and cost, shortcomings (#5)
    "AccessControl",
    "Permission",
    "ClientRegistration",
    "RegisteredClient",
    "ClientSession",
    "UsageMeter",
    "CostModel",
    "UsageRecord",
    "UsageReport",
    "ShortcomingPolicy",
    "ShortcomingsReport",
    "TechnicalShortcoming",
    # information requirements and audits (#6)
    "InformationRequirements",
    "InventoryAuditor",
    "AuditRun",
    "AuditFinding",
    "AuditComparison",
    "ManualAudit",
    # names the docs and examples use every day (#15)
    "InformationRequirement",
    "ValueRequirement",
    "AuditRule",
    "audit_rule",
    "ServiceOrderItem",
    "ServiceRefOrValue",
    "ResourceOrderItem",
    "ResourceSpecificationCharacteristic",
    "CharacteristicValueSpecification",
    "request_item",
    "ResourceOrderIssuer",
    "IssuanceResult",
    "RuleSet",
    "Rule",
    "ItemTemplate",
    "FromService",
    # domain model
    "ProductOffering",
    "Product",
    "CharacteristicValueUse",
    "Characteristic",
    "EntityRef",
    "PartyRef",
    "RelatedParty",
    "OrderItemRef",
    "TimePeriod",
    "Note",
    "ExternalId",
    "Event",
    "ServiceOrder",
    "InitiatingRequest",
    "ResourceOrder",
    "ResourceSpecification",
    "FeasibilityAssessment",
    "IssuanceRecord",
    "Lifecycle",
    "OFFERING_LIFECYCLE",
    "PRODUCT_LIFECYCLE",
    "OfferingFilter",
    "ProductFilter",
    "Page",
    "StoredOffering",
    "StoredProduct",
    # ports and adapters
    "Store",
    "OfferingRepository",
    "ProductRepository",
    "Clock",
    "IdFactory",
    "EventSink",
    "InMemoryStore",
    "OrderingStore",
    "InMemoryOrderingStore",
    "ProvisioningTracker",
    "FeasibilityChecker",
    "InMemoryProvisioningTracker",
    "FileStore",
    "RecoveryReport",
    "verify",
    "InMemoryEventSink",
    "UsageLog",
    "InMemoryUsageLog",
    "FileUsageLog",
    "ResourceDevelopmentSink",
    "InMemoryResourceDevelopmentSink",
    "SystemClock",
    "ManualClock",
    "RandomIdFactory",
    "SequentialIdFactory",
    # errors
    "EtomkitError",
    "AccessDeniedError",
    "NotFoundError",
    "ConflictError",
    "DuplicateKeyError",
    "ValidationError",
    "TransitionError",
    "StorageError",
    "StorageCorruptedError",
    "StoreLockedError",
    # the TMF JSON edge
    "tmf",
    "__version__",
]


def _register_hypothesis_strategies() -> None:
    """With hypothesis loaded, let ``st.from_type`` use etomkit.testing's strategies."""
    import sys

    if "hypothesis" in sys.modules:
        from _etomkit_hypothesis import register

        register()


_register_hypothesis_strategies()
del _register_hypothesis_strategies
