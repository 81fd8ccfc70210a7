"""The domain model: attrs classes only, no I/O."""

from etomkit.model.lifecycle import OFFERING_LIFECYCLE, PRODUCT_LIFECYCLE, Lifecycle
from etomkit.model.offering import CharacteristicValueUse, ProductOffering, offering_problems
from etomkit.model.product import CUSTOMER_ROLE, Product, product_problems
from etomkit.model.values import (
    Characteristic,
    EntityRef,
    ExternalId,
    Note,
    OrderItemRef,
    PartyRef,
    RelatedParty,
    TimePeriod,
)

__all__ = [
    "CUSTOMER_ROLE",
    "OFFERING_LIFECYCLE",
    "PRODUCT_LIFECYCLE",
    "Characteristic",
    "CharacteristicValueUse",
    "EntityRef",
    "ExternalId",
    "Lifecycle",
    "Note",
    "OrderItemRef",
    "PartyRef",
    "Product",
    "ProductOffering",
    "RelatedParty",
    "TimePeriod",
    "offering_problems",
    "product_problems",
]
