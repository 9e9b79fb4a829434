"""Resolving stuck `sending` messages: the process died mid-send, so nobody knows the outcome.

A message still `sending` after its lease (settings.send_lease_seconds) becomes `ambiguous`:
it may have reached the recipient, so it is never sent again automatically. `kadenz run`
does this at start-up and every round; a person then runs `kadenz message resolve`.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.clock import Clock
from engine.core.states import MessageState
from engine.outbound.outcomes import mark_ambiguous
from engine.store.db import Database
from engine.store.models import OutboundMessage


def resolve_expired(db: Database, clock: Clock) -> list[int]:
    """Turn every `sending` message past its lease into `ambiguous`; returns their ids."""
    with db.session() as session:
        now = clock.now()
        stmt = select(OutboundMessage).where(
            OutboundMessage.state == MessageState.SENDING,
            OutboundMessage.lease_until < now,
        )
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        stuck = session.scalars(stmt).all()
        for message in stuck:
            mark_ambiguous(
                session,
                message,
                now,
                f"lease expired at {message.lease_until:%Y-%m-%d %H:%M} UTC: the sending "
                "process stopped during the SMTP transaction; delivery unknown",
            )
        return [m.id for m in stuck]
