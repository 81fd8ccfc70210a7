"""eTOM 1.5.6.7 Issue Resource Orders: rules, their index, the issuer, explanations."""

from etomkit.model.issuance import (
    FeasibilityAssessmentFilter,
    IssuanceRecordFilter,
    ResourceSpecificationFilter,
)
from etomkit.model.resource_order import ResourceOrderFilter
from etomkit.ordering.explain import CandidateRule, Explanation, ItemExplanation
from etomkit.ordering.issuer import IssuanceResult, ResourceOrderIssuer
from etomkit.ordering.memory import (
    InMemoryFeasibilityAssessmentRepository,
    InMemoryIssuanceRecordRepository,
    InMemoryOrderingStore,
    InMemoryResourceOrderRepository,
    InMemoryResourceSpecificationRepository,
)
from etomkit.ordering.ports import (
    FeasibilityAssessmentRepository,
    FeasibilityChecker,
    IssuanceRecordRepository,
    OrderingRepository,
    OrderingStore,
    ProvisioningTracker,
    ResourceOrderRepository,
    ResourceSpecificationRepository,
)
from etomkit.ordering.rules import (
    AllOf,
    AnyOf,
    Eq,
    Exists,
    FromService,
    In,
    ItemTemplate,
    Ne,
    Not,
    Predicate,
    Range,
    Regex,
    Rule,
    RuleSet,
    rule_problems,
)
from etomkit.ordering.tracking import HandOff, InMemoryProvisioningTracker

__all__ = [
    # the query filters of the issuer's repositories
    "ResourceOrderFilter",
    "IssuanceRecordFilter",
    "FeasibilityAssessmentFilter",
    "ResourceSpecificationFilter",
    # the use case
    "ResourceOrderIssuer",
    "IssuanceResult",
    "Explanation",
    "ItemExplanation",
    "CandidateRule",
    # rules
    "Rule",
    "RuleSet",
    "ItemTemplate",
    "FromService",
    "Predicate",
    "Eq",
    "Ne",
    "In",
    "Range",
    "Exists",
    "Regex",
    "AllOf",
    "AnyOf",
    "Not",
    "rule_problems",
    # ports
    "OrderingStore",
    "OrderingRepository",
    "ResourceOrderRepository",
    "IssuanceRecordRepository",
    "FeasibilityAssessmentRepository",
    "ResourceSpecificationRepository",
    "ProvisioningTracker",
    "FeasibilityChecker",
    # in-memory adapters
    "InMemoryOrderingStore",
    "InMemoryResourceOrderRepository",
    "InMemoryIssuanceRecordRepository",
    "InMemoryFeasibilityAssessmentRepository",
    "InMemoryResourceSpecificationRepository",
    "InMemoryProvisioningTracker",
    "HandOff",
]
