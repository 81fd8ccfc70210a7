"""Fixtures of the inventory tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import etomkit as ek


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An empty store: in memory and a FileStore (a module's own ``store`` wins)."""
    if request.param == "memory":
        yield ek.InMemoryStore()
        return
    with ek.FileStore(tmp_path / "store", durability="none") as s:
        yield s
