"""The pure parts of the SMTP transport: transparency and reply parsing."""

from __future__ import annotations

from engine.mail.smtp import SendOutcome, _dot_stuff, _pre_data_reply, _reply


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
