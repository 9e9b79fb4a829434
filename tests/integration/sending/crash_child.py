"""Run as a subprocess by test_crash.py: claim and send one message, then die mid-send.

argv: DATABASE_URL HOME WHEN   (WHEN = before-data | after-data | second-send)

second-send: the first message is accepted, then the process dies in the second one's send
(its start committed, the third still queued behind it).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from types import TracebackType

from engine.clock import VirtualClock
from engine.mail.smtp import BeforeData, SendResult, SmtpSender, go_ahead
from engine.mail.urls import parse_smtp_url
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox
from tests.integration.sending.factory import advance_to_due

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class DyingMailer:
    def __init__(self, mailbox: Mailbox, when: str) -> None:
        self.inner = SmtpSender(parse_smtp_url(mailbox.smtp_url), password=None, timeout=5)
        self.when = when
        self.sends = 0

    async def __aenter__(self) -> DyingMailer:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.inner.__aexit__(t, e, tb)

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        self.sends += 1
        if self.when == "second-send":
            if self.sends == 2:
                await before_data()
                os._exit(9)  # its start is committed, its DATA never went out
            return await self.inner.send(envelope_from, recipient, data, before_data=before_data)
        if self.when == "before-data":
            await before_data()  # the moment just before DATA: its start is committed
            os._exit(9)  # the process dies: no cleanup, no except, no finally
        if self.when == "before-start":
            os._exit(9)  # during MAIL FROM / RCPT TO, before the start was committed
        result = await self.inner.send(envelope_from, recipient, data, before_data=before_data)
        os._exit(9)  # the server accepted it, but we die before recording that
        return result


def main() -> None:
    url, home, when = sys.argv[1:4]
    db = Database(url)
    settings = Settings(home=home, secret_key="s", database_url=url)
    clock = VirtualClock(START)
    tick(db, clock, settings)
    advance_to_due(db, clock)
    send_due(db, clock, settings, lambda mailbox, _pw: DyingMailer(mailbox, when))
    sys.exit(0)  # not reached


if __name__ == "__main__":
    main()
