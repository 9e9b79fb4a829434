"""The process's kept SMTP connections: reused across batches, reopened after an idle
timeout, a changed password or an error; closed with QUIT at shutdown."""

from __future__ import annotations

from types import TracebackType
from typing import ClassVar

import pytest

from engine.mail.smtp import BeforeData, SendOutcome, SendResult, go_ahead
from engine.outbound.connections import SendLoop
from engine.store.models import Mailbox


class FakeConnection:
    opened: ClassVar[list[FakeConnection]] = []

    def __init__(self, password: str | None) -> None:
        self.password = password
        self.closed = False
        FakeConnection.opened.append(self)

    async def __aenter__(self) -> FakeConnection:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.closed = True

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        await before_data()  # nothing goes out before the start is committed
        return SendResult(SendOutcome.ACCEPTED, 250, None, "250 OK")


def _box() -> Mailbox:
    return Mailbox(id=1, name="anna", address="anna@acme.example", smtp_url="smtp://h:25")


def test_a_connection_is_kept_across_batches_and_reopened_when_stale() -> None:
    FakeConnection.opened = []
    now = [0.0]
    pool = SendLoop(lambda mailbox, pw: FakeConnection(pw), idle_seconds=30, clock=lambda: now[0])
    box = _box()

    async def batch(password: str | None = "pw") -> object:
        async with pool.factory(box, password) as mailer:
            return mailer

    try:
        first = pool.run(batch())
        now[0] = 20
        assert pool.run(batch()) is first  # the next batch streams into the same connection
        now[0] = 55  # idle for 35 s: the server may have dropped it
        second = pool.run(batch())
        assert second is not first and first.closed  # type: ignore[attr-defined]
        third = pool.run(batch("new password"))  # a changed password: a new login
        assert third is not second and second.closed  # type: ignore[attr-defined]

        async def failing() -> None:
            async with pool.factory(box, "new password"):
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            pool.run(failing())
        assert third.closed  # type: ignore[attr-defined]
        fourth = pool.run(batch("new password"))
        assert fourth is not third
    finally:
        pool.close()
    assert all(c.closed for c in FakeConnection.opened)
    assert len(FakeConnection.opened) == 4
