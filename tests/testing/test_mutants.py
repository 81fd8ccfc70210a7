"""Proof by mutation (issue #11): the kit catches every deliberately broken adapter.

``tests/testing/mutants.py`` breaks the in-memory adapter in ways a real
adapter goes wrong (skip the version check, keep the writes of a failed inner
unit of work, accept negative offsets, lose ``extras``, break uniqueness under a
race, return stale revisions, reorder iteration, …). One pytest subprocess runs,
for each mutant, the part of ``StoreContract`` that covers what it breaks;
every mutant must fail at least one test. ``nox -s mutation`` runs the whole
kit against each mutant instead. The kill ratio is in docs/testing.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from tests.testing.mutants import MUTANTS

ROOT = Path(__file__).resolve().parents[2]

_MODULE = """
import pytest
from hypothesis import Phase, settings

# before the contracts are imported: their settings inherit from the profile loaded then
settings.register_profile("mutants", max_examples=5, derandomize=True, database=None,
                          deadline=None, phases=[Phase.explicit, Phase.generate])  # no shrinking
settings.load_profile("mutants")

from etomkit.testing.contracts import StoreContract
from tests.testing.mutants import MUTANTS


def _contract(factory):
    class Mutant(StoreContract):
        @pytest.fixture
        def make_store(self):
            return factory

    return Mutant


for n, (name, (factory, _)) in enumerate(MUTANTS.items()):
    globals()[f"TestMutant{n}"] = _contract(factory)
"""


def test_the_kit_kills_every_mutant_of_the_in_memory_adapter(tmp_path: Path) -> None:
    assert len(MUTANTS) >= 20
    (tmp_path / "test_generated_mutants.py").write_text(_MODULE, encoding="utf-8")
    whole_kit = os.environ.get("ETOMKIT_MUTANTS_WHOLE_KIT") == "1"  # nox -s mutation
    selection = " or ".join(
        f"TestMutant{n}" if whole_kit else f"(TestMutant{n} and {part})"
        for n, (_, part) in enumerate(MUTANTS.values())
    )
    report = tmp_path / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::pytest.PytestUnraisableExceptionWarning",
            "-k",
            selection,
            f"--junitxml={report}",
            str(tmp_path / "test_generated_mutants.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    failed: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    for case in ET.parse(report).iter("testcase"):
        found = re.search(r"TestMutant\d+", case.get("classname", ""))  # wherever the file is
        if found is None:
            continue
        mutant = found.group()
        ran[mutant] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed[mutant] += 1
    names = list(MUTANTS)
    survivors = [names[n] for n in range(len(names)) if not failed[f"TestMutant{n}"]]
    assert all(ran[f"TestMutant{n}"] for n in range(len(names))), ran
    assert survivors == [], f"the kit missed {len(survivors)} of {len(names)} mutants"
