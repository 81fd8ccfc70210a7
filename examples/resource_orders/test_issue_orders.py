"""The resource order example runs as a script and issues what its rules say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("issue_orders.py")
ORDER = Path(__file__).with_name("service_order.json")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def issued() -> dict[str, Any]:
    """The script's JSON output for the example service order."""
    done = run("--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def specs(order: dict[str, Any]) -> list[str]:
    return [item["resourceSpecification"]["id"] for item in order.get("orderItem", [])]


def test_each_service_order_item_gets_its_outcome(issued: dict[str, Any]) -> None:
    assert issued["request"] == "serviceOrder:SO-2025-0042"
    assert issued["outcomes"] == {
        "1": "standard",
        "2": "standard",
        "3": "standard",
        "4": "special",
        "5": "standard",
        "6": "noChange",
    }


def test_fibre_and_sd_wan_decompose_into_their_resources(issued: dict[str, Any]) -> None:
    orders = issued["resourceOrders"]
    assert [specs(o) for o in orders] == [
        ["ont", "gpon-port", "service-vlan", "ipv4-address"],
        ["ont", "gpon-port", "service-vlan"],
        ["sdwan-edge", "wan-link", "sdwan-edge", "lte-modem", "wan-link"],
        [],
        ["sdwan-edge", "wan-link"],
    ]
    port = orders[0]["orderItem"][1]
    assert port["resource"]["resourceCharacteristic"] == [
        {"name": "bandwidthProfile", "value": "BP-1000"},
        {"name": "exchange", "value": "LDN-04"},
    ]
    assert all(o["externalReference"][0]["id"] == "SO-2025-0042" for o in orders)


def test_the_10g_item_was_checked_for_feasibility_first(issued: dict[str, Any]) -> None:
    ten_gig = issued["resourceOrders"][1]
    assert ten_gig["feasibilityAssessment"]["@referredType"] == "FeasibilityAssessment"
    assert ten_gig["orderItem"][0]["resource"]["resourceCharacteristic"] == [
        {"name": "model", "value": "XS-2426G"}
    ]


def test_the_new_build_item_is_handed_to_provisioning_marked_special(
    issued: dict[str, Any],
) -> None:
    special = issued["resourceOrders"][3]
    assert special["specialHandling"] is True
    assert issued["handedOff"] == {
        special["id"]: "new-build premises: the drop fibre and the ONT location need a site survey"
    }


def test_with_a_prior_site_survey_the_new_build_item_issues_the_surveyed_items() -> None:
    done = run("--json", "--assessed")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcomes"]["4"] == "preassessed"
    assert result["handedOff"] == {}
    assert specs(result["resourceOrders"][3]) == ["ont", "gpon-port", "service-vlan"]


def test_the_readable_output_explains_the_rules_tried() -> None:
    done = run("--explain")
    assert done.returncode == 0, done.stderr
    assert "    - fibre-access@3 (priority 10): bandwidth is '10G', needs one of" in done.stdout
    assert "  item 4: add fibre-broadband -> special  [rules: fibre-new-build@2]" in done.stdout
    assert "handed to Track & Manage Resource Provisioning:" in done.stdout


def test_a_bad_service_order_is_refused_with_its_problems(tmp_path: Path) -> None:
    document = json.loads(ORDER.read_text(encoding="utf-8"))
    document["serviceOrderItem"][0]["service"]["id"] = "svc-1"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    done = run(str(bad))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "invalid ServiceOrder SO-2025-0042 (1 problem):" in done.stderr
    assert "service_order_item[0].service.id: must not be set on an 'add' item" in done.stderr
