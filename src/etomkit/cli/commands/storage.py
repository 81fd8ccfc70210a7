"""``etomkit store verify|compact|migrate``: look after the store itself."""

from __future__ import annotations

import argparse
from typing import Any

from etomkit.adapters.file import FileStore, verify
from etomkit.cli.base import EXIT_OK, EXIT_STORAGE, CommandError, Context

__all__ = ["register"]


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``store``."""
    store = commands.add_parser(
        "store", parents=[common], help="verify, compact or migrate the store"
    )
    store.set_defaults(handler=lambda ctx: _help(ctx, store))
    sub = store.add_subparsers(title="actions", metavar="ACTION")
    for name, handler, text in (
        ("verify", _verify, "check every record's checksum without changing anything"),
        ("compact", _compact, "write a snapshot so the next open reads less"),
        ("migrate", _migrate, "bring the store's schema up to this version of etomkit"),
    ):
        action = sub.add_parser(name, parents=[common], help=text, description=text + ".")
        action.set_defaults(handler=handler)


def _help(ctx: Context, parser: argparse.ArgumentParser) -> int:
    parser.print_help(ctx.stderr)
    return 2


def _folder(ctx: Context) -> str:
    if ctx.store_spec.startswith(("postgresql://", "postgres://")):
        ctx.store()  # says the PostgreSQL adapter is not available
    if not ctx.store_path.is_dir():
        raise CommandError(f"no store in {ctx.store_spec}/", EXIT_STORAGE)
    return ctx.store_spec


def _verify(ctx: Context) -> int:
    report = verify(_folder(ctx))
    if ctx.json:
        ctx.emit_json({"store": ctx.store_spec, "report": str(report), "ok": True})
    else:
        ctx.out(f"{ctx.store_spec}: {report}")
    return EXIT_OK


def _compact(ctx: Context) -> int:
    with FileStore(_folder(ctx)) as store:
        before = store.journal_bytes
        store.compact()
        after = (store.journal_bytes, store.snapshot_bytes)
    if ctx.json:
        ctx.emit_json(
            {"journal_bytes_before": before, "journal_bytes": after[0], "snapshot_bytes": after[1]}
        )
    else:
        ctx.out(
            f"{ctx.store_spec}: compacted; journal {before} -> {after[0]} bytes, "
            f"snapshot {after[1]} bytes"
        )
    return EXIT_OK


def _migrate(ctx: Context) -> int:
    _folder(ctx)
    message = "a FileStore has no schema to migrate: nothing to do"
    if ctx.json:
        ctx.emit_json({"store": ctx.store_spec, "migrated": [], "message": message})
    else:
        ctx.out(f"{ctx.store_spec}: {message}")
    return EXIT_OK
