"""Both stores pass the client-repository contract; both usage logs the usage-log contract."""

from __future__ import annotations

import pytest

from etomkit import FileStore, FileUsageLog, InMemoryStore, InMemoryUsageLog, Store
from etomkit.testing.access_contracts import (
    ClientRepositoryContract,
    UsageLogContract,
    UsageLogFactory,
)
from etomkit.testing.contracts import StoreFactory


class TestInMemoryClients(ClientRepositoryContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return InMemoryStore


class TestFileClients(ClientRepositoryContract):
    @pytest.fixture
    def make_store(self, tmp_path_factory: pytest.TempPathFactory) -> StoreFactory:
        def make() -> Store:
            return FileStore(tmp_path_factory.mktemp("store"), durability="none")

        return make


class TestInMemoryUsageLog(UsageLogContract):
    @pytest.fixture
    def make_log(self) -> UsageLogFactory:
        return InMemoryUsageLog


class TestFileUsageLog(UsageLogContract):
    @pytest.fixture
    def make_log(self, tmp_path_factory: pytest.TempPathFactory) -> UsageLogFactory:
        return lambda: FileUsageLog(tmp_path_factory.mktemp("log") / "usage.log", durability="none")
