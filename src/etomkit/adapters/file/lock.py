"""One writer per store directory: an exclusive, non-blocking OS lock."""

from __future__ import annotations

import fcntl
import os

from etomkit.errors import StorageError, StoreLockedError

__all__ = ["WriterLock"]


class WriterLock:
    """``fcntl.flock`` on ``<dir>/LOCK``; released on close or process death."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "LOCK")
        try:
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot open lock file {self.path}: {exc}") from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StoreLockedError(
                f"{directory} is open for writing in another process or store; "
                "open it with read_only=True or close the other writer"
            ) from None
        except OSError as exc:
            os.close(self._fd)
            self._fd = None
            raise StorageError(f"cannot lock {self.path}: {exc}") from exc

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
