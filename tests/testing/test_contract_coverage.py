"""Every port in etomkit.ports has a contract in etomkit.testing.contracts (issue #11),
and StoreContract runs every repository contract."""

from __future__ import annotations

import inspect
from typing import Any

import etomkit.ports as ports
from etomkit.testing import contracts
from etomkit.testing.contracts import StoreContract, UnitOfWorkContract

#: Ports that are a single callable supplied by the caller: no storage behaviour to check.
WITHOUT_CONTRACT = {
    "Clock",
    "IdFactory",
    "ResourceDevelopmentSink",
    "ProvisioningTracker",
    "FeasibilityChecker",
    "Repository",  # the generic base: RepositoryContract, run by every repository contract
}


def _contracts() -> list[Any]:
    return [
        obj
        for name in contracts.__all__
        if inspect.isclass(obj := getattr(contracts, name)) and hasattr(obj, "port")
    ]


def test_every_port_has_a_contract_class() -> None:
    covered = {c.port for c in _contracts()} | {ports.OrderingStore}
    missing = [
        name
        for name in ports.__all__
        if name not in WITHOUT_CONTRACT and getattr(ports, name) not in covered
    ]
    assert missing == []


def test_every_repository_port_has_its_own_contract() -> None:
    repositories = [
        cls
        for name in ports.__all__
        if inspect.isclass(cls := getattr(ports, name))
        and issubclass(cls, ports.Repository)
        and cls is not ports.Repository
    ]
    by_port = {c.port: c for c in _contracts()}
    assert len(repositories) == 9
    assert [r.__name__ for r in repositories if r not in by_port] == []


def test_the_store_contract_runs_every_repository_contract_and_the_unit_of_work() -> None:
    nested = {
        base
        for attr in vars(StoreContract).values()
        if inspect.isclass(attr)
        for base in attr.__mro__[1:2]
    }
    repository_contracts = {
        c for c in _contracts() if isinstance(c.port, type) and issubclass(c.port, ports.Repository)
    }
    assert repository_contracts <= nested
    assert {UnitOfWorkContract, contracts.UniqueKeyContract} <= nested


def test_the_unit_of_work_contract_covers_both_stores() -> None:
    assert UnitOfWorkContract.port is ports.Store  # OrderingStore shares it (one transaction)
