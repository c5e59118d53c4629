"""A run lock that survives a crashed holder.

- SQLite: ``flock`` on a file beside the database; the kernel releases it when
  the holding process dies (even by SIGKILL).
- Any other database (PostgreSQL): an advisory lock held by a dedicated
  connection; the server releases it when that connection ends, crash included.
  Several machines sharing one database thus never collect or send twice.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool


class _Releasing:
    """``with lock:`` releases the lock at the end of the block."""

    def release(self) -> None:
        raise TypeError("subclasses release their lock")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class RunLock(_Releasing):
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


LOCK_KEY = 0x7665696C6C65  # "veille": the advisory lock's number
DAEMON_KEY = 0x6461656D6F6E  # "daemon": held for the daemon's whole life


class DatabaseLock(_Releasing):
    """An advisory lock on the store's server (PostgreSQL), same interface as RunLock."""

    def __init__(self, url: str, key: int = LOCK_KEY):
        self.url = url
        self.key = key
        self.path = f"verrou consultatif {key} de la base"
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def acquire(self, *, wait: float = 0.0) -> bool:
        self._engine = create_engine(self.url, poolclass=NullPool)
        connection = self._engine.connect()
        deadline = time.monotonic() + wait
        while True:
            got = connection.execute(text("select pg_try_advisory_lock(:k)"), {"k": self.key})
            connection.commit()
            if got.scalar():
                self._connection = connection
                return True
            if time.monotonic() >= deadline:
                connection.close()
                self._engine.dispose()
                return False
            time.sleep(0.2)

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(text("select pg_advisory_unlock(:k)"), {"k": self.key})
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def run_lock_for(storage_url: str, config_path: Path) -> RunLock | DatabaseLock:
    """The lock that keeps two runs on the same store apart."""
    if storage_url.startswith("sqlite"):
        return RunLock(lock_path_for(storage_url, config_path))
    return DatabaseLock(storage_url)


def daemon_lock_for(storage_url: str, config_path: Path) -> RunLock | DatabaseLock:
    """The lock a daemon holds while it lives: a second daemon on the same store
    refuses to start (its cycles would only queue behind the first one's)."""
    if storage_url.startswith("sqlite"):
        run_path = lock_path_for(storage_url, config_path)
        return RunLock(run_path.with_name(run_path.name.removesuffix(".lock") + ".daemon.lock"))
    return DatabaseLock(storage_url, key=DAEMON_KEY)


def lock_path_for(storage_url: str, config_path: Path) -> Path:
    """Beside the SQLite file, else beside config.yaml."""
    if storage_url.startswith("sqlite") and ":///" in storage_url:
        path = storage_url.split(":///", 1)[1].split("?")[0].removeprefix("file:")
        return Path(path + ".lock")
    return config_path.resolve().parent / ".veille.lock"
