"""What every subcommand shares: exit codes, the store, reading input, writing output.

The command is a host of the library like any other: it opens a store,
calls the services, formats what they return and maps their errors to exit
codes. No domain logic lives here.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from etomkit.adapters.file import FileStore
from etomkit.adapters.file.usage_log import FileUsageLog
from etomkit.errors import EtomkitError, StorageError, ValidationError
from etomkit.inventory import ProductOfferingInventory
from etomkit.inventory.usage import UsageMeter
from etomkit.notebook.tables import text_table

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STORAGE",
    "EXIT_USAGE",
    "CommandError",
    "Context",
    "Handler",
    "read_documents",
    "render_table",
]

EXIT_OK = 0
"""The job was done."""
EXIT_FAILED = 1
"""The library refused something (bad input, a conflict, a refused transition, not
found) or the job found problems (a request that failed, a bad rule file)."""
EXIT_USAGE = 2
"""The command line was wrong (argparse's own code), or an option names something
this installation cannot do."""
EXIT_STORAGE = 3
"""The store could not be opened, read or written (locked, corrupted, missing)."""

DEFAULT_STORE = "etomkit-data"
USAGE_LOG = "usage.log"  # beside the store's journal: the usage the command recorded


class CommandError(Exception):
    """A problem the command reports in one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


Handler = Callable[["Context"], int]


def read_documents(source: str, *, what: str) -> list[Any]:
    """The JSON documents in file ``source`` (``-``: standard input): a JSON array,
    one JSON object, or JSON lines. Raises ValidationError naming the line."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {what} from {source}: {exc.strerror or exc}") from exc
    stripped = text.strip()
    if not stripped:
        raise ValidationError(f"{what} in {source}", [("$", "the input is empty")])
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        data = None
    else:
        return list(data) if isinstance(data, list) else [data]
    documents: list[Any] = []
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            documents.append(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append((f"line {number}", f"not JSON: {exc.msg} (column {exc.colno})"))
    if problems:
        raise ValidationError(f"{what} in {source} (JSON or JSON lines)", problems)
    return documents


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """``rows`` as an aligned text table (the text view of ``--json``'s rows)."""
    return text_table(rows, columns)


class Context:
    """One run of one subcommand: its arguments, its streams and its store."""

    def __init__(
        self,
        args: argparse.Namespace,
        *,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.args = args
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.json: bool = bool(getattr(args, "json", False))
        self.store_spec: str = getattr(args, "store", None) or DEFAULT_STORE
        self._store: Any = None
        self._meter: UsageMeter | None = None

    # ------------------------------------------------------------------ output

    def out(self, text: str = "") -> None:
        """A line of the result on standard output."""
        print(text, file=self.stdout)

    def note(self, text: str) -> None:
        """A line about the job (summaries, progress) on standard error."""
        print(text, file=self.stderr)

    def emit_json(self, data: Any) -> None:
        """``data`` as one JSON document on standard output."""
        json.dump(data, self.stdout, indent=2, ensure_ascii=False, default=str)
        self.stdout.write("\n")

    def emit_rows(
        self, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None
    ) -> None:
        """Rows as a JSON array (``--json``) or an aligned table."""
        if self.json:
            self.emit_json(list(rows))
        else:
            self.out(render_table(rows, columns))

    @property
    def interactive(self) -> bool:
        """True when standard error is a terminal (progress is shown only then)."""
        try:
            return self.stderr.isatty()
        except (AttributeError, ValueError, io.UnsupportedOperation):
            return False

    # ------------------------------------------------------------------ the store

    @property
    def store_path(self) -> Path:
        """The FileStore folder ``--store`` names."""
        return Path(self.store_spec)

    def store(self, *, read_only: bool = False) -> Any:
        """The store ``--store`` names, opened once (closed by :meth:`close`)."""
        if self._store is None:
            self._store = open_store(self.store_spec, read_only=read_only)
        return self._store

    def inventory(self, *, read_only: bool = False) -> ProductOfferingInventory:
        """The inventory over the store, its usage recorded in the store's usage log."""
        return ProductOfferingInventory(self.store(read_only=read_only), usage=self.meter())

    def meter(self) -> UsageMeter:
        """The usage meter writing to the store folder's usage log."""
        if self._meter is None:
            if self.store_spec.startswith(("postgresql://", "postgres://")):
                from etomkit.adapters.postgres import PostgresUsageLog

                self._meter = UsageMeter(PostgresUsageLog(self.store()))
            else:
                self._meter = UsageMeter(FileUsageLog(self.store_path / USAGE_LOG))
        return self._meter

    def close(self) -> None:
        """Flush the usage log and close the store."""
        try:
            if self._meter is not None:
                self._meter.close()
        finally:
            self._meter = None
            store, self._store = self._store, None
            if store is not None:
                store.close()


def open_store(spec: str, *, read_only: bool = False) -> Any:
    """A FileStore for a folder, or the PostgreSQL store for a ``postgresql://`` conninfo.

    Raises CommandError (exit 2) when the PostgreSQL adapter is not installed,
    and (exit 3) when a read-only command names a folder holding no store.
    """
    if spec.startswith(("postgresql://", "postgres://")):
        try:
            module = importlib.import_module("etomkit.adapters.postgres")
            factory = module.PostgresStore
        except (ImportError, AttributeError):
            raise CommandError(
                "--store postgresql://...: the PostgreSQL adapter is not available in this "
                "installation of etomkit (it comes with the 'postgres' extra); "
                "pass a folder to use a FileStore",
                EXIT_USAGE,
            ) from None
        return factory(spec)
    path = Path(spec)
    if read_only and not path.is_dir():
        raise CommandError(
            f"no store in {spec}/ yet (import a catalogue or issue orders first, "
            "or pass --store FOLDER)",
            EXIT_STORAGE,
        )
    try:
        return FileStore(path, read_only=read_only)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot open the store in {spec}: {exc}") from exc


class Progress:
    """``done/total, rate/s, ETA`` on standard error, redrawn at most 10 times a second,
    and only when standard error is a terminal."""

    def __init__(self, ctx: Context, what: str, total: int | None) -> None:
        import time

        self._time = time.monotonic
        self.enabled = ctx.interactive
        self.stream = ctx.stderr
        self.what = what
        self.total = total
        self.done = 0
        self.started = self._time()
        self._drawn = 0.0

    def step(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.done += n
        if not self.enabled:
            return
        now = self._time()
        if now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.what}: {self.done}"
        if self.total:
            text += f"/{self.total}"
            if rate > 0:
                text += f", ETA {max(self.total - self.done, 0) / rate:.0f}s"
        text += f", {rate:.0f}/s"
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()

    def finish(self) -> None:
        """Clear the progress line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def over(self, items: Iterable[Any]) -> Iterator[Any]:
        """Each of ``items``, counted."""
        try:
            for item in items:
                yield item
                self.step()
        finally:
            self.finish()


@contextmanager
def output_file(ctx: Context, path: str | None) -> Iterator[TextIO]:
    """Standard output, or the file ``--out`` names (written whole or not at all)."""
    if path is None or path == "-":
        yield ctx.stdout
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            yield handle
        partial.replace(target)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def error_code(exc: BaseException) -> int:
    """The exit code for a library error."""
    if isinstance(exc, StorageError):
        return EXIT_STORAGE
    if isinstance(exc, CommandError):
        return exc.code
    if isinstance(exc, EtomkitError):
        return EXIT_FAILED
    return EXIT_FAILED
