"""Delivering planned messages through SMTP: claim, start, send, record — never twice.

1. Claim (one transaction): planned messages whose `not_before` has come are re-checked —
   suppression, enrollment still live, send window open, caps — and either moved to
   `sending` (with a lease, a fresh claim token, attempts + 1) or left `planned` with a
   `held_reason` and a later `not_before`. The commit happens *before* any SMTP byte
   (DESIGN invariant 2).
2. Send (asyncio): one SMTP connection per mailbox, reused for all its messages; mailboxes
   in parallel, bounded by a semaphore. The password is read from the mailbox's environment
   variable here and nowhere else.
3. Start and record (`Journal`): before a connection sends a message's DATA, one
   statement, committed at once, records the outcome of that connection's previous
   message *and* that this one starts (`smtp_outcome`, `smtp_started_at`:
   engine.outbound.leases.checkpoint); connections that reach that point together share
   it. The commit runs while MAIL FROM and RCPT TO go out (engine.mail.smtp.BeforeData):
   a transaction without its end of data delivers nothing (RFC 5321 §3.8), so its fsync
   need not hold up the envelope. The outcomes' consequences (state, enrollment, events)
   follow in batches. So after a crash a connection leaves at most one message whose
   transaction may have begun without a recorded outcome: that one becomes `ambiguous`; a
   recorded outcome is applied; every other claimed message goes back to `planned` when
   its lease runs out (the argument: engine.core.states, "Why never twice").

A message whose send raised anything unexpected is `ambiguous`: it may have been delivered,
so only proof or a person may decide (engine.outbound.sent_proof, `kadenz message resolve`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, cast

from sqlalchemy import Connection, Table, or_, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core import addresses, person_replies
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState, advance_message
from engine.core.unsubscribe import make_token
from engine.errors import InvalidInput
from engine.mail.compose import OutgoingEmail, build_mime
from engine.mail.failures import FailureKind, kind_of, kind_of_text
from engine.mail.smtp import Mailer, SendOutcome, SendResult, SmtpSender
from engine.mail.urls import parse_smtp_url
from engine.outbound import gate as deliverability
from engine.outbound import leases
from engine.outbound.connections import SendLoop
from engine.outbound.limits import contact_limits
from engine.outbound.limits.caps import (
    Ask,
    MemoryRateLimiter,
    RateLimiter,
    limits_for,
    seed_from_database,
)
from engine.outbound.outcomes import Outcome, record_results
from engine.outbound.prefetch import suppressed_among
from engine.outbound.runtime import Runtimes
from engine.people.lifecycle import move
from engine.settings import Settings
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.matching import any_of, dialect_of
from engine.store.models import Enrollment, Mailbox, OutboundMessage, Prospect
from engine.workspace import links, mailboxes

log = logging.getLogger(__name__)

RECORD_BATCH = 50  # consequences of SMTP outcomes applied together …
RECORD_SECONDS = 0.1  # … or after this long, whichever comes first
FOLLOW_UPS_PER_FIRST_TOUCH = 4  # fairness: at most 4 follow-ups, then 1 first touch waits no more


MailerFactory = Callable[[Mailbox, str | None], AbstractAsyncContextManager[Mailer]]


def smtp_mailer_factory(mailbox: Mailbox, password: str | None) -> SmtpSender:
    """The real transport: one reused SMTP connection to the mailbox's smtp_url."""
    endpoint = mailboxes.login_endpoint(
        parse_smtp_url(mailbox.smtp_url), username=mailbox.username, address=mailbox.address
    )
    return SmtpSender(endpoint, password=password)


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    held: int = 0
    replanned: int = 0  # window closed: moved to the next slot
    cancelled: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    ambiguous: int = 0
    released: int = 0  # claimed but not attempted (shutdown, mailbox error)
    held_reasons: list[str] = field(default_factory=list)

    def count(self, state: str) -> None:
        attr = {
            MessageState.SENT: "sent",
            MessageState.BOUNCED: "bounced",
            MessageState.FAILED: "failed",
            MessageState.AMBIGUOUS: "ambiguous",
            MessageState.PLANNED: "retried",
        }.get(MessageState(state))
        if attr:
            setattr(self, attr, getattr(self, attr) + 1)

    def add(self, other: SendReport) -> None:
        """Fold another batch's report into this one."""
        for f in dataclasses.fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, list):
                mine.extend(getattr(other, f.name))
            else:
                setattr(self, f.name, mine + getattr(other, f.name))

    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.held} held, {self.replanned} re-planned, "
            f"{self.retried} to retry, {self.bounced} bounced, {self.failed} failed, "
            f"{self.ambiguous} ambiguous, {self.cancelled} cancelled"
        )


@dataclass
class Claimed:
    """A message moved to `sending`: everything needed to build and send it, detached."""

    id: int
    mailbox: Mailbox
    email: OutgoingEmail
    lease_until: datetime
    token: str  # the claim's: only it may start, record or release the message
    data: bytes = b""  # the MIME, built before the message entered `sending`


def send_due(
    db: Database,
    clock: Clock,
    settings: Settings,
    mailer_factory: MailerFactory | None = None,
    *,
    mailbox_id: int | Collection[int] | None = None,
    limit: int | None = None,
    limiter: RateLimiter | None = None,
    runtimes: Runtimes | None = None,
    concurrency: int = 8,
    stop: threading.Event | None = None,
    loop: SendLoop | None = None,
    batches: int = 1,
    after_batch: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """Send what is due now (synchronous wrapper around `send_due_async`).

    With a `loop` (engine.outbound.connections.SendLoop), on the process's event loop and
    its kept connections (then `mailer_factory` is ignored: the loop has its opener)."""
    coro = send_due_async(
        db,
        clock,
        settings,
        loop.factory if loop is not None else mailer_factory,
        mailbox_id=mailbox_id,
        limit=limit,
        limiter=limiter,
        runtimes=runtimes,
        concurrency=concurrency,
        stop=stop,
        batches=batches,
        after_batch=after_batch,
    )
    return loop.run(coro) if loop is not None else asyncio.run(coro)


async def send_due_async(
    db: Database,
    clock: Clock,
    settings: Settings,
    mailer_factory: MailerFactory | None = None,
    *,
    mailbox_id: int | Collection[int] | None = None,
    limit: int | None = None,
    limiter: RateLimiter | None = None,
    runtimes: Runtimes | None = None,
    concurrency: int = 8,
    stop: threading.Event | None = None,
    batches: int = 1,
    after_batch: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """Claim and send up to `batches` batches of `limit` messages, one after the other, and
    call `after_batch` with the running report after each (a send task renews its locks
    there). The batches share one writer connection, journal and recorder."""
    report = SendReport()
    # Deliverability hook (engine/outbound/gate.py): stale DNS checks, DKIM signing.
    factory = deliverability.prepare(db, clock, settings, mailer_factory or smtp_mailer_factory)
    limiter = limiter or seeded_limiter(db, clock)
    runtimes = runtimes or Runtimes()

    def claim_batch() -> list[Claimed]:
        part = SendReport()
        claimed = claim(
            db, clock, settings, limiter, runtimes, part, mailbox_id=mailbox_id, limit=limit
        )
        report.add(part)
        return claimed

    claimed = claim_batch()
    if not claimed:
        return report
    gate = asyncio.Semaphore(concurrency)
    with db.writer() as conn:
        journal = Journal(db, conn, clock, report, settings.send_lease_seconds)

        async def run(group: list[Claimed]) -> None:
            async with gate:
                await _send_group(db, clock, factory, group, report, stop, journal)

        ticker = asyncio.create_task(journal.recorder.every(RECORD_SECONDS))
        try:
            for n in range(batches):
                groups: dict[int, list[Claimed]] = {}
                for item in claimed:
                    groups.setdefault(item.mailbox.id, []).append(item)
                await asyncio.gather(*(run(g) for g in groups.values()))
                if after_batch is not None:
                    after_batch(report)
                if n + 1 == batches or (stop is not None and stop.is_set()):
                    break
                claimed = claim_batch()
                if not claimed:
                    break
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)  # collected, never dangling
            journal.recorder.flush()
    return report


class Journal:
    """What the senders must make durable before each DATA, group-committed.

    `commit(done, start)` writes the outcomes a connection just learned and the start of
    its next message in one statement, committed at once (leases.checkpoint), and returns
    whether the next one is still ours to send. Requests made while a commit is pending
    share the next one: connections that reach that point together pay for one commit. The
    outcomes' consequences follow in batches (`Recorder`). All of it runs on the event
    loop's thread (SQLite: no two writes of one process ever wait for each other).
    """

    def __init__(
        self, db: Database, conn: Connection, clock: Clock, report: SendReport, lease: int
    ) -> None:
        self.conn, self.clock = conn, clock
        self.lease = timedelta(seconds=lease)
        self.recorder = Recorder(db, clock, report)
        self._facts: list[Outcome] = []
        self._starts: list[tuple[Claimed, asyncio.Future[bool]]] = []
        self._waiting: list[asyncio.Future[bool]] = []
        self._scheduled = False

    async def commit(self, done: list[Outcome], start: Claimed | None) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._facts.extend(done)
        if start is not None:
            self._starts.append((start, future))
        else:
            self._waiting.append(future)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        facts, self._facts = self._facts, []
        starts, self._starts = self._starts, []
        waiting, self._waiting = self._waiting, []
        now = self.clock.now()
        try:
            started = leases.checkpoint(
                self.conn, facts, [(c.id, c.token) for c, _ in starts], now, now + self.lease
            )
        except Exception as exc:  # the database is gone: nobody may start, say so to all
            for future in [f for _, f in starts] + waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        self.recorder.add(facts)
        for claimed, future in starts:
            if not future.done():
                future.set_result(claimed.id in started)
        for future in waiting:
            if not future.done():
                future.set_result(True)


class Recorder:
    """The consequences of SMTP outcomes already committed as facts, applied in batches
    (RECORD_BATCH results or RECORD_SECONDS, whichever comes first). A crash in between
    loses nothing: an expired lease applies the fact (leases.resolve_expired_leases)."""

    def __init__(self, db: Database, clock: Clock, report: SendReport) -> None:
        self.db, self.clock, self.report = db, clock, report
        self.pending: list[Outcome] = []

    def add(self, outcomes: list[Outcome]) -> None:
        self.pending.extend(outcomes)
        if len(self.pending) >= RECORD_BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        for state in record_results(self.db, self.clock, batch):
            if state is not None:
                self.report.count(state)

    async def every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            if self.pending:
                self.flush()


def seeded_limiter(db: Database, clock: Clock) -> MemoryRateLimiter:
    """Without a limiter given: an in-process one that knows the last 24 h of sends, so a
    caller that makes a new one per call still keeps every cap."""
    limiter = MemoryRateLimiter()
    with db.session() as session:
        seed_from_database(limiter, session, clock.now())
    return limiter


# --- claim ---------------------------------------------------------------------------------


def claim(
    db: Database,
    clock: Clock,
    settings: Settings,
    limiter: RateLimiter,
    runtimes: Runtimes,
    report: SendReport,
    *,
    mailbox_id: int | Collection[int] | None = None,
    limit: int | None = None,
) -> list[Claimed]:
    """Move due messages that pass every check to `sending`, in one committed transaction."""
    out: list[Claimed] = []
    token = secrets.token_hex(16)
    with db.session() as session, events.batched(session):
        now = clock.now()
        stmt = (
            select(OutboundMessage)
            .join(Mailbox, Mailbox.id == OutboundMessage.mailbox_id)
            .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
            .where(
                OutboundMessage.state == MessageState.PLANNED,
                OutboundMessage.not_before <= now,
                # a manual email waits for its owner's approval (engine.outbound.review)
                or_(OutboundMessage.review.is_(None), OutboundMessage.review != "pending"),
                Mailbox.paused.is_(False),
                # paused/waiting enrollments keep their message planned and untouched
                Enrollment.state.in_(
                    [EnrollmentState.ACTIVE, EnrollmentState.STOPPED, EnrollmentState.FINISHED]
                ),
            )
            .order_by(OutboundMessage.not_before, OutboundMessage.id)
        )
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=OutboundMessage)
        limit = limit or 1000
        if mailbox_id is None:
            due = list(session.scalars(stmt.limit(limit)).all())
        else:
            # A send task holding several mailboxes: each gets its share of the batch, so
            # one mailbox's backlog never leaves the others' connections idle.
            ids = [mailbox_id] if isinstance(mailbox_id, int) else sorted(set(mailbox_id))
            share = max(1, -(-limit // max(1, len(ids))))
            due = [
                message
                for one in ids
                for message in session.scalars(
                    stmt.where(OutboundMessage.mailbox_id == one).limit(share)
                ).all()
            ]
        ahead = _ClaimReads.load(session, due, settings.resolved_secret_key())
        ahead.checks = deliverability.Gate.load(session, due, settings)  # consent, domains: gate.py
        ready = [
            item
            for message in fair_order(session, due)
            if (item := _check_one(session, message, now, settings, runtimes, report, ahead))
        ]
        # Capacity last, for the whole claim at once (one round trip on Redis), in order.
        decisions = limiter.acquire_many([item.ask for item in ready])
        for item, decision in zip(ready, decisions, strict=True):
            if decision.allowed:
                out.append(_sending(session, item, now, settings, token))
            else:
                assert decision.retry_at is not None
                reason = decision.reason or "capacity"
                hold(session, item.message, now, decision.retry_at, reason)
                report.held += 1
                report.held_reasons.append(decision.reason or "")
        _mark_sending(session, out, now)
    report.claimed = len(out)
    return out


class _Recipient(NamedTuple):
    """What the claim reads of a prospect: the name for To, the zone and calendar for the window."""

    first_name: str | None
    last_name: str | None
    timezone: str | None
    country: str | None
    region: str | None


class _EnrollmentState(NamedTuple):
    state: str
    state_reason: str | None


@dataclass
class _ClaimReads:
    """What the checks read for every due message, loaded in four queries (not four each).

    Only the columns the checks need: whole ORM rows cost more to build than everything
    else a claim does. The rare path that stops an enrollment loads that one row.
    """

    enrollments: dict[int, _EnrollmentState]
    mailboxes: dict[int, Mailbox]
    recipients: dict[int, _Recipient]  # by prospect id
    suppressed: dict[str, str]  # address → reason
    secret_key: str  # for unsubscribe tokens (may be read from a file: once per claim)
    checks: deliverability.Gate = field(default_factory=deliverability.Gate)

    @classmethod
    def load(cls, session: Session, due: list[OutboundMessage], secret_key: str) -> _ClaimReads:
        if not due:
            return cls({}, {}, {}, {}, secret_key)
        enrollment_ids = {m.enrollment_id for m in due}
        prospect_ids = {m.prospect_id for m in due}
        mailbox_ids = {m.mailbox_id for m in due}
        dialect = dialect_of(session)
        enrollments = session.execute(
            select(Enrollment.id, Enrollment.state, Enrollment.state_reason).where(
                any_of(Enrollment.id, enrollment_ids, dialect)
            )
        )
        recipients = session.execute(
            select(
                Prospect.id,
                Prospect.first_name,
                Prospect.last_name,
                Prospect.timezone,
                Prospect.country,
                Prospect.region,
            ).where(any_of(Prospect.id, prospect_ids, dialect))
        )
        mailboxes = session.scalars(select(Mailbox).where(any_of(Mailbox.id, mailbox_ids, dialect)))
        return cls(
            {row[0]: _EnrollmentState(*row[1:]) for row in enrollments},
            {m.id: m for m in mailboxes},
            {row[0]: _Recipient(*row[1:]) for row in recipients},
            suppressed_among(session, {m.to_address for m in due}),
            secret_key,
        )


def _mark_sending(session: Session, claimed: list[Claimed], now: datetime) -> None:
    """The claimed messages become `sending` (attempts + 1, lease), in one UPDATE.

    `_check_one` decided and recorded each transition; the ORM objects are left untouched,
    so the session never writes these rows a second time.
    """
    if not claimed:
        return
    table = cast(Table, OutboundMessage.__table__)
    dialect = dialect_of(session)
    by_lease: dict[tuple[datetime, str], list[int]] = {}  # one lease and token per claim
    for item in claimed:
        by_lease.setdefault((item.lease_until, item.token), []).append(item.id)
    for (lease_until, token), ids in by_lease.items():
        session.execute(
            update(table)
            .where(any_of(table.c.id, ids, dialect), table.c.state == MessageState.PLANNED)
            .values(
                state=MessageState.SENDING,
                lease_until=lease_until,
                claim_token=token,
                smtp_started_at=None,
                smtp_outcome=None,
                attempts=table.c.attempts + 1,
                held_reason=None,
                updated_at=now,
            )
        )


def fair_order(session: Session, due: list[OutboundMessage]) -> list[OutboundMessage]:
    """Follow-ups first (threads stay coherent), but every 5th place goes to a first touch.

    A follow-up is a message whose enrollment already has a sent email. Within each kind,
    the order is by `not_before`. When caps cut the list, first touches still get ≥ 20 %.
    """
    if not due:
        return []
    ids = {m.enrollment_id for m in due}
    # Every message of these enrollments (a handful each), filtered here: a `state` filter
    # in SQL lets the planner walk all sent messages by the state index when its
    # statistics think few are sent, instead of these enrollments' (enrollment_id, step_id).
    rows = session.execute(
        select(OutboundMessage.enrollment_id, OutboundMessage.state).where(
            any_of(OutboundMessage.enrollment_id, ids, dialect_of(session))
        )
    ).all()
    with_sent = {enrollment_id for enrollment_id, state in rows if state == MessageState.SENT}
    follow = [m for m in due if m.enrollment_id in with_sent]
    first = [m for m in due if m.enrollment_id not in with_sent]
    ordered: list[OutboundMessage] = []
    while follow or first:
        ordered.extend(follow[:FOLLOW_UPS_PER_FIRST_TOUCH])
        del follow[:FOLLOW_UPS_PER_FIRST_TOUCH]
        if first:
            ordered.append(first.pop(0))
    return ordered


@dataclass
class _Ready:
    """A message that passed every check but capacity: it goes if the limiter allows."""

    message: OutboundMessage
    mailbox: Mailbox
    email: OutgoingEmail
    data: bytes
    ask: Ask


def _check_one(
    session: Session,
    message: OutboundMessage,
    now: datetime,
    settings: Settings,
    runtimes: Runtimes,
    report: SendReport,
    ahead: _ClaimReads,
) -> _Ready | None:
    """Cancel, hold or re-plan `message`, or find it ready to go now: then it is returned,
    for the limiter to decide (`RateLimiter.acquire_many`, the claim's last check)."""
    enrollment = ahead.enrollments[message.enrollment_id]
    ended = enrollment.state in (EnrollmentState.STOPPED, EnrollmentState.FINISHED)
    # A person's answer from the inbox belongs to no step: it goes although the reply that
    # it answers stopped the sequence (engine.core.person_replies).
    by_person = person_replies.is_person_reply(message.step_id)
    if ended and not by_person:
        cancel(session, message, now, f"enrollment {enrollment.state}: {enrollment.state_reason}")
        report.cancelled += 1
        return None
    why = ahead.suppressed.get(message.to_address)
    if why is not None:
        reason = f"suppressed ({why})"
        cancel(session, message, now, reason)
        if not ended:
            stopping = session.get(Enrollment, message.enrollment_id)
            assert stopping is not None
            move(session, stopping, EnrollmentState.STOPPED, now, reason=reason)
        report.cancelled += 1
        return None
    # Consent and sending-domain checks (engine/outbound/gate.py): may it leave at all?
    held = ahead.checks.check(message, now)
    if held is not None:
        if held.skip:
            cancel(session, message, now, held.reason)
            deliverability.continue_without(session, message, now)
            report.cancelled += 1
        else:
            hold(session, message, now, held.until, held.reason)
            report.held += 1
            report.held_reasons.append(held.reason)
        return None
    mailbox = ahead.mailboxes[message.mailbox_id]
    recipient = ahead.recipients.get(message.prospect_id)
    runtime = runtimes.get(session, message.version_id)
    placement = (
        runtime.placement_in(
            recipient.timezone, mailbox, country=recipient.country, region=recipient.region
        )
        if recipient
        else runtime.placement_in(None, mailbox)
    )
    if not by_person and not placement.is_allowed(now):  # a person answers now
        slot = placement.next_slot(now, spread_key=f"{message.enrollment_id}:{message.step_id}")
        local = slot.local.strftime("%Y-%m-%d %H:%M")
        hold(
            session,
            message,
            now,
            slot.at,
            f"outside the send window; next slot {local} {slot.timezone} ({placement.tz_source})",
        )
        report.replanned += 1
        return None
    # --- contact limits across sequences (issue 13): the one call into contact_limits ---
    limited = contact_limits.check(session, message, placement, now)
    if limited is not None:
        hold(session, message, now, limited.until, limited.reason)
        report.held += 1
        report.held_reasons.append(limited.reason)
        return None
    # --- end of contact limits ---
    email = _outgoing(message, mailbox, recipient, settings, ahead.secret_key, now)
    try:  # built before `sending`: a refused header fails this message alone, cleanly
        data = build_mime(email)
    except InvalidInput as exc:
        reason = f"not sent: {exc}"
        cancel(session, message, now, reason)
        pausing = session.get(Enrollment, message.enrollment_id)
        if pausing is not None and pausing.state == EnrollmentState.ACTIVE:
            move(session, pausing, EnrollmentState.PAUSED, now, reason=reason)
        report.failed += 1
        return None
    domain = addresses.domain_of(message.to_address)
    return _Ready(
        message, mailbox, email, data, Ask(mailbox.id, domain, now, limits_for(mailbox, now))
    )


def _sending(
    session: Session, item: _Ready, now: datetime, settings: Settings, token: str
) -> Claimed:
    """The limiter allowed `item`: it goes (moved to `sending` by `_mark_sending`)."""
    message = item.message
    advance_message(MessageState(message.state), MessageState.SENDING)  # a legal move
    attempt = message.attempts + 1
    events.record(
        session, EventType.MESSAGE_SENDING, now, message=message, data={"attempt": attempt}
    )
    lease_until = now + timedelta(seconds=settings.send_lease_seconds)
    return Claimed(message.id, item.mailbox, item.email, lease_until, token, item.data)


def _outgoing(
    message: OutboundMessage,
    mailbox: Mailbox,
    recipient: _Recipient | None,
    settings: Settings,
    secret_key: str,
    now: datetime,
) -> OutgoingEmail:
    token = make_token(secret_key, message.id, addresses.key_of(message.to_address))
    to_name = None
    if recipient is not None:
        to_name = " ".join(p for p in (recipient.first_name, recipient.last_name) if p) or None
    return OutgoingEmail(
        from_address=message.from_address,
        from_name=mailbox.display_name,
        to_address=message.to_address,
        to_name=to_name,
        subject=message.subject,
        text=message.body_text,
        html=message.body_html,
        message_id=message.message_id,
        in_reply_to=message.in_reply_to,
        references=tuple(message.references or []),
        unsubscribe_url=f"{settings.public_url.rstrip('/')}/u/{token}",
        unsubscribe_mailto=mailbox.address,
        footer_text=settings.postal_address or None,
        date=now,
    )


def hold(
    session: Session, message: OutboundMessage, now: datetime, until: datetime, reason: str
) -> None:
    """Keep a message planned until `until`; one MESSAGE_HELD event per new reason."""
    kind = reason.split(";")[0]
    if (message.held_reason or "").split(";")[0] != kind:
        events.record(
            session,
            EventType.MESSAGE_HELD,
            now,
            message=message,
            data={"reason": reason, "until": until.isoformat()},
        )
    message.not_before = until
    message.held_reason = reason
    message.updated_at = now


def cancel(session: Session, message: OutboundMessage, now: datetime, reason: str) -> None:
    message.state = advance_message(MessageState(message.state), MessageState.CANCELLED)
    message.held_reason = reason
    message.updated_at = now
    events.record(
        session, EventType.MESSAGE_CANCELLED, now, message=message, data={"reason": reason}
    )


# --- send ----------------------------------------------------------------------------------


async def _send_group(
    db: Database,
    clock: Clock,
    factory: MailerFactory,
    group: list[Claimed],
    report: SendReport,
    stop: threading.Event | None,
    journal: Journal,
) -> None:
    """Send one mailbox's claimed messages over one connection, one after the other.

    Before each DATA, `journal.commit` records the previous message's outcome and this
    one's start together (committed while the envelope goes out): at any instant at most
    one message of this connection may be inside an SMTP transaction without its outcome
    committed.
    """
    mailbox = group[0].mailbox
    pending = list(group)
    done: Outcome | None = None
    unsent: list[Outcome] = []
    reach = _Reach()
    try:
        password = mailboxes.read_password(mailbox.password_env, os.environ)
        async with factory(mailbox, password) as mailer:
            while pending:
                if stop is not None and stop.is_set():
                    break
                item = pending.pop(0)
                try:
                    data = item.data or build_mime(item.email)
                except Exception as exc:  # nothing was sent: refused like a temporary failure
                    log.warning("message %s cannot be built: %s", item.id, _describe(exc))
                    why = f"the message cannot be built: {_describe(exc)}"
                    unsent.append((item.id, item.token, _no_send(why)))
                    continue
                # The previous outcome and this start are committed while MAIL FROM and
                # RCPT TO go out; DATA waits for that commit (engine.mail.smtp.BeforeData).
                start = asyncio.ensure_future(journal.commit([done] if done else [], item))
                done = None
                try:
                    result = await mailer.send(
                        item.email.from_address,
                        item.email.to_address,
                        data,
                        before_data=_started(start),
                    )
                except _NotOurs:
                    continue  # re-planned or resolved meanwhile: withdrawn before DATA
                except Exception as exc:
                    if _failed(start):  # the start could not be committed: nothing was sent
                        await start  # raises the database's error, as a failed commit does
                    # We cannot know whether DATA went through: proof or a person decides.
                    log.warning("send of message %s raised %s", item.id, type(exc).__name__)
                    result = SendResult(SendOutcome.AMBIGUOUS, None, None, _describe(exc))
                # Refused before DATA: the start still lands before the outcome is recorded.
                if not await start:
                    continue  # no longer ours: what this attempt learned is not ours to record
                done = (item.id, item.token, result)
                reach.saw(result)
                if result.outcome == SendOutcome.MAILBOX_ERROR:
                    break
            if done is not None:  # recorded before the connection's QUIT
                await journal.commit([done], None)
                done = None
    except mailboxes.MissingPassword as exc:
        # Sending without the password would only earn a "530 authentication required";
        # nothing was started, so the message's outcome is recorded as not sent.
        failed = SendResult(
            SendOutcome.MAILBOX_ERROR, None, None, str(exc), FailureKind.PASSWORD_MISSING
        )
        first_item = pending.pop(0)
        unsent.append((first_item.id, first_item.token, failed))
        reach.saw(failed)
    except Exception as exc:
        # Opening (or closing) the connection failed: nothing unsent was transmitted.
        log.warning("mailbox %s: %s", mailbox.name, _describe(exc))
        retry = SendResult(
            SendOutcome.RETRY, None, None, f"connection: {_describe(exc)}", kind_of(exc)
        )
        reach.saw(retry)
        unsent.extend((item.id, item.token, retry) for item in pending)
        pending = []
    if done is not None:
        unsent.insert(0, done)
    if unsent:
        await journal.commit(unsent, None)
    if reach.known:
        links.note(db, clock, mailbox.id, links.SMTP, reach.failure)
    # Shutdown or a mailbox error: the rest were never started, back to planned untouched.
    report.released += leases.release_unstarted(
        db,
        clock,
        [(item.id, item.token) for item in pending],
        "not attempted (stopped before its turn)",
    )


class _NotOurs(Exception):
    """The message was re-planned or resolved while its envelope went out: withdraw it."""


def _started(start: asyncio.Future[bool]) -> Callable[[], Awaitable[None]]:
    """The BeforeData hook: DATA goes out only once this message's start is committed and
    the message is still ours (journal.commit's answer)."""

    async def before_data() -> None:
        if not await asyncio.shield(start):
            raise _NotOurs

    return before_data


def _failed(start: asyncio.Future[bool]) -> bool:
    return start.done() and not start.cancelled() and start.exception() is not None


def _no_send(why: str) -> SendResult:
    return SendResult(SendOutcome.RETRY, None, None, why)


class _Reach:
    """Whether one mailbox's SMTP server was reached in this batch (engine.workspace.links)."""

    def __init__(self) -> None:
        self.known = False
        self.failure: tuple[FailureKind, str] | None = None

    def saw(self, result: SendResult) -> None:
        kind = result.unreachable
        if kind is None and result.outcome == SendOutcome.MAILBOX_ERROR:
            kind = kind_of_text(result.message)
        if kind is not None:
            self.known, self.failure = True, (kind, result.message)
        elif result.code is not None and self.failure is None:
            self.known = True  # the server answered: reached


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
