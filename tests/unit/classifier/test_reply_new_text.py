"""New-text extraction and the traps around it: quoted words, quoted question marks, footers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.core.classification import InboundClass, ReplyIntent
from engine.inbound.classifier.classify import classify
from engine.inbound.classifier.quoting import new_text
from engine.inbound.classifier.reply import read_intent, unsubscribe_subject
from tests.support import mailbuilder as mb

FOOTER = "Not interested? Reply 'unsubscribe' and you will not hear from us again."


@pytest.mark.parametrize(
    "quoted",
    [
        f"On Wed, 25 Feb 2026 at 09:00, Anna <anna@kadenz.example> wrote:\n> {FOOTER}\n",
        f"*From:* Anna Berg <anna@kadenz.example>\n*Sent:* Wednesday\n*To:* Erik\n\n{FOOTER}\n",
        f"Am 25.02.2026 um 09:00 schrieb Anna:\n| {FOOTER}\n",
        "On Wed, 25 Feb 2026 at 09:00, Anna Berg <\nanna@kadenz.example> wrote:\n\n" + FOOTER,
        f"-----Ursprüngliche Nachricht-----\nVon: Anna\nBetreff: x\n\n{FOOTER}\n",
        f"De : Anna Berg\nEnvoyé : mercredi\nÀ : Erik\nObjet : x\n\n{FOOTER}\n",
    ],
)
def test_quoted_unsubscribe_and_question_mark_decide_nothing(quoted: str) -> None:
    result = classify(mb.reply(f"Thanks for the follow-up.\n\n{quoted}"))
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.intent is ReplyIntent.NEUTRAL, result.evidence
    assert result.reply_text == "Thanks for the follow-up."


def test_words_in_quotation_marks_are_cited_not_said() -> None:
    cited = 'Your email said "reply unsubscribe to opt out" and "any questions?" - noted.'
    assert read_intent(cited).intent is ReplyIntent.NEUTRAL
    assert read_intent("Please unsubscribe me.").intent is ReplyIntent.UNSUBSCRIBE_REQUEST


def test_negation_turns_a_phrase_around() -> None:
    assert read_intent("I don't want to unsubscribe, send me pricing").intent is (
        ReplyIntent.POSITIVE
    )
    assert read_intent("Wir haben leider keinen Termin frei.").intent is not ReplyIntent.POSITIVE


@pytest.mark.parametrize(
    "form",
    ["kein Bedarf", "keinen Bedarf", "keinem Bedarf", "kein Interesse", "keinerlei Interesse"],
)
def test_german_declined_forms(form: str) -> None:
    assert read_intent(f"Danke, wir haben {form}.").intent is ReplyIntent.NEGATIVE


def test_interleaved_answers_are_kept() -> None:
    body = "> Would Tuesday work?\nYes, Tuesday works for me.\n> Or Wednesday?\n"
    assert new_text(body) == "Yes, Tuesday works for me."


def test_closing_followed_by_more_sentences_is_not_a_signature() -> None:
    body = "Hi Anna,\nThanks\nWe decided to stay with our current provider for now.\n"
    assert "current provider" in new_text(body)


def test_signature_disclaimer_is_cut() -> None:
    body = (
        "Sure, let's talk.\n\nBest regards,\nErik Lund\nAcme GmbH\n\n"
        "This email is confidential. To unsubscribe from our newsletter, click here.\n"
    )
    assert read_intent(new_text(body)).intent is ReplyIntent.POSITIVE


@pytest.mark.parametrize(
    ("subject", "command"),
    [
        ("unsubscribe", True),
        ("Re: Unsubscribe", True),
        ("AW: Abmelden", True),
        ("STOP", True),
        ("désinscription", True),
        ("Darme de baja", True),
        ("Please remove me from your list", True),
        ("How do I unsubscribe my whole team?", False),
        ("Re: Quick question, Erik", False),
        ("", False),
    ],
)
def test_unsubscribe_subjects(subject: str, command: bool) -> None:
    assert (unsubscribe_subject(subject) is not None) is command


def test_referral_address_is_never_ours_or_the_senders() -> None:
    text = "Please contact jane@acme.example instead. Me: erik@acme.example"
    found = read_intent(text, frozenset({"anna@kadenz.example"}), sender="erik@acme.example")
    assert (found.intent, found.referral) == (ReplyIntent.REFERRAL, "jane@acme.example")
    cc = read_intent("I've cc'd my colleague who runs this.", cc=["petra@acme.example"])
    assert (cc.intent, cc.referral) == (ReplyIntent.REFERRAL, "petra@acme.example")


def test_talon_replies_intent_where_labelled(corpus: Path) -> None:
    folder = corpus / "public" / "talon"
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["intent"]]
    right = 0
    for row in rows:
        result = classify((folder / "eml" / row["file"]).read_bytes())
        right += result.kind is InboundClass.HUMAN_REPLY and str(result.intent) == row["intent"]
        assert "wrote" not in (result.reply_text or ""), (row["file"], result.reply_text)
    print(f"\ntalon intent: {right}/{len(rows)} = {right / len(rows):.1%}")
    assert right / len(rows) >= 0.9


def test_html_only_reply_reads_blockquote_as_quoted() -> None:
    html = (
        "<p>Thanks, noted.</p><blockquote type='cite'>Interested? "
        "<blockquote>Reply unsubscribe to opt out.</blockquote></blockquote>"
    )
    result = classify(mb.reply("", html=html))
    assert (result.intent, result.reply_text) == (ReplyIntent.NEUTRAL, "Thanks, noted.")


def test_a_question_mark_in_a_link_asks_nothing() -> None:
    assert read_intent("See https://acme.example/?ref=mail for our stack.").intent is (
        ReplyIntent.NEUTRAL
    )


@pytest.mark.parametrize(
    ("name", "intent"),
    [
        ("unsubscribe.eml", ReplyIntent.UNSUBSCRIBE_REQUEST),
        ("unsubscribe-again.eml", ReplyIntent.UNSUBSCRIBE_REQUEST),
        ("reply-quoting-footer.eml", ReplyIntent.NEGATIVE),
        ("reply.eml", ReplyIntent.REFERRAL),
    ],
)
def test_the_documented_examples(name: str, intent: ReplyIntent) -> None:
    path = Path(__file__).parents[3] / "docs" / "examples" / "inbound" / name
    result = classify(path.read_bytes())
    assert (result.kind, result.intent) == (InboundClass.HUMAN_REPLY, intent), result.evidence


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("We use an Oracle database and it works fine.", ReplyIntent.NEUTRAL),
        ("Korzystamy z bazy danych Oracle.", ReplyIntent.NEUTRAL),
        ("Our current tool handles this well.", ReplyIntent.NEUTRAL),
        ("Not sure yet, let me think about it.", ReplyIntent.NEUTRAL),
        ("Please don't remove me, I want to stay in touch.", ReplyIntent.NEUTRAL),
        ("Please send the contract to legal@acme.example.", ReplyIntent.NEUTRAL),
        ("Ich habe diese Woche keine Zeit, aber nächste Woche gerne.", ReplyIntent.POSITIVE),
        ("No plans on Tuesday - let's meet then.", ReplyIntent.POSITIVE),
        ("My colleague and I would love a demo.", ReplyIntent.POSITIVE),
    ],
)
def test_near_misses_do_not_fire_the_wrong_rule(text: str, intent: ReplyIntent) -> None:
    assert read_intent(text, sender="erik@acme.example").intent is intent


def test_a_mailing_footer_or_legal_notice_is_no_unsubscribe_request() -> None:
    signed = (
        "Not interested, thanks.\n\nErik Lund | CEO\n"
        "This e-mail is confidential. To unsubscribe from our newsletter click here.\n"
    )
    assert new_text(signed) == "Not interested, thanks.\n\nErik Lund | CEO"
    footer = "Sounds good.\nTo unsubscribe from our newsletter, click here."
    assert read_intent(footer).intent is ReplyIntent.POSITIVE
    german = "Wenn Sie sich abmelden möchten, klicken Sie hier. Gerne mehr Infos."
    assert read_intent(german).intent is ReplyIntent.POSITIVE
