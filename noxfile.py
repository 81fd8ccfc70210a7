"""Development sessions: ``nox`` runs tests, lint and typecheck; ``nox -s <name>`` the rest.

In the style of pypa/packaging and scientific-python/cookie. Every session
installs into its own virtualenv under ``.nox/``; pass extra arguments after
``--`` (``nox -s tests -- -k lifecycle``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHON_VERSIONS = nox.project.python_versions(PYPROJECT)


@nox.session(python=PYTHON_VERSIONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (tests/ and examples/)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=["3.11", "3.12", "3.13"])
def import_order(session: nox.Session) -> None:
    """etomkit.testing and hypothesis import in any order, on every Python (#11)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-p", "no:cacheprovider", "tests/testing/test_import_order.py")


@nox.session(default=False)
def mutation(session: nox.Session) -> None:
    """The whole kit against every mutant of the in-memory adapter (#11; docs/testing.md)."""
    session.install("-e", ".[test]")
    session.env["ETOMKIT_MUTANTS_WHOLE_KIT"] = "1"
    session.run("pytest", "-p", "no:cacheprovider", "tests/testing/test_mutants.py")


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check with mypy --strict (files and options in pyproject.toml), including
    tests/typing/test_readme_shaped.py: README-shaped code with no asserts on ids."""
    session.install("-e", ".[lint]")
    session.run("mypy", *session.posargs)


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """Run every python block of README.md and of the docs pages (tests/test_docs.py)."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_docs.py", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Print every benchmark table (``nox -s bench -- --quick`` for short runs).

    ``bench/run.py``: inventory and TMF JSON against their floors (#2);
    ``bench/filestore.py``: FileStore against sqlite3, and reopening (#4);
    ``bench/issuing.py``: rule-based issuing against a linear scan and rule-engine (#3);
    ``bench/access.py``: get and create with access control and usage tracking on/off (#5);
    ``bench/audit.py``: an audit run against a plain pass over the same data (#6).
    """
    session.install(".[bench]")
    scripts = ("run", "filestore", "issuing", "access", "audit")
    for script in (f"bench/{name}.py" for name in scripts):
        if Path(script).exists():
            session.run("python", script, *session.posargs)


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/."""
    shutil.rmtree(ROOT / "dist", ignore_errors=True)
    session.install("build")
    session.run("python", "-m", "build", *session.posargs)


if __name__ == "__main__":
    nox.main()
