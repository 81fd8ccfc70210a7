"""What access control and usage tracking cost the inventory (issues #5, #12).

Done-when: the inventory's get and create with access control and usage
tracking on, against the same calls with both off (the open inventory), in
one run: overhead <= 15% on get and <= 20% on create (issue #12: every call
of the session checks the live registration version; ids are canonicalised).

*off* is ``ProductOfferingInventory(store)``; *on* is
``ProductOfferingInventory(store, access=AccessControl(store.clients),
usage=UsageMeter())`` used through ``inv.as_client(secret)`` (the
bootstrapped administrator: every permission, no category scope). Each row
runs off and on batches interleaved over several rounds in one process (who
goes first alternates by round); the table shows median times per operation,
throughputs and the median of the per-round overheads, (on - off) / off,
judged against the target (load on a shared machine hits both sides of a
round alike); the overhead of the best rounds, best(on) / best(off) - 1, is
shown beside it for information.
Registration and authentication happen outside the timed part, at a low
scrypt cost (``insecure_low_cost=True``: a fresh store per create batch
would otherwise hash at OWASP's 128 MiB twice per batch). Re-run with:

    python bench/access.py            # under a minute
    python bench/access.py --quick    # fewer rounds, smaller batches
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import etomkit as ek

Run = Callable[[], int]  # runs a timed batch, returns how many operations it did
Prepare = Callable[[], Run]  # untimed set-up of one batch


class _CountingSink:
    def __init__(self) -> None:
        self.count = 0

    def publish(self, event: ek.Event) -> None:
        self.count += 1


CATEGORY = (ek.EntityRef(id="broadband", name="Broadband"),)


def _off(store: ek.Store) -> ek.ProductOfferingInventory:
    """The inventory with access control and usage tracking off."""
    return ek.ProductOfferingInventory(store, events=_CountingSink())


class Guarded:
    """Opens *on* sessions over ``store``: access control and usage tracking on.

    Memory: the in-memory usage log keeps every record, so each *on* batch
    gets a fresh UsageMeter (a fresh inventory and session over the same
    store and AccessControl: one authentication, untimed), and every timed
    *on* batch ends with ``meter.collect()``. That call seals the batch's
    pending keyed reads into their record and flushes the buffer, so what
    recording costs is inside the timed part, and a round's records are
    dropped with its meter.
    """

    def __init__(
        self, store: ek.Store, *, time_keyed_reads: bool = False, like: Guarded | None = None
    ) -> None:
        self.store = store
        self.time_keyed_reads = time_keyed_reads
        if like is None:
            self.access = ek.AccessControl(store.clients, scrypt_n=2**4, insecure_low_cost=True)
            self.secret = self.access.bootstrap().secret  # scrypt: once per store, untimed
        else:  # the same store's AccessControl and administrator
            self.access, self.secret = like.access, like.secret

    def session(self) -> tuple[ek.ClientSession, ek.UsageMeter]:
        meter = ek.UsageMeter(time_keyed_reads=self.time_keyed_reads)
        inv = ek.ProductOfferingInventory(
            self.store, events=_CountingSink(), access=self.access, usage=meter
        )
        return inv.as_client(self.secret), meter


def _offerings(inv: ek.ProductOfferingInventory, n: int) -> list[str]:
    create = inv.create_offering
    return [create(ek.ProductOffering(name=f"o{i}", category=CATEGORY)).id or "" for i in range(n)]


def get_pair(guarded: Guarded, keys: list[str], passes: int) -> tuple[Prepare, Prepare]:
    """``get_offering`` over ``keys``, ``passes`` times per batch."""

    def off() -> Run:
        inv = _off(guarded.store)

        def run() -> int:
            get = inv.get_offering
            for _ in range(passes):
                for k in keys:
                    get(k)
            return passes * len(keys)

        return run

    def on() -> Run:
        session, meter = guarded.session()

        def run() -> int:
            get = session.get_offering
            for _ in range(passes):
                for k in keys:
                    get(k)
            meter.collect()  # the batch's keyed reads become their record
            return passes * len(keys)

        return run

    return off, on


def create_pair(new_store: Callable[[], ek.Store], n: int) -> tuple[Prepare, Prepare]:
    """``create_offering`` of ``n`` offerings into a fresh store per batch (so that
    both sides write into stores of the same size)."""

    def batch(create: Callable[[ek.ProductOffering], ek.ProductOffering]) -> int:
        offering = ek.ProductOffering
        for _ in range(n):
            create(offering(name="Fibre 1G", version="1.0", category=CATEGORY))
        return n

    def off() -> Run:
        inv = _off(new_store())
        return lambda: batch(inv.create_offering)

    def on() -> Run:
        session, meter = Guarded(new_store()).session()

        def run() -> int:
            done = batch(session.create_offering)
            meter.collect()
            return done

        return run

    return off, on


def _time(prepare: Prepare) -> float:
    """Seconds per operation of one batch (set-up and a full collection untimed)."""
    run = prepare()
    gc.collect()
    start = time.perf_counter()
    count = run()
    return (time.perf_counter() - start) / count


def _interleave(off: Prepare, on: Prepare, rounds: int) -> tuple[list[float], list[float]]:
    _time(off), _time(on)  # warm up
    off_t, on_t = [], []
    for i in range(rounds):  # interleaved, so drift hits both alike; who goes first alternates
        if i % 2:
            on_t.append(_time(on))
            off_t.append(_time(off))
        else:
            off_t.append(_time(off))
            on_t.append(_time(on))
    return off_t, on_t


def _row(
    name: str, store: str, off_t: list[float], on_t: list[float], target: float | None
) -> dict[str, Any]:
    overheads = [(b - a) / a for a, b in zip(off_t, on_t, strict=True)]
    return {
        "operation": name,
        "store": store,
        "off_ns": statistics.median(off_t) * 1e9,
        "on_ns": statistics.median(on_t) * 1e9,
        "overhead": statistics.median(overheads),
        "best": min(on_t) / min(off_t) - 1,
        "spread": (min(overheads), max(overheads)),
        "target": target,
    }


class FileStores:
    """Fresh FileStores (durability "none") in a temporary directory; each call
    closes and deletes the previous one, so at most one is open."""

    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="etomkit-bench-access-")
        self.count = 0
        self.current: ek.FileStore | None = None

    def __call__(self) -> ek.FileStore:
        self.close()
        self.count += 1
        self.current = ek.FileStore(f"{self.root}/store-{self.count}", durability="none")
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            shutil.rmtree(self.current.path, ignore_errors=True)
            self.current = None

    def __enter__(self) -> FileStores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        shutil.rmtree(self.root, ignore_errors=True)


def measure(rounds: int, n: int, passes: int) -> list[dict[str, Any]]:
    rows = []
    memory, file = "memory", 'file, durability="none"'

    # the done-when: in memory, get and create, off against on
    guarded = Guarded(ek.InMemoryStore())
    keys = _offerings(_off(guarded.store), n)
    get = _interleave(*get_pair(guarded, keys, passes), rounds)
    rows.append(_row("get_offering", memory, *get, 0.15))
    create = _interleave(*create_pair(ek.InMemoryStore, n), rounds)
    rows.append(_row("create_offering", memory, *create, 0.20))

    # informational: every keyed read timed and recorded on its own
    timed = Guarded(guarded.store, time_keyed_reads=True, like=guarded)
    get = _interleave(*get_pair(timed, keys, passes), rounds)
    rows.append(_row("get_offering, time_keyed_reads=True", memory, *get, None))

    # informational: the same on a FileStore (each create batch opens a fresh one)
    with FileStores() as stores:
        on_file = Guarded(stores())
        file_keys = _offerings(_off(on_file.store), n)
        get = _interleave(*get_pair(on_file, file_keys, passes), rounds)
        rows.append(_row("get_offering", file, *get, None))
        create = _interleave(*create_pair(stores, n), rounds)
        rows.append(_row("create_offering", file, *create, None))
    return rows


def render(rows: list[dict[str, Any]], rounds: int, n: int, passes: int, argv: list[str]) -> str:
    head = (
        f"| operation | store | off ns/op | off ops/s | on ns/op | on ops/s "
        f"| overhead (median of {rounds}) | best rounds | per-round range | target | ok |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        low, high = r["spread"]
        if r["target"] is None:
            target, ok = "(info)", ""
        else:
            target = f"<= {r['target']:.0%}"
            ok = "PASS" if r["overhead"] <= r["target"] else "MISS"
        lines.append(
            f"| {r['operation']} | {r['store']} | {r['off_ns']:,.0f} | {1e9 / r['off_ns']:,.0f} "
            f"| {r['on_ns']:,.0f} | {1e9 / r['on_ns']:,.0f} | {r['overhead']:+.1%} | {r['best']:+.1%} "
            f"| {low:+.0%} .. {high:+.0%} | {target} | {ok} |"
        )
    command = "python bench/access.py " + " ".join(argv)
    lines += [
        "",
        f"get: {passes} passes over {n} offerings per batch; create: {n} offerings per batch "
        f"into a fresh store; Python {sys.version.split()[0]}",
        f"re-run: `{command.strip()}`",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--n", type=int, default=2000, help="offerings per batch")
    parser.add_argument("--passes", type=int, default=50, help="get passes over them per batch")
    parser.add_argument("--quick", action="store_true", help="5 rounds of 1000, 20 get passes")
    args = parser.parse_args(argv)
    rounds, n, passes = (5, 1000, 20) if args.quick else (args.rounds, args.n, args.passes)
    rows = measure(rounds, n, passes)
    print(render(rows, rounds, n, passes, sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
