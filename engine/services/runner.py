"""The embedded engine: one process that resolves leases, ticks, sends and polls on intervals.

Shutdown is cooperative: SIGINT/SIGTERM set `stop`; the SMTP transaction in flight finishes
and is recorded, messages claimed but not yet started go back to `planned`, and the loop
exits. After a crash, the next start turns expired `sending` leases into `ambiguous`.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.services import leases
from engine.services.caps import MemoryRateLimiter, RateLimiter, seed_from_database
from engine.services.runtime import Runtimes
from engine.services.send import MailerFactory, SendReport, send_due
from engine.services.tick import TickReport, tick
from engine.settings import Settings
from engine.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class RoundReport:
    ambiguous: list[int] = field(default_factory=list)
    tick: TickReport = field(default_factory=TickReport)
    send: SendReport = field(default_factory=SendReport)
    polled: Any = None

    def summary(self) -> str:
        lost = f"; {len(self.ambiguous)} stuck sends marked ambiguous" if self.ambiguous else ""
        return f"tick: {self.tick.summary()}; send: {self.send.summary()}{lost}"


@dataclass
class Runner:
    db: Database
    clock: Clock
    settings: Settings
    mailer_factory: MailerFactory | None = None
    limiter: RateLimiter | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    wait: Callable[[float], bool] | None = None  # how to sleep; default: stop.wait

    def __post_init__(self) -> None:
        if self.limiter is None:
            memory = MemoryRateLimiter()
            with self.db.session() as session:
                seed_from_database(memory, session, self.clock.now())
            self.limiter = memory

    def round(self, *, poll: bool = False) -> RoundReport:
        """One pass: resolve expired leases, execute due steps, send due messages."""
        report = RoundReport()
        report.ambiguous = leases.resolve_expired(self.db, self.clock)
        runtimes = Runtimes()  # one parse per version per round
        report.tick = tick(self.db, self.clock, self.settings, runtimes=runtimes)
        if not self.stop.is_set():
            report.send = send_due(
                self.db,
                self.clock,
                self.settings,
                self.mailer_factory,
                limiter=self.limiter,
                runtimes=runtimes,
                stop=self.stop,
            )
        if poll and not self.stop.is_set():
            report.polled = poll_hook(self.db, self.clock, self.settings)
        return report

    def run_forever(self) -> None:
        """Round after round every `tick_seconds`, polling every `poll_seconds`, until stop."""
        wait = self.wait or self.stop.wait
        last_poll: float | None = None
        elapsed = 0.0
        while not self.stop.is_set():
            poll = last_poll is None or elapsed - last_poll >= self.settings.poll_seconds
            if poll:
                last_poll = elapsed
            try:
                report = self.round(poll=poll)
                if report.tick.executed or report.send.claimed or report.ambiguous:
                    log.info("%s", report.summary())
            except Exception:
                log.exception("round failed; retrying after the next interval")
            if wait(self.settings.tick_seconds):
                break
            elapsed += self.settings.tick_seconds


def poll_hook(db: Database, clock: Clock, settings: Settings) -> Any:
    """Poll mailboxes for replies and bounces when the inbound module is installed."""
    try:
        module = importlib.import_module("engine.services.poll")
    except ImportError:
        return None
    poll_all = getattr(module, "poll_all", None)
    if poll_all is None:
        return None
    return poll_all(db, clock, settings)
