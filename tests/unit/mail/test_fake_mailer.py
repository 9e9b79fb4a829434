from __future__ import annotations

import pytest

from engine.mail.smtp import Mailer, SendOutcome, SendResult
from engine.testing.mailer import FakeMailer

pytestmark = pytest.mark.anyio


async def test_records_and_follows_scripts() -> None:
    custom = SendResult(SendOutcome.REJECTED, 552, "5.2.2", "552 5.2.2 Mailbox full")
    mailer = FakeMailer(
        outcomes={
            "Grey@x.example": [SendOutcome.RETRY, SendOutcome.ACCEPTED],
            "full@x.example": custom,
        }
    )
    port: Mailer = mailer  # the fake satisfies the port
    assert (await port.send("a@acme.example", "ok@x.example", b"1")).outcome == "accepted"
    assert (await port.send("a@acme.example", "grey@x.example", b"2")).outcome == "retry"
    assert (await port.send("a@acme.example", "grey@x.example", b"2")).outcome == "accepted"
    assert await port.send("a@acme.example", "full@x.example", b"3") == custom
    assert [c.recipient for c in mailer.calls] == [
        "ok@x.example",
        "grey@x.example",
        "grey@x.example",
        "full@x.example",
    ]
    assert [m.data for m in mailer.sent] == [b"1", b"2"]
    await mailer.close()
    assert mailer.closed
