"""Auto-replies by RFC 3834 headers and per-language subjects; return dates from ranges."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.core.classification import AutoReplyKind, InboundClass
from engine.inbound.classifier import autoreply, dates
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb

SUBJECTS = {
    "en": "Automatic reply: Quick question",
    "de": "Abwesenheitsnotiz: Quick question",
    "fr": "Réponse automatique : Quick question",
    "es": "Respuesta automática: Quick question",
    "it": "Risposta automatica: Quick question",
    "nl": "Automatisch antwoord: Quick question",
    "pt": "Resposta automática: Quick question",
    "pl": "[Automatyczna odpowiedź] Quick question",
}


def test_every_language_has_subjects() -> None:
    assert set(autoreply.AUTO_SUBJECT_BY_LANGUAGE) == set(SUBJECTS)
    assert set(autoreply.OOO_BY_LANGUAGE) == set(SUBJECTS)


@pytest.mark.parametrize("language", sorted(SUBJECTS))
def test_auto_reply_subject_per_language(language: str) -> None:
    raw = mb.reply("Some text.", subject=SUBJECTS[language], headers={"Precedence": "junk"})
    result = classify(raw)
    assert result.kind is InboundClass.AUTO_REPLY, (language, result.evidence)


@pytest.mark.parametrize(
    "header", [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"), ("X-Autorespond", "1")]
)
def test_rfc_3834_and_vendor_headers(header: tuple[str, str]) -> None:
    result = classify(mb.reply("Hello.", subject="Re: hi", headers=dict([header])))
    assert result.kind is InboundClass.AUTO_REPLY


def test_challenge_response_is_an_auto_reply_not_a_bounce() -> None:
    body = (
        "Your message has been held. Please click the link below to be added to my\n"
        "approved senders list: https://cr.example.net/v/1\n"
    )
    result = classify(mb.reply(body, subject="Re: Quick question"))
    assert (result.kind, result.auto_reply_kind) == (InboundClass.AUTO_REPLY, AutoReplyKind.OTHER)


@pytest.mark.parametrize(
    ("text", "sent", "expected"),
    [
        # A range gives the end; its start never borrows the end's "back".
        ("I am away from 22 December and back on 5 January.", date(2026, 12, 18), date(2027, 1, 5)),
        ("Out of office from March 2 until March 9.", date(2026, 2, 27), date(2026, 3, 9)),
        ("Ich bin vom 02.03. bis 06.03. nicht im Büro.", date(2026, 2, 27), date(2026, 3, 6)),
        ("Away 2 March - 6 March inclusive.", date(2026, 2, 27), date(2026, 3, 7)),
        ("On leave through 6 March.", date(2026, 2, 27), date(2026, 3, 7)),
    ],
)
def test_return_date_of_a_range_is_its_end(text: str, sent: date, expected: date) -> None:
    assert dates.find_return_date(text, sent)[0] == expected


def test_the_year_comes_from_the_messages_own_date() -> None:
    when = datetime(2026, 12, 18, 9, 0, tzinfo=UTC)
    raw = mb.reply(
        "Out of office. I am away from 22 December and back on 5 January.",
        subject="Out of office",
        date=when,
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert classify(raw).return_date == date(2027, 1, 5)
