"""The durable file adapter: a checksummed journal with snapshots and a writer lock."""

from etomkit.adapters.file.journal import Durability, RecoveryReport, TornTailCut
from etomkit.adapters.file.store import FileStore, verify

__all__ = ["Durability", "FileStore", "RecoveryReport", "TornTailCut", "verify"]
