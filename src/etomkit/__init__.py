"""etomkit: product offering inventory and resource order issuing for telecom operators.

TM Forum eTOM 1.2.4.2 (Manage Product Offering Inventory) and 1.5.6.7 (Issue
Resource Orders), with TMF Open API JSON at the edge (:mod:`etomkit.tmf`).
"""

from etomkit import tmf
from etomkit.adapters.file import FileStore, RecoveryReport, verify
from etomkit.adapters.memory import InMemoryStore
from etomkit.adapters.runtime import (
    InMemoryEventSink,
    ManualClock,
    RandomIdFactory,
    SequentialIdFactory,
    SystemClock,
)
from etomkit.errors import (
    ConflictError,
    EtomkitError,
    NotFoundError,
    StorageCorruptedError,
    StorageError,
    StoreLockedError,
    TransitionError,
    ValidationError,
)
from etomkit.inventory import ImportResult, ProductOfferingInventory
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
from etomkit.model.events import Event
from etomkit.model.issuance import FeasibilityAssessment, InitiatingRequest, IssuanceRecord
from etomkit.model.orders import ServiceOrder
from etomkit.model.queries import OfferingFilter, Page, ProductFilter
from etomkit.model.resource_order import ResourceOrder
from etomkit.model.resource_spec import ResourceSpecification
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
from etomkit.ports import Clock, EventSink, IdFactory, OfferingRepository, ProductRepository, Store

__version__ = "0.1.0"

__all__ = [
    # services: 1.2.4.2 inventory, 1.5.6.7 issuing
    "ProductOfferingInventory",
    "ImportResult",
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
    "SystemClock",
    "ManualClock",
    "RandomIdFactory",
    "SequentialIdFactory",
    # errors
    "EtomkitError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "TransitionError",
    "StorageError",
    "StorageCorruptedError",
    "StoreLockedError",
    # the TMF JSON edge
    "tmf",
    "__version__",
]
