"""Whether each mailbox can be reached, and what happens when it cannot (DESIGN invariant 12).

Every poll (IMAP) and every send batch (SMTP) reports here. A failure is logged as an
error naming the fix, counted (`kadenz metrics`), shown in `/api/v1/health` and on the
dashboard's mailbox page. When a mailbox's *inbound* stays dark longer than
`KADENZ_INBOUND_DARK_MINUTES`, its sending is paused — replies nobody can see must not keep
sequences going — and the next successful poll lifts that pause again. A person who resumes
the mailbox during the outage overrides it until the next outage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.mail.failures import FailureKind, fix
from engine.store.db import Database
from engine.store.models import Mailbox, MailboxLink
from engine.workspace import mailboxes

log = logging.getLogger("kadenz.mailboxes")

IMAP = "imap"  # reading replies and bounces
SMTP = "smtp"  # sending

# A reachable mailbox's `last_ok_at` is refreshed at most this often: a busy sender reports
# after every batch, many times a second, and rewriting the same row each time only costs.
# A failure is always written, and so is the first success after one.
OK_REFRESH = timedelta(seconds=60)


@dataclass(frozen=True)
class Problem:
    """A mailbox direction that failed at its last attempt."""

    mailbox: str
    direction: str
    kind: str
    error: str
    fix: str
    failing_since: datetime
    sending_paused: bool

    def line(self) -> str:
        paused = "; sending paused" if self.sending_paused else ""
        return (
            f"{self.mailbox} {self.direction} unreachable since "
            f"{self.failing_since:%Y-%m-%d %H:%M} UTC ({self.kind}: {self.error}){paused} "
            f"— fix: {self.fix}"
        )


def _link(session: Session, mailbox_id: int, direction: str) -> MailboxLink:
    row = session.scalars(
        select(MailboxLink).where(
            MailboxLink.mailbox_id == mailbox_id, MailboxLink.direction == direction
        )
    ).first()
    if row is None:
        row = MailboxLink(
            mailbox_id=mailbox_id, direction=direction, failures_total=0, paused_sending=False
        )
        session.add(row)
    return row


def note(
    db: Database,
    clock: Clock,
    mailbox_id: int,
    direction: str,
    failure: tuple[FailureKind, str] | None,
    *,
    dark_after: timedelta | None = None,
) -> Problem | None:
    """Record one attempt's result in its own transaction: None = reached, else (kind, error).
    Returns the problem recorded. Never raises: recording must not break a poll or a send
    (a failure to record is logged with its traceback)."""
    for attempt in (1, 2):  # two processes may create the same row at once: retry once
        try:
            with db.session() as session:
                box = session.get(Mailbox, mailbox_id)
                if box is None:
                    return None
                if failure is None:
                    record_ok(session, box, direction, clock.now())
                    return None
                return record_failure(
                    session, box, direction, clock.now(), *failure, dark_after=dark_after
                )
        except IntegrityError:
            if attempt == 2:
                log.exception("mailbox.link_not_recorded mailbox_id=%s", mailbox_id)
        except Exception:
            log.exception("mailbox.link_not_recorded mailbox_id=%s", mailbox_id)
            break
    return None


def record_ok(session: Session, mailbox: Mailbox, direction: str, at: datetime) -> None:
    """The mailbox answered: clear the outage, and lift a pause that the outage caused."""
    row = _link(session, mailbox.id, direction)
    fresh = row.last_ok_at is not None and timedelta(0) <= at - row.last_ok_at < OK_REFRESH
    if fresh and row.failing_since is None and not row.paused_sending:
        return  # reachable, and said so moments ago: nothing to write
    if row.failing_since is not None:
        log.info(
            "mailbox.reachable mailbox=%s direction=%s after=%ss",
            mailbox.name,
            direction,
            int((at - row.failing_since).total_seconds()),
        )
    row.last_ok_at, row.failing_since = at, None
    row.error_kind = row.error = row.fix = None
    if row.paused_sending:
        row.paused_sending = False
        if mailbox.paused:
            mailboxes.resume(
                session, mailbox.name, at=at, reason=f"{direction} reachable again (automatic)"
            )


def record_failure(
    session: Session,
    mailbox: Mailbox,
    direction: str,
    at: datetime,
    kind: FailureKind,
    error: str,
    *,
    dark_after: timedelta | None = None,
) -> Problem:
    """Log, count and keep the failure; pause sending once the inbound has been dark for
    `dark_after` (None or zero: never)."""
    row = _link(session, mailbox.id, direction)
    error = " ".join(error.split())[:500]
    remedy = fix(kind, mailbox=mailbox.name, direction=direction, password_env=mailbox.password_env)
    if row.failing_since is None:
        row.failing_since = at
    row.last_failure_at, row.error_kind, row.error, row.fix = at, str(kind), error, remedy
    row.failures_total = (row.failures_total or 0) + 1
    log.error(
        "mailbox.unreachable mailbox=%s direction=%s kind=%s since=%s error=%r fix=%r",
        mailbox.name,
        direction,
        kind,
        row.failing_since.isoformat(),
        error,
        remedy,
    )
    dark = at - row.failing_since
    if (
        direction == IMAP
        and dark_after
        and dark >= dark_after
        and not row.paused_sending
        and not mailbox.paused
    ):
        row.paused_sending = True
        minutes = int(dark.total_seconds() // 60)
        mailboxes.pause(
            session,
            mailbox.name,
            at=at,
            reason=(
                f"inbound dark for {minutes} min (IMAP {kind}: {error}); replies cannot be "
                f"read, so sending waits; lifts itself at the next good poll — fix: {remedy}"
            ),
        )
        log.error(
            "mailbox.sending_paused mailbox=%s reason=inbound_dark minutes=%d fix=%r",
            mailbox.name,
            minutes,
            remedy,
        )
    return _problem(mailbox, row)


def problems(session: Session) -> list[Problem]:
    """Every mailbox direction whose last attempt failed, by mailbox name."""
    rows = session.execute(
        select(Mailbox, MailboxLink)
        .join(MailboxLink, MailboxLink.mailbox_id == Mailbox.id)
        .where(MailboxLink.failing_since.is_not(None))
        .order_by(Mailbox.name, MailboxLink.direction)
    ).all()
    return [_problem(box, link) for box, link in rows]


def all_links(session: Session) -> list[tuple[str, MailboxLink]]:
    """(mailbox name, link) for every direction ever tried."""
    rows = session.execute(
        select(Mailbox.name, MailboxLink)
        .join(MailboxLink, MailboxLink.mailbox_id == Mailbox.id)
        .order_by(Mailbox.name, MailboxLink.direction)
    ).all()
    return [(name, link) for name, link in rows]


def _problem(mailbox: Mailbox, row: MailboxLink) -> Problem:
    assert row.failing_since is not None
    return Problem(
        mailbox=mailbox.name,
        direction=row.direction,
        kind=row.error_kind or "",
        error=row.error or "",
        fix=row.fix or "",
        failing_since=row.failing_since,
        sending_paused=bool(row.paused_sending and mailbox.paused),
    )
