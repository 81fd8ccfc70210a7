"""A failed fsync is never forgotten: the store refuses writes until it is reopened (#10).

After an fsync fails, Linux may have dropped the dirty pages and marked them clean,
so a retried fsync reports success for data that never reached the disk (the
PostgreSQL "fsyncgate" lesson). The failure is injected at the journal's
``os.fsync``/``os.fdatasync`` indirections: the first call fails with EIO, later
calls succeed, as the kernel's would.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from etomkit import FileStore, ProductOffering
from etomkit.adapters.file import journal as journal_module
from etomkit.adapters.file.journal import Durability
from etomkit.errors import StorageError


def _offering(n: int) -> ProductOffering:
    return ProductOffering(name=f"Fibre {n}", id=f"o-{n}")


def _eio_once(real: Callable[[int], None]) -> Callable[[int], None]:
    """An fsync that fails once with EIO, then succeeds (as a retry would on Linux)."""
    failed = False

    def sync(fd: int) -> None:
        nonlocal failed
        if not failed:
            failed = True
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    return sync


def _break_next_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "_fsync", _eio_once(os.fsync))
    monkeypatch.setattr(journal_module, "_fdatasync", _eio_once(os.fdatasync))


def _refuses_every_write(store: FileStore) -> None:
    with pytest.raises(StorageError, match="earlier fsync failed"):
        store.flush()
    with pytest.raises(StorageError, match="earlier fsync failed"):
        store.offerings.add(_offering(90))
    with pytest.raises(StorageError, match="earlier fsync failed"), store.transaction():
        store.offerings.add(_offering(91))
    with pytest.raises(StorageError, match="earlier fsync failed"):
        store.compact()
    assert not {"o-90", "o-91"} & {o.id for o in store.offerings.iterate()}


def test_after_a_failed_transaction_sync_flush_does_not_report_the_unsynced_writes_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "store"
    with FileStore(directory, durability="batch") as store:
        store.offerings.add(_offering(1))  # a single write: left unsynced in batch mode
        _break_next_sync(monkeypatch)
        with pytest.raises(StorageError, match="Input/output error"), store.transaction():
            store.offerings.add(_offering(2))
        assert "o-2" not in store.offerings
        _refuses_every_write(store)
    monkeypatch.undo()
    with FileStore(directory) as store:  # reopening reads back what the journal holds
        assert [o.id for o in store.offerings.iterate()] == ["o-1"]
        store.offerings.add(_offering(3))
        store.flush()
    with FileStore(directory) as store:
        assert [o.id for o in store.offerings.iterate()] == ["o-1", "o-3"]


def test_a_failed_flush_is_not_cured_by_flushing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "store"
    with FileStore(directory, durability="batch") as store:
        store.offerings.add(_offering(1))
        store.flush()
        store.offerings.add(_offering(2))
        _break_next_sync(monkeypatch)
        with pytest.raises(StorageError, match="Input/output error"):
            store.flush()
        _refuses_every_write(store)  # the second fsync would succeed: it must not be asked
    monkeypatch.undo()
    with FileStore(directory) as store:
        assert [o.id for o in store.offerings.iterate()] == ["o-1", "o-2"]


@pytest.mark.parametrize("durability", ["always", "batch"])
def test_a_failed_sync_of_a_durable_write_stops_the_store_until_it_is_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durability: Durability
) -> None:
    directory = tmp_path / "store"
    with FileStore(directory, durability=durability) as store:
        with store.transaction():
            store.offerings.add(_offering(1))
        _break_next_sync(monkeypatch)
        with pytest.raises(StorageError, match="Input/output error"), store.transaction():
            store.offerings.add(_offering(2))
        _refuses_every_write(store)
        assert [o.id for o in store.offerings.iterate()] == ["o-1"]
    monkeypatch.undo()
    with FileStore(directory) as store:
        assert store.recovery_report.clean
        assert [o.id for o in store.offerings.iterate()] == ["o-1"]
        with store.transaction():
            store.offerings.add(_offering(2))
    with FileStore(directory) as store:
        assert [o.id for o in store.offerings.iterate()] == ["o-1", "o-2"]
