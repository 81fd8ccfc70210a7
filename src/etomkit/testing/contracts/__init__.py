"""Contract suites for the ports in :mod:`etomkit.ports`: every adapter passes them.

The one-fixture path: subclass :class:`StoreContract` in your adapter's test
module and provide ``make_store``, a fixture returning a callable that makes a
fresh, empty store each time it is called (the contracts call it once per test,
and once per generated example, and close every store they make)::

    import pytest
    from etomkit.testing.contracts import StoreContract, StoreFactory

    @pytest.fixture
    def make_store(tmp_path_factory) -> StoreFactory:
        return lambda: MyStore(tmp_path_factory.mktemp("store"))

    class TestMyStore(StoreContract): ...

That runs one contract per repository (a nested ``Test…`` class each), the
unit of work and the unique keys. The contracts are also there one by one
(``class TestMyOfferings(OfferingRepositoryContract): ...``), for an adapter
of only some ports. The usage log and the event sink are not part of a store:
:class:`UsageLogContract` needs ``make_log``, :class:`EventSinkContract`
``make_sink``.

The base classes carry no ``Test`` prefix, so pytest never collects them on
their own. With the pytest plugin (``etomkit[testing]`` installs it) their
asserts are rewritten, so a failure shows the values (``assert 1 == 2``).
"""

from __future__ import annotations

from etomkit.testing.contracts._base import (
    BAD_PAGING,
    PlannedError,
    RepositoryContract,
    StoreFactory,
    _check_page,
    _contract_settings,
    _fail_inside_transaction,
    _fresh,
    _listed,
    _PlannedError,
    contract_settings,
    fresh,
    listed,
)
from etomkit.testing.contracts.access import (
    ClientRepositoryContract,
    UsageLogContract,
    UsageLogFactory,
)
from etomkit.testing.contracts.audit import (
    AuditRunRepositoryContract,
    ManualAuditRepositoryContract,
)
from etomkit.testing.contracts.events import EventSinkContract, EventSinkFactory
from etomkit.testing.contracts.inventory import (
    OfferingRepositoryContract,
    ProductRepositoryContract,
)
from etomkit.testing.contracts.inventory import offering as _offering
from etomkit.testing.contracts.inventory import product as _product
from etomkit.testing.contracts.ordering import (
    FeasibilityAssessmentRepositoryContract,
    IssuanceRecordRepositoryContract,
    ResourceOrderRepositoryContract,
    ResourceSpecificationRepositoryContract,
)
from etomkit.testing.contracts.store import StoreContract
from etomkit.testing.contracts.unique_keys import UniqueKeyContract, race
from etomkit.testing.contracts.unit_of_work import UnitOfWorkContract

_RepositoryContract = RepositoryContract  # the name etomkit 0.1 used

__all__ = [
    "StoreFactory",
    "StoreContract",
    "RepositoryContract",
    "OfferingRepositoryContract",
    "ProductRepositoryContract",
    "ClientRepositoryContract",
    "AuditRunRepositoryContract",
    "ManualAuditRepositoryContract",
    "ResourceOrderRepositoryContract",
    "IssuanceRecordRepositoryContract",
    "FeasibilityAssessmentRepositoryContract",
    "ResourceSpecificationRepositoryContract",
    "UnitOfWorkContract",
    "UniqueKeyContract",
    "UsageLogContract",
    "UsageLogFactory",
    "EventSinkContract",
    "EventSinkFactory",
    "PlannedError",
    "BAD_PAGING",
    "contract_settings",
    "fresh",
    "listed",
    "race",
]

#: The private names above stay importable for etomkit 0.1's users.
_COMPATIBLE: tuple[object, ...] = (
    _check_page,
    _contract_settings,
    _fail_inside_transaction,
    _fresh,
    _listed,
    _PlannedError,
    _offering,
    _product,
)
