"""Every subcommand of the ``etomkit`` command, each in a real process, on the shipped
example data (the in-process tests in test_cli.py check the details)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "examples" / "cli"
RULES = ROOT / "examples" / "resource_orders" / "rules.toml"
SPECS = ROOT / "examples" / "resource_orders" / "resource_specifications.json"


def etomkit(store: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m etomkit --store STORE ARGV`` in a process of its own."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "etomkit", "--store", str(store), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store the catalogue, the products and the service orders went into."""
    folder = tmp_path_factory.mktemp("processes")
    data = folder / "etomkit-data"
    for argv in (
        ("offerings", "import", "--mode", "upsert", str(CLI / "catalogue.json")),
        ("products", "import", "--mode", "upsert", str(CLI / "products.json")),
        ("issue", "--rules", str(RULES), "--specs", str(SPECS), str(CLI / "service_orders.jsonl")),
    ):
        ran = etomkit(data, *argv, cwd=folder)
        assert ran.returncode == 0, (argv, ran.stderr)
    return data


def _json(ran: subprocess.CompletedProcess[str]) -> Any:
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_offerings_list_show_export_and_transition_in_processes(store: Path) -> None:
    cwd = store.parent
    listed = _json(etomkit(store, "--json", "offerings", "list", cwd=cwd))
    rows = listed["items"] if isinstance(listed, dict) else listed
    first = rows[0]["id"]
    shown = _json(etomkit(store, "--json", "offerings", "show", first, cwd=cwd))
    assert shown["id"] == first
    exported = etomkit(store, "offerings", "export", cwd=cwd)
    assert exported.returncode == 0 and first in exported.stdout
    refused = etomkit(store, "offerings", "transition", first, "In study", cwd=cwd)
    assert refused.returncode == 1 and refused.stderr.startswith("etomkit: ")
    assert "Traceback" not in refused.stderr


def test_products_list_and_export_in_processes(store: Path) -> None:
    cwd = store.parent
    listed = etomkit(store, "products", "list", cwd=cwd)
    assert listed.returncode == 0 and listed.stdout.strip()
    exported = etomkit(store, "products", "export", cwd=cwd)
    assert exported.returncode == 0
    assert all(json.loads(line)["id"] for line in exported.stdout.splitlines())


def test_issue_again_replays_and_explain_and_rules_check_run_in_processes(store: Path) -> None:
    cwd = store.parent
    again = etomkit(
        store, "issue", "--rules", str(RULES), "--specs", str(SPECS),
        str(CLI / "service_orders.jsonl"), cwd=cwd,
    )  # fmt: skip
    assert again.returncode == 0 and "found from earlier runs" in again.stderr
    assert all(json.loads(line)["@type"] for line in again.stdout.splitlines())
    explained = etomkit(store, "explain", "--rules", str(RULES), str(CLI / "service_orders.jsonl"),
                        cwd=cwd)  # fmt: skip
    assert explained.returncode == 0 and "request serviceOrder:" in explained.stdout
    checked = _json(etomkit(store, "--json", "rules", "check", str(RULES), cwd=cwd))
    assert checked["rules"] > 0


def test_audit_and_reports_in_processes(store: Path) -> None:
    cwd = store.parent
    audited = _json(etomkit(store, "--json", "audit", cwd=cwd))
    assert "overall_score" in json.dumps(audited)
    usage = etomkit(store, "report", "usage", "--period", "day", cwd=cwd)
    assert usage.returncode == 0 and usage.stdout.strip()
    shortcomings = etomkit(store, "report", "shortcomings", cwd=cwd)
    assert shortcomings.returncode == 0


def test_store_verify_compact_and_migrate_in_processes(store: Path) -> None:
    cwd = store.parent
    for action in ("verify", "compact", "migrate", "verify"):
        ran = etomkit(store, "store", action, cwd=cwd)
        assert ran.returncode == 0, (action, ran.stderr)
