"""eTOM 1.2.4.2 Manage Product Offering Inventory: the use cases."""

from etomkit.inventory.service import ImportResult, ProductOfferingInventory

__all__ = ["ImportResult", "ProductOfferingInventory"]
