"""FileStore survives SIGKILL at random moments: every acknowledged write is there,
no transaction is half applied, and a torn tail is reported, never silently lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etomkit import FileStore

CHILD = r"""
import json, random, sys
from etomkit import FileStore, ProductOffering, tmf

directory, durability, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
store = FileStore(directory, durability=durability)
offerings = store.offerings
live = {o.id: o for o in offerings.iterate()}
n = len(live) + 10_000 * seed
tmf.to_json(ProductOffering(name="warm"))  # the encoder is built on first use (0.5 s here)
print("ready", flush=True)

def plan():
    global n
    if live and rng.random() < 0.3:
        key = rng.choice(sorted(live))
        if rng.random() < 0.2:
            return ("remove", key, 0)
        return ("put", key, live[key].revision + 1)
    n += 1
    return ("put", f"o-{n}", 1)

def run(kind, key, revision):
    if kind == "remove":
        offerings.remove(key)
        del live[key]
    elif revision == 1:
        live[key] = offerings.add(ProductOffering(
            name=f"offer {key}", id=key, description="y" * rng.randrange(0, 3000)))
    else:
        old = live[key]
        live[key] = offerings.replace(ProductOffering(
            name=old.name, id=key, description="x" * rng.randrange(0, 3000), revision=old.revision))

while True:  # every op is printed before it can commit; "ack" after it has
    if rng.random() < 0.5:
        op = plan()
        print("op " + json.dumps(op), flush=True)
        run(*op)
        print("ack", flush=True)
    else:
        with store.transaction():
            for _ in range(rng.randrange(2, 60)):
                op = plan()
                print("op " + json.dumps(op), flush=True)
                run(*op)
        print("ack", flush=True)
"""

ROUNDS_PER_MODE = 26  # 52 kills in all


def _apply(model: dict[str, int], ops: list[list[object]]) -> dict[str, int]:
    """The ``{id: revision}`` after applying logged ops in order."""
    out = dict(model)
    for kind, key, revision in ops:
        if kind == "remove":
            out.pop(str(key), None)
        else:
            out[str(key)] = int(str(revision))
    return out


def _stored(directory: Path) -> tuple[dict[str, int], FileStore]:
    store = FileStore(directory, durability="none")
    return {o.id or "": o.revision for o in store.offerings.iterate()}, store


@pytest.mark.parametrize("durability", ["always", "batch"])
def test_acknowledged_writes_survive_sigkill_at_random_moments(
    tmp_path: Path, durability: str
) -> None:
    rng = random.Random(f"crash-{durability}")
    directory = tmp_path / "store"
    model: dict[str, int] = {}
    torn_seen = commits_seen = 0
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for round_no in range(1, ROUNDS_PER_MODE + 1):
        with subprocess.Popen(
            [sys.executable, "-c", CHILD, str(directory), durability, str(round_no)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        ) as child:
            assert child.stdout is not None and child.stderr is not None
            first = child.stdout.readline().strip()
            assert first == "ready", child.stderr.read()
            time.sleep(rng.uniform(0.005, 0.25))
            child.send_signal(signal.SIGKILL)
            out = child.stdout.read()  # not communicate(): readline() may have buffered more
            err = child.stderr.read()
            assert child.wait() == -signal.SIGKILL, err
        acked = model
        in_flight: list[list[object]] = []
        for line in out.splitlines():
            if line.startswith("op "):
                in_flight.append(json.loads(line[3:]))
            elif line == "ack":
                acked = _apply(acked, in_flight)
                in_flight = []
        stored, store = _stored(directory)
        try:
            # Every acknowledged write is there; the commit in flight at the kill
            # is either wholly there or wholly absent.
            assert stored in (acked, _apply(acked, in_flight)), f"round {round_no}"
            report = store.recovery_report
            torn_seen += not report.clean
            commits_seen += out.count("ack")
            for cut in report.torn_tails:
                assert cut.bytes_cut > 0 and cut.path.endswith(".log")
        finally:
            store.close()
        model = stored  # the next child starts from what is stored now
        with FileStore(directory, durability="none", read_only=True) as reader:
            assert reader.recovery_report.clean
    # The kills must land while work is going on for the test to mean anything.
    assert commits_seen > ROUNDS_PER_MODE * 5
    print(f"{durability}: {commits_seen} commits acknowledged, {torn_seen} torn tails cut")
