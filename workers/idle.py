"""`kadenz idle`: the IMAP IDLE watchers of a Celery deployment, in one long-running process.

Celery tasks must not block for ever, so IDLE does not live in a task: this process keeps
one watcher thread per mailbox (engine.inbound.idle) and, when a server announces new mail,
enqueues the ordinary `kadenz.poll_mailbox` task for that mailbox, which any worker on the
`kadenz.poll` queue runs. Beat's polls stay the fallback. Run one (a second one only
enqueues harmless extra polls); docs/operations.md.
"""

from __future__ import annotations

import logging
import threading

from engine.inbound.idle import Watchers
from workers import runtime
from workers.app import app

log = logging.getLogger("kadenz.workers")


def ring(mailbox_id: int) -> None:
    """Enqueue the poll task (routed to the `kadenz.poll` queue like beat's polls)."""
    app.send_task("kadenz.poll_mailbox", args=[mailbox_id])


def run(stop: threading.Event) -> None:
    """Watch every mailbox with an IMAP inbox until `stop`; new mailboxes are picked up on
    the poll interval."""
    s = runtime.services()
    watchers = Watchers(s.db, s.clock, s.settings, ring=ring, stop=stop)
    try:
        while not stop.is_set():
            started = watchers.sync()
            if started:
                log.info("idle: watching mailboxes %s", ", ".join(map(str, started)))
            stop.wait(s.settings.poll_seconds)
    finally:
        watchers.close()
