"""The FileStore passes the shipped contracts, and the state machine with
close/reopen and compaction steps (differential against plain dicts)."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import settings
from hypothesis.stateful import rule

from etomkit import FileStore, Store
from etomkit.testing.contracts import StoreContract, StoreFactory
from etomkit.testing.stateful import StoreStateMachine


@pytest.fixture
def make_store(tmp_path_factory: pytest.TempPathFactory) -> StoreFactory:
    def make() -> Store:
        return FileStore(tmp_path_factory.mktemp("store"), durability="none")

    return make


class TestFileStore(StoreContract):
    """Every contract of the kit (one nested class per port)."""


class FileStoreMachine(StoreStateMachine):
    """Reopens the directory between steps, and compacts it now and then."""

    supports_reopen = True

    def make_store(self) -> Store:
        self._directory = tempfile.TemporaryDirectory(prefix="etomkit-machine-")
        # a tiny compaction threshold, so that automatic compaction happens too
        return FileStore(self._directory.name, durability="none", compact_min_bytes=2048)

    def reopen(self, store: Store) -> Store:
        store.close()
        reopened = FileStore(self._directory.name, durability="none", compact_min_bytes=2048)
        assert reopened.recovery_report.clean
        return reopened

    @rule()
    def compact(self) -> None:
        assert isinstance(self.store, FileStore)
        self.store.compact()

    def teardown(self) -> None:
        super().teardown()
        self._directory.cleanup()


TestFileStoreMachine = FileStoreMachine.TestCase
TestFileStoreMachine.settings = settings(TestFileStoreMachine.settings, stateful_step_count=30)
