"""Long-lived SMTP connections: one per mailbox per process, on one event loop per process.

A worker process (and `kadenz run`) sends batch after batch; opening a connection (TCP,
EHLO, STARTTLS, AUTH) and an event loop for every batch cost more than the batch's own
SMTP exchange on a fast server. `SendLoop` keeps one event loop for the process and one
`SmtpSender` per mailbox on it, handed to `send_due_async` as its mailer factory:

- a connection idle for longer than `idle_seconds` is closed and opened afresh at its next
  use (servers drop idle sessions; RFC 5321 4.5.3.2 lets them after 5 minutes);
- a connection whose batch ended in an error is closed, so the next batch starts clean;
- a mailbox whose SMTP URL, username or password changed gets a new connection.

Nothing here decides what is sent: claims, starts and outcomes stay in `send.py`. A
connection the server dropped between batches is detected at the next MAIL FROM and
reopened by `SmtpSender` (nothing was sent on it, so that is safe).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine.mail.smtp import Mailer
from engine.store.models import Mailbox

log = logging.getLogger(__name__)

T = TypeVar("T")
IDLE_SECONDS = 30.0  # well under the 5 minutes a server may wait before dropping us

# (mailbox, password) → an async context manager giving a Mailer (send.MailerFactory).
Opener = Callable[[Mailbox, str | None], AbstractAsyncContextManager[Mailer]]


@dataclass
class _Pooled:
    key: str
    manager: Any  # what the opener returned: an async context manager
    mailer: Mailer  # what entering it gave
    last_used: float


@dataclass
class SendLoop:
    """One event loop and one SMTP connection per mailbox, for the life of a process."""

    opener: Opener
    idle_seconds: float = IDLE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _loop: asyncio.AbstractEventLoop | None = None
    _pool: dict[int, _Pooled] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the process's loop (the connections live on it between runs)."""
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    def factory(
        self, mailbox: Mailbox, password: str | None
    ) -> AbstractAsyncContextManager[Mailer]:
        """The mailer factory for `send_due_async`: the mailbox's kept connection."""
        return self._lease(mailbox, password)

    @asynccontextmanager
    async def _lease(self, mailbox: Mailbox, password: str | None) -> AsyncIterator[Mailer]:
        key = _key(mailbox, password)
        pooled = self._pool.get(mailbox.id)
        now = self.clock()
        if pooled is not None and (pooled.key != key or now - pooled.last_used > self.idle_seconds):
            await self._close(mailbox.id)
            pooled = None
        if pooled is None:
            manager = self.opener(mailbox, password)
            mailer = await manager.__aenter__()
            pooled = self._pool[mailbox.id] = _Pooled(key, manager, mailer, now)
        try:
            yield pooled.mailer
        except BaseException:
            await self._close(mailbox.id)  # its state is unknown: the next batch starts clean
            raise
        pooled.last_used = self.clock()

    async def _close(self, mailbox_id: int) -> None:
        pooled = self._pool.pop(mailbox_id, None)
        if pooled is not None:
            try:
                await pooled.manager.__aexit__(None, None, None)
            except Exception as exc:  # closing a broken connection: nothing left to lose
                log.debug("closing the connection of mailbox %s: %s", mailbox_id, exc)

    def close(self) -> None:
        """QUIT every kept connection and close the loop (process shutdown)."""
        if self._loop is None or self._loop.is_closed():
            return
        for mailbox_id in list(self._pool):
            self._loop.run_until_complete(self._close(mailbox_id))
        self._loop.close()


def _key(mailbox: Mailbox, password: str | None) -> str:
    """What makes a connection reusable for the mailbox; the password only as a digest."""
    digest = hashlib.sha256((password or "").encode()).hexdigest()[:16]
    return f"{mailbox.smtp_url}|{mailbox.username or ''}|{digest}"
