"""Human replies in English and German, with quoted history and signatures."""

from __future__ import annotations

import pytest

from engine.core.classification import InboundClass, ReplyIntent
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb

ORIGINAL = "Hi Erik,\n\nwould a 15-minute call next week make sense? Not interested? Just say.\n"
EN_QUOTE = mb.quoted(
    ORIGINAL, "On Wed, 25 Feb 2026 at 09:00, Anna Berg <anna@kadenz.example> wrote:"
)
DE_QUOTE = mb.quoted(
    ORIGINAL, "Am Mi., 25. Feb. 2026 um 09:00 Uhr schrieb Anna Berg <anna@kadenz.example>:"
)
OUTLOOK_DE = (
    "________________________________\nVon: Anna Berg <anna@kadenz.example>\n"
    "Gesendet: Mittwoch, 25. Februar 2026 09:00\nAn: Erik Lund\nBetreff: Quick question\n\n"
    + ORIGINAL
)


@pytest.mark.parametrize(
    ("body", "intent", "phrase"),
    [
        (
            "Sounds good, let's talk. Send me times for Tuesday.\n\n-- \nErik\n" + EN_QUOTE,
            ReplyIntent.POSITIVE,
            "sounds good",
        ),
        (
            "Thanks, but we're not interested.\n\nSent from my iPhone\n" + EN_QUOTE,
            ReplyIntent.NEGATIVE,
            "not interested",
        ),
        (
            "Please remove me from your list.\n" + EN_QUOTE,
            ReplyIntent.UNSUBSCRIBE_REQUEST,
            "remove me",
        ),
        (
            "I'm not the right person. Please contact jane.doe@acme.example, she runs ops.\n"
            + EN_QUOTE,
            ReplyIntent.REFERRAL,
            "not the right person",
        ),
        ("What does it cost per seat?\n" + EN_QUOTE, ReplyIntent.QUESTION, '"?"'),
        (
            "Gerne, klingt interessant. Wann passt Ihnen ein Termin?\n\nViele Grüße\nErik\n"
            + DE_QUOTE,
            ReplyIntent.POSITIVE,
            "gerne",
        ),
        (
            "Danke, aber wir haben kein Interesse.\n\nVon meinem iPhone gesendet\n" + DE_QUOTE,
            ReplyIntent.NEGATIVE,
            "kein interesse",
        ),
        (
            "Bitte austragen, keine weiteren E-Mails.\n" + OUTLOOK_DE,
            ReplyIntent.UNSUBSCRIBE_REQUEST,
            "bitte austragen",
        ),
        (
            "Dafür ist meine Kollegin zuständig, wenden Sie sich bitte an "
            "petra.schmidt@acme.example.\n" + DE_QUOTE,
            ReplyIntent.REFERRAL,
            "meine kollegin",
        ),
        (
            "Wie funktioniert die Integration mit Salesforce\n" + DE_QUOTE,
            ReplyIntent.QUESTION,
            "wie",
        ),
    ],
)
def test_reply_intent(body: str, intent: ReplyIntent, phrase: str) -> None:
    result = classify(mb.reply(body))
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.intent is intent
    assert any(phrase in e for e in result.evidence), result.evidence
    # The quoted history never leaks into the reply text (it says "Not interested?").
    assert result.reply_text is not None
    assert "15-minute" not in result.reply_text


def test_referral_extracts_the_colleague_address() -> None:
    body = "Please reach out to my colleague Jane (jane.doe@acme.example).\n" + EN_QUOTE
    result = classify(mb.reply(body))
    assert result.intent is ReplyIntent.REFERRAL
    assert result.referral == "jane.doe@acme.example"


def test_threading_tokens_newest_first() -> None:
    raw = mb.reply(
        "Let's talk.",
        in_reply_to="<b@kadenz.example>",
        references="<a@kadenz.example> <b@kadenz.example>",
    )
    result = classify(raw)
    assert result.message_id == "CAF=reply.123@mail.acme.example"
    assert result.in_reply_to == ("b@kadenz.example", "a@kadenz.example")
    assert result.from_address == "erik@acme.example"
    assert result.subject == "Re: Quick question, Erik"


def test_bare_message_id_tokens_are_understood() -> None:
    raw = mb.reply("ok", in_reply_to="b@kadenz.example")
    assert classify(raw).in_reply_to == ("b@kadenz.example",)


def test_html_only_reply_is_read() -> None:
    raw = mb.reply(
        "",
        html="<html><body><p>Not interested, thanks.</p><blockquote>On Wed Anna wrote: "
        "interested?</blockquote></body></html>",
    )
    result = classify(raw)
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.intent is ReplyIntent.NEGATIVE


def test_negated_positive_is_not_positive() -> None:
    result = classify(mb.reply("We are not interested at this point."))
    assert result.intent is ReplyIntent.NEGATIVE
