"""FileStore: reopening, recovery, corruption, locking, faults and compaction."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import etomkit as ek
from etomkit import FileStore, ProductOffering
from etomkit.adapters.file import journal as journal_module
from etomkit.adapters.file import store as store_module
from etomkit.errors import StorageCorruptedError, StorageError, StoreLockedError


def _offering(n: int, **changes: Any) -> ProductOffering:
    return ProductOffering(name=f"Fibre {n}", id=f"o-{n}", **changes)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def filled(directory: Path) -> Path:
    """A closed store with offerings o-1..o-20, each written in its own commit."""
    with FileStore(directory, durability="none") as store:
        for n in range(1, 21):
            store.offerings.add(_offering(n, description="d" * 50))
    return directory


def _journal(directory: Path) -> Path:
    (path,) = directory.glob("journal-*.log")
    return path


def test_reopened_store_has_every_entity_with_its_revision(directory: Path) -> None:
    with FileStore(directory) as store:
        inv = ek.ProductOfferingInventory(store, ids=ek.SequentialIdFactory())
        offer = inv.create_offering(_offering(1, category=(ek.EntityRef(id="fibre"),)))
        for status in ("In design", "In test", "Active", "Launched"):
            offer = inv.transition_offering("o-1", status)
        product = inv.record_purchase(
            customer=ek.PartyRef(id="c-1"),
            offering_id="o-1",
            order_item=ek.OrderItemRef(order_id="po-1", item_id="1"),
        )
    with FileStore(directory) as store:
        assert store.offerings.get("o-1") == offer
        assert store.products.get(product.id or "") == product
        assert store.products.find_by_order_item("po-1", "1") == product
        assert [p.id for p in store.products.iterate(ek.ProductFilter(customer_id="c-1"))] == [
            product.id
        ]
        assert store.offerings.query(ek.OfferingFilter(lifecycle_status="Launched")).total == 1
        assert store.recovery_report.clean


def test_reopening_decodes_no_value_until_one_is_read(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[type] = []
    real = ek.tmf.from_json

    def counting(cls: type, data: Any, **options: Any) -> Any:
        decoded.append(cls)
        return real(cls, data, **options)

    monkeypatch.setattr(ek.tmf, "from_json", counting)
    with FileStore(filled) as store:
        assert len(store.offerings) == 20 and decoded == []
        assert store.offerings.get("o-7").name == "Fibre 7"
        assert decoded == [ProductOffering]


def _frames_end(path: Path) -> int:
    """Where the last frame ends (the journal is preallocated with zeros after it)."""
    return len(path.read_bytes().rstrip(b"\0"))


def test_a_truncated_tail_is_cut_and_reported(filled: Path) -> None:
    path = _journal(filled)
    os.truncate(path, _frames_end(path) - 7)
    with FileStore(filled) as store:
        report = store.recovery_report
        assert not report.clean
        (cut,) = report.torn_tails
        assert cut.path == str(path) and cut.bytes_cut > 0
        assert "o-20" not in store.offerings  # the torn commit is gone, whole
        assert [o.id for o in store.offerings.iterate()] == [f"o-{n}" for n in range(1, 20)]
        store.offerings.add(_offering(21))  # and the store goes on
    with FileStore(filled) as store:
        assert store.recovery_report.clean
        assert "o-21" in store.offerings and len(store.offerings) == 20


def test_a_partly_written_last_frame_in_preallocated_space_is_a_torn_tail(filled: Path) -> None:
    path = _journal(filled)
    end = _frames_end(path)
    with open(path, "r+b") as f:  # the last bytes of the frame never reached the disk
        f.seek(end - 5)
        f.write(b"\0" * 5)
    with FileStore(filled) as store:
        assert len(store.recovery_report.torn_tails) == 1
        assert len(store.offerings) == 19 and "o-20" not in store.offerings


def test_zeros_after_the_last_frame_are_free_space_not_damage(filled: Path) -> None:
    with open(_journal(filled), "ab") as f:
        f.write(b"\0" * 4096)
    with FileStore(filled) as store:
        assert store.recovery_report.clean
        assert len(store.offerings) == 20


def test_a_flipped_byte_mid_file_is_corruption_naming_file_and_offset(filled: Path) -> None:
    path = _journal(filled)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StorageCorruptedError) as caught:
        FileStore(filled)
    assert caught.value.path == str(path)
    assert 0 < caught.value.offset <= middle
    assert str(path) in str(caught.value) and "byte" in str(caught.value)
    with pytest.raises(StorageCorruptedError):
        ek.verify(filled)
    assert path.read_bytes() == bytes(data)  # nothing was "repaired" away


def test_verify_checks_without_taking_the_writer_lock(filled: Path) -> None:
    with FileStore(filled):
        report = ek.verify(filled)
    assert report.clean and report.records == 20


def test_a_second_writer_is_refused_at_once(directory: Path) -> None:
    with FileStore(directory):
        with pytest.raises(StoreLockedError, match="read_only=True"):
            FileStore(directory)
        code = (
            "import sys\nfrom etomkit import FileStore, StoreLockedError\n"
            "try:\n    FileStore(sys.argv[1])\nexcept StoreLockedError:\n    print('locked')\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(directory)], capture_output=True, text=True, timeout=60
        )
        assert result.stdout.strip() == "locked", result.stderr
    FileStore(directory).close()  # released on close


def test_read_only_open_sees_data_and_refuses_writes(filled: Path) -> None:
    with FileStore(filled) as writer, FileStore(filled, read_only=True) as reader:
        assert len(reader.offerings) == 20
        with pytest.raises(StorageError, match="read-only"):
            reader.offerings.add(_offering(99))
        assert "o-99" not in reader.offerings
        writer.offerings.add(_offering(100))


def _add_and_touch_in_one_transaction(store: FileStore) -> None:
    with store.transaction():
        store.offerings.add(_offering(51))
        store.offerings.replace(store.offerings.get("o-1"))


def _abandoned_transaction(store: FileStore) -> None:
    with store.transaction():
        store.offerings.add(_offering(6))
        store.offerings.remove("o-1")
        raise RuntimeError("abandon")


def _failing_once(error: int, after_bytes: int = 0) -> Callable[..., int]:
    """An os.pwrite that writes ``after_bytes`` then fails once with ``error``."""
    state = {"failed": False}
    real = os.pwrite

    def pwrite(fd: int, data: Any, offset: int) -> int:
        if state["failed"]:
            return real(fd, data, offset)
        state["failed"] = True
        if after_bytes:
            real(fd, bytes(data[:after_bytes]), offset)
        raise OSError(error, os.strerror(error))

    return pwrite


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO])
def test_a_failed_write_raises_storage_error_and_the_store_stays_usable(
    filled: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    with FileStore(filled, durability="always") as store:
        monkeypatch.setattr(journal_module, "_write", _failing_once(error, after_bytes=13))
        with pytest.raises(StorageError, match=os.strerror(error)) as caught:
            store.offerings.add(_offering(50))
        assert isinstance(caught.value.__cause__, OSError)
        assert "o-50" not in store.offerings
        monkeypatch.setattr(journal_module, "_write", _failing_once(error))
        with pytest.raises(StorageError):
            _add_and_touch_in_one_transaction(store)
        assert "o-51" not in store.offerings and store.offerings.get("o-1").revision == 1
        store.offerings.add(_offering(52))  # usable again
    with FileStore(filled) as store:
        assert store.recovery_report.clean
        assert "o-50" not in store.offerings and "o-51" not in store.offerings
        assert store.offerings.get("o-52").revision == 1 and len(store.offerings) == 21


def test_a_failed_fsync_is_a_storage_error_and_the_write_is_not_kept(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with FileStore(filled, durability="always") as store:
        monkeypatch.setattr(journal_module, "_fsync", broken_fsync)
        monkeypatch.setattr(journal_module, "_fdatasync", broken_fsync)
        with pytest.raises(StorageError):
            store.offerings.add(_offering(60))
        assert "o-60" not in store.offerings
        monkeypatch.undo()
        with pytest.raises(StorageError, match="earlier fsync failed"):  # until reopened
            store.offerings.add(_offering(61))
    with FileStore(filled) as store:
        store.offerings.add(_offering(61))
    with FileStore(filled) as store:
        assert "o-60" not in store.offerings and "o-61" in store.offerings
        assert store.recovery_report.clean


def test_transactions_commit_as_one_frame_and_roll_back_whole(directory: Path) -> None:
    with FileStore(directory) as store:
        with store.transaction():
            for n in range(1, 6):
                store.offerings.add(_offering(n))
        with pytest.raises(RuntimeError):
            _abandoned_transaction(store)
        assert sorted(o.id or "" for o in store.offerings.iterate()) == [
            f"o-{n}" for n in range(1, 6)
        ]
    with FileStore(directory) as store:
        assert store.recovery_report.frames == 1
        assert [o.id for o in store.offerings.iterate()] == [f"o-{n}" for n in range(1, 6)]


def test_compaction_on_request_keeps_every_record_and_order(filled: Path) -> None:
    with FileStore(filled) as store:
        store.offerings.remove("o-3")
        store.offerings.replace(store.offerings.get("o-5"))
        before = list(store.offerings.iterate())
        store.compact()
        assert sorted(p.name for p in filled.iterdir()) == [
            "LOCK",
            "journal-1.log",
            "snapshot-1.dat",
        ]
        assert list(store.offerings.iterate()) == before
        store.offerings.add(_offering(30))
    with FileStore(filled) as store:
        assert list(store.offerings.iterate()) == [*before, store.offerings.get("o-30")]
        assert store.offerings.get("o-5").revision == 2


def test_compaction_starts_by_itself_past_the_size_ratio(directory: Path) -> None:
    with FileStore(directory, durability="none", compact_min_bytes=4096) as store:
        for n in range(200):
            store.offerings.add(_offering(n, description="z" * 100))
        generations = {p.name for p in directory.iterdir()}
        assert any(name.startswith("snapshot-") for name in generations)
        assert store.last_compaction_error is None
    with FileStore(directory) as store:
        assert len(store.offerings) == 200


def test_leftovers_of_an_interrupted_compaction_are_cleaned_up(filled: Path) -> None:
    with FileStore(filled) as store:
        store.compact()
    (filled / "snapshot-2.dat.tmp").write_bytes(b"half a snapshot")
    (filled / "journal-0.log").write_bytes(b"an old generation")
    with FileStore(filled) as store:
        assert set(store.recovery_report.removed_files) == {"snapshot-2.dat.tmp", "journal-0.log"}
        assert len(store.offerings) == 20


def test_a_missing_snapshot_is_corruption_not_an_empty_store(filled: Path) -> None:
    with FileStore(filled) as store:
        store.compact()
    (filled / "snapshot-1.dat").unlink()
    with pytest.raises(StorageCorruptedError, match=r"snapshot-1\.dat is missing"):
        FileStore(filled)


def test_a_closed_store_refuses_writes(directory: Path) -> None:
    store = FileStore(directory)
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.offerings.add(_offering(1))


def test_an_unknown_durability_is_a_validation_error(directory: Path) -> None:
    with pytest.raises(ek.ValidationError, match="durability"):
        FileStore(directory, durability="sometimes")  # type: ignore[arg-type]
    assert not directory.exists()


def test_values_are_readable_tmf_json(filled: Path) -> None:
    text = _journal(filled).read_bytes()
    assert b'"name":"Fibre 7"' in text and b'"@type":"ProductOffering"' in text


def _product(n: int, customer: str, status: str = "created") -> ek.Product:
    return ek.Product(
        id=f"p-{n}",
        status=status,
        product_offering=ek.EntityRef(id="o-1"),
        related_party=(ek.RelatedParty(id=customer, role="customer"),),
        product_order_item=(ek.OrderItemRef(order_id=f"po-{n}", item_id="1"),),
    )


def test_records_loaded_from_a_snapshot_answer_queries_and_take_changes(directory: Path) -> None:
    with FileStore(directory) as store:
        for n in range(30):
            store.products.add(_product(n, customer=f"c-{n % 3}"))
        store.compact()
    with FileStore(directory) as store:  # everything comes from the snapshot, undecoded
        by_c1 = [p.id for p in store.products.iterate(ek.ProductFilter(customer_id="c-1"))]
        assert by_c1 == [f"p-{n}" for n in range(1, 30, 3)]
        assert store.products.find_by_order_item("po-7", "1") == store.products.get("p-7")
        old = store.products.get("p-4")
        store.products.replace(attrs.evolve(old, status="active"))
        store.products.remove("p-5")
        store.products.replace(attrs.evolve(store.products.get("p-6"), status="active"))
        store.products.remove("p-6")
        store.products.add(_product(6, customer="c-9"))  # same key again: goes last
        store.products.add(_product(30, customer="c-1"))
    expected_order = [f"p-{n}" for n in range(30) if n not in (5, 6)] + ["p-6", "p-30"]
    with FileStore(directory) as store:  # snapshot + journal replayed on top
        assert [p.id for p in store.products.iterate()] == expected_order
        assert store.products.get("p-4").status == "active"
        assert store.products.get("p-4").revision == 2
        assert "p-5" not in store.products
        assert store.products.get("p-6").customer_id == "c-9"
        active = store.products.query(ek.ProductFilter(status="active"))
        assert [p.id for p in active.items] == ["p-4"]
        assert store.products.query(ek.ProductFilter(customer_id="c-0")).total == 9
        store.products.get("p-8")  # decode one; the rest stay undecoded through compaction
        store.compact()
        assert [p.id for p in store.products.iterate()] == expected_order
    with FileStore(directory) as store:
        assert [p.id for p in store.products.iterate()] == expected_order
        assert store.products.get("p-4").revision == 2
        assert [p.id for p in store.products.iterate(ek.ProductFilter(customer_id="c-9"))] == [
            "p-6"
        ]


def test_a_stale_replace_of_an_undecoded_record_is_a_conflict(directory: Path) -> None:
    with FileStore(directory) as store:
        store.offerings.add(_offering(1))
        store.offerings.replace(store.offerings.get("o-1"))
        store.compact()
    with FileStore(directory) as store:
        with pytest.raises(ek.ConflictError, match="revision 2"):
            store.offerings.replace(_offering(1, revision=1))
        assert store.offerings.get("o-1").revision == 2


def test_a_snapshot_of_several_blocks_reopens_whole(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "_SNAPSHOT_BLOCK_BYTES", 200)  # a few records a block
    with FileStore(directory) as store:
        for n in range(40):
            store.products.add(_product(n, customer=f"c-{n % 7}"))
        store.offerings.add(_offering(1))
        store.compact()
        assert len(store.products) == 40
        assert store.products.get("p-39").customer_id == "c-4"
    with FileStore(directory) as store:
        assert [p.id for p in store.products.iterate()] == [f"p-{n}" for n in range(40)]
        assert store.products.query(ek.ProductFilter(customer_id="c-3")).total == 6
        assert store.offerings.get("o-1").name == "Fibre 1"
        store.compact()  # again, with every record still undecoded
    with FileStore(directory) as store:
        assert [p.id for p in store.products.iterate()] == [f"p-{n}" for n in range(40)]


def test_compaction_copies_the_journals_bytes_and_encodes_only_what_it_lacks(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FileStore(filled) as store:  # o-1..o-20 replayed from the journal
        offerings = store.offerings
        assert offerings.get("o-2").name == "Fibre 2"  # decoded by a read
        offerings.replace(attrs.evolve(offerings.get("o-4"), name="renamed"))
        offerings.remove("o-6")
        offerings.add(ProductOffering(id="o-6", name="again"))  # revision 1, other bytes
        offerings.remove("o-7")
        with contextlib.suppress(RuntimeError), store.transaction():  # rolled back
            offerings.replace(attrs.evolve(offerings.get("o-8"), name="never"))
            raise RuntimeError
        for n in range(21, 26):
            offerings.add(_offering(n))
        expected = {o.id: o for o in offerings.iterate()}
        encoded: list[str] = []
        encode = store_module._encode

        def counted(entity: Any) -> bytes:
            encoded.append(entity.id)
            return encode(entity)

        monkeypatch.setattr(store_module, "_encode", counted)
        store.compact()
        assert encoded == []  # every live record's bytes were in the journal
        offerings.replace(attrs.evolve(offerings.get("o-9"), name="after"))
        expected["o-9"] = offerings.get("o-9")
        encoded.clear()  # the write itself encoded it
        store.compact()  # the kept entities' bytes now come from the first snapshot
        assert encoded == []
    monkeypatch.undo()
    with FileStore(filled) as store:  # the snapshot holds what encoding would write
        stored = store.offerings
        raw = {k: stored.raw_record(v)[2] for k, v in stored.stored_items()}  # type: ignore[attr-defined]
        assert raw == {k: encode(o) for k, o in expected.items()}
        assert {o.id: o for o in store.offerings.iterate()} == expected
        assert store.offerings.get("o-6").name == "again"
        assert store.offerings.get("o-8").name == "Fibre 8"
