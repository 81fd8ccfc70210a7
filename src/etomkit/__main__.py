"""``python -m etomkit [demo] [--data DIR]``: run the demo (see :mod:`etomkit.demo`)."""

from etomkit.demo import main

if __name__ == "__main__":
    raise SystemExit(main())
