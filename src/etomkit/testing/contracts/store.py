"""The whole kit against one store factory: :class:`StoreContract`."""

from __future__ import annotations

from etomkit.testing.contracts.access import ClientRepositoryContract
from etomkit.testing.contracts.audit import (
    AuditRunRepositoryContract,
    ManualAuditRepositoryContract,
)
from etomkit.testing.contracts.inventory import (
    OfferingRepositoryContract,
    ProductRepositoryContract,
)
from etomkit.testing.contracts.ordering import (
    FeasibilityAssessmentRepositoryContract,
    IssuanceRecordRepositoryContract,
    ResourceOrderRepositoryContract,
    ResourceSpecificationRepositoryContract,
)
from etomkit.testing.contracts.unique_keys import UniqueKeyContract
from etomkit.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = ["StoreContract"]


class StoreContract:
    """Every repository contract, the unit of work and the unique keys, for one store.

    Subclass it once (``class TestMyStore(StoreContract): ...``) and provide the
    ``make_store`` fixture; pytest collects one nested class per contract
    (``TestMyStore::TestOfferings::test_…``). The store must hold every
    repository the services use: ``offerings``, ``products``, ``clients``
    (ProductOfferingInventory, AccessControl), ``audit_runs``, ``manual_audits``
    (InventoryAuditor), ``resource_orders``, ``issuance_records``,
    ``feasibility_assessments``, ``resource_specifications``
    (ResourceOrderIssuer), all sharing one ``transaction()``.
    """

    class TestOfferings(OfferingRepositoryContract):
        pass

    class TestProducts(ProductRepositoryContract):
        pass

    class TestClients(ClientRepositoryContract):
        pass

    class TestAuditRuns(AuditRunRepositoryContract):
        pass

    class TestManualAudits(ManualAuditRepositoryContract):
        pass

    class TestResourceOrders(ResourceOrderRepositoryContract):
        pass

    class TestIssuanceRecords(IssuanceRecordRepositoryContract):
        pass

    class TestFeasibilityAssessments(FeasibilityAssessmentRepositoryContract):
        pass

    class TestResourceSpecifications(ResourceSpecificationRepositoryContract):
        pass

    class TestUnitOfWork(UnitOfWorkContract):
        pass

    class TestUniqueKeys(UniqueKeyContract):
        pass
