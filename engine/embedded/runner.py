"""The embedded engine: one process that resolves leases, ticks, sends and polls on intervals.

Shutdown is cooperative: SIGINT/SIGTERM set `stop`; the SMTP transaction in flight finishes
and is recorded, messages claimed but not yet started go back to `planned`, and the loop
exits. After a crash, the next start turns expired `sending` leases into `ambiguous`.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.inbound import poll
from engine.outbound import leases, sent_proof
from engine.outbound.caps import MemoryRateLimiter, RateLimiter, seed_from_database
from engine.outbound.connections import SendLoop
from engine.outbound.runtime import Runtimes
from engine.outbound.send import MailerFactory, SendReport, send_due, smtp_mailer_factory
from engine.outbound.tick import TickReport, tick
from engine.reporting import rollups
from engine.settings import Settings
from engine.store.db import Database
from engine.workspace import webhooks

log = logging.getLogger(__name__)


@dataclass
class RoundReport:
    ambiguous: list[int] = field(default_factory=list)
    replanned: list[int] = field(default_factory=list)  # claimed by a dead sender, never started
    tick: TickReport = field(default_factory=TickReport)
    send: SendReport = field(default_factory=SendReport)
    polled: Any = None

    def summary(self) -> str:
        lost = f"; {len(self.ambiguous)} stuck sends marked ambiguous" if self.ambiguous else ""
        if self.replanned:
            lost += f"; {len(self.replanned)} claimed but never started: planned again"
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
    # Sequence versions are immutable: each is parsed once per process, not once per round.
    runtimes: Runtimes = field(default_factory=Runtimes)

    def __post_init__(self) -> None:
        _freeze_startup_heap()
        if self.limiter is None:
            memory = MemoryRateLimiter()
            with self.db.session() as session:
                seed_from_database(memory, session, self.clock.now())
            self.limiter = memory

    def round(self, *, poll: bool = False) -> RoundReport:
        """One pass: resolve expired leases, execute due steps, send due messages."""
        report = RoundReport()
        expired = leases.resolve_expired_leases(self.db, self.clock)
        report.ambiguous, report.replanned = expired.ambiguous, expired.replanned
        runtimes = self.runtimes
        report.tick = tick(self.db, self.clock, self.settings, runtimes=runtimes)
        if not self.stop.is_set():
            report.send = self.send_batches()
        if poll and not self.stop.is_set():
            report.polled = housekeeping(self.db, self.clock, self.settings)
        return report

    def send_batches(self) -> SendReport:
        """Send what is due, claiming at most KADENZ_SEND_BATCH messages at a time (as a
        worker's send task does): a crash never finds more than one batch claimed."""
        total = SendReport()
        limit = self.settings.send_batch
        # One event loop and one connection per mailbox for all of this round's batches.
        connections = SendLoop(self.mailer_factory or smtp_mailer_factory)
        try:
            while not self.stop.is_set():
                report = send_due(
                    self.db,
                    self.clock,
                    self.settings,
                    limit=limit,
                    limiter=self.limiter,
                    runtimes=self.runtimes,
                    stop=self.stop,
                    loop=connections,
                )
                total.add(report)
                # A batch that did not fill up took everything due; one that sent nothing
                # (every message held or retried) must not spin.
                if report.claimed + report.held + report.replanned + report.cancelled < limit:
                    break
                if report.claimed == 0 or report.released:
                    break
        finally:
            connections.close()
        return total

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
                if (
                    report.tick.executed
                    or report.send.claimed
                    or report.ambiguous
                    or report.replanned
                ):
                    log.info("%s", report.summary())
            except Exception:
                log.exception("round failed; retrying after the next interval")
            if wait(self.settings.tick_seconds):
                break
            elapsed += self.settings.tick_seconds


_frozen = threading.Event()  # set once the process's start-up heap is frozen


def _freeze_startup_heap() -> None:
    """Keep what start-up made (modules, mappers, metadata) out of the cyclic collector.

    Those objects live as long as the process, yet every full collection scanned them all:
    measured ~0.1 ms per message sent (one full pass of ~100 ms per thousand messages).
    Frozen, a full pass only looks at what the rounds themselves allocate. Garbage is
    collected first, so nothing unreachable is kept; done once per process.
    """
    if not _frozen.is_set():
        _frozen.set()
        gc.collect()
        gc.freeze()


def housekeeping(db: Database, clock: Clock, settings: Settings) -> Any:
    """The slower chores, on the poll interval: read mailboxes for replies and bounces,
    resolve ambiguous sends by the copy in Sent, fold new events into the report rollups,
    deliver due webhooks. One failing chore never stops
    the others (each logs and the next interval tries again)."""
    polled: Any = None
    for name, chore in (
        ("poll", lambda: poll.poll_all(db, clock, settings)),
        ("sent proof", lambda: sent_proof.resolve_by_proof(db, clock, settings)),
        ("rollups", lambda: rollups.refresh_rollups(db)),
        ("webhooks", lambda: webhooks.deliver_webhooks(db, clock)),
    ):
        try:
            result = chore()
        except Exception:
            log.exception("%s failed; retrying at the next poll interval", name)
            continue
        if name == "poll":
            polled = result
    return polled
