"""The subcommand groups, one module each; every module has ``register(commands, common)``."""

from __future__ import annotations

from types import ModuleType

from etomkit.cli.commands import catalogue, demo, issuing, quality, storage

__all__ = ["COMMAND_GROUPS"]

COMMAND_GROUPS: tuple[ModuleType, ...] = (catalogue, issuing, quality, storage, demo)
