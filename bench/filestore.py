"""FileStore against stdlib sqlite3 (WAL, synchronous=FULL) on the same records (issue #4).

Two tables of writes, each interleaved batch by batch with sqlite: the
durable keyed-record layer on ready-made records (key, revision, index terms,
TMF JSON bytes), and the FileStore repositories end to end (entities in, both
sides paying TMF JSON serialisation). One durable write per transaction
("always"), 100 and 1000 writes per transaction ("batch"). Then reopening a
store of N products, from its journal and from a snapshot. Re-run with:

    python bench/filestore.py                 # 1,000,000 records for reopen
    python bench/filestore.py --quick        # 100,000 records, fewer rounds
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import etomkit as ek
from etomkit import tmf
from etomkit.adapters.file.journal import Durability, FileJournal, RecordWrite
from etomkit.model.queries import product_terms

OFFERING = ek.EntityRef(id="po-fibre-1g", name="Fibre 1G", referred_type="ProductOffering")


def product(n: int) -> ek.Product:
    return ek.Product(
        id=f"p-{n:08d}",
        name="Fibre 1G",
        status="active",
        product_offering=OFFERING,
        related_party=(
            ek.RelatedParty(id=f"c-{n % 250_000}", role="customer", referred_type="Customer"),
        ),
        product_order_item=(ek.OrderItemRef(order_id=f"po-{n}", item_id="1", action="add"),),
        product_characteristic=(
            ek.Characteristic(name="downloadSpeed", value=1000, value_type="number"),
        ),
    )


class FileStoreSide:
    """End to end: entities through the FileStore repositories (TMF JSON records)."""

    def __init__(self, directory: Path, durability: Durability) -> None:
        self.store = ek.FileStore(directory, durability=durability, compact_min_bytes=1 << 40)

    def write(self, batch: list[Any]) -> None:
        add = self.store.products.add
        if len(batch) == 1:
            add(batch[0])
            return
        with self.store.transaction():
            for p in batch:
                add(p)

    def close(self) -> None:
        self.store.close()


class JournalSide:
    """The durable keyed-record layer alone, on ready-made records."""

    def __init__(self, directory: Path, durability: Durability) -> None:
        directory.mkdir(parents=True)
        self.journal = FileJournal(str(directory), durability=durability, read_only=False)

    def write(self, batch: list[Any]) -> None:
        self.journal.commit(batch, explicit=len(batch) > 1)

    def close(self) -> None:
        self.journal.close()


class SqliteSide:
    """sqlite3, WAL, synchronous=FULL: one row (id, revision, doc) per record."""

    def __init__(self, path: Path, *, serialise: bool) -> None:
        self.serialise = serialise
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE product (id TEXT PRIMARY KEY, revision INTEGER, terms TEXT, doc BLOB)"
        )

    def write(self, batch: list[Any]) -> None:
        if self.serialise:  # the same work FileStore does: TMF JSON of each entity
            dumps, to_json = json.dumps, tmf.to_json
            rows = [(p.id, 1, "", dumps(to_json(p), separators=(",", ":"))) for p in batch]
        else:
            rows = [(key, rev, "\x1e".join(terms), value) for _, key, rev, terms, value in batch]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO product VALUES (?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def record(p: ek.Product) -> RecordWrite:
    value = json.dumps(tmf.to_json(p), separators=(",", ":")).encode()
    return ("product", p.id or "", 1, product_terms(p), value)


CASES: list[tuple[str, int, Durability, int]] = [  # label, writes/tx, durability, records
    ("1 write / tx", 1, "always", 200),
    ("100 writes / tx", 100, "batch", 10_000),
    ("1000 writes / tx", 1000, "batch", 30_000),
]
TARGETS = {1: 0.8, 1000: 1.5}


def compare_writes(
    work: Path, rounds: int, scale: float, layer: bool
) -> list[tuple[str, float, float, float]]:
    """Per case: median records/s of ours and sqlite's, and the median of per-batch ratios."""
    rows = []
    for label, per_tx, durability, total in CASES:
        total = max(per_tx, int(total * scale))
        entities = [product(i) for i in range(total)]
        inputs: list[Any] = [record(p) for p in entities] if layer else entities
        batches = [inputs[i : i + per_tx] for i in range(0, total, per_tx)]
        ours_t: list[float] = []
        theirs_t: list[float] = []
        for r in range(rounds):
            d = work / f"w-{per_tx}-{r}"
            ours: Any = (
                JournalSide(d / "j", durability) if layer else FileStoreSide(d / "fs", durability)
            )
            theirs = SqliteSide(d.with_suffix(".sqlite"), serialise=not layer)
            try:
                for batch in batches:  # interleaved batch by batch: drift hits both alike
                    began = time.perf_counter()
                    ours.write(batch)
                    mid = time.perf_counter()
                    theirs.write(batch)
                    ours_t.append(mid - began)
                    theirs_t.append(time.perf_counter() - mid)
            finally:
                ours.close()
                theirs.close()
            shutil.rmtree(d, ignore_errors=True)
            d.with_suffix(".sqlite").unlink(missing_ok=True)
        ratio = statistics.median(t / o for o, t in zip(ours_t, theirs_t, strict=True))
        rows.append(
            (label, per_tx / statistics.median(ours_t), per_tx / statistics.median(theirs_t), ratio)
        )
    return rows


def build(directory: Path, records: int) -> None:
    with ek.FileStore(directory, durability="none", compact_min_bytes=1 << 40) as store:
        add = store.products.add
        for start in range(0, records, 10_000):
            with store.transaction():
                for n in range(start, min(records, start + 10_000)):
                    add(product(n))


def time_it(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


_REOPEN = """
import sys, time
import etomkit as ek
began = time.perf_counter()
store = ek.FileStore(sys.argv[1], durability="none")
assert store.products.find("p-00000000") is not None
print(time.perf_counter() - began)
store.close()
"""


def reopen(directory: Path) -> float:
    """Seconds to open the store and read one record, in a fresh process (as after a crash)."""
    out = subprocess.run(
        [sys.executable, "-c", _REOPEN, str(directory)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="FileStore vs sqlite3")
    parser.add_argument(
        "--records",
        type=int,
        default=None,
        help="records for the reopen rows (1,000,000; --quick 100,000)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and writes")
    parser.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    rounds, scale = (3, 0.2) if args.quick else (args.rounds, 1.0)
    if args.records is None:
        args.records = 100_000 if args.quick else 1_000_000
    work = args.dir or Path(tempfile.mkdtemp(prefix="etomkit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for layer, title in (
            (True, "the keyed-record layer (FileJournal) on the same records"),
            (False, "FileStore repositories, entities -> TMF JSON, vs sqlite doing the same"),
        ):
            print(f"\n{title}:\n")
            print(
                "| case | ours records/s | sqlite3 WAL FULL records/s | ours / sqlite (median per batch) | target |"
            )
            print("|---|---|---|---|---|")
            for (label, ours, theirs, ratio), (_, per_tx, durability, _) in zip(
                compare_writes(work, rounds, scale, layer), CASES, strict=True
            ):
                target = TARGETS.get(per_tx)
                verdict = (
                    "" if target is None else f">= {target}x: {'yes' if ratio >= target else 'NO'}"
                )
                print(
                    f"| {label} ({durability}) | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f}x | {verdict} |"
                )
        store_dir = work / f"reopen-{args.records}"
        if not store_dir.exists():
            built = time_it(lambda: build(store_dir, args.records))
            print(f"\nbuilt {args.records:,} products in {built:.1f} s")
        size = sum(p.stat().st_size for p in store_dir.iterdir())
        journal_times = [reopen(store_dir) for _ in range(3)]
        with ek.FileStore(store_dir) as store:
            store.compact()
        snapshot_times = [reopen(store_dir) for _ in range(3)]
        print(
            f"\n| reopen of {args.records:,} products ({size / 1e6:.0f} MB) | median of 3 s | records/s | target |"
        )
        print("|---|---|---|---|")
        for label, times in (
            ("from the journal", journal_times),
            ("from a snapshot", snapshot_times),
        ):
            t = statistics.median(times)
            ok = "yes" if t <= 5 or args.records / t >= 200_000 else "NO"
            print(f"| {label} | {t:.2f} | {args.records / t:,.0f} | <= 5 s or >= 200k/s: {ok} |")
        print(
            f"\nPython {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; re-run: "
            f"`python bench/filestore.py {' '.join(sys.argv[1:] if argv is None else argv)}`".rstrip()
        )
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
