"""Resolving ambiguous messages by proof: the copy in the sending mailbox's Sent folder.

An `ambiguous` message's SMTP transaction may have begun, and its end is unknown. Where
the mailbox has IMAP, its Sent folder is searched for the message's own Message-ID
(engine.mail.imap.search_sent):

- a copy is there → `sent`, with that evidence (the submission reached the provider);
- no copy, the folder searched at least KADENZ_SENT_PROOF_GRACE_SECONDS after the message
  became ambiguous, and the provider files *every* SMTP submission in Sent (the mailbox's
  `sent_folder_files_submissions`; by default known for Gmail and Microsoft 365, by host)
  → back to `planned`: nothing was submitted, so the next claim sends it (same Message-ID,
  re-checked);
- otherwise it stays `ambiguous` for a person (`kadenz message resolve ID --sent|--failed`).

Every verdict is an event (`message.resolved`, with `by`, `verdict` and `evidence`), which
`kadenz message resolve ID` shows. Runs on the poll interval (`kadenz run`, and the workers'
`kadenz.resolve_by_proof`) and on demand (`kadenz message resolve ID` without a verdict).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.events import EventType
from engine.core.states import MessageState, advance_message
from engine.mail import imap, urls
from engine.outbound.outcomes import mark_sent
from engine.outbound.resolve import attempt_at
from engine.settings import Settings
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import Event, Mailbox, OutboundMessage

log = logging.getLogger(__name__)

# Providers documented to save every message submitted over authenticated SMTP into the
# account's Sent folder (Google: "Gmail SMTP … a copy is saved in Sent Mail"; Microsoft:
# SMTP AUTH client submission saves to Sent Items). Keyed by the IMAP or SMTP host.
FILING_PROVIDERS = {
    "imap.gmail.com": "Gmail",
    "smtp.gmail.com": "Gmail",
    "imap.googlemail.com": "Gmail",
    "smtp.googlemail.com": "Gmail",
    "outlook.office365.com": "Microsoft 365",
    "smtp.office365.com": "Microsoft 365",
}
SEARCH_DAYS = 14  # ambiguous for longer: only a person looks at it again
SEARCH_TIMEOUT = 30.0


@dataclass(frozen=True)
class MailboxAccess:
    """What a search needs of a mailbox (no ORM object crosses the IMAP call)."""

    name: str
    imap_url: str
    username: str | None
    password_env: str | None
    sent_folder: str | None


# search(access, password, message_ids) -> imap.SentSearch; raises imap.ImapError
Search = Callable[[MailboxAccess, str | None, list[str]], imap.SentSearch]


@dataclass
class Verdict:
    message_id: int
    state: str  # the message's state afterwards
    by_proof: bool  # decided now, by the search
    evidence: str


def files_submissions(mailbox: Mailbox) -> tuple[bool, str]:
    """Whether the provider files every SMTP submission in Sent, and why we think so."""
    if mailbox.sent_folder_files_submissions is not None:
        said = "does" if mailbox.sent_folder_files_submissions else "does not"
        return mailbox.sent_folder_files_submissions, f"mailbox setting: the provider {said}"
    for url in (mailbox.imap_url, mailbox.smtp_url):
        host = (urlsplit(url or "").hostname or "").lower()
        if host in FILING_PROVIDERS:
            return True, f"{FILING_PROVIDERS[host]} ({host}) files every submission in Sent"
    return False, "provider not known to file every submission in Sent"


def imap_search(access: MailboxAccess, password: str | None, ids: list[str]) -> imap.SentSearch:
    """The real search: engine.mail.imap.search_sent on the mailbox's IMAP URL."""
    endpoint = urls.parse_imap_url(access.imap_url)
    if access.username and not endpoint.username:
        endpoint = dataclasses.replace(endpoint, username=access.username)
    return imap.search_sent(
        endpoint, password, ids, folder=access.sent_folder, timeout=SEARCH_TIMEOUT
    )


def resolve_by_proof(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    message_ids: list[int] | None = None,
    search: Search | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Verdict]:
    """Search the Sent folders for ambiguous messages and apply what the search proves.

    Without `message_ids`: every message ambiguous for less than SEARCH_DAYS whose mailbox
    has IMAP. Never raises for a mailbox that cannot be searched: its messages stay
    ambiguous, and the verdict says why.
    """
    env = os.environ if env is None else env
    now = clock.now()
    grace = timedelta(seconds=settings.sent_proof_grace_seconds)
    work = _ambiguous_by_mailbox(db, now, message_ids)
    verdicts: list[Verdict] = []
    for access, wanted in work:
        if not access.imap_url:
            verdicts += [
                Verdict(m, MessageState.AMBIGUOUS, False, "the mailbox has no IMAP: no proof")
                for m, _, _ in wanted
            ]
            continue
        password = env.get(access.password_env) if access.password_env else None
        try:
            found = (search or imap_search)(access, password, [h for _, h, _ in wanted])
        except (imap.ImapError, ValueError) as exc:
            log.warning(
                "sent_proof.search_failed mailbox=%s error=%s fix=check the IMAP settings",
                access.name,
                exc,
            )
            verdicts += [
                Verdict(m, MessageState.AMBIGUOUS, False, f"Sent folder not searched: {exc}")
                for m, _, _ in wanted
            ]
            continue
        verdicts += _apply(db, clock, found, wanted, grace)
    decided = [v for v in verdicts if v.by_proof]
    if decided:
        log.info("sent_proof.resolved count=%d", len(decided))
    return verdicts


def _ambiguous_by_mailbox(
    db: Database, now: datetime, message_ids: list[int] | None
) -> list[tuple[MailboxAccess, list[tuple[int, str, datetime]]]]:
    """(mailbox, [(message id, Message-ID, ambiguous since)]) for the messages to search."""
    with db.session() as session:
        since = (
            select(Event.outbound_id, func.max(Event.at).label("at"))
            .where(Event.type == EventType.MESSAGE_AMBIGUOUS)
            .group_by(Event.outbound_id)
            .subquery()
        )
        stmt = (
            select(OutboundMessage.id, OutboundMessage.message_id, since.c.at, Mailbox)
            .join(Mailbox, Mailbox.id == OutboundMessage.mailbox_id)
            .outerjoin(since, since.c.outbound_id == OutboundMessage.id)
            .where(OutboundMessage.state == MessageState.AMBIGUOUS)
            .order_by(OutboundMessage.id)
        )
        if message_ids is not None:
            stmt = stmt.where(OutboundMessage.id.in_(message_ids))
        else:
            stmt = stmt.where(
                Mailbox.imap_url.is_not(None),
                OutboundMessage.updated_at >= now - timedelta(days=SEARCH_DAYS),
            )
        grouped: dict[int, tuple[MailboxAccess, list[tuple[int, str, datetime]]]] = {}
        for message_id, header_id, at, mailbox in session.execute(stmt).all():
            if mailbox.id not in grouped:
                access = MailboxAccess(
                    mailbox.name,
                    mailbox.imap_url or "",
                    mailbox.username or mailbox.address,
                    mailbox.password_env,
                    mailbox.sent_folder,
                )
                grouped[mailbox.id] = (access, [])
            grouped[mailbox.id][1].append((message_id, header_id, at or now))
        return list(grouped.values())


def _apply(
    db: Database,
    clock: Clock,
    found: imap.SentSearch,
    wanted: list[tuple[int, str, datetime]],
    grace: timedelta,
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    with db.session() as session:
        now = clock.now()
        for message_id, header_id, since in wanted:
            message = session.get(OutboundMessage, message_id, with_for_update=True)
            if message is None or message.state != MessageState.AMBIGUOUS:
                continue  # decided meanwhile (a person, a late reply)
            mailbox = session.get(Mailbox, message.mailbox_id)
            assert mailbox is not None
            where = f"{found.folder!r} of mailbox {mailbox.name}"
            if found.found.get(header_id.strip("<>")):
                evidence = (
                    f"a copy with Message-ID <{header_id}> is in {where} "
                    f"(IMAP SEARCH at {now:%Y-%m-%d %H:%M} UTC)"
                )
                mark_sent(session, message, attempt_at(session, message) or now)
                _resolved(session, message, now, "sent", evidence)
                verdicts.append(Verdict(message_id, message.state, True, evidence))
                continue
            files, why = files_submissions(mailbox)
            waited = now - since
            if files and waited >= grace:
                evidence = (
                    f"no copy with Message-ID <{header_id}> in {where} "
                    f"{_minutes(waited)} after the send ({why}): it was never submitted"
                )
                _replan(message, now, evidence)
                _resolved(session, message, now, "planned", evidence)
                verdicts.append(Verdict(message_id, message.state, True, evidence))
                continue
            later = (
                f"; searched again until {_minutes(grace)} have passed"
                if files
                else f" ({why}): a person decides"
            )
            verdicts.append(
                Verdict(
                    message_id,
                    message.state,
                    False,
                    f"no copy with Message-ID <{header_id}> in {where} yet{later}",
                )
            )
    return verdicts


def _replan(message: OutboundMessage, now: datetime, evidence: str) -> None:
    message.state = advance_message(MessageState.AMBIGUOUS, MessageState.PLANNED)
    message.claim_token = None  # a late outcome of the old claim no longer counts
    message.smtp_started_at = None
    message.lease_until = None
    message.not_before = now
    message.held_reason = f"re-planned by proof: {evidence}"
    message.updated_at = now


def _resolved(
    session: Session, message: OutboundMessage, now: datetime, verdict: str, evidence: str
) -> None:
    events.record(
        session,
        EventType.MESSAGE_RESOLVED,
        now,
        message=message,
        data={"by": "proof", "verdict": verdict, "evidence": evidence},
    )


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"
