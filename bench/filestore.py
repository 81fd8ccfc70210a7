"""FileStore against stdlib sqlite3 (WAL, synchronous=FULL) on the same records (issue #4).

Two tables of writes, each interleaved batch by batch with sqlite: the
durable keyed-record layer on ready-made records (key, revision, index terms,
TMF JSON bytes), and the FileStore repositories end to end (entities in, both
sides paying TMF JSON serialisation). One durable write per transaction
("always"), 100 and 1000 writes per transaction ("batch"). Then reopening a
store of N products, from its journal and from a snapshot. Re-run with:

    python bench/filestore.py                 # 1,000,000 records for reopen
    python bench/filestore.py --quick        # 100,000 records, fewer rounds
    python bench/filestore.py --quick --writes-only --converter   # + the converter path

``--converter`` adds contenders whose documents come from tmf's cattrs converter
alone (``tmf._FLAT`` empty), as before the generated flat functions: the same
bytes, side by side with the flat path in the same run.
"""

from __future__ import annotations

import argparse
import importlib
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

import attrs

try:
    import orjson
except ImportError:  # the orjson columns need etomkit[fast]
    orjson = None  # type: ignore[assignment]

import etomkit as ek
from etomkit import tmf
from etomkit.adapters.file import codec
from etomkit.adapters.file import store as store_module
from etomkit.adapters.file.journal import Durability, FileJournal, RecordWrite
from etomkit.model.queries import product_terms
from etomkit.model.resource_order import ResourceOrder

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
    """End to end: entities through a FileStore repository, one transaction per batch."""

    def __init__(self, directory: Path, encoder: str) -> None:
        self.encoder = encoder
        self.store = ek.FileStore(directory, durability="batch", compact_min_bytes=1 << 40)

    def write(self, batch: list[Any]) -> None:
        if self.encoder == "before":  # the encoder before issue #13: no memo, stdlib json
            store_module._encode = _encode_before
            store_module._records = _records_before
        else:
            store_module._encode = _ENCODE
            store_module._records = _RECORDS
            use_encoder(self.encoder)
        repo = getattr(self.store, _REPOSITORY[type(batch[0])])
        with self.store.transaction():  # one frame and one fdatasync per batch
            for entity in batch:
                repo.add(entity)

    def close(self) -> None:
        self.store.close()
        store_module._encode = _ENCODE
        store_module._records = _RECORDS


_ENCODE = store_module._encode
_RECORDS = store_module._records
tmf._built()
_FLAT = tmf._FLAT  # the generated flat functions (etomkit._tmf_flat)


def use_encoder(name: str) -> None:
    """``stdlib``/``orjson``, ``-conv``: documents from the cattrs converter alone."""
    backend, _, path = name.partition("-")
    codec.use_backend(backend)
    tmf._FLAT = {} if path == "conv" else _FLAT


_REPOSITORY = {ek.Product: "products", ResourceOrder: "resource_orders"}


def _encode_before(entity: Any) -> bytes:
    return codec.stdlib_dumps(tmf.to_json(entity))


def _records_before(writes: Any) -> list[RecordWrite]:
    return [
        (ns, key, 0, (), None)
        if entity is None
        else (ns, key, entity.revision, terms, _encode_before(entity))
        for ns, key, entity, terms in writes
    ]


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
    """sqlite3, WAL, synchronous=FULL: one row (id, revision, terms, doc) per record."""

    def __init__(self, path: Path, *, encoder: str | None) -> None:
        self.encoder = encoder  # None: ready-made records (the layer table)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE entity (id TEXT PRIMARY KEY, revision INTEGER, terms TEXT, doc BLOB)"
        )

    def write(self, batch: list[Any]) -> None:
        if self.encoder is not None:  # the same work FileStore does: TMF JSON of each entity
            dumps: Any = _SQLITE_DUMPS[self.encoder]
            to_json = tmf.to_json
            rows = [(e.id, 1, "", dumps(to_json(e))) for e in batch]
        else:
            rows = [(key, rev, "\x1e".join(terms), value) for _, key, rev, terms, value in batch]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO entity VALUES (?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


_SQLITE_DUMPS: dict[str, Callable[[Any], Any]] = {
    "stdlib": lambda doc: json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
    "orjson": orjson.dumps if orjson is not None else json.dumps,
}


def record(p: ek.Product) -> RecordWrite:
    value = json.dumps(tmf.to_json(p), separators=(",", ":")).encode()
    return ("product", p.id or "", 1, product_terms(p), value)


LAYER_CASES: list[tuple[str, int, Durability, int]] = [  # label, writes/tx, durability, records
    ("1 write / tx", 1, "always", 200),
    ("100 writes / tx", 100, "batch", 10_000),
    ("1000 writes / tx", 1000, "batch", 30_000),
]
BATCHES = {1: 300, 10: 3_000, 100: 10_000, 1000: 30_000}  # batch size: records per round
# contender: (label, make(work dir) -> side)
CONTENDERS: dict[str, Callable[[Path], Any]] = {
    "fs-before": lambda d: FileStoreSide(d / "before", "before"),
    "fs-stdlib": lambda d: FileStoreSide(d / "stdlib", "stdlib"),
    "fs-orjson": lambda d: FileStoreSide(d / "orjson", "orjson"),
    "fs-orjson-conv": lambda d: FileStoreSide(d / "orjson-conv", "orjson-conv"),
    "sqlite": lambda d: SqliteSide(d / "stdlib.sqlite", encoder="stdlib"),
    "sqlite-orjson": lambda d: SqliteSide(d / "orjson.sqlite", encoder="orjson"),
}


def _issuing() -> Any:
    """bench/issuing.py (the issuing workload), imported from beside this file."""
    sys.path.insert(0, str(Path(__file__).parent))
    return importlib.import_module("issuing")


def issued_orders(count: int) -> list[ResourceOrder]:
    """Resource orders as the issuer builds them (bench/issuing.py's workload), in memory."""
    issuing = _issuing()
    issuer = issuing.issuer_for(ek.RuleSet(issuing.make_rules(1000)))
    orders: list[ResourceOrder] = []
    requests = iter(issuing.make_requests(1000, 10 * count, prefix="W"))
    while len(orders) < count:
        orders.extend(issuer.issue(next(requests)).orders)
    return orders[:count]


def compare_entity_writes(
    work: Path, rounds: int, scale: float, kinds: list[str], converter: bool = False
) -> list[tuple[str, int, dict[str, float], dict[str, float]]]:
    """Per (kind, batch size): median records/s of each contender and the median of
    its per-batch time ratios against sqlite (stdlib json), all interleaved batch by batch."""
    contenders = [
        c
        for c in CONTENDERS
        if ("orjson" not in c or codec._ORJSON_DUMPS is not None)
        and (converter or not c.endswith("-conv"))
    ]
    rows = []
    for kind in kinds:
        most = max(per_tx for per_tx in BATCHES)
        total_max = max(most, int(max(BATCHES.values()) * scale))
        pool: list[Any] = (
            [product(i) for i in range(total_max)]
            if kind == "product"
            else issued_orders(total_max)
        )
        for per_tx, total in BATCHES.items():
            total = max(per_tx, int(total * scale))
            batches = [pool[i : i + per_tx] for i in range(0, total, per_tx)]
            times: dict[str, list[float]] = {c: [] for c in contenders}
            for r in range(rounds):
                d = work / f"{kind}-{per_tx}-{r}"
                d.mkdir(parents=True)
                sides = {c: CONTENDERS[c](d) for c in contenders}
                try:
                    for n, batch in enumerate(batches):  # rotate who goes first
                        order = (
                            contenders[n % len(contenders) :] + contenders[: n % len(contenders)]
                        )
                        for c in order:
                            began = time.perf_counter()
                            sides[c].write(batch)
                            times[c].append(time.perf_counter() - began)
                finally:
                    for side in sides.values():
                        side.close()
                shutil.rmtree(d, ignore_errors=True)
            rates = {c: per_tx / statistics.median(t) for c, t in times.items()}
            ratios = {
                c: statistics.median(s / o for o, s in zip(t, times["sqlite"], strict=True))
                for c, t in times.items()
            }
            rows.append((kind, per_tx, rates, ratios))
    return rows


def compare_issue_many(
    work: Path, rounds: int, scale: float, converter: bool = False
) -> list[tuple[int, dict[str, float], dict[str, float]]]:
    """``issue_many`` on a FileStore (one frame and fdatasync per batch) against the
    same on an InMemoryOrderingStore: items/s and per-batch ratios to in-memory.
    Each side issues its own copies of the requests: the store's encoder remembers a
    request's bytes by identity, and one side must not find another's."""
    issuing = _issuing()
    rules = ek.RuleSet(issuing.make_rules(1000))
    requests = issuing.make_requests(1000, max(2000, int(20_000 * scale)), prefix="M")
    items = {r.key: len(r.items) for r in requests}
    sides: tuple[str, ...] = ("memory", "fs-stdlib")
    sides += ("fs-orjson",) if orjson is not None else ()
    if converter:
        sides += ("fs-stdlib-conv", "fs-orjson-conv") if orjson is not None else ("fs-stdlib-conv",)
    rows = []
    for per_batch in (10, 100):
        own = {c: [attrs.evolve(r) for r in requests] for c in sides}
        batches = {
            c: [mine[i : i + per_batch] for i in range(0, len(mine), per_batch)]
            for c, mine in own.items()
        }
        times: dict[str, list[float]] = {c: [] for c in sides}
        for r in range(rounds):
            stores: dict[str, Any] = {"memory": ek.InMemoryOrderingStore()}
            for c in sides[1:]:
                stores[c] = ek.FileStore(
                    work / f"issue-{per_batch}-{r}-{c}", compact_min_bytes=1 << 40
                )
            issuers = {}
            for c, store in stores.items():
                store.resource_specifications.add_all(issuing.make_specs())
                issuers[c] = ek.ResourceOrderIssuer(store, rules)
            try:
                for n in range(len(batches["memory"])):
                    order = sides[n % len(sides) :] + sides[: n % len(sides)]
                    for c in order:
                        use_encoder(c[3:] if c != "memory" else "stdlib")
                        began = time.perf_counter()
                        issuers[c].issue_many(batches[c][n])
                        times[c].append(time.perf_counter() - began)
            finally:
                for c in sides[1:]:
                    stores[c].close()
                use_encoder("stdlib")
            for c in sides[1:]:
                shutil.rmtree(work / f"issue-{per_batch}-{r}-{c}", ignore_errors=True)
        per = statistics.median(sum(items[q.key] for q in b) for b in batches["memory"])
        rates = {c: per / statistics.median(t) for c, t in times.items()}
        ratios = {
            c: statistics.median(m / o for o, m in zip(t, times["memory"], strict=True))
            for c, t in times.items()
        }
        rows.append((per_batch, rates, ratios))
    return rows


def compare_encoders(rounds: int, scale: float) -> list[tuple[str, str, float, float, float]]:
    """The store's encoder alone, tmf's converter against the flat functions: per
    (backend, path) the median us per resource order, per record and per request item,
    on what the issuer builds (fresh copies each round, issued outside the timer)."""
    issuing = _issuing()
    rules = ek.RuleSet(issuing.make_rules(1000))
    requests = issuing.make_requests(1000, max(2000, int(20_000 * scale)), prefix="E")
    items = sum(len(r.items) for r in requests)
    paths = [f"{b}-{p}" for b in ("stdlib", "orjson") for p in ("conv", "flat")]
    paths = [p for p in paths if orjson is not None or not p.startswith("orjson")]
    spent: dict[str, list[tuple[float, float, float]]] = {p: [] for p in paths}
    for r in range(rounds):
        for path in paths[r % len(paths) :] + paths[: r % len(paths)]:
            issuer = issuing.issuer_for(rules)
            results = [
                x
                for i in range(0, len(requests), 10)
                for x in issuer.issue_many([attrs.evolve(q) for q in requests[i : i + 10]])
            ]
            orders = [o for x in results for o in x.orders]
            records = [x.record for x in results]
            use_encoder(path)
            began = time.perf_counter()
            for order in orders:
                _ENCODE(order)
            mid = time.perf_counter()
            for record in records:
                _ENCODE(record)
            done = time.perf_counter()
            per_order, per_record = (mid - began) / len(orders), (done - mid) / len(records)
            spent[path].append((per_order, per_record, (done - began) / items))
    use_encoder("stdlib")
    rows = []
    for path in paths:
        order, record, item = (statistics.median(t[k] for t in spent[path]) * 1e6 for k in range(3))
        kind = "converter" if path.endswith("conv") else "flat"
        rows.append((path.split("-")[0], kind, order, record, item))
    return rows


def compare_layer(work: Path, rounds: int, scale: float) -> list[tuple[str, float, float, float]]:
    """The keyed-record layer on ready-made records against sqlite on the same rows."""
    rows = []
    for label, per_tx, durability, total in LAYER_CASES:
        total = max(per_tx, int(total * scale))
        inputs = [record(product(i)) for i in range(total)]
        batches = [inputs[i : i + per_tx] for i in range(0, total, per_tx)]
        ours_t: list[float] = []
        theirs_t: list[float] = []
        for r in range(rounds):
            d = work / f"layer-{per_tx}-{r}"
            ours = JournalSide(d / "j", durability)
            theirs = SqliteSide(d.with_suffix(".sqlite"), encoder=None)
            try:
                for batch in batches:
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
        "--writes-only", action="store_true", help="only the entity-write table (no layer, reopen)"
    )
    parser.add_argument(
        "--kinds", default="product,order", help="entities to write: product, order (issued)"
    )
    parser.add_argument(
        "--converter",
        action="store_true",
        help="add contenders on tmf's cattrs converter alone (before the flat functions)",
    )
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
        print(ENTITY_TITLE)
        conv = args.converter
        shown = [c for c in CONTENDERS if conv or not c.endswith("-conv")]
        labels = {"fs-before": "before #13", "fs-orjson-conv": "FileStore orjson (converter)"}
        labels.update({"fs-stdlib": "FileStore stdlib", "fs-orjson": "FileStore orjson"})
        labels.update({"sqlite": "sqlite3", "sqlite-orjson": "sqlite3 + orjson"})
        mine = [c for c in shown if c.startswith("fs-")]
        print(
            f"| entity | batch | {' | '.join(labels[c] for c in shown)} | "
            f"{' | '.join(c[3:] + ' / sqlite' for c in mine)} | orjson / sqlite+orjson |"
        )
        print("|---|---:|" + "---:|" * (len(shown) + len(mine) + 1))
        kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
        for kind, per_tx, rates, ratios in compare_entity_writes(work, rounds, scale, kinds, conv):
            cells = [f"{rates.get(c, float('nan')):,.0f}" for c in shown]
            vs = [f"{ratios.get(c, float('nan')):.2f}x" for c in mine]
            vs_fast = ratios.get("fs-orjson", float("nan")) / ratios.get("sqlite-orjson", 1.0)
            print(
                f"| {kind} | {per_tx} | {' | '.join(cells)} | {' | '.join(vs)} | {vs_fast:.2f}x |"
            )
        print(
            "\nrecords/s: medians per batch; ratios: medians of per-batch sqlite time / ours "
            "(> 1: ours faster). Target: stdlib / sqlite >= 1.0x for batches, orjson more."
        )
        print(
            "\nissue_many, FileStore (durability batch) vs InMemoryOrderingStore, 10 items/request:\n"
        )
        files = ["fs-stdlib", "fs-orjson"]
        files += ["fs-stdlib-conv", "fs-orjson-conv"] if conv else []
        print(
            "| requests / batch | in-memory items/s | "
            + " | ".join(f"FileStore {c[3:]}" for c in files)
            + " | "
            + " | ".join(f"{c[3:]} / memory" for c in files)
            + " |"
        )
        print("|---:|---:|" + "---:|" * (2 * len(files)))
        for per_batch, rates, ratios in compare_issue_many(work, rounds, scale, conv):
            cells = [f"{rates.get(c, float('nan')):,.0f}" for c in files]
            vs = [f"{ratios.get(c, float('nan')):.2f}x" for c in files]
            print(
                f"| {per_batch} | {rates['memory']:,.0f} | {' | '.join(cells)} | {' | '.join(vs)} |"
            )
        print("\nTarget: FileStore issue_many >= 0.5x in-memory issue_many.")
        if conv:
            print(
                "\nThe store's encoder alone (us, medians; tmf's converter vs the flat functions):\n"
            )
            print("| backend | documents | per order | per record | per request item |")
            print("|---|---|---:|---:|---:|")
            for backend, path, order, record, item in compare_encoders(max(rounds, 5), scale):
                print(f"| {backend} | {path} | {order:.2f} | {record:.1f} | {item:.2f} |")
        if not args.writes_only:
            layer_and_reopen(work, rounds, scale, args.records)
        print(
            f"\nPython {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
            f"orjson {getattr(orjson, '__version__', 'not installed')}; re-run: "
            f"`python bench/filestore.py {' '.join(sys.argv[1:] if argv is None else argv)}`".rstrip()
        )
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


ENTITY_TITLE = """
FileStore batched entity writes (one transaction, one frame and one fdatasync per batch;
durability "batch") against sqlite3 (WAL, synchronous=FULL; BEGIN/COMMIT per batch)
storing the same TMF JSON (tmf.to_json + json.dumps, or + orjson.dumps), interleaved
batch by batch. "before #13": the FileStore's old encoder (tmf.to_json + stdlib json per
entity, no memo, no backend); tmf's own faster hooks speed it and sqlite's side alike.
product: TMF637 products; order: resource orders as the issuer builds them.
"""


def layer_and_reopen(work: Path, rounds: int, scale: float, records: int) -> None:
    """The keyed-record layer table, then reopening a store of ``records`` products."""
    print("\nthe keyed-record layer (FileJournal) on the same records:\n")
    print(
        "| case | ours records/s | sqlite3 WAL FULL records/s | ours / sqlite (median per batch) |"
    )
    print("|---|---|---|---|")
    for (label, ours, theirs, ratio), (_, _, durability, _) in zip(
        compare_layer(work, rounds, scale), LAYER_CASES, strict=True
    ):
        print(f"| {label} ({durability}) | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f}x |")
    store_dir = work / f"reopen-{records}"
    if not store_dir.exists():
        built = time_it(lambda: build(store_dir, records))
        print(f"\nbuilt {records:,} products in {built:.1f} s")
    size = sum(p.stat().st_size for p in store_dir.iterdir())
    journal_times = [reopen(store_dir) for _ in range(3)]
    with ek.FileStore(store_dir) as store:
        store.compact()
    snapshot_times = [reopen(store_dir) for _ in range(3)]
    print(
        f"\n| reopen of {records:,} products ({size / 1e6:.0f} MB) | median of 3 s | records/s | target |"
    )
    print("|---|---|---|---|")
    for label, times in (
        ("from the journal", journal_times),
        ("from a snapshot", snapshot_times),
    ):
        t = statistics.median(times)
        ok = "yes" if t <= 5 or records / t >= 200_000 else "NO"
        print(f"| {label} | {t:.2f} | {records / t:,.0f} | <= 5 s or >= 200k/s: {ok} |")


if __name__ == "__main__":
    raise SystemExit(main())
