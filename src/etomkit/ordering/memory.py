"""The issuer's in-memory repositories and store; they live in :mod:`etomkit.adapters.memory`."""

from etomkit.adapters.memory import (
    InMemoryFeasibilityAssessmentRepository,
    InMemoryIssuanceRecordRepository,
    InMemoryOrderingStore,
    InMemoryResourceOrderRepository,
    InMemoryResourceSpecificationRepository,
)

__all__ = [
    "InMemoryFeasibilityAssessmentRepository",
    "InMemoryIssuanceRecordRepository",
    "InMemoryOrderingStore",
    "InMemoryResourceOrderRepository",
    "InMemoryResourceSpecificationRepository",
]
