"""A claim's life: started before MAIL FROM, released unstarted, or run out after a crash.

A message is claimed (`sending`, with a random `claim_token` and a lease) before any SMTP
byte; `start` commits `smtp_started_at` before its MAIL FROM. When its lease runs out (the
sender died, settings.send_lease_seconds), what happens depends on that one column:

- never started → back to `planned` (same Message-ID, same step, re-checked at the next
  claim): no transaction was opened for it, so no copy exists;
- started → `ambiguous`: the server may have it. Never sent again automatically; resolved by
  proof (engine.outbound.sent_proof) or by a person (`kadenz message resolve`).

So a crash leaves at most one ambiguous message per open SMTP connection (the argument is
in engine.core.states, "Why never twice"). `kadenz run` checks leases at start-up and every
round; the workers' beat every half lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.events import EventType
from engine.core.states import MessageState, advance_message
from engine.outbound.outcomes import mark_ambiguous
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import OutboundMessage

log = logging.getLogger(__name__)

_MESSAGES = cast(Table, OutboundMessage.__table__)


@dataclass
class Expired:
    ambiguous: list[int] = field(default_factory=list)  # started: may have been delivered
    replanned: list[int] = field(default_factory=list)  # never started: planned again


def start(
    session: Session, claims: list[tuple[int, str]], now: datetime, lease_until: datetime
) -> set[int]:
    """Record that these messages' SMTP transactions are about to begin (and renew their
    lease); returns the ids that are still their claim's to send. Commit before MAIL FROM.

    `claims` are (message id, claim token). A message re-planned or resolved meanwhile (its
    token is gone) is not returned: its sender must skip it.
    """
    if not claims:
        return set()
    started: set[int] = set()
    by_token: dict[str, list[int]] = {}
    for message_id, token in claims:
        by_token.setdefault(token, []).append(message_id)
    for token, ids in by_token.items():
        rows = session.execute(
            update(_MESSAGES)
            .where(
                _MESSAGES.c.id.in_(ids),
                _MESSAGES.c.state == MessageState.SENDING,
                _MESSAGES.c.claim_token == token,
                _MESSAGES.c.smtp_started_at.is_(None),
            )
            .values(smtp_started_at=now, lease_until=lease_until, updated_at=now)
            .returning(_MESSAGES.c.id)
        )
        started.update(row[0] for row in rows)
    return started


def release_unstarted(
    db: Database, clock: Clock, claims: list[tuple[int, str]], reason: str
) -> int:
    """Claimed, never started (shutdown, a mailbox error): back to `planned`, untouched, in
    one transaction. Only while the claim is still the caller's. Returns how many."""
    if not claims:
        return 0
    released = 0
    with db.session() as session:
        now = clock.now()
        by_token: dict[str, list[int]] = {}
        for message_id, token in claims:
            by_token.setdefault(token, []).append(message_id)
        for token, ids in by_token.items():
            result = session.execute(
                update(_MESSAGES)
                .where(
                    _MESSAGES.c.id.in_(ids),
                    _MESSAGES.c.state == MessageState.SENDING,
                    _MESSAGES.c.claim_token == token,
                    _MESSAGES.c.smtp_started_at.is_(None),
                )
                .values(
                    state=advance_message(MessageState.SENDING, MessageState.PLANNED),
                    attempts=_MESSAGES.c.attempts - 1,
                    lease_until=None,
                    claim_token=None,
                    held_reason=reason,
                    updated_at=now,
                )
                .returning(_MESSAGES.c.id)
            )
            released += len(result.all())
    return released


def resolve_expired_leases(db: Database, clock: Clock) -> Expired:
    """Every `sending` message past its lease: re-planned if its transaction never began,
    else `ambiguous`."""
    out = Expired()
    with db.session() as session:
        now = clock.now()
        stmt = select(OutboundMessage).where(
            OutboundMessage.state == MessageState.SENDING,
            OutboundMessage.lease_until < now,
        )
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for message in session.scalars(stmt).all():
            if message.smtp_started_at is None:
                _replan(session, message, now)
                out.replanned.append(message.id)
            else:
                mark_ambiguous(
                    session,
                    message,
                    now,
                    f"lease expired at {message.lease_until:%Y-%m-%d %H:%M} UTC: the sending "
                    "process stopped during the SMTP transaction; delivery unknown",
                )
                out.ambiguous.append(message.id)
    if out.replanned:
        log.info(
            "leases.replanned count=%d reason=claimed but never started by a stopped sender",
            len(out.replanned),
        )
    return out


def resolve_expired(db: Database, clock: Clock) -> list[int]:
    """`resolve_expired_leases`, returning only the ids made ambiguous."""
    return resolve_expired_leases(db, clock).ambiguous


def _replan(session: Session, message: OutboundMessage, now: datetime) -> None:
    message.state = advance_message(MessageState.SENDING, MessageState.PLANNED)
    message.attempts = max(0, message.attempts - 1)  # no attempt reached the server
    message.lease_until = None
    message.claim_token = None
    message.held_reason = (
        "re-planned: its sender stopped before the SMTP transaction began (nothing was sent)"
    )
    message.updated_at = now
    events.record(
        session,
        EventType.MESSAGE_REPLANNED,
        now,
        message=message,
        data={"reason": "claimed, never started: its sender stopped"},
    )
