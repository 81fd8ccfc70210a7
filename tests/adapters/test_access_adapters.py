"""Both usage logs pass the usage-log contract; the in-memory event sink the event-sink
contract. (The stores' client repositories run in StoreContract: test_memory,
test_file_contracts.)"""

from __future__ import annotations

import pytest

from etomkit import FileUsageLog, InMemoryEventSink, InMemoryUsageLog
from etomkit.testing.contracts import (
    EventSinkContract,
    EventSinkFactory,
    UsageLogContract,
    UsageLogFactory,
)


class TestInMemoryUsageLog(UsageLogContract):
    @pytest.fixture
    def make_log(self) -> UsageLogFactory:
        return InMemoryUsageLog


class TestFileUsageLog(UsageLogContract):
    @pytest.fixture
    def make_log(self, tmp_path_factory: pytest.TempPathFactory) -> UsageLogFactory:
        return lambda: FileUsageLog(tmp_path_factory.mktemp("log") / "usage.log", durability="none")


class TestInMemoryEventSink(EventSinkContract):
    @pytest.fixture
    def make_sink(self) -> EventSinkFactory:
        return InMemoryEventSink
