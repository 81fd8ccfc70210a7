"""The issuer's ports; declared once, in :mod:`etomkit.ports`, and re-exported here."""

from etomkit.ports import (
    FeasibilityAssessmentRepository,
    FeasibilityChecker,
    IssuanceRecordRepository,
    OrderingStore,
    ProvisioningTracker,
    Repository,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
)

OrderingRepository = Repository
"""The ordering repositories share the inventory's repository contract."""

__all__ = [
    "FeasibilityAssessmentRepository",
    "FeasibilityChecker",
    "IssuanceRecordRepository",
    "OrderingRepository",
    "OrderingStore",
    "ProvisioningTracker",
    "ResourceOrderRepository",
    "ResourceSpecificationRepository",
]
