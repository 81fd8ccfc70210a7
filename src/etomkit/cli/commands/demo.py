"""``etomkit demo [--data DIR]``: the inventory walk-through of :mod:`etomkit.demo`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from etomkit.cli.base import Context
from etomkit.demo import DEFAULT_DATA_DIR, run

__all__ = ["register"]


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``demo``."""
    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="build a small inventory, walk its lifecycles, download it",
        description="Build a small product offering inventory in a FileStore, walk it "
        "through its lifecycles and download it as TMF JSON lines; re-runnable.",
    )
    demo.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"folder for the store and the download (default: ./{DEFAULT_DATA_DIR}/)",
    )
    demo.set_defaults(handler=_demo)


def _demo(ctx: Context) -> int:
    return run(ctx.args.data, ctx.stdout)
