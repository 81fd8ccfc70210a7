"""Contracts for the access-control and usage adapters (issue #5).

Kept for etomkit 0.1's users: the contracts live in
:mod:`etomkit.testing.contracts` (``contracts.access``) now.
"""

from __future__ import annotations

from etomkit.testing.contracts.access import (
    ClientRepositoryContract,
    UsageLogContract,
    UsageLogFactory,
    usage_records,
)

__all__ = ["ClientRepositoryContract", "UsageLogFactory", "UsageLogContract", "usage_records"]
