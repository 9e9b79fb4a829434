"""What every task needs, built once per worker process: settings, database, clock, Redis.

Prefork children must not share the parent's sockets, so nothing is built at import time:
`services()` builds lazily in the process that calls it, and `reset()` (hooked to Celery's
`worker_process_init`) forgets anything inherited across a fork.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from engine.clock import Clock, SystemClock
from engine.outbound.connections import SendLoop
from engine.outbound.dispatch import MailboxLocks
from engine.outbound.limits.redis_limiter import RedisRateLimiter, database_seeder
from engine.outbound.send import smtp_mailer_factory
from engine.settings import Settings, load_settings
from engine.store.db import Database

# Rehearsals and tests only: the workers' clock runs ahead by the seconds written in this
# file (re-read on every call), so a test can move every process's time at once.
CLOCK_OFFSET_FILE_ENV = "KADENZ_CLOCK_OFFSET_FILE"


class OffsetClock:
    """Wall-clock time shifted by the number of seconds in a file (0 when it is missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            offset = float(self.path.read_text().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return datetime.now(UTC) + timedelta(seconds=offset)


def clock_from_env() -> Clock:
    path = os.environ.get(CLOCK_OFFSET_FILE_ENV)
    return OffsetClock(Path(path)) if path else SystemClock()


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    redis: redis.Redis
    limiter: RedisRateLimiter
    locks: MailboxLocks
    tick_slots: MailboxLocks
    # The process's one event loop and its kept SMTP connections (one per mailbox): send
    # tasks stream batch after batch into them instead of reconnecting per batch.
    send_loop: SendLoop


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        settings = load_settings()
        db = Database(settings.database_url)
        clock = clock_from_env()
        client = redis.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=5,
            socket_timeout=10,
            health_check_interval=30,
            retry_on_timeout=True,
        )
        _services = Services(
            settings=settings,
            db=db,
            clock=clock,
            redis=client,
            limiter=RedisRateLimiter(client, settings.redis_prefix, database_seeder(db, clock.now)),
            locks=MailboxLocks(client, settings.redis_prefix, lock_seconds(settings)),
            tick_slots=MailboxLocks(
                client, settings.redis_prefix, tick_lock_seconds(settings), kind="tick"
            ),
            send_loop=SendLoop(smtp_mailer_factory),
        )
    return _services


def reset() -> None:
    """Forget services inherited from a parent process (called after fork)."""
    global _services
    _services = None


def shutdown() -> None:
    """Close this process's kept SMTP connections (QUIT) before it exits."""
    if _services is not None:
        _services.send_loop.close()


SEND_TASK_BUDGET_SECONDS = 60.0  # one send task claims batches this long, then yields


def lock_seconds(settings: Settings) -> float:
    """A mailbox's send lock: renewed after every batch, so it only lapses after a crash
    (or a very slow batch), and then the next dispatch enqueues a fresh send task."""
    return max(10.0, 6 * settings.tick_seconds)


def tick_lock_seconds(settings: Settings) -> float:
    """A tick slot: longer than one tick task takes under load (10 batches), so a running
    tick keeps it; after a crash it lapses and the next beat nudge starts a tick again."""
    return max(30.0, 6 * settings.tick_seconds)
