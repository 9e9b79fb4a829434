"""Replies seen in seconds: one IMAP IDLE watcher per mailbox that rings for a poll.

`Watchers` keeps one daemon thread per mailbox with an IMAP inbox. Each logs in, checks
that the server offers IDLE (RFC 2177), and waits on the mailbox's first folder (INBOX by
default); when the server announces new mail it calls `ring(mailbox_id)`, and the listener
polls that mailbox the ordinary way (`poll.poll_mailbox`), so checkpoints and dedupe stay
in one place. Polling on `KADENZ_POLL_SECONDS` stays the fallback for everything else:
servers without IDLE, the other folders, and any mail announced while a watcher was down.

- IDLE is renewed every `KADENZ_IDLE_SECONDS` (default 25 min, below RFC 2177's 29).
- After every (re)connect the watcher rings once, to catch what arrived while it was away.
- A dropped connection is retried after a second; a failed login or connect is recorded like a
  failed poll (engine.workspace.links: logged with the fix, counted, shown in health) and
  retried with exponential backoff from 1 s to 5 min.

The embedded runner rings into its own loop (engine.embedded.runner); the Celery side runs
`kadenz idle`, whose ring enqueues the poll task (docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.clock import Clock
from engine.inbound.poll import DEFAULT_FOLDERS, dark_limit
from engine.mail import urls
from engine.mail.failures import FailureKind
from engine.mail.imap import ImapError
from engine.mail.imap_idle import Doorbell
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox
from engine.workspace import links, mailboxes

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0
Ring = Callable[[int], None]


@dataclass(frozen=True)
class _Target:
    name: str
    endpoint: urls.Endpoint
    password_env: str | None
    folder: str


def _target(db: Database, mailbox_id: int) -> _Target | None:
    with db.session() as session:
        box = session.get(Mailbox, mailbox_id)
        if box is None or not box.imap_url:
            return None
        endpoint = mailboxes.login_endpoint(
            urls.parse_imap_url(box.imap_url), username=box.username, address=box.address
        )
        folder = (box.imap_folders or list(DEFAULT_FOLDERS))[0]
        return _Target(box.name, endpoint, box.password_env, folder)


def watch(
    db: Database,
    clock: Clock,
    settings: Settings,
    mailbox_id: int,
    ring: Ring,
    stop: threading.Event,
    *,
    env: Mapping[str, str] | None = None,
) -> str:
    """Watch one mailbox until `stop`; returns why it ended ("stopped", "no IDLE", …)."""
    env = os.environ if env is None else env
    backoff = BACKOFF_FIRST
    while not stop.is_set():
        target = _target(db, mailbox_id)
        if target is None:
            return "no IMAP inbox"
        bell: Doorbell | None = None
        try:
            bell = Doorbell(
                target.endpoint, mailboxes.read_password(target.password_env, env), target.folder
            )
            if not bell.open():
                log.info(
                    "idle.unsupported mailbox=%s: the server offers no IDLE; polling every %gs",
                    target.name,
                    settings.poll_seconds,
                )
                return "no IDLE"
        except (ImapError, mailboxes.MissingPassword) as exc:
            kind = getattr(exc, "kind", FailureKind.PASSWORD_MISSING)
            failure = (kind, str(exc))
            links.note(db, clock, mailbox_id, links.IMAP, failure, dark_after=dark_limit(settings))
            stop.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            continue
        links.note(db, clock, mailbox_id, links.IMAP, None)
        log.info("idle.watching mailbox=%s folder=%s", target.name, target.folder)
        backoff = BACKOFF_FIRST
        ring(mailbox_id)  # whatever arrived while we were not listening
        try:
            while not stop.is_set():
                if bell.wait(settings.idle_seconds, stop):
                    ring(mailbox_id)
        except ImapError as exc:
            # Servers drop idle connections now and then: reconnect at once; a reconnect
            # that fails is recorded above.
            log.warning("idle.dropped mailbox=%s error=%s; reconnecting", target.name, exc)
            stop.wait(BACKOFF_FIRST)  # never a tight loop against a server that keeps dropping
        finally:
            bell.close()
    return "stopped"


@dataclass
class Watchers:
    """One IDLE watcher thread per mailbox with an IMAP inbox; `sync()` adds new ones."""

    db: Database
    clock: Clock
    settings: Settings
    ring: Ring
    stop: threading.Event = field(default_factory=threading.Event)
    env: Mapping[str, str] | None = None
    threads: dict[int, threading.Thread] = field(default_factory=dict)

    def sync(self) -> list[int]:
        """Start a watcher for every mailbox with an inbox that has none running."""
        if self.stop.is_set():
            return []
        with self.db.session() as session:
            ids = list(session.scalars(select(Mailbox.id).where(Mailbox.imap_url.is_not(None))))
        started = []
        for mailbox_id in ids:
            if mailbox_id in self.threads:
                continue  # running, or ended for good (no IDLE on that server)
            thread = threading.Thread(
                target=self._run, args=(mailbox_id,), name=f"idle-{mailbox_id}", daemon=True
            )
            self.threads[mailbox_id] = thread
            thread.start()
            started.append(mailbox_id)
        return started

    def _run(self, mailbox_id: int) -> None:
        try:
            watch(
                self.db, self.clock, self.settings, mailbox_id, self.ring, self.stop, env=self.env
            )
        except Exception:  # a bug must not end silently: say so; polling carries on
            log.exception("idle.crashed mailbox_id=%s; polling continues", mailbox_id)

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for thread in self.threads.values():
            thread.join(timeout)
