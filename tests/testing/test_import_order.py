"""etomkit.testing imports in any order with hypothesis, in a fresh interpreter (issue #11).

Our own conftest imports hypothesis first, which hid the circular import; so
each check runs in a subprocess started from an empty directory.
``nox -s import_order`` runs this module on every Python the project supports.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import _etomkit_hypothesis as _hypothesis_hook

#: Draws three examples of every registered type through st.from_type.
_FROM_TYPE_EVERYWHERE = """
import importlib
import hypothesis.strategies as st
from hypothesis import given, settings, HealthCheck
import _etomkit_hypothesis as _hypothesis_hook
from etomkit.testing import strategies

for module, name, strategy in _hypothesis_hook.REGISTRATIONS:
    if not hasattr(strategies, strategy):
        continue
    cls = getattr(importlib.import_module(module), name)
    @settings(max_examples=2, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.from_type(cls))
    def check(value):
        assert isinstance(value, cls), (cls, value)
    check()
print("ok")
"""


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok"), result.stdout


@pytest.mark.parametrize(
    "first",
    [
        "import etomkit.testing.strategies",
        "import hypothesis",
        "import etomkit",
        "from etomkit.testing import contracts",
    ],
)
def test_the_strategies_and_from_type_work_whatever_is_imported_first(
    first: str, tmp_path: Path
) -> None:
    _ok(_run(first + "\n" + _FROM_TYPE_EVERYWHERE, tmp_path))


def test_importing_hypothesis_alone_loads_no_part_of_etomkit(tmp_path: Path) -> None:
    code = """
    import sys, hypothesis
    loaded = sorted(m for m in sys.modules if m.startswith("etomkit"))
    assert loaded == [], loaded
    print("ok")
    """
    _ok(_run(code, tmp_path))


def test_a_broken_etomkit_does_not_break_importing_hypothesis(tmp_path: Path) -> None:
    code = """
    import sys, types
    broken = types.ModuleType("etomkit")
    broken.__version__ = "broken"
    broken.__path__ = []  # a package whose submodules cannot be found
    sys.modules["etomkit"] = broken
    import hypothesis.strategies as st
    print("ok")
    """
    _ok(_run(code, tmp_path))


def test_the_hook_never_raises_even_when_a_registered_type_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_hypothesis_hook, "_registered", False)
    monkeypatch.setattr(
        _hypothesis_hook,
        "REGISTRATIONS",
        (("etomkit.no_such_module", "Nothing", "nothing"), ("etomkit", "NoSuchName", "x")),
    )
    _hypothesis_hook.register()
    assert _hypothesis_hook._registered


def test_every_registration_names_a_type_that_exists() -> None:
    import importlib

    missing = [
        (module, name)
        for module, name, _ in _hypothesis_hook.REGISTRATIONS
        if not hasattr(importlib.import_module(module), name)
    ]
    assert missing == []
