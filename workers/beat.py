"""The beat schedule: periodic nudges. Beat decides *when to look*; the database decides
what is due (DESIGN invariant 1), so a nudge lost, late or doubled changes nothing.

Every entry expires after its own interval: when the workers are down, stale nudges are
dropped instead of piling up, and the first worker back starts from the database.
"""

from __future__ import annotations

from typing import Any

from engine.settings import Settings

QUEUE_DEFAULT = "kadenz"  # tick, dispatch, leases, pauses, rollups, webhooks
QUEUE_SEND = "kadenz.send"  # SMTP: one task per mailbox with due messages
QUEUE_POLL = "kadenz.poll"  # IMAP: one task per mailbox with an inbox
QUEUES = (QUEUE_DEFAULT, QUEUE_SEND, QUEUE_POLL)


def _every(task: str, seconds: float) -> dict[str, Any]:
    return {"task": task, "schedule": seconds, "options": {"expires": max(1.0, seconds)}}


def schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    tick = settings.tick_seconds
    lease_check = min(60.0, max(1.0, settings.send_lease_seconds / 2))
    return {
        "tick": _every("kadenz.tick", tick),
        "dispatch-sends": _every("kadenz.dispatch_sends", tick),
        "resolve-leases": _every("kadenz.resolve_leases", lease_check),
        "resume-due": _every("kadenz.resume_due", max(tick, 30.0)),
        "dispatch-polls": _every("kadenz.dispatch_polls", settings.poll_seconds),
        "resolve-by-proof": _every("kadenz.resolve_by_proof", settings.poll_seconds),
        "refresh-rollups": _every("kadenz.refresh_rollups", 60.0),
        "deliver-webhooks": _every("kadenz.deliver_webhooks", max(tick, 15.0)),
    }
