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
from engine.outbound.send import send_due
from engine.outbound.tick import tick as run_tick
from workers import runtime
from workers.app import app

log = logging.getLogger("kadenz.workers")


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
    try:
        report = run_tick(s.db, s.clock, s.settings, runtimes=Runtimes(), limit=limit)
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
    """Enqueue one send task per mailbox with due mail whose lock this call wins."""
    s = runtime.services()
    queued = 0
    for mailbox_id in dispatch.due_mailboxes(s.db, s.clock):
        token = s.locks.acquire(mailbox_id)
        if token is not None:
            send_mailbox.delay(mailbox_id, token)
            queued += 1
    return queued


@app.task(name="kadenz.send_mailbox")
def send_mailbox(mailbox_id: int, lock_token: str | None = None) -> None:
    """Send one mailbox's due messages, batch after batch, for at most the task budget,
    over the process's kept connection to the mailbox (engine.outbound.connections)."""
    s = runtime.services()
    stop = threading.Event()
    timer = threading.Timer(runtime.SEND_TASK_BUDGET_SECONDS, stop.set)
    timer.daemon = True
    timer.start()
    runtimes = Runtimes()
    try:
        while not stop.is_set():
            report = send_due(
                s.db,
                s.clock,
                s.settings,
                mailbox_id=mailbox_id,
                limit=s.settings.send_batch,
                limiter=s.limiter,
                runtimes=runtimes,
                stop=stop,
                loop=s.send_loop,  # the process's loop and kept connection
            )
            if report.claimed or report.held or report.cancelled:
                log.info("mailbox %s: %s", mailbox_id, report.summary())
            if lock_token is not None:
                s.locks.extend(mailbox_id, lock_token)
            if report.claimed == 0:
                break
    finally:
        timer.cancel()
        if lock_token is not None:
            s.locks.release(mailbox_id, lock_token)


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
