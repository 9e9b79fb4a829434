"""The pure parts of the SMTP transport: transparency and reply parsing."""

from __future__ import annotations

import pytest

from engine.mail.smtp import (
    SendOutcome,
    SmtpSender,
    _dot_stuff,
    _is_loopback,
    _pre_data_reply,
    _reply,
)
from engine.mail.urls import parse_smtp_url


def test_dot_stuffing_and_end_marker() -> None:
    assert _dot_stuff(b"a\r\n.\r\n..b\r\nc") == b"a\r\n..\r\n...b\r\nc\r\n.\r\n"
    assert _dot_stuff(b".first\nsecond\n") == b"..first\r\nsecond\r\n.\r\n"


def test_reply_parses_the_enhanced_status() -> None:
    result = _reply(
        SendOutcome.REJECTED, 550, "5.1.1 <x@y>: Recipient\n address rejected", "at RCPT TO"
    )
    assert result.status == "5.1.1"
    assert result.message == "550 5.1.1 <x@y>: Recipient address rejected (at RCPT TO)"
    assert _reply(SendOutcome.REJECTED, 550, "No such user", "").status is None
    assert _reply(SendOutcome.REJECTED, 550, "5.1.10 Null MX", "").status == "5.1.10"


def test_pre_data_classification() -> None:
    assert _pre_data_reply(451, "4.7.1 later", "at RCPT TO").result.outcome is SendOutcome.RETRY
    assert _pre_data_reply(421, "4.4.2 bye", "at MAIL FROM").fresh_retry
    assert _pre_data_reply(550, "5.1.1 no", "at RCPT TO").result.outcome is SendOutcome.REJECTED
    sender = _pre_data_reply(553, "5.7.1 not owned", "at MAIL FROM", sender=True)
    assert sender.result.outcome is SendOutcome.MAILBOX_ERROR
    auth = _pre_data_reply(530, "5.7.0 Authentication required", "at RCPT TO")
    assert auth.result.outcome is SendOutcome.MAILBOX_ERROR


def test_loopback_hosts() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("mail.acme.example") and not _is_loopback("10.0.0.1")


@pytest.mark.anyio
async def test_password_is_never_sent_in_clear_to_a_remote_host() -> None:
    # Refused before any connection is made: the host does not even need to exist.
    sender = SmtpSender(parse_smtp_url("smtp://anna@mail.invalid"), password="pw", timeout=1)
    result = await sender.send("anna@acme.example", "erik@x.example", b"x")
    assert result.outcome is SendOutcome.MAILBOX_ERROR
    assert "unencrypted" in result.message and "pw" not in result.message.split(":", 1)[1]
