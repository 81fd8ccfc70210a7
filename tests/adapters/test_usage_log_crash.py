"""FileUsageLog survives SIGKILL: every acknowledged batch is there after reopening."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etomkit import FileUsageLog

CHILD = r"""
import sys
from datetime import UTC, datetime
from etomkit import FileUsageLog, UsageRecord

log = FileUsageLog(sys.argv[1], durability=sys.argv[2])
n = 0
while True:
    batch = [
        UsageRecord(at=datetime.now(UTC), client_id="crm", operation="get_offering",
                    action="read", entity_type="offering", entity_ids=(f"o-{n + i}",))
        for i in range(1 + n % 7)
    ]
    log.append(batch)
    if sys.argv[2] == "batch":
        log.flush()
    n += len(batch)
    print(n, flush=True)  # acknowledged: that many records are in the log
"""


@pytest.mark.parametrize("durability", ["always", "batch"])
@pytest.mark.parametrize("seed", range(3))
def test_acknowledged_batches_survive_a_killed_writer(
    tmp_path: Path, durability: str, seed: int
) -> None:
    path = tmp_path / "usage.log"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), durability],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged = 0
    deadline = time.monotonic() + 0.3 + 0.2 * seed
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert acknowledged > 0
    log = FileUsageLog(path)
    ids = [r.entity_ids[0] for r in log.records()]
    log.close()
    assert len(ids) >= acknowledged  # the batch in flight may be there too, whole
    assert ids == [f"o-{i}" for i in range(len(ids))]  # no gap, no half batch
