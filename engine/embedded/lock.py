"""One `kadenz run` per home: an exclusive lock on `KADENZ_HOME/run.lock`.

The embedded runner counts mailbox caps in its own memory (seeded from the database when it
starts), so two runners on one home would each allow the whole cap: 120 emails on a 60/day
mailbox. Counting every send in SQLite instead would put a write on the hot path of every
claim for a mode that is one process by design, so the rule is enforced where it is cheap:
the second runner is refused with a message naming the first one. The lock is the kernel's
(`flock`), so it is released when the holder exits or is killed — a crash leaves no stale
lock to clean up. Production mode (PostgreSQL + Redis + Celery) shares caps through Redis
and needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from engine.errors import Conflict

FILE = "run.lock"


@contextlib.contextmanager
def one_runner(home: Path, now: datetime) -> Iterator[None]:
    """Hold the home's runner lock for the block; Conflict when another runner holds it."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise Conflict(
                f"another `kadenz run` already runs on {home} ({holder}): one runner per home, "
                "because mailbox caps are counted in the runner's memory. Stop it first, or "
                "run more workers in production mode (PostgreSQL + Redis, docs/operations.md)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {now:%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
