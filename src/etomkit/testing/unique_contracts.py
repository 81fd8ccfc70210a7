"""Contract for the unique keys of :mod:`etomkit.ports` (issue #10).

Kept for existing users: the contract lives in :mod:`etomkit.testing.contracts`
(``contracts.unique_keys``) now, and :class:`~etomkit.testing.contracts.StoreContract`
runs it.
"""

from __future__ import annotations

from etomkit.testing.contracts.unique_keys import UniqueKeyContract, race

__all__ = ["UniqueKeyContract", "race"]
