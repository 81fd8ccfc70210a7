"""etomkit's pytest plugin (the ``pytest11`` entry point ``etomkit``).

Installed with etomkit; it only matters where pytest runs, i.e. with the
``testing`` extra. It does two things:

* registers assertion rewriting for :mod:`etomkit.testing`, so a failing
  contract shows the values (``revision: 1 != 2``), not a bare AssertionError.
  That must happen before those modules are imported, so this is a top-level
  module that imports no part of etomkit when pytest loads it;
* offers fixtures: ``etomkit_store_factory`` (override it with a callable that
  makes a fresh, empty store; ``make_store``, which the contracts use, returns
  it), ``manual_clock`` (a :class:`~etomkit.ManualClock` at 2025-01-01T00:00Z)
  and ``sequential_ids`` (a :class:`~etomkit.SequentialIdFactory`).

Disable it with ``-p no:etomkit``.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["etomkit_store_factory", "make_store", "manual_clock", "sequential_ids"]

pytest.register_assert_rewrite("etomkit.testing")


@pytest.fixture
def etomkit_store_factory() -> Any:
    """A callable making a fresh, empty store for the contracts: override this fixture."""
    pytest.fail(
        "etomkit's contracts need a store: define an `etomkit_store_factory` (or `make_store`) "
        "fixture returning a callable that makes a fresh, empty store",
        pytrace=False,
    )


@pytest.fixture
def make_store(etomkit_store_factory: Any) -> Any:
    """What the contracts call for each fresh store: ``etomkit_store_factory``."""
    return etomkit_store_factory


@pytest.fixture
def manual_clock() -> Any:
    """A clock standing still at 2025-01-01T00:00:00Z until advanced."""
    from etomkit import ManualClock

    return ManualClock()


@pytest.fixture
def sequential_ids() -> Any:
    """Readable, deterministic ids: ``<entity>-1``, ``<entity>-2``, … (one counter)."""
    from etomkit import SequentialIdFactory

    return SequentialIdFactory()
