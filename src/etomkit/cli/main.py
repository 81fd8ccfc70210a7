"""``etomkit`` (also ``python -m etomkit``): the parser, the dispatch, and the exits.

Exit codes: 0 done; 1 the library refused something or the job found
problems (a failed request, a bad rule file); 2 a wrong command line; 3 the
store could not be opened, read or written; 130 interrupted (Ctrl-C). A
closed output pipe (``| head``) ends the command quietly with 0. Errors print
one line, ``etomkit: error: <the library's message>``, unless ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from etomkit import __version__
from etomkit.cli.base import (
    DEFAULT_STORE,
    EXIT_USAGE,
    CommandError,
    Context,
    error_code,
)
from etomkit.cli.commands import COMMAND_GROUPS
from etomkit.errors import EtomkitError

__all__ = ["build_parser", "main"]

EXIT_INTERRUPTED = 130


def common_options() -> argparse.ArgumentParser:
    """``--store``, ``--json`` and ``--debug``, accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        metavar="FOLDER|postgresql://…",
        default=argparse.SUPPRESS,
        help=f"a folder for a FileStore (default: ./{DEFAULT_STORE}) or a postgresql:// "
        "conninfo (needs the PostgreSQL extra)",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine output (JSON)"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    return common


def build_parser(prog: str = "etomkit") -> argparse.ArgumentParser:
    """The whole command line: every group from :mod:`etomkit.cli.commands`."""
    common = common_options()
    parser = argparse.ArgumentParser(
        prog=prog,
        parents=[common],
        description="Product offering inventory (eTOM 1.2.4.2) and resource order issuing "
        "(eTOM 1.5.6.7) on a durable store, from the command line.",
        epilog="Run '%(prog)s COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands, common)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    prog = "etomkit"  # also under ``python -m etomkit``: one name in every message
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    # Not parser.set_defaults: it would rewrite the shared actions' SUPPRESS defaults,
    # and a subcommand's parser would then reset an option given before it.
    for name, default in (("store", DEFAULT_STORE), ("json", False), ("debug", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(stderr or sys.stderr)
        return EXIT_USAGE
    ctx = Context(args, stdout=stdout, stderr=stderr)
    try:
        try:
            return int(handler(ctx))
        finally:
            ctx.close()
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        ctx.note(f"{prog}: interrupted")
        return EXIT_INTERRUPTED
    except (EtomkitError, CommandError) as exc:
        if args.debug:
            raise
        ctx.note(f"{prog}: error: {_one_line(exc)}")
        return error_code(exc)


def _one_line(exc: BaseException) -> str:
    """The error's message; a ValidationError's problems joined on one line."""
    from etomkit.errors import ValidationError

    if isinstance(exc, ValidationError):
        shown = "; ".join(f"{path}: {message}" for path, message in exc.problems[:5])
        more = len(exc.problems) - 5
        tail = f"; and {more} more" if more > 0 else ""
        return f"invalid {exc.entity}: {shown}{tail}"
    return str(exc)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's final
    flush does not raise again (the Python docs' recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
