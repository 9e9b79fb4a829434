"""Delivery reports and complaints built as complete RFC 5322 messages."""

from __future__ import annotations

from engine.core.classification import InboundClass
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb


def test_hard_bounce_names_recipient_status_and_our_message_id() -> None:
    raw = mb.dsn(
        [("erik@acme.example", "failed", "5.1.1", "550 5.1.1 <erik@acme.example>: User unknown")]
    )
    result = classify(raw)
    assert result.kind is InboundClass.HARD_BOUNCE
    assert result.recipients == ("erik@acme.example",)
    assert result.status == "5.1.1"
    assert result.original_message_id == "seq-1.step-intro.42@kadenz.example"
    assert "DSN Status: 5.1.1 for erik@acme.example" in result.evidence
    assert result.confidence >= 0.9


def test_embedded_original_addresses_are_never_blamed() -> None:
    original = mb.our_message(to="erik@acme.example, jane@acme.example", cc="boss@acme.example")
    raw = mb.dsn(
        [("erik@acme.example", "failed", "5.1.1", "550 5.1.1 User unknown")], original=original
    )
    result = classify(raw)
    assert result.recipients == ("erik@acme.example",)
    assert "jane@acme.example" not in result.recipients
    assert "boss@acme.example" not in result.recipients


def test_free_text_bounce_ignores_addresses_in_the_copied_message() -> None:
    body = (
        "Hi. This is the qmail-send program at mx.acme.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<erik@acme.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "From: Anna Berg <anna@kadenz.example>\nTo: erik@acme.example, jane@acme.example\n"
        "Message-ID: <seq-1.step-intro.42@kadenz.example>\nSubject: Quick question\n\nHi\n"
    )
    raw = mb.reply(
        body, sender="MAILER-DAEMON@mx.acme.example", subject="failure notice", in_reply_to=""
    )
    result = classify(raw)
    assert result.kind is InboundClass.HARD_BOUNCE
    assert result.recipients == ("erik@acme.example",)
    assert result.original_message_id == "seq-1.step-intro.42@kadenz.example"


def test_several_recipients_in_one_report() -> None:
    raw = mb.dsn(
        [
            ("erik@acme.example", "failed", "5.2.2", "552 5.2.2 Mailbox full"),
            ("jane@acme.example", "failed", "5.2.2", "552 5.2.2 Mailbox full"),
        ]
    )
    result = classify(raw)
    assert result.kind is InboundClass.SOFT_BOUNCE
    assert result.recipients == ("erik@acme.example", "jane@acme.example")


def test_blocked_by_policy_is_not_the_addresses_fault() -> None:
    raw = mb.dsn(
        [
            (
                "erik@acme.example",
                "failed",
                "5.7.1",
                "550 5.7.1 Service unavailable; client host "
                "[192.0.2.9] blocked using zen.spamhaus.org",
            )
        ]
    )
    result = classify(raw)
    assert result.kind is InboundClass.BLOCKED
    assert result.diagnostic is not None and "spamhaus" in result.diagnostic


def test_delayed_dsn_is_a_soft_bounce() -> None:
    raw = mb.dsn(
        [("erik@acme.example", "delayed", "4.4.1", "Connection timed out")],
        subject="Delayed Mail (still being retried)",
    )
    assert classify(raw).kind is InboundClass.SOFT_BOUNCE


def test_success_dsn_is_delivered_never_a_bounce() -> None:
    raw = mb.dsn(
        [("erik@acme.example", "delivered", "2.0.0", "250 2.0.0 OK")],
        human_text="Your message was successfully delivered to the destination(s).\n",
        subject="Successful Mail Delivery Report",
        headers_only=True,
    )
    result = classify(raw)
    assert result.kind is InboundClass.DELIVERED
    assert result.recipients == ("erik@acme.example",)
    assert result.original_message_id == "seq-1.step-intro.42@kadenz.example"


def test_arf_complaint_reads_original_rcpt_to() -> None:
    result = classify(mb.arf())
    assert result.kind is InboundClass.COMPLAINT
    assert result.recipients == ("erik@acme.example",)
    assert "ARF Feedback-Type: abuse" in result.evidence
    assert result.original_message_id == "seq-1.step-intro.42@kadenz.example"


def test_arf_without_original_rcpt_to_uses_the_embedded_to() -> None:
    result = classify(mb.arf(original_rcpt_to=None))
    assert result.kind is InboundClass.COMPLAINT
    assert result.recipients == ("erik@acme.example",)
