"""The phrase table per language, and the rule that codes decide the class first.

Each language gets the three questions a server's words may settle (address, mailbox, policy)
on a free-text bounce without codes, and one check that a 5xx never becomes soft by wording."""

from __future__ import annotations

import pytest

from engine.core.classification import InboundClass
from engine.inbound.classifier import bounce_reasons, phrases
from engine.inbound.classifier.classify import classify

HARD, SOFT, BLOCKED = InboundClass.HARD_BOUNCE, InboundClass.SOFT_BOUNCE, InboundClass.BLOCKED

# language → (address unknown, mailbox full, refused as spam) as a server would write them.
SAMPLES = {
    "en": ("No such user here", "Mailbox is full", "Message refused as spam"),
    "de": ("Der Empfänger ist unbekannt", "Das Postfach ist voll", "Als Spam abgelehnt"),
    "fr": ("L'adresse référencée n'existe pas", "Boîte aux lettres pleine", "Pollupostage refusé"),
    "es": ("El usuario es desconocido", "Buzón lleno", "Rechazado por política antispam"),
    "it": ("Utente sconosciuto", "Casella di posta piena", "Rifiutato per politica antispam"),
    "nl": ("Gebruiker onbekend", "Mailbox is vol", "Geweigerd wegens beleid"),
    "pt": ("Usuário desconhecido", "Caixa postal cheia", "Rejeitado por política antispam"),
    "pl": ("Użytkownik nieznany", "Skrzynka jest pełna", "Odrzucona przez filtr antyspamowy"),
}


def _bounce(text: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\nTo: anna@kadenz.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nReturn-Path: <>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Your message could not be delivered to:\r\n\r\n  erik@acme.example\r\n\r\n"
        f"  {text}\r\n"
    ).encode()


def test_every_language_of_the_issue_has_a_row() -> None:
    assert set(phrases.LANGUAGES) | {"en"} == set(SAMPLES)
    for table in phrases.LANGUAGES.values():
        assert set(table) == {"address", "full", "disabled", "policy", "temporary"}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_server_words_per_language(language: str) -> None:
    unknown, full, spam = SAMPLES[language]
    for text, kind in ((unknown, HARD), (full, SOFT), (spam, BLOCKED)):
        result = classify(_bounce(text))
        assert result.kind is kind, (language, text, result.evidence)
        assert result.recipients == ("erik@acme.example",)


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_a_permanent_code_is_never_softened_by_unknown_words(language: str) -> None:
    # The words say nothing we know ("unknown, soft" was the old answer): the 5xx decides.
    reason = bounce_reasons.classify_reason(None, f"550 {language}: xyzzy plugh", "", "550")
    assert reason.kind is HARD
    assert reason.evidence == "reply code 550"


def test_codes_decide_permanence_and_words_only_refine() -> None:
    cr = bounce_reasons.classify_reason
    assert cr("5.1.1", "550 5.1.1 try again later", "failed", "550").kind is HARD
    assert cr("5.7.1", "550 5.7.1 No such user", "failed", "550").kind is HARD
    assert cr("5.1.1", "550 5.1.1 mailbox full", "failed", "550").kind is SOFT
    assert cr("4.2.2", "452 4.2.2 user unknown", "delayed", "452").kind is SOFT
    assert cr("5.0.0", "554 no reason", "failed", "554").kind is BLOCKED
    assert cr(None, "xyzzy", "", None).kind is SOFT  # no code, no known words: unknown


def test_a_version_number_in_an_echoed_subject_is_no_status() -> None:
    raw = _bounce("Subject: [Mailman-Developers] RELEASED Mailman 2.0.12\r\n\r\nUnknown user")
    result = classify(raw)
    assert result.status is None
    assert result.kind is HARD


def test_footers_and_disclaimers_never_decide() -> None:
    raw = _bounce(
        "550 5.1.1 User unknown\r\n\r\n"
        "____\r\nThis email has been scanned for viruses and spam by ExampleScan.\r\n"
    )
    assert classify(raw).kind is HARD


def test_a_wrapped_550_reply_is_unfolded() -> None:
    raw = _bounce(
        "host mx.acme.example said: 550-5.1.1 The email account that you\r\n"
        "    550-5.1.1 tried to reach does not exist.\r\n"
    )
    result = classify(raw)
    assert (result.kind, result.status) == (HARD, "5.1.1")


def test_a_reply_to_mail_from_is_about_our_sender() -> None:
    raw = _bounce(
        "SMTP error from remote mail server after MAIL FROM:<anna@kadenz.example>:\r\n"
        "    553 5.1.0 kadenz.example does not exist\r\n"
    )
    assert classify(raw).kind is BLOCKED


def test_screen_names_listed_by_the_recipients_own_system() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@mail.acme.example>\r\n"
        b"To: anna@kadenz.example\r\nSubject: Mail Delivery Problem\r\n\r\n"
        b"Your mail to the following recipients could not be delivered because they are\r\n"
        b"not accepting mail from anna@kadenz.example:\r\n\terik\r\n"
    )
    result = classify(raw)
    assert (result.kind, result.recipients) == (BLOCKED, ("erik@mail.acme.example",))


def test_expanded_from_gives_the_address_we_sent_to() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: anna@kadenz.example\r\n"
        b"Subject: Returned mail: see transcript for details\r\n\r\n"
        b"   ----- The following addresses had permanent fatal errors -----\r\n"
        b"erik.lund@mail.acme.example\r\n    (reason: 550 5.1.1 User unknown)\r\n"
        b"    (expanded from: <Erik@acme.example>)\r\n"
    )
    result = classify(raw)
    assert result.recipients == ("erik@acme.example",)
    assert result.extra["final_recipients"] == "erik.lund@mail.acme.example"
