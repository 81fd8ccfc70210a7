"""The ``etomkit`` command: one module per subcommand group under ``commands/``.

``main(argv)`` runs a command line and returns its exit code; see
:mod:`etomkit.cli.main` for the exit codes and ``docs/cli.md`` for every command.
"""

from etomkit.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
