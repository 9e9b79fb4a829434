"""The rule tables on their own: return dates, bounce reasons, quote stripping."""

from __future__ import annotations

from datetime import date

import pytest

from engine.core.classification import InboundClass
from engine.inbound.classifier.bounce_reasons import classify_reason
from engine.inbound.classifier.dates import find_return_date
from engine.inbound.classifier.reply import strip_reply

REF = date(2026, 2, 27)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("I will be back on 3 March.", REF, date(2026, 3, 3)),
        ("Out until March 3rd, 2026.", None, date(2026, 3, 3)),
        ("returning 03/03/2026", None, date(2026, 3, 3)),
        ("Ich bin bis zum 3. März nicht im Büro.", REF, date(2026, 3, 3)),
        ("Ab dem 04.03.2026 bin ich wieder erreichbar.", None, date(2026, 3, 4)),
        ("back 2026-03-09", None, date(2026, 3, 9)),
        ("out from 2 March to 6 March", REF, date(2026, 3, 6)),
        ("vom 2. bis einschließlich 6. März im Urlaub", REF, date(2026, 3, 7)),
        ("back in the office on Monday, 9 March", REF, date(2026, 3, 9)),
        ("back on Monday", REF, date(2026, 3, 2)),
        ("I will be back on 3 March.", None, None),  # no year, no reference: unknown
        ("See you at the conference on 3 March.", REF, None),  # not a return date
    ],
)
def test_return_dates(text: str, reference: date | None, expected: date | None) -> None:
    assert find_return_date(text, reference)[0] == expected


@pytest.mark.parametrize(
    ("status", "diagnostic", "expected"),
    [
        (
            "5.1.1",
            "550 5.1.1 <erik@acme.example>: Recipient address rejected: User unknown",
            InboundClass.HARD_BOUNCE,
        ),
        ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", InboundClass.HARD_BOUNCE),
        ("5.0.0", "550 No such user here", InboundClass.HARD_BOUNCE),
        ("5.2.2", "552 5.2.2 Mailbox full", InboundClass.SOFT_BOUNCE),
        ("4.2.2", "452 4.2.2 Over quota", InboundClass.SOFT_BOUNCE),
        (
            None,
            "Delivery temporarily suspended: connect to mx.acme.example: timed out",
            InboundClass.SOFT_BOUNCE,
        ),
        (
            "5.7.1",
            "554 5.7.1 Service unavailable; blocked using zen.spamhaus.org",
            InboundClass.BLOCKED,
        ),
        (
            "5.7.26",
            "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy",
            InboundClass.BLOCKED,
        ),
        (
            "4.7.0",
            "421 4.7.0 Messages temporarily deferred due to poor reputation",
            InboundClass.BLOCKED,
        ),
        ("5.7.1", "550 5.7.1 Rejected", InboundClass.BLOCKED),
        ("5.4.7", "", InboundClass.SOFT_BOUNCE),
    ],
)
def test_bounce_reasons(status: str | None, diagnostic: str, expected: InboundClass) -> None:
    assert classify_reason(status, diagnostic).kind is expected


def test_address_words_in_diagnostics_do_not_decide() -> None:
    reason = classify_reason("5.1.1", "550 5.1.1 <spam-filter@acme.example>: User unknown")
    assert reason.kind is InboundClass.HARD_BOUNCE


@pytest.mark.parametrize(
    "text",
    [
        "Yes please.\n\nOn Tue, Anna <a@k.example> wrote:\n> hello",
        "Yes please.\n\n-----Original Message-----\nFrom: Anna\n",
        "Yes please.\n\n-----Ursprüngliche Nachricht-----\nVon: Anna\n",
        "Yes please.\n\nFrom: Anna Berg <a@k.example>\nSent: Tuesday\nTo: Erik\n",
        "Yes please.\n-- \nErik Lund | CTO",
        "Yes please.\n\nSent from my iPhone",
        "Yes please.\n\nAm 25.02.2026 um 09:00 schrieb Anna Berg <a@k.example>:\n> hallo",
    ],
)
def test_strip_reply_keeps_only_the_new_text(text: str) -> None:
    assert strip_reply(text) == "Yes please."
