"""Durable and sustained issuing, for bench/issuing.py.

* :func:`sustained`: many batches into ONE in-memory store, as a host runs it
  (the garbage collector on), the rate per slice of items. Requests are made
  batch by batch outside the timer (a host receives them as it goes); garbage
  collections that happen while they are made are added to the slice's time,
  so every pause is paid.
* :func:`filestore_rate`: a FileStore-backed issuer (``durability="always"``:
  every commit fsynced), one request per ``issue()`` or batches of
  ``issue_many``.
* :func:`sqlite_rate`: sqlite3 (WAL, ``synchronous=FULL``) storing the same TMF
  JSON (``tmf.to_json`` of the issued orders and records, ``json.dumps``),
  one transaction per batch of requests. It only encodes and writes: the
  orders were issued beforehand, in memory.
"""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from etomkit import tmf
from etomkit.adapters.file import FileStore
from etomkit.model.issuance import InitiatingRequest
from etomkit.model.resource_spec import ResourceSpecification
from etomkit.ordering import InMemoryOrderingStore, IssuanceResult, ResourceOrderIssuer, RuleSet

__all__ = ["SliceRate", "filestore_rate", "memory_rate", "sqlite_rate", "sustained"]

SliceRate = tuple[float, int, float]  # items/s, full collections, longest full collection (s)


def _items(requests: Sequence[InitiatingRequest]) -> int:
    return sum(len(r.items) for r in requests)


def _batches(requests: Sequence[InitiatingRequest], size: int) -> list[list[InitiatingRequest]]:
    return [list(requests[i : i + size]) for i in range(0, len(requests), size)]


def sustained(
    rule_set: RuleSet,
    specs: Sequence[ResourceSpecification],
    make_batch: Callable[[int], Sequence[InitiatingRequest]],
    total: int,
    slice_items: int,
) -> list[SliceRate]:
    """Issue ``make_batch(0)``, ``make_batch(1)``… with ``issue_many`` into one store
    until ``total`` items are issued; per slice of ``slice_items``: the rate, the
    full collections in it and the longest one."""
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(list(specs))
    issuer = ResourceOrderIssuer(store, rule_set)
    state = {"inside": 0.0, "began": 0.0, "outside": 0.0, "full": 0.0, "longest": 0.0}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            state["began"] = now
            return
        pause = now - state["began"]
        if info["generation"] == 2:
            state["full"] += 1
            state["longest"] = max(state["longest"], pause)
        if not state["inside"]:
            state["outside"] += pause

    slices: list[SliceRate] = []
    done = in_slice = batch_no = 0
    spent = 0.0
    gc.collect()
    gc.callbacks.append(on_gc)
    try:
        while done < total:
            batch = list(make_batch(batch_no))
            batch_no += 1
            state["inside"] = 1.0
            began = time.perf_counter()
            out = issuer.issue_many(batch)
            spent += time.perf_counter() - began
            state["inside"] = 0.0
            if batch_no == 1 and not all(isinstance(o, IssuanceResult) for o in out):
                raise RuntimeError(f"issue_many failed in the sustained run: {out}")
            del out
            count = _items(batch)
            done += count
            in_slice += count
            if in_slice >= slice_items:
                took = spent + state["outside"]
                slices.append((in_slice / took, int(state["full"]), state["longest"]))
                in_slice, spent = 0, 0.0
                state.update(outside=0.0, full=0.0, longest=0.0)
    finally:
        gc.callbacks.remove(on_gc)
    del issuer, store
    gc.collect()
    return slices


def memory_rate(
    rule_set: RuleSet,
    specs: Sequence[ResourceSpecification],
    requests: Sequence[InitiatingRequest],
    batch: int,
) -> float:
    """Items/s issuing ``requests`` on a fresh in-memory store (``batch`` 0: issue())."""
    store = InMemoryOrderingStore()
    store.resource_specifications.add_all(list(specs))
    return _timed(ResourceOrderIssuer(store, rule_set), requests, batch)


def _timed(issuer: ResourceOrderIssuer, requests: Sequence[InitiatingRequest], batch: int) -> float:
    gc.collect()
    if batch == 0:
        issue = issuer.issue
        began = time.perf_counter()
        for request in requests:
            issue(request)
    else:
        batches = _batches(requests, batch)
        issue_many = issuer.issue_many
        began = time.perf_counter()
        for chunk in batches:
            issue_many(chunk)
    return _items(requests) / (time.perf_counter() - began)


def filestore_rate(
    directory: Path,
    rule_set: RuleSet,
    specs: Sequence[ResourceSpecification],
    requests: Sequence[InitiatingRequest],
    batch: int,
) -> float:
    """Items/s issuing ``requests`` into a fresh FileStore that fsyncs every commit
    (``batch`` 0: one issue() per request, else issue_many of ``batch`` requests)."""
    shutil.rmtree(directory, ignore_errors=True)
    store = FileStore(directory, durability="always")
    try:
        store.resource_specifications.add_all(list(specs))
        return _timed(ResourceOrderIssuer(store, rule_set), requests, batch)
    finally:
        store.close()
        shutil.rmtree(directory, ignore_errors=True)


class SqliteSide:
    """sqlite3, WAL, synchronous=FULL: one row (id, revision, TMF JSON) per order and record."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        for table in ("resource_order", "issuance_record"):
            self.db.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, revision INT, doc BLOB)")

    def write(self, results: Sequence[IssuanceResult]) -> None:
        """Encode and store the orders and records of ``results`` in one transaction."""
        dumps, to_json = json.dumps, tmf.to_json
        orders = [
            (o.id, o.revision, dumps(to_json(o), ensure_ascii=False, separators=(",", ":")))
            for r in results
            for o in r.orders
        ]
        records = [
            (
                r.record.id,
                r.record.revision,
                dumps(to_json(r.record), ensure_ascii=False, separators=(",", ":")),
            )
            for r in results
        ]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO resource_order VALUES (?, ?, ?)", orders)
        self.db.executemany("INSERT INTO issuance_record VALUES (?, ?, ?)", records)
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def sqlite_rate(path: Path, results: Sequence[IssuanceResult], batch: int) -> float:
    """Items/s storing the TMF JSON of ``results`` in a fresh sqlite3 database,
    ``batch`` requests per transaction."""
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    side = SqliteSide(path)
    try:
        chunks = [results[i : i + batch] for i in range(0, len(results), batch)]
        items = sum(len(r.record.items) for r in results)
        gc.collect()
        began = time.perf_counter()
        for chunk in chunks:
            side.write(chunk)
        return items / (time.perf_counter() - began)
    finally:
        side.close()
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
