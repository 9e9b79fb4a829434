"""Poll the team's mailboxes over IMAP and ingest what arrived.

At-least-once fetching plus idempotent ingest gives an exactly-once effect: a folder's
checkpoint (UIDVALIDITY + last UID) is saved only after every message up to it has been
ingested and committed. A message whose ingest fails holds the checkpoint back, so it is
fetched again next time; one bad message never stops the poll of the others.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select

from engine.clock import Clock
from engine.inbound.ingest import Classifier, ingest
from engine.mail.failures import FailureKind, kind_of
from engine.store.db import Database
from engine.store.models import ImapCheckpoint, Mailbox
from engine.workspace import links, mailboxes

log = logging.getLogger(__name__)

DEFAULT_FOLDERS = ("INBOX",)
FETCH_LIMIT = 500  # messages per folder per poll; the rest come next poll
FETCH_TIMEOUT = 60.0


class Fetched(Protocol):
    folder: str
    uid: int
    raw: bytes


@dataclass(frozen=True)
class Checkpoint:
    folder: str
    uidvalidity: int
    last_uid: int


# fetch(imap_url, username, password, folders, checkpoints) -> (messages, new checkpoints)
Fetch = Callable[
    [str, str | None, str | None, list[str], dict[str, Checkpoint]],
    tuple[list[Any], Mapping[str, Any]],
]


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    ingested: int = 0
    duplicates: int = 0
    failed: int = 0
    error: str | None = None  # the whole mailbox could not be polled (login, network…)
    fix: str | None = None  # what to do about `error` (engine.mail.failures)
    kinds: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if self.error:
            fix = f" — fix: {self.fix}" if self.fix else ""
            return f"{self.mailbox}: not polled: {self.error}{fix}"
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items())) or "nothing new"
        return (
            f"{self.mailbox}: {self.fetched} fetched, {self.ingested} new, "
            f"{self.duplicates} already seen, {self.failed} failed ({kinds})"
        )


def imap_fetch(
    imap_url: str,
    username: str | None,
    password: str | None,
    folders: list[str],
    checkpoints: dict[str, Checkpoint],
) -> tuple[list[Any], Mapping[str, Any]]:
    """The real fetcher: engine.mail.imap.fetch_new (plain imaplib, run in this thread)."""
    from engine.mail import imap, urls

    endpoint = urls.parse_imap_url(imap_url)
    if username and not endpoint.username:  # the mailbox's username fills in the URL's gap
        endpoint = dataclasses.replace(endpoint, username=username)
    theirs = {
        name: imap.FolderCheckpoint(name, cp.uidvalidity, cp.last_uid)
        for name, cp in checkpoints.items()
    }
    messages, new = imap.fetch_new(
        endpoint, password, folders, theirs, limit=FETCH_LIMIT, timeout=FETCH_TIMEOUT
    )
    return list(messages), dict(new)


def poll_all(
    db: Database,
    clock: Clock,
    settings: object | None = None,
    *,
    fetch: Fetch | None = None,
    classifier: Classifier | None = None,
    env: Mapping[str, str] | None = None,
) -> list[PollReport]:
    """Poll every mailbox with an IMAP URL (paused ones too: replies still arrive). Never raises."""
    dark_after = dark_limit(settings)
    with db.session() as session:
        ids = list(
            session.scalars(
                select(Mailbox.id).where(Mailbox.imap_url.is_not(None)).order_by(Mailbox.id)
            )
        )
    return [
        poll_mailbox(
            db,
            clock,
            mailbox_id,
            fetch=fetch,
            classifier=classifier,
            env=env,
            dark_after=dark_after,
        )
        for mailbox_id in ids
    ]


def dark_limit(settings: object | None) -> timedelta | None:
    """`KADENZ_INBOUND_DARK_MINUTES` as a duration; None when unset or 0 (never pause)."""
    minutes = getattr(settings, "inbound_dark_minutes", None)
    return timedelta(minutes=float(minutes)) if minutes else None


def poll_mailbox(
    db: Database,
    clock: Clock,
    mailbox_id: int,
    *,
    fetch: Fetch | None = None,
    classifier: Classifier | None = None,
    env: Mapping[str, str] | None = None,
    dark_after: timedelta | None = None,
) -> PollReport:
    """Fetch and ingest one mailbox's new mail. A mailbox that cannot be read is recorded
    (engine.workspace.links: logged with the fix, counted, shown, and its sending paused
    after `dark_after`); a good poll clears that. Never raises for a mailbox problem."""
    env = os.environ if env is None else env
    with db.session() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        if mailbox is None:
            return PollReport(mailbox=f"#{mailbox_id}", error="no such mailbox")
        name, url = mailbox.name, mailbox.imap_url
        username = mailboxes.login_name(mailbox.username, mailbox.address)  # as for SMTP
        folders = list(mailbox.imap_folders or DEFAULT_FOLDERS)
        password_env = mailbox.password_env
        saved = {
            cp.folder: Checkpoint(cp.folder, cp.uidvalidity, cp.last_uid)
            for cp in session.scalars(
                select(ImapCheckpoint).where(ImapCheckpoint.mailbox_id == mailbox_id)
            )
        }
    report = PollReport(mailbox=name)
    if not url:
        report.error = "no imap_url configured"
        return report
    try:
        password = mailboxes.read_password(password_env, env)
    except mailboxes.MissingPassword as exc:
        report.error = str(exc)
        failure = (FailureKind.PASSWORD_MISSING, str(exc))
        problem = links.note(db, clock, mailbox_id, links.IMAP, failure, dark_after=dark_after)
        report.fix = problem.fix if problem else None
        return report
    try:
        messages, new_checkpoints = (fetch or imap_fetch)(url, username, password, folders, saved)
    except Exception as exc:  # a network or login problem ends this mailbox's poll only
        report.error = f"{type(exc).__name__}: {exc}"[:300]
        kind = getattr(exc, "kind", None)
        kind = kind if isinstance(kind, FailureKind) else kind_of(exc)
        failure = (kind, str(exc) or type(exc).__name__)
        problem = links.note(db, clock, mailbox_id, links.IMAP, failure, dark_after=dark_after)
        report.fix = problem.fix if problem else None
        return report
    links.note(db, clock, mailbox_id, links.IMAP, None)
    report.fetched = len(messages)
    failed_uids: dict[str, int] = {}  # folder -> lowest UID that failed
    for item in sorted(messages, key=lambda m: (m.folder, m.uid)):
        try:
            result = ingest(
                db,
                clock,
                bytes(item.raw),
                source="imap",
                mailbox_id=mailbox_id,
                classifier=classifier,
            )
        except Exception as exc:
            report.failed += 1
            failed_uids[item.folder] = min(failed_uids.get(item.folder, item.uid), item.uid)
            log.error(
                "poll.ingest_failed mailbox=%s folder=%s uid=%s error=%s",
                name,
                item.folder,
                item.uid,
                type(exc).__name__,
            )
            continue
        if result.duplicate:
            report.duplicates += 1
        else:
            report.ingested += 1
            report.kinds[result.kind] = report.kinds.get(result.kind, 0) + 1
    _save_checkpoints(db, clock, mailbox_id, saved, new_checkpoints, failed_uids)
    return report


def _save_checkpoints(
    db: Database,
    clock: Clock,
    mailbox_id: int,
    saved: dict[str, Checkpoint],
    new: Mapping[str, Any],
    failed_uids: dict[str, int],
) -> None:
    now = clock.now()
    with db.session() as session:
        rows = {
            cp.folder: cp
            for cp in session.scalars(
                select(ImapCheckpoint).where(ImapCheckpoint.mailbox_id == mailbox_id)
            )
        }
        for folder, cp in new.items():
            uidvalidity, last_uid = int(cp.uidvalidity), int(cp.last_uid)
            if folder in failed_uids:
                # Hold back to just before the first failure: it is fetched again next poll.
                last_uid = min(last_uid, failed_uids[folder] - 1)
                old = saved.get(folder)
                if old is not None and old.uidvalidity == uidvalidity:
                    last_uid = max(last_uid, old.last_uid)
            row = rows.get(folder)
            if row is None:
                session.add(
                    ImapCheckpoint(
                        mailbox_id=mailbox_id,
                        folder=folder,
                        uidvalidity=uidvalidity,
                        last_uid=last_uid,
                        updated_at=now,
                    )
                )
            else:
                row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, last_uid, now
