"""What an SMTP outcome does to a message, its enrollment and its mailbox (docs/sending.md).

| outcome                      | message   | enrollment                   | also               |
|------------------------------|-----------|------------------------------|--------------------|
| accepted (2xx after DATA)    | sent      | next step due at sent_at     |                    |
| 5.1.x, 5.0.0, bare 550/551/553 | bounced | stopped (hard bounce)        | address suppressed |
| 5.2.x, bare 552 (full)       | bounced   | stopped (soft bounce)        | address kept       |
| 5.7.x (policy, spam)         | failed    | paused: a person decides     |                    |
| other 5xx                    | failed    | paused                       |                    |
| 4xx, connection refused      | planned   | retried with backoff, 5 tries |                   |
| timeout or drop after DATA   | ambiguous | waits for proof or a person  |                    |
| authentication failure       | planned   | unchanged                    | mailbox paused     |
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core import person_replies
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState, advance_message
from engine.mail.smtp import SendOutcome, SendResult
from engine.people import suppression
from engine.people.lifecycle import move
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.matching import any_of_bound
from engine.store.models import Enrollment, Mailbox, OutboundMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=5)  # 5, 10, 20, 40 minutes between attempts
BREAKER_WINDOW = 100  # the mailbox's most recent sends considered by the breaker
# Too few sends make the rate noise: 1 unlucky bounce in 20 first touches is not a bad list.
BREAKER_MIN_SENDS = 50
BREAKER_MIN_BOUNCES = 3
BREAKER_RATE = 0.05


def backoff(attempts: int) -> timedelta:
    return BACKOFF_BASE * int(2 ** max(0, attempts - 1))


def classify_rejection(code: int | None, status: str | None) -> str:
    """hard | soft | blocked | failed, from the enhanced status code (or the bare code)."""
    if status:
        if status.startswith("5.1.") or status == "5.0.0":
            return "hard"
        if status.startswith("5.2."):
            return "soft"
        if status.startswith("5.7."):
            return "blocked"
        return "failed"
    if code in (550, 551, 553):
        return "hard"
    if code == 552:
        return "soft"
    return "failed"


def _smtp_text(result: SendResult) -> str:
    """The server's words once: "451 4.7.1 Greylisted … (at RCPT TO)"."""
    message = (result.message or "").strip()
    if result.code is not None and not message.startswith(str(result.code)):
        status = f" {result.status}" if result.status and result.status not in message else ""
        message = f"{result.code}{status} {message}".strip()
    return message[:500]


# One SMTP outcome: the message's id, the token of the claim that sent it (None: do not
# check) and what the server said.
Outcome = tuple[int, str | None, SendResult]


def record_result(
    db: Database, clock: Clock, message_id: int, token: str | None, result: SendResult
) -> str | None:
    """Apply one SMTP outcome in its own transaction; returns the message's new state."""
    with db.session() as session:
        now = clock.now()
        message = session.get(OutboundMessage, message_id, with_for_update=True)
        return apply_result(session, message, result, now, token=token)


def record_results(db: Database, clock: Clock, results: list[Outcome]) -> list[str | None]:
    """Apply many SMTP outcomes in one transaction (`record_in`); should anything raise, the
    batch is rolled back and each outcome recorded in its own transaction, so one bad row
    never costs the others their record."""
    if not results:
        return []
    try:
        with db.session() as session, events.batched(session):
            return record_in(session, db.dialect, results, clock.now())
    except Exception:
        log.exception("recording %d SMTP outcomes together failed; one by one", len(results))
        return [record_result(db, clock, i, t, r) for i, t, r in results]


def record_in(
    session: Session, dialect: str, results: list[Outcome], now: datetime
) -> list[str | None]:
    """Apply many SMTP outcomes in `session`; the new state of each message, in order.

    Acceptances of `sending` messages — nearly all outcomes — are written with one UPDATE
    per table for the whole batch (`_mark_sent_many`); the rest go through `apply_result`,
    with the messages and their enrollments loaded in two queries. An outcome whose claim
    token is no longer the message's (another claim owns it now) is ignored.
    """
    if not results:
        return []
    sent = _mark_sent_many(
        session,
        [(i, t, r) for i, t, r in results if r.outcome == SendOutcome.ACCEPTED],
        now,
        dialect,
    )
    ids = [message_id for message_id, _, _ in results if message_id not in sent]
    loaded: dict[int, OutboundMessage] = {}
    if ids:
        stmt = select(OutboundMessage).where(OutboundMessage.id.in_(ids))
        if dialect == "postgresql":
            stmt = stmt.with_for_update()
        loaded = {m.id: m for m in session.scalars(stmt).all()}
    enrollment_ids = {m.enrollment_id for m in loaded.values()}
    # kept referenced: the identity map is weak, mark_sent's get() must hit it
    enrollments = (
        session.scalars(select(Enrollment).where(Enrollment.id.in_(enrollment_ids))).all()
        if enrollment_ids
        else []
    )
    states = [
        MessageState.SENT if i in sent else apply_result(session, loaded.get(i), r, now, token=t)
        for i, t, r in results
    ]
    assert len(enrollments) <= len(enrollment_ids)
    return states


_MESSAGES = cast(Table, OutboundMessage.__table__)
_ENROLLMENTS = cast(Table, Enrollment.__table__)


def _statements(dialect: str) -> tuple[Any, Any, Any]:
    """The set-wise statements of `_mark_sent_many`, built once per database kind."""
    sending_rows = select(
        _MESSAGES.c.id,
        _MESSAGES.c.attempts,
        _MESSAGES.c.claim_token,
        *(_MESSAGES.c[key] for key in events.MESSAGE_DIMS),
    ).where(any_of_bound(_MESSAGES.c.id, "ids", dialect), _MESSAGES.c.state == MessageState.SENDING)
    if dialect == "postgresql":
        sending_rows = sending_rows.with_for_update()
    mark_sent = (
        update(_MESSAGES)
        .where(
            any_of_bound(_MESSAGES.c.id, "ids", dialect), _MESSAGES.c.state == MessageState.SENDING
        )
        .values(
            state=advance_message(MessageState.SENDING, MessageState.SENT),
            sent_at=bindparam("now"),
            smtp_code=bindparam("code"),
            smtp_status=bindparam("status"),
            lease_until=None,
            held_reason=None,
            last_error=None,
            updated_at=bindparam("now"),
        )
    )
    next_step_from_send = (  # mark_sent's enrollment rule
        update(_ENROLLMENTS)
        .where(
            any_of_bound(_ENROLLMENTS.c.id, "ids", dialect),
            _ENROLLMENTS.c.state.in_([EnrollmentState.ACTIVE, EnrollmentState.PAUSED]),
            _ENROLLMENTS.c.next_run_at.is_(None),
        )
        .values(
            step_started_at=bindparam("now"),
            next_run_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
    )
    return sending_rows, mark_sent, next_step_from_send


# Built once: a flush of outcomes runs these every tenth of a second.
_STATEMENTS = {dialect: _statements(dialect) for dialect in ("postgresql", "sqlite")}


def _mark_sent_many(
    session: Session, accepted: list[Outcome], now: datetime, dialect: str
) -> set[int]:
    """`mark_sent` for every accepted message still `sending`, in a few set-wise statements.

    The same columns, enrollment rule and event as `mark_sent`; returns the ids it marked.
    A message in any other state (e.g. made `ambiguous` by an expired lease) is left to
    `apply_result`. Messages are updated per distinct SMTP reply (nearly always one).
    """
    if not accepted:
        return set()
    sending_rows, mark_sent, next_step_from_send = _STATEMENTS[dialect]
    rows = {
        row.id: row for row in session.execute(sending_rows, {"ids": [i for i, _, _ in accepted]})
    }
    marked = {  # in the order of the outcomes; only the claim that sent it may record it
        i: r for i, t, r in accepted if i in rows and (t is None or rows[i].claim_token == t)
    }
    if not marked:
        return set()
    by_reply: dict[tuple[int | None, str | None], list[int]] = {}
    for i, result in marked.items():
        by_reply.setdefault((result.code, result.status), []).append(i)
    for (code, status), ids in by_reply.items():
        session.execute(mark_sent, {"ids": ids, "now": now, "code": code, "status": status})
    # A person's reply from the inbox is no step: the sequence does not move on for it.
    steps = [i for i in marked if not person_replies.is_person_reply(rows[i].step_id)]
    enrollment_ids = list({rows[i].enrollment_id for i in steps})
    if enrollment_ids:
        session.execute(next_step_from_send, {"ids": enrollment_ids, "now": now})
    for i in marked:
        row = rows[i]
        events.record(
            session,
            EventType.MESSAGE_SENT,
            now,
            **{key: getattr(row, key) for key in events.MESSAGE_DIMS},
            outbound_id=row.id,
            data={"attempts": row.attempts},
        )
    return set(marked)


def apply_result(
    session: Session,
    message: OutboundMessage | None,
    result: SendResult,
    now: datetime,
    *,
    token: str | None = None,
) -> str | None:
    """What one SMTP outcome does to its (locked) message; returns the new state.

    With a `token`, the outcome only counts while the message's claim is still that one."""
    if message is None:
        return None
    if token is not None and message.claim_token != token:
        log.warning("message %s: outcome of an older claim ignored", message.id)
        return None
    state = MessageState(message.state)
    if state == MessageState.AMBIGUOUS and (
        result.outcome == SendOutcome.ACCEPTED or token is not None
    ):
        # The lease ran out while the transaction went on. An acceptance is proof of
        # delivery; any other outcome of the very claim that started it (its token) is as
        # authoritative as if it had come in time.
        pass
    elif state != MessageState.SENDING:
        log.warning("message %s is %s, not sending: outcome ignored", message.id, state)
        return None
    message.smtp_code = result.code
    message.smtp_status = result.status
    message.lease_until = None
    message.updated_at = now
    text = _smtp_text(result)
    outcome = result.outcome
    if outcome == SendOutcome.ACCEPTED:
        mark_sent(session, message, now)
    elif outcome == SendOutcome.REJECTED:
        _rejected(session, message, result, text, now)
    elif outcome == SendOutcome.RETRY:
        _retry(session, message, text, now)
    elif outcome == SendOutcome.AMBIGUOUS:
        if state == MessageState.AMBIGUOUS:  # already so (its lease ran out): say why now
            message.last_error = text or "no answer after DATA"
        else:
            mark_ambiguous(session, message, now, text or "no answer after DATA")
    else:  # MAILBOX_ERROR: the mailbox's credentials or account, not this message
        message.state = advance_message(state, MessageState.PLANNED)
        message.attempts = max(0, message.attempts - 1)
        message.held_reason = f"mailbox paused: {text}"
        pause_mailbox(session, message.mailbox_id, now, f"SMTP login failed: {text}")
    return message.state


def mark_sent(session: Session, message: OutboundMessage, at: datetime) -> None:
    """Sent: the enrollment's next step becomes due, counting from `at` (waits from send)."""
    message.state = advance_message(MessageState(message.state), MessageState.SENT)
    message.sent_at = at
    message.held_reason = None
    message.last_error = None
    events.record(
        session, EventType.MESSAGE_SENT, at, message=message, data={"attempts": message.attempts}
    )
    enrollment = session.get(Enrollment, message.enrollment_id)
    if person_replies.is_person_reply(message.step_id):
        return  # a person's reply from the inbox: no step to move on from
    if (
        enrollment is not None
        and enrollment.state in (EnrollmentState.ACTIVE, EnrollmentState.PAUSED)
        and enrollment.next_run_at is None
    ):
        enrollment.step_started_at = at
        enrollment.next_run_at = at
        enrollment.updated_at = at


def mark_ambiguous(session: Session, message: OutboundMessage, at: datetime, why: str) -> None:
    message.state = advance_message(MessageState(message.state), MessageState.AMBIGUOUS)
    message.lease_until = None
    message.last_error = why
    message.updated_at = at
    events.record(session, EventType.MESSAGE_AMBIGUOUS, at, message=message, data={"error": why})


def mark_failed(session: Session, message: OutboundMessage, at: datetime, why: str) -> None:
    """Failed (not a bounce): the enrollment pauses so a person decides what comes next."""
    message.state = advance_message(MessageState(message.state), MessageState.FAILED)
    message.last_error = why
    message.held_reason = None
    events.record(session, EventType.MESSAGE_FAILED, at, message=message, data={"error": why})
    enrollment = session.get(Enrollment, message.enrollment_id)
    if person_replies.is_person_reply(message.step_id):
        return  # the person sees the failure on the message; the sequence is not theirs to pause
    if enrollment is not None and enrollment.state in (
        EnrollmentState.ACTIVE,
        EnrollmentState.WAITING,
    ):
        if enrollment.next_run_at is None:
            enrollment.next_run_at = at  # a resume goes on with the next step
        move(
            session,
            enrollment,
            EnrollmentState.PAUSED,
            at,
            reason=f"email {message.step_id} failed: {why}",
        )


def mark_bounced(
    session: Session, message: OutboundMessage, at: datetime, kind: str, why: str
) -> None:
    message.state = advance_message(MessageState(message.state), MessageState.BOUNCED)
    message.last_error = why
    message.held_reason = None
    events.record(
        session,
        EventType.MESSAGE_BOUNCED,
        at,
        message=message,
        data={"kind": kind, "status": message.smtp_status, "source": "smtp"},
    )
    if kind == "hard":
        suppression.add(
            session,
            message.to_address,
            reason="hard_bounce",
            at=at,
            source=f"outbound:{message.id}",
            note=why,
        )
    enrollment = session.get(Enrollment, message.enrollment_id)
    if enrollment is not None and enrollment.state != EnrollmentState.STOPPED:
        if enrollment.state == EnrollmentState.FINISHED:
            pass  # the last email bounced after the end: nothing left to stop
        else:
            move(session, enrollment, EnrollmentState.STOPPED, at, reason=f"{kind} bounce: {why}")
    if kind == "hard":
        check_breaker(session, message.mailbox_id, at)


def _rejected(
    session: Session, message: OutboundMessage, result: SendResult, text: str, at: datetime
) -> None:
    kind = classify_rejection(result.code, result.status)
    if kind in ("hard", "soft"):
        mark_bounced(session, message, at, kind, text)
    elif kind == "blocked":
        mark_failed(session, message, at, f"blocked by the receiving server: {text}")
    else:
        mark_failed(session, message, at, f"permanently refused: {text}")


def _retry(session: Session, message: OutboundMessage, text: str, at: datetime) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(session, message, at, f"gave up after {message.attempts} attempts: {text}")
        return
    message.state = advance_message(MessageState(message.state), MessageState.PLANNED)
    message.not_before = at + backoff(message.attempts)
    message.last_error = text
    message.held_reason = (
        f"retry {message.attempts + 1}/{MAX_ATTEMPTS} after a temporary failure ({text})"
    )
    events.record(
        session,
        EventType.MESSAGE_RETRY,
        at,
        message=message,
        data={
            "code": message.smtp_code,
            "error": text,
            "next_attempt": message.not_before.isoformat(),
        },
    )


def pause_mailbox(session: Session, mailbox_id: int, at: datetime, reason: str) -> None:
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None or mailbox.paused:
        return
    mailbox.paused = True
    mailbox.paused_reason = reason
    events.record(
        session, EventType.MAILBOX_PAUSED, at, mailbox_id=mailbox_id, data={"reason": reason}
    )


def check_breaker(session: Session, mailbox_id: int, at: datetime) -> bool:
    """Pause a mailbox whose hard-bounce rate over its recent sends passes the threshold."""
    when = func.coalesce(OutboundMessage.sent_at, OutboundMessage.updated_at)
    recent = session.execute(
        select(OutboundMessage.state, OutboundMessage.smtp_status)
        .where(
            OutboundMessage.mailbox_id == mailbox_id,
            OutboundMessage.state.in_([MessageState.SENT, MessageState.BOUNCED]),
        )
        .order_by(when.desc())
        .limit(BREAKER_WINDOW)
    ).all()
    hard = sum(
        1
        for state, status in recent
        if state == MessageState.BOUNCED and not (status or "").startswith("5.2.")
    )
    if (
        len(recent) < BREAKER_MIN_SENDS
        or hard < BREAKER_MIN_BOUNCES
        or hard / len(recent) < BREAKER_RATE
    ):
        return False
    pause_mailbox(
        session,
        mailbox_id,
        at,
        f"bounce-rate breaker: {hard} hard bounces in the last {len(recent)} sends "
        f"({hard / len(recent):.0%} ≥ {BREAKER_RATE:.0%}); check the list, then "
        "`kadenz mailbox resume`",
    )
    return True
