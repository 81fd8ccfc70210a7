"""The ``etomkit`` command: every subcommand on the shipped example data.

Most calls go through ``etomkit.cli.main`` in this process (fast, one shared
store); what only a real process shows (the console entry point, a closed
pipe, an error without a traceback, ``--json`` on stdout) runs in a handful
of subprocesses.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from etomkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CATALOGUE = EXAMPLES / "cli" / "catalogue.json"
PRODUCTS = EXAMPLES / "cli" / "products.json"
ORDERS = EXAMPLES / "cli" / "service_orders.jsonl"
RULES = EXAMPLES / "resource_orders" / "rules.toml"
SPECS = EXAMPLES / "resource_orders" / "resource_specifications.json"


class Ran:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


def etomkit(store: Path | str, *argv: str, stdin: str | None = None) -> Ran:
    """Run ``etomkit --store STORE ARGV`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(["--store", str(store), *argv], stdout=out, stderr=err)
    finally:
        sys.stdin = saved
    return Ran(code, out.getvalue(), err.getvalue())


def main_job(store: Path, out_file: Path) -> list[Ran]:
    """The README's main job: import a catalogue, issue orders, audit, report."""
    return [
        etomkit(store, "offerings", "import", "--mode", "upsert", str(CATALOGUE)),
        etomkit(store, "products", "import", "--mode", "upsert", str(PRODUCTS)),
        etomkit(
            store,
            "issue",
            "--rules",
            str(RULES),
            "--specs",
            str(SPECS),
            str(ORDERS),
            "--out",
            str(out_file),
        ),
        etomkit(store, "audit", "--compare"),
        etomkit(store, "report", "usage", "--period", "week"),
    ]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A store the main job ran on twice, and what each run said."""
    folder = tmp_path_factory.mktemp("cli")
    store = folder / "etomkit-data"
    first = main_job(store, folder / "orders-1.jsonl")
    second = main_job(store, folder / "orders-2.jsonl")
    return {"store": store, "folder": folder, "first": first, "second": second}


def run_process(*argv: str, cwd: Path, shell: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command: Any = " ".join(argv) if shell else [sys.executable, "-m", "etomkit", *argv]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env, shell=shell
    )


# ---------------------------------------------------------------------- the main job


def test_main_job_succeeds_and_the_second_run_finds_the_first_runs_data(
    data: dict[str, Any],
) -> None:
    for ran in [*data["first"], *data["second"]]:
        assert ran.code == 0, ran.err
    first_import, second_import = data["first"][0].out, data["second"][0].out
    assert "6 new, 0 found from earlier runs" in first_import
    assert "0 new, 6 found from earlier runs" in second_import
    assert "3 issued now, 0 found from earlier runs" in data["first"][2].err
    assert "0 issued now, 3 found from earlier runs (replayed)" in data["second"][2].err
    assert "no earlier audit run to compare with" in data["first"][3].out
    assert "compared with the run found from earlier runs" in data["second"][3].out


def test_reissuing_the_same_orders_writes_the_same_resource_orders(data: dict[str, Any]) -> None:
    first = (data["folder"] / "orders-1.jsonl").read_text(encoding="utf-8").splitlines()
    second = (data["folder"] / "orders-2.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(first) == 7
    assert [json.loads(line)["id"] for line in first] == [json.loads(x)["id"] for x in second]
    assert {json.loads(line)["@type"] for line in first} == {"ResourceOrder"}


def test_issue_summary_counts_items_per_outcome_in_json(data: dict[str, Any]) -> None:
    ran = etomkit(data["store"], "--json", "issue", "--rules", str(RULES), str(ORDERS))
    assert ran.code == 0, ran.err
    summary = json.loads(ran.err)
    assert summary["replayed"] == 3 and summary["failed"] == []
    assert summary["outcomes"] == {"noChange": 1, "special": 2, "standard": 5}
    assert len(ran.out.splitlines()) == summary["resource_orders"] == 7


def test_a_request_that_fails_makes_issue_exit_non_zero_and_the_rest_still_issue(
    data: dict[str, Any],
) -> None:
    good = ORDERS.read_text(encoding="utf-8").splitlines()[1]
    bad = json.loads(good)
    bad["id"] = "SO-BAD-1"
    bad["serviceOrderItem"][0]["action"] = "modify"  # a modify must name its service
    text = json.dumps(bad) + "\n" + good + "\n"
    ran = etomkit(data["store"], "issue", "--rules", str(RULES), "-", stdin=text)
    assert ran.code == 1
    assert "[1] SO-BAD-1: failed: " in ran.err and "service.id" in ran.err
    assert "1 found from earlier runs (replayed), 1 failed" in ran.err
    assert len(ran.out.splitlines()) == 1  # the good request's order


# ---------------------------------------------------------------------- offerings, products


def test_offerings_list_filters_by_status_and_prints_rows(data: dict[str, Any]) -> None:
    ran = etomkit(data["store"], "offerings", "list", "--status", "active", "--json")
    assert ran.code == 0, ran.err
    page = ran.json()
    assert page["total"] == 1
    assert [o["id"] for o in page["items"]] == ["po-mobile-backup-20"]
    text = etomkit(data["store"], "offerings", "list", "--category", "cat-mobile")
    assert "po-mobile-10" in text.out and "po-fibre-1g" not in text.out


def test_products_list_show_and_export_agree(data: dict[str, Any]) -> None:
    listed = etomkit(data["store"], "products", "list", "--customer", "cust-1001", "--json")
    ids = [p["id"] for p in listed.json()["items"]]
    assert len(ids) == 2
    shown = etomkit(data["store"], "products", "show", ids[0])
    assert shown.json()["id"] == ids[0]
    exported = etomkit(data["store"], "products", "export", "--format", "jsonl")
    assert len(exported.out.splitlines()) == 5


def test_an_exported_catalogue_imports_into_a_new_store(
    data: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    ran = etomkit(data["store"], "offerings", "export", "--format", "json", "--out", str(target))
    assert ran.code == 0 and ran.out == ""
    again = etomkit(tmp_path / "other", "offerings", "import", str(target))
    assert again.code == 0 and "6 imported" in again.out


def test_transition_follows_the_lifecycle_and_a_refused_step_exits_1(
    tmp_path: Path,
) -> None:
    store = tmp_path / "s"
    etomkit(store, "offerings", "import", str(CATALOGUE))
    moved = etomkit(store, "offerings", "transition", "po-mobile-backup-20", "launched")
    assert moved.code == 0 and "Active -> Launched" in moved.out
    refused = etomkit(store, "offerings", "transition", "po-mobile-backup-20", "In study")
    assert refused.code == 1
    assert refused.err.startswith("etomkit: error: ") and "allowed: 'Retired'" in refused.err
    assert len(refused.err.splitlines()) == 1


def test_importing_a_bad_catalogue_stores_nothing_and_names_each_problem(tmp_path: Path) -> None:
    store = tmp_path / "s"
    docs = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    docs[1]["lifecycleStatus"] = "Sold out"
    ran = etomkit(store, "offerings", "import", "-", stdin=json.dumps(docs))
    assert ran.code == 1
    assert "[1].lifecycleStatus: unknown state 'Sold out'" in ran.err
    listed = etomkit(store, "offerings", "list", "--json")
    assert listed.json()["total"] == 0


def test_show_of_an_unknown_id_exits_1_with_one_line(data: dict[str, Any]) -> None:
    ran = etomkit(data["store"], "offerings", "show", "po-nope")
    assert (ran.code, ran.err) == (1, "etomkit: error: ProductOffering 'po-nope' not found\n")


def test_reading_a_store_that_does_not_exist_exits_3(tmp_path: Path) -> None:
    ran = etomkit(tmp_path / "missing", "offerings", "list")
    assert ran.code == 3 and "no store in" in ran.err
    assert not (tmp_path / "missing").exists()


def test_a_postgresql_store_that_does_not_answer_is_one_storage_error_line(tmp_path: Path) -> None:
    ran = etomkit("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1", "offerings", "list")
    assert ran.code == 3, ran.err
    assert ran.err.startswith("etomkit: ") and ran.err.count("\n") == 1
    assert "Traceback" not in ran.err


# ---------------------------------------------------------------------- rules, explain


def test_explain_shows_each_rule_considered_and_json_rows_are_snake_case(
    data: dict[str, Any],
) -> None:
    text = etomkit(data["store"], "explain", "--rules", str(RULES), str(ORDERS))
    assert text.code == 0, text.err
    assert "request serviceOrder:SO-2025-0042: 6 item(s)" in text.out
    assert "fibre-new-build@2" in text.out
    rows = etomkit(data["store"], "explain", "--json", "--rules", str(RULES), str(ORDERS)).json()
    assert {row["request"] for row in rows} == {
        "serviceOrder:SO-2025-0042", "serviceOrder:SO-2025-0043", "serviceOrder:SO-2025-0044",
    }  # fmt: skip
    assert all(" " not in key for row in rows for key in row)


def test_rules_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "x"\npriority = "high"\n', encoding="utf-8")
    ran = etomkit(tmp_path, "rules", "check", str(bad))
    assert ran.code == 1
    assert "priority" in ran.out and "specification" in ran.out
    assert len(ran.out.splitlines()) >= 2
    good = etomkit(tmp_path, "rules", "check", "--json", str(RULES))
    assert good.code == 0 and good.json() == {"rules": 8, "problems": []}


# ---------------------------------------------------------------------- audit, report, store


def test_audit_json_has_scores_and_compares_with_the_previous_run(data: dict[str, Any]) -> None:
    ran = etomkit(data["store"], "audit", "--compare", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert doc["offerings_checked"] == 6 and doc["products_checked"] == 5
    assert doc["scores"][-1]["rule"] == "overall"
    assert doc["comparison"]["before"] is not None and doc["earlier_runs"] >= 2


def test_reports_read_the_usage_the_commands_recorded(data: dict[str, Any]) -> None:
    usage = etomkit(data["store"], "report", "usage", "--period", "month", "--json").json()
    operations = {line["operation"] for line in usage["usageLine"]}
    assert {"import_offerings", "import_products"} <= operations
    short = etomkit(data["store"], "report", "shortcomings", "--json")
    assert short.code == 0 and isinstance(short.json(), list)


def test_store_verify_compact_and_migrate(data: dict[str, Any]) -> None:
    verified = etomkit(data["store"], "store", "verify")
    assert verified.code == 0 and "live records" in verified.out
    compacted = etomkit(data["store"], "store", "compact", "--json").json()
    assert compacted["snapshot_bytes"] > 0
    migrated = etomkit(data["store"], "store", "migrate")
    assert migrated.code == 0 and "nothing to" in migrated.out
    assert etomkit(data["store"], "offerings", "list", "--json").json()["total"] == 6


def test_a_group_without_an_action_prints_its_help_and_exits_2(tmp_path: Path) -> None:
    for group in ("offerings", "products", "rules", "report", "store"):
        ran = etomkit(tmp_path, group)
        assert ran.code == 2 and "usage:" in ran.err


# ---------------------------------------------------------------------- real processes


@pytest.mark.parametrize(
    "command",
    [
        "offerings import", "offerings export", "offerings list", "offerings show",
        "offerings transition", "products import", "products list", "issue", "explain",
        "rules check", "audit", "report usage", "report shortcomings", "store verify",
        "store compact", "store migrate", "demo",
    ],
)  # fmt: skip
def test_every_subcommand_has_help(command: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main([*command.split(), "--help"])
    assert exited.value.code == 0
    assert out.getvalue().startswith(f"usage: etomkit {command}")


def test_the_module_runs_as_the_command_and_prints_its_version(tmp_path: Path) -> None:
    version = run_process("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == "etomkit 0.1.0"


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    many = [
        {"id": f"po-{i}", "name": f"Offering {i}", "lifecycleStatus": "Launched",
         "description": "x" * 400}
        for i in range(400)
    ]  # fmt: skip
    (tmp_path / "many.json").write_text(json.dumps(many), encoding="utf-8")
    python = f"{sys.executable} -m etomkit --store {tmp_path / 's'}"
    piped = run_process(
        f"{python} offerings import many.json > /dev/null && {python} offerings export | head -n 1",
        cwd=tmp_path,
        shell=True,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["id"] == "po-0"
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr


def test_bad_input_in_a_process_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "orders.json").write_text('{"id": "SO-1"}\nnot json\n', encoding="utf-8")
    ran = run_process("issue", "--rules", str(RULES), "orders.json", cwd=tmp_path)
    assert ran.returncode == 1
    assert ran.stderr.startswith("etomkit: error: ")
    assert "line 2" in ran.stderr and "Traceback" not in ran.stderr
    assert len(ran.stderr.splitlines()) == 1
    debug = run_process("--debug", "issue", "--rules", str(RULES), "orders.json", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_json_output_in_a_process_parses(tmp_path: Path) -> None:
    ran = run_process("--json", "rules", "check", str(RULES), cwd=tmp_path)
    assert ran.returncode == 0 and json.loads(ran.stdout)["rules"] == 8


# ---------------------------------------------------------------------- progress, Ctrl-C


class Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Interrupting(io.StringIO):
    """A standard input whose reader presses Ctrl-C."""

    def read(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


def test_progress_shows_count_rate_and_eta_only_on_a_terminal(data: dict[str, Any]) -> None:
    from etomkit.cli.base import Context, Progress

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        ctx = Context(main_args(), stderr=stream)
        progress = Progress(ctx, "issuing", 3)
        for _ in progress.over(range(3)):
            pass
        text = stream.getvalue()
        assert ("issuing: 1/3" in text and "ETA" in text and "/s" in text) is shown
        assert (text == "") is not shown


def main_args() -> Any:
    import argparse

    return argparse.Namespace(store="unused", json=False, debug=False)


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    saved = sys.stdin
    sys.stdin = Interrupting()
    try:
        err = io.StringIO()
        code = main(["--store", str(tmp_path), "offerings", "import", "-"], stderr=err)
    finally:
        sys.stdin = saved
    assert code == 130 and err.getvalue() == "etomkit: interrupted\n"


def test_an_audit_on_a_terminal_counts_what_it_reads_and_scores_the_same(
    data: dict[str, Any],
) -> None:
    terminal, piped = Terminal(), io.StringIO()
    shown = main(["--store", str(data["store"]), "--json", "audit"], stdout=io.StringIO(),
                 stderr=terminal)  # fmt: skip
    out = io.StringIO()
    quiet = main(["--store", str(data["store"]), "--json", "audit"], stdout=out, stderr=piped)
    assert shown == quiet == 0
    assert "auditing: " in terminal.getvalue() and "/s" in terminal.getvalue()
    assert piped.getvalue() == ""
    assert json.loads(out.getvalue())["products_checked"] > 0
