"""A run lock that survives a crashed holder.

``flock`` on a lock file: the kernel releases it when the holding process dies
(even by SIGKILL), so a crash never leaves veille locked out.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType


class RunLock:
    """Exclusive lock on ``path``; ``acquire(wait=…)`` returns False when busy."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, wait: float = 0.0) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.2)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            self._fd = fd
            return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_path_for(storage_url: str, config_path: Path) -> Path:
    """Beside the SQLite file, else beside config.yaml."""
    if storage_url.startswith("sqlite:///"):
        return Path(storage_url.removeprefix("sqlite:///") + ".lock")
    return config_path.resolve().parent / ".veille.lock"
