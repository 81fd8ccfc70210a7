"""The pytest plugin (issue #11): contract failures print values, fixtures are offered.

Each check runs pytest in a subprocess on a small test module in an empty
directory, as an adapter author's project would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: An adapter whose ``replace`` reports a stale revision, tested with the plugin's fixture.
_BROKEN_ADAPTER = """
import attrs
import pytest

from etomkit import InMemoryStore
from etomkit.adapters.memory import InMemoryOfferingRepository
from etomkit.testing.contracts import OfferingRepositoryContract


class StaleRevisionOfferings(InMemoryOfferingRepository):
    def replace(self, entity, *, expected_revision=None):
        stored = super().replace(entity, expected_revision=expected_revision)
        return attrs.evolve(stored, revision=stored.revision - 1)


def broken_store():
    store = InMemoryStore()
    store.offerings = StaleRevisionOfferings(store._unit)
    return store


@pytest.fixture
def etomkit_store_factory():
    return broken_store


@pytest.fixture
def make_store(etomkit_store_factory):  # so that the module also runs with -p no:etomkit
    return etomkit_store_factory


class TestBrokenOfferings(OfferingRepositoryContract):
    pass
"""

_FIXTURES = """
import etomkit as ek


def test_the_plugin_offers_a_manual_clock_and_sequential_ids(manual_clock, sequential_ids):
    assert isinstance(manual_clock, ek.ManualClock)
    assert manual_clock.now().isoformat() == "2025-01-01T00:00:00+00:00"
    assert [sequential_ids.new_id("po"), sequential_ids.new_id("po")] == ["po-1", "po-2"]


def test_a_contract_without_a_store_factory_says_what_to_define(make_store):
    pass
"""


def _pytest(tmp_path: Path, module: str, *args: str) -> str:
    (tmp_path / "test_adapter.py").write_text(textwrap.dedent(module), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.stdout + result.stderr


def test_a_failing_contract_prints_the_values_that_differ(tmp_path: Path) -> None:
    out = _pytest(tmp_path, _BROKEN_ADAPTER, "-k", "next_revision")
    assert "1 failed" in out, out
    assert "revision: 1 != 2" in out, out


def test_without_the_plugin_the_same_failure_is_a_bare_assertion_error(tmp_path: Path) -> None:
    out = _pytest(tmp_path, _BROKEN_ADAPTER, "-k", "next_revision", "-p", "no:etomkit")
    assert "1 failed" in out, out
    assert "revision: 1 != 2" not in out, out


def test_the_plugin_fixtures_work_and_a_missing_factory_is_explained(tmp_path: Path) -> None:
    out = _pytest(tmp_path, _FIXTURES, "-rA")
    assert "1 passed" in out and "1 error" in out, out
    assert "define an `etomkit_store_factory`" in out, out


@pytest.mark.parametrize("module", ["_etomkit_pytest", "_etomkit_hypothesis"])
def test_loading_an_entry_point_module_imports_no_part_of_etomkit(
    module: str, tmp_path: Path
) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if 'etomkit.' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
