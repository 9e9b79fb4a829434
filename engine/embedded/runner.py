"""The embedded engine: one process that resolves leases, ticks, sends and polls on intervals.

Shutdown is cooperative: SIGINT/SIGTERM set `stop`; the SMTP transaction in flight finishes
and is recorded, messages claimed but not yet started go back to `planned`, and the loop
exits. After a crash, the next start turns expired `sending` leases into `ambiguous`.

With `KADENZ_IDLE` (the default), `run_forever` also keeps an IMAP IDLE watcher thread per
mailbox (engine.inbound.idle); a watcher's ring wakes the loop at once, which polls that
mailbox before its next round, so a reply stops its enrollment within seconds.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.inbound import idle, poll
from engine.outbound import leases, sent_proof
from engine.outbound.connections import SendLoop
from engine.outbound.limits.caps import MemoryRateLimiter, RateLimiter, seed_from_database
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
    _rung: set[int] = field(default_factory=set, init=False, repr=False)  # IDLE rang for these
    _bell: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

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
        """Round after round every `tick_seconds`, polling every `poll_seconds`, until stop;
        a mailbox whose IDLE watcher rang is polled at once."""
        watchers: idle.Watchers | None = None
        if self.settings.idle:
            watchers = idle.Watchers(self.db, self.clock, self.settings, ring=self.ring)
        last_poll: float | None = None
        elapsed = 0.0
        try:
            while not self.stop.is_set():
                poll = last_poll is None or elapsed - last_poll >= self.settings.poll_seconds
                if poll:
                    last_poll = elapsed
                try:
                    rung = self.take_rung()
                    if not poll:  # a full poll round reads every mailbox anyway
                        self.poll_mailboxes(rung)
                    report = self.round(poll=poll)
                    busy = report.tick.executed or report.send.claimed
                    if busy or report.ambiguous or report.replanned:
                        log.info("%s", report.summary())
                    if poll and watchers is not None:
                        watchers.sync()  # mailboxes added since start get a watcher too
                except Exception:
                    log.exception("round failed; retrying after the next interval")
                stopped, rang = self._sleep(self.settings.tick_seconds)
                if stopped:
                    break
                if not rang:
                    elapsed += self.settings.tick_seconds
        finally:
            if watchers is not None:
                watchers.close()

    def ring(self, mailbox_id: int) -> None:
        """An IDLE watcher saw new mail in this mailbox: wake the loop to poll it."""
        with self._lock:
            self._rung.add(mailbox_id)
        self._bell.set()

    def take_rung(self) -> list[int]:
        """The mailboxes whose watcher rang since the last call."""
        with self._lock:
            rung, self._rung = sorted(self._rung), set()
        return rung

    def poll_mailboxes(self, ids: list[int]) -> list[poll.PollReport]:
        dark_after = poll.dark_limit(self.settings)
        return [
            poll.poll_mailbox(self.db, self.clock, mailbox_id, dark_after=dark_after)
            for mailbox_id in ids
        ]

    def _sleep(self, seconds: float) -> tuple[bool, bool]:
        """Wait up to `seconds`; (stopped, rang). An injected `wait` is used as it is."""
        if self.wait is not None:
            return self.wait(seconds), False
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False, False
            if self._bell.wait(min(remaining, 0.5)):
                self._bell.clear()
                return self.stop.is_set(), True
        return True, False


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
