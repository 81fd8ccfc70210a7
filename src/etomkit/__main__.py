"""``python -m etomkit COMMAND ...``: the ``etomkit`` command (see :mod:`etomkit.cli`)."""

from etomkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
