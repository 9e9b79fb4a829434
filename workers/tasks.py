"""Thin tasks: take ids, fetch the process's services, call one engine function, return.

Every task is safe to run twice or concurrently (docs/operations.md, "Why every task is
idempotent"); beat re-sends any nudge that is lost. Optional services (polling, pauses,
rollups, webhooks) are imported lazily, so a task whose module is absent does nothing.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from engine.outbound import dispatch, leases, sent_proof
from engine.outbound.runtime import Runtimes
from engine.outbound.send import SendReport, send_due
from engine.outbound.tick import TickReport
from engine.outbound.tick import tick as run_tick
from workers import runtime
from workers.app import app

log = logging.getLogger("kadenz.workers")

# A send task ends when nothing is due, its time budget is spent, or after this many batches.
MAX_BATCHES_PER_TASK = 1000


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name, None)  # type: ignore[no-any-return]
    except ImportError:
        return None


@app.task(name="kadenz.tick")
def tick(slot: int | None = None, token: str | None = None) -> None:
    """Execute due steps, at most 10 batches per task; a full task nudges its continuation
    at once, so a huge backlog is worked off by many short tasks.

    Ticks hold one of `KADENZ_TICK_PARALLEL` slots (a Redis lock each, default 1): beat's
    nudge returns at once while a tick runs, so a backlog never fills every worker process
    with ticks while the send tasks wait. The continuation inherits its slot. Ticks stay
    safe without the slots (SKIP LOCKED claims); the slots only keep the sending going.
    """
    s = runtime.services()
    held = (slot, token) if slot is not None and token is not None else None
    if held is None or not s.tick_slots.extend(*held):
        held = s.tick_slots.acquire_any(s.settings.tick_parallel)
        if held is None:
            return  # as many ticks as allowed are running; they continue themselves
    limit = 10 * s.settings.batch_size
    nudged = False

    def after_batch(report: TickReport) -> None:
        # Emails just planned go out now, not at beat's next dispatch (up to
        # KADENZ_TICK_SECONDS later): once per task, the send tasks then claim batch after batch.
        nonlocal nudged
        if report.emails_planned and not nudged:
            nudged = True
            dispatch_sends.delay()

    try:
        report = run_tick(
            s.db, s.clock, s.settings, runtimes=Runtimes(), limit=limit, after_batch=after_batch
        )
    except BaseException:
        s.tick_slots.release(*held)
        raise
    if report.executed or report.errors:
        log.info("tick %s", report.summary())
    if report.executed >= limit and s.tick_slots.extend(*held):
        tick.delay(*held)
    else:
        s.tick_slots.release(*held)


@app.task(name="kadenz.dispatch_sends")
def dispatch_sends() -> int:
    """Take the lock of every mailbox with due mail that is free, and spread those over at
    most KADENZ_SEND_TASKS send tasks; returns how many mailboxes were handed out."""
    s = runtime.services()
    held: list[tuple[int, str]] = []
    for mailbox_id in dispatch.due_mailboxes(s.db, s.clock):
        token = s.locks.acquire(mailbox_id)
        if token is not None:
            held.append((mailbox_id, token))
    for group in dispatch.spread(held, s.settings.send_tasks):
        send_mailboxes.delay([[mailbox_id, token] for mailbox_id, token in group])
    return len(held)


@app.task(name="kadenz.send_mailboxes")
def send_mailboxes(held: list[list[Any]]) -> None:
    """Send the due messages of several mailboxes ([mailbox id, lock token] each) together,
    batch after batch, for at most the task budget: one kept connection per mailbox on the
    process's loop (engine.outbound.connections), their checkpoints sharing commits."""
    _send([(int(mailbox_id), token) for mailbox_id, token in held])


@app.task(name="kadenz.send_mailbox")
def send_mailbox(mailbox_id: int, lock_token: str | None = None) -> None:
    """One mailbox's due messages (what `send_mailboxes` does for one; also for tasks an
    earlier version's dispatch queued, and for an operator's manual nudge)."""
    _send([(mailbox_id, lock_token)])


def _send(held: list[tuple[int, str | None]]) -> None:
    s = runtime.services()
    stop = threading.Event()
    timer = threading.Timer(runtime.SEND_TASK_BUDGET_SECONDS, stop.set)
    timer.daemon = True
    timer.start()
    ids = [mailbox_id for mailbox_id, _ in held]

    def after_batch(report: SendReport) -> None:
        """Renew the locks after every batch (they only lapse if this process dies), and
        log the task's running totals."""
        for mailbox_id, token in held:
            if token is not None:
                s.locks.extend(mailbox_id, token)
        log.info("mailboxes %s: %s", ids, report.summary())

    try:
        # Batch after batch until nothing is due or the budget is spent.
        report = send_due(
            s.db,
            s.clock,
            s.settings,
            mailbox_id=ids,
            limit=s.settings.send_batch,
            limiter=s.limiter,
            runtimes=Runtimes(),
            concurrency=max(8, len(ids)),  # every mailbox of the task on its connection
            stop=stop,
            loop=s.send_loop,  # the process's loop and kept connections
            batches=MAX_BATCHES_PER_TASK,
            after_batch=after_batch,
        )
    finally:
        timer.cancel()
        for mailbox_id, token in held:
            if token is not None:
                s.locks.release(mailbox_id, token)
    if report.sent:
        # A sent email makes its enrollment's next step due at once (engine.outbound.tick):
        # run it now rather than at beat's next tick. Returns at once if a tick is running.
        tick.delay()


@app.task(name="kadenz.resolve_leases")
def resolve_leases() -> int:
    s = runtime.services()
    expired = leases.resolve_expired_leases(s.db, s.clock)
    if expired.replanned:
        log.info("%d claimed messages never started (their sender stopped): planned again",
                 len(expired.replanned))  # fmt: skip
    if expired.ambiguous:
        log.warning(
            "%d messages outlived their sending lease mid-transaction: now ambiguous",
            len(expired.ambiguous),
        )
    return len(expired.ambiguous)


@app.task(name="kadenz.resolve_by_proof")
def resolve_by_proof() -> int:
    """Ambiguous sends: search the mailboxes' Sent folders, apply what a copy (or its
    absence, on a provider that files every submission) proves."""
    s = runtime.services()
    verdicts = sent_proof.resolve_by_proof(s.db, s.clock, s.settings)
    return sum(1 for v in verdicts if v.by_proof)


@app.task(name="kadenz.resume_due")
def resume_due() -> int:
    resume = _optional("engine.people.resume", "resume_due")
    if resume is None:
        return 0
    s = runtime.services()
    return int(resume(s.db, s.clock))


@app.task(name="kadenz.dispatch_polls")
def dispatch_polls() -> int:
    """One poll task per mailbox that has an inbox to read."""
    s = runtime.services()
    ids = dispatch.pollable_mailboxes(s.db)
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return len(ids)


@app.task(name="kadenz.poll_mailbox")
def poll_mailbox(mailbox_id: int) -> None:
    poll = _optional("engine.inbound.poll", "poll_mailbox")
    if poll is None:
        return
    s = runtime.services()
    dark_after = _optional("engine.inbound.poll", "dark_limit")
    limit = dark_after(s.settings) if dark_after is not None else None
    report = poll(s.db, s.clock, mailbox_id, dark_after=limit)
    if report.error:  # already logged as an error with its fix; the task says so too
        log.error("poll_mailbox %s: %s", mailbox_id, report.summary())
    elif report.fetched:
        log.info("poll_mailbox %s", report.summary())


@app.task(name="kadenz.refresh_rollups")
def refresh_rollups() -> None:
    refresh = _optional("engine.reporting.rollups", "refresh_rollups")
    if refresh is not None:
        refresh(runtime.services().db)


@app.task(name="kadenz.deliver_webhooks")
def deliver_webhooks() -> None:
    deliver = _optional("engine.workspace.webhooks", "deliver_webhooks")
    if deliver is not None:
        s = runtime.services()
        deliver(s.db, s.clock)
