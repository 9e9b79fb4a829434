"""`kadenz outbox`: messages waiting to go out or waiting for a person, with their reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.states import MessageState
from engine.errors import InvalidInput
from engine.store.models import Enrollment, Mailbox, OutboundMessage

DEFAULT_STATES = (MessageState.PLANNED, MessageState.SENDING, MessageState.AMBIGUOUS)


@dataclass
class OutboxLine:
    id: int
    state: str
    mailbox: str
    to: str
    step: str
    not_before: datetime
    attempts: int
    why: str  # held reason, error, or what to do


def outbox(
    session: Session,
    *,
    states: list[str] | None = None,
    mailbox: str | None = None,
    limit: int = 200,
) -> list[OutboxLine]:
    wanted = list(states or DEFAULT_STATES)
    for s in wanted:
        if s not in MessageState.__members__.values():
            known = ", ".join(m.value for m in MessageState)
            raise InvalidInput(f"--state {s!r} is not a message state (use one of: {known})")
    stmt = (
        select(OutboundMessage, Mailbox, Enrollment)
        .join(Mailbox, Mailbox.id == OutboundMessage.mailbox_id)
        .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .where(OutboundMessage.state.in_(wanted))
        .order_by(OutboundMessage.not_before, OutboundMessage.id)
        .limit(limit)
    )
    if mailbox is not None:
        stmt = stmt.where(Mailbox.name == mailbox)
    lines = []
    for m, box, enrollment in session.execute(stmt).all():
        lines.append(
            OutboxLine(
                id=m.id,
                state=m.state,
                mailbox=box.name,
                to=m.to_address,
                step=m.step_id,
                not_before=m.not_before,
                attempts=m.attempts,
                why=_why(m, box, enrollment),
            )
        )
    return lines


def _why(m: OutboundMessage, box: Mailbox, enrollment: Enrollment) -> str:
    if m.state == MessageState.AMBIGUOUS:
        return (
            f"{m.last_error or 'delivery unknown'} — check the recipient's copy or the "
            f"server log, then `kadenz message resolve {m.id} --sent` or `--failed`"
        )
    if m.state == MessageState.SENDING:
        return f"in the SMTP transaction (lease until {m.lease_until:%Y-%m-%d %H:%M} UTC)"
    if m.state == MessageState.PLANNED:
        if box.paused:
            return f"mailbox paused: {box.paused_reason}"
        if enrollment.state in ("paused", "waiting"):
            return f"enrollment {enrollment.state}: {enrollment.state_reason}"
        return m.held_reason or "due at not_before"
    return m.last_error or m.held_reason or ""
