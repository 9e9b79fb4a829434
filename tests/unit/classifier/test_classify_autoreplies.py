"""Out-of-office and other automatic replies, English and German, with return dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.core.classification import AutoReplyKind, InboundClass
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb


@pytest.mark.parametrize(
    ("subject", "headers", "body", "expected_date", "evidence"),
    [
        (
            "Automatic reply: Quick question",
            {"Auto-Submitted": "auto-replied"},
            "I am out of the office until March 3rd, 2026 with limited access to email.",
            date(2026, 3, 3),
            "header Auto-Submitted: auto-replied",
        ),
        (
            "Out of Office: Quick question",
            {"X-MS-Exchange-Inbox-Rules-Loop": "erik@acme.example"},
            "Thanks for your message. I'm on vacation and will be back on 9 March.",
            date(2026, 3, 9),
            "header X-MS-Exchange-Inbox-Rules-Loop",
        ),
        (
            "Re: Quick question",
            {"X-Autoreply": "yes"},
            "Out of office, returning 03/10/2026.",
            date(2026, 3, 10),
            "header X-Autoreply: yes",
        ),
        (
            "Abwesenheitsnotiz: Quick question",
            {"Auto-Submitted": "auto-replied"},
            "Vielen Dank für Ihre Nachricht. Ich bin bis zum 3. März nicht im Büro.",
            date(2026, 3, 3),
            "header Auto-Submitted: auto-replied",
        ),
        (
            "Automatische Antwort: Quick question",
            {"Precedence": "auto_reply"},
            "Ich bin im Urlaub und ab dem 04.03.2026 wieder erreichbar.",
            date(2026, 3, 4),
            "header Precedence: auto_reply",
        ),
        (
            "Out of office",
            {},
            "I am out of the office and back 2026-03-16.",
            date(2026, 3, 16),
            'subject "out of office"',
        ),
    ],
)
def test_out_of_office_with_return_date(
    subject: str, headers: dict[str, str], body: str, expected_date: date, evidence: str
) -> None:
    result = classify(mb.reply(body, subject=subject, headers=headers))
    assert result.kind is InboundClass.AUTO_REPLY
    assert result.auto_reply_kind is AutoReplyKind.OUT_OF_OFFICE
    assert result.return_date == expected_date
    assert evidence in result.evidence


def test_return_date_without_year_needs_the_messages_date() -> None:
    raw = mb.reply(
        "Out of office until 3 January.",
        subject="Automatic reply",
        headers={"Auto-Submitted": "auto-replied"},
        date=datetime(2026, 12, 22, 9, 0, tzinfo=UTC),
    )
    assert classify(raw).return_date == date(2027, 1, 3)


def test_ticket_acknowledgement_is_another_auto_reply() -> None:
    raw = mb.reply(
        "We have received your request. Ticket #4411 has been opened.",
        subject="[Support] We received your message",
        headers={"Auto-Submitted": "auto-generated"},
    )
    result = classify(raw)
    assert result.kind is InboundClass.AUTO_REPLY
    assert result.auto_reply_kind is AutoReplyKind.OTHER
    assert result.return_date is None


def test_a_person_saying_vacation_is_not_an_auto_reply() -> None:
    result = classify(mb.reply("Back from vacation, let's talk next week!"))
    assert result.kind is InboundClass.HUMAN_REPLY
