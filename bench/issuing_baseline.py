"""The issuer of an earlier git commit, timed in a worker process, for bench/issuing.py.

``git archive <commit> src`` is unpacked into a temporary directory and
``bench/issuing.py --worker`` runs with ``PYTHONPATH=<tmp>/src``, so it imports
that commit's ``etomkit`` (it checks it did) and builds the same rules and
requests with this bench's workload functions. The bench asks it for one
measurement at a time (a line of JSON each way), between its own, so the two
never run at once and drift on a shared machine hits both alike.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["Baseline", "start_baseline", "start_control"]

ROOT = Path(__file__).resolve().parents[1]


class Baseline:
    """A worker process issuing with the ``etomkit`` of ``commit`` (``src``: with the
    ``etomkit`` package in that directory instead, e.g. the bench's own)."""

    def __init__(self, commit: str, setup: dict[str, Any], src: Path | None = None) -> None:
        self.commit = commit
        self.tmp = Path(tempfile.mkdtemp(prefix="etomkit-baseline-"))
        try:
            if src is None:
                archive = subprocess.run(
                    ["git", "-C", str(ROOT), "archive", commit, "src"],
                    capture_output=True,
                    check=True,
                )
                with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                    if hasattr(tarfile, "data_filter"):
                        tar.extractall(self.tmp, filter="data")
                    else:  # pragma: no cover - Python before 3.11.4
                        tar.extractall(self.tmp)
                src = self.tmp / "src"
            self.src = src.resolve()
            env = {**os.environ, "PYTHONPATH": str(src)}
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "issuing.py"), "--worker", json.dumps(setup)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=self.tmp,
            )
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.where: str | None = None

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.commit} worker exited ({self.proc.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ready(self) -> str:
        """Wait until the worker has built its workload; the etomkit it imported."""
        if self.where is None:
            where = str(self._reply()["ready"])
            if not Path(where).resolve().is_relative_to(self.src):
                self.close()
                raise RuntimeError(f"the worker imported etomkit from {where}, not {self.src}")
            self.where = where
        return self.where

    def rate(self, rules: int, requests: int, batch: int = 0) -> float:
        """Items/s issuing the first ``requests`` of the ``rules`` workload on a fresh
        store (``batch`` 0: issue() per request, else issue_many of ``batch``)."""
        self.ready()
        assert self.proc.stdin is not None
        command = {"rules": rules, "requests": requests, "batch": batch}
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        reply = self._reply()
        if "error" in reply:
            raise RuntimeError(f"{self.commit}: {reply['error']}")
        return float(reply["rate"])

    def close(self) -> None:
        """Stop the worker and remove the unpacked sources."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_baseline(commit: str, setup: dict[str, Any]) -> Baseline | str:
    """A started worker for ``commit``, or why there is none (no git, unknown commit)."""
    if not commit or commit.lower() == "none":
        return "not asked for: --baseline none"
    if shutil.which("git") is None:
        return "git is not available"
    try:
        return Baseline(commit, setup)
    except subprocess.CalledProcessError as exc:
        why = exc.stderr.decode(errors="replace").strip().splitlines()
        return f"git archive {commit} failed: {why[-1] if why else exc}"
    except OSError as exc:
        return f"cannot start the {commit} worker: {exc}"


def start_control(setup: dict[str, Any]) -> Baseline | str:
    """A worker with the bench's own ``etomkit``: the same code as in the bench process,
    timed the way the baseline is (a control for the process, not for the code)."""
    import etomkit

    try:
        return Baseline("this tree", setup, Path(etomkit.__file__).resolve().parents[1])
    except OSError as exc:
        return f"cannot start the control worker: {exc}"


def serve(setup: dict[str, Any], workload: Any) -> int:
    """The worker's loop (``bench/issuing.py --worker``): build the workload of
    ``setup`` with the functions of module ``workload``, then answer commands."""
    import gc

    import etomkit

    rule_sets = {n: workload.RuleSet(workload.make_rules(n)) for n in setup["rules"]}
    requests = {n: workload.make_requests(n, setup["items"]) for n in setup["rules"]}
    gc.collect()
    gc.freeze()  # the workload, as in the bench process: collections walk only the stores
    print(json.dumps({"ready": etomkit.__file__}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            n = command["rules"]
            chosen = requests[n][: command["requests"]]
            rate = workload.issue_rate(rule_sets[n], chosen, command["batch"])
            reply: dict[str, Any] = {"rate": rate}
        except Exception as exc:  # reported to the bench, which skips the row
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)
    return 0
