"""A claim's life: started before DATA, released unstarted, or run out after a crash.

A message is claimed (`sending`, with a random `claim_token` and a lease) before any SMTP
byte; `start` commits `smtp_started_at` before its DATA. When its lease runs out (the
sender died, settings.send_lease_seconds), what happens depends on that one column:

- never started → back to `planned` (same Message-ID, same step, re-checked at the next
  claim): its DATA was never sent, so no copy exists (RFC 5321 §3.8);
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
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.events import EventType
from engine.core.states import MessageState, advance_message
from engine.mail.smtp import SendOutcome, SendResult
from engine.outbound.outcomes import Outcome, apply_result, mark_ambiguous
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import OutboundMessage

log = logging.getLogger(__name__)

_MESSAGES = cast(Table, OutboundMessage.__table__)


@dataclass
class Expired:
    ambiguous: list[int] = field(default_factory=list)  # started: may have been delivered
    replanned: list[int] = field(default_factory=list)  # never started: planned again
    applied: list[int] = field(default_factory=list)  # finished: its recorded outcome applied


def _pair_statement() -> Any:
    """UPDATE for one fact (:fid) and one start (:sid), built once (-1: none)."""
    m = _MESSAGES
    fid: Any = bindparam("fid", type_=Integer)
    sid: Any = bindparam("sid", type_=Integer)

    def fact(column: str) -> Any:
        col = m.c[column]
        return case((m.c.id == fid, bindparam(column, type_=col.type)), else_=col)

    return (
        update(m)
        .where(
            or_(
                and_(
                    m.c.id == sid,
                    m.c.claim_token == bindparam("stoken", type_=String),
                    m.c.state == MessageState.SENDING,
                    m.c.smtp_started_at.is_(None),
                ),
                and_(
                    m.c.id == fid,
                    # ftoken NULL: whoever's claim (a caller that does not check)
                    m.c.claim_token
                    == func.coalesce(bindparam("ftoken", type_=String), m.c.claim_token),
                    or_(
                        m.c.state == MessageState.SENDING,
                        m.c.state == MessageState.AMBIGUOUS,
                    ),
                ),
            )
        )
        .values(
            smtp_started_at=case(
                (m.c.id == sid, bindparam("now", type_=m.c.smtp_started_at.type)),
                else_=m.c.smtp_started_at,
            ),
            lease_until=case(
                (m.c.id == sid, bindparam("lease", type_=m.c.lease_until.type)),
                else_=m.c.lease_until,
            ),
            smtp_outcome=fact("smtp_outcome"),
            smtp_code=fact("smtp_code"),
            smtp_status=fact("smtp_status"),
            last_error=fact("last_error"),
        )
        .returning(m.c.id)
    )


_PAIR = _pair_statement()


def checkpoint(
    conn: Connection,
    facts: list[Outcome],
    starts: list[tuple[int, str]],
    now: datetime,
    lease_until: datetime,
) -> set[int]:
    """Commit at once the outcomes just learned (`smtp_outcome` and the server's reply) and
    the starts about to happen (`smtp_started_at`, lease renewed). Returns the ids in
    `starts` that are still their claim's to send. Finish before their DATA.

    `starts` are (message id, claim token). A message re-planned or resolved meanwhile (its
    token is gone) is not returned: its sender must skip it. The facts' consequences (state,
    enrollment, events) are applied in batches (outcomes.record_results); a crash before
    that applies them from the row (`resolve_expired_leases`). One statement per pair of a
    fact and a start (a connection's last outcome and its next message), in one transaction.
    """
    pairs: list[dict[str, Any]] = []
    for n in range(max(len(facts), len(starts))):
        row: dict[str, Any] = {"fid": -1, "ftoken": None, "sid": -1, "stoken": None}
        row.update(now=now, lease=lease_until, smtp_outcome=None, smtp_code=None)
        row.update(smtp_status=None, last_error=None)
        if n < len(facts):
            fid, ftoken, result = facts[n]
            row.update(fid=fid, ftoken=ftoken, smtp_outcome=str(result.outcome))
            row.update(smtp_code=result.code, smtp_status=result.status)
            row.update(last_error=result.message[:500] or None)
        if n < len(starts):
            row.update(sid=starts[n][0], stoken=starts[n][1])
        pairs.append(row)
    if not pairs:
        return set()
    returned: set[int] = set()
    with conn.begin():
        for row in pairs:
            returned.update(r[0] for r in conn.execute(_PAIR, row))
    return returned & {message_id for message_id, _ in starts}


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
            if message.smtp_outcome is not None:
                # The outcome was committed, its consequences not yet: apply them now.
                fact = SendResult(
                    SendOutcome(message.smtp_outcome),
                    message.smtp_code,
                    message.smtp_status,
                    message.last_error or "",
                )
                apply_result(session, message, fact, now)
                out.applied.append(message.id)
            elif message.smtp_started_at is None:
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
