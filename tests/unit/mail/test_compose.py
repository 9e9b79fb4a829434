"""build_mime is hand-assembled for speed: every shape is parsed back with the stdlib."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.mail.compose import OutgoingEmail, build_mime, new_message_id
from engine.mail.headers import HeaderInjection


def make(**overrides: Any) -> OutgoingEmail:
    fields: dict[str, Any] = {
        "from_address": "anna@acme.example",
        "from_name": "Anna Schmidt",
        "to_address": "erik@customer.example",
        "to_name": "Erik Olsen",
        "subject": "Quick question, Erik",
        "text": "Hi Erik,\n\nworth a chat?\n\nAnna\n",
        "html": "<html><body><p>Hi Erik,</p><p>worth a chat?</p></body></html>",
        "message_id": "k1.abc@mail.acme.example",
        "date": datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    return OutgoingEmail(**fields)


def parse(raw: bytes) -> EmailMessage:
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF in output"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR in output"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert not msg.defects, msg.defects
    return msg


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body((kind,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # 7bit parts keep the wire's CRLF


def test_multipart_alternative_round_trips() -> None:
    msg = parse(build_mime(make()))
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["From"] == "Anna Schmidt <anna@acme.example>"
    assert msg["To"] == "Erik Olsen <erik@customer.example>"
    assert msg["Subject"] == "Quick question, Erik"
    assert msg["Message-ID"] == "<k1.abc@mail.acme.example>"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Date"].datetime == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert body(msg, "plain") == "Hi Erik,\n\nworth a chat?\n\nAnna\n"
    assert "<p>worth a chat?</p>" in body(msg, "html")
    assert "X-Mailer" not in msg
    assert msg["In-Reply-To"] is None and msg["List-Unsubscribe"] is None


def test_text_only_is_a_single_part() -> None:
    msg = parse(build_mime(make(html=None)))
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert body(msg, "plain").startswith("Hi Erik,")


def test_non_ascii_names_and_subject_are_encoded_and_decode_back() -> None:
    raw = build_mime(
        make(
            from_name="Anna Müller",
            to_name="Jürgen Weiß 日本",
            subject="Grüße aus Berlin — ein Vorschlag für Ihr Team, Jürgen, kurz und knapp 🙂",
            text="Grüße, Jürgen — schöne Woche!\n",
            html="<p>Grüße, Jürgen</p>",
        )
    )
    assert raw.isascii()
    msg = parse(raw)
    assert msg["From"].addresses[0].display_name == "Anna Müller"
    assert msg["To"].addresses[0].display_name == "Jürgen Weiß 日本"
    assert msg["To"].addresses[0].addr_spec == "erik@customer.example"
    assert (
        msg["Subject"] == "Grüße aus Berlin — ein Vorschlag für Ihr Team, Jürgen, kurz und knapp 🙂"
    )
    assert body(msg, "plain") == "Grüße, Jürgen — schöne Woche!\n"
    assert body(msg, "html").startswith("<p>Grüße, Jürgen</p>")


def test_long_non_ascii_name_is_split_into_valid_encoded_words() -> None:
    name = "Ἀλέξανδρος Παπαδόπουλος-Οἰκονόμου Θεσσαλονίκη"
    raw = build_mime(make(to_name=name))
    to_line = raw.split(b"\r\n\r\n")[0].decode().split("\r\nSubject:")[0].split("To:", 1)[1]
    words = [w for w in to_line.split() if w.startswith("=?")]
    assert len(words) > 1 and all(len(w) <= 75 for w in words)
    # An RFC 2047 decoder (which drops the space between adjacent encoded words):
    decoded = str(make_header(decode_header(to_line.replace("\r\n", "").strip())))
    assert decoded == f"{name} <erik@customer.example>"


def test_specials_in_display_names_are_quoted() -> None:
    msg = parse(
        build_mime(make(from_name='Anna "AJ" Schmidt, Acme (Sales)', to_name="O'Neil; Erik"))
    )
    assert msg["From"].addresses[0].display_name == 'Anna "AJ" Schmidt, Acme (Sales)'
    assert msg["From"].addresses[0].addr_spec == "anna@acme.example"
    assert msg["To"].addresses[0].display_name == "O'Neil; Erik"
    assert len(msg["To"].addresses) == 1


def test_no_display_name() -> None:
    msg = parse(build_mime(make(from_name=None, to_name="  ")))
    assert msg["From"] == "anna@acme.example"
    assert msg["To"] == "erik@customer.example"


def test_long_ascii_subject_is_folded_and_unfolds_to_the_original() -> None:
    subject = " ".join(["word"] * 40) + " end"
    raw = build_mime(make(subject=subject))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert parse(raw)["Subject"] == subject


def test_subject_that_looks_like_an_encoded_word_stays_literal() -> None:
    assert (
        parse(build_mime(make(subject="=?utf-8?q?hi?= there")))["Subject"] == "=?utf-8?q?hi?= there"
    )


def test_threading_headers() -> None:
    msg = parse(
        build_mime(
            make(
                in_reply_to="k0.first@mail.acme.example",
                references=("r1@x.example", "k0.first@mail.acme.example"),
            )
        )
    )
    assert msg["In-Reply-To"] == "<k0.first@mail.acme.example>"
    assert msg["References"].split() == ["<r1@x.example>", "<k0.first@mail.acme.example>"]


def test_list_unsubscribe_with_one_click() -> None:
    msg = parse(
        build_mime(
            make(
                unsubscribe_url="https://kadenz.acme.example/u/abc.def",
                unsubscribe_mailto="unsubscribe@acme.example",
            )
        )
    )
    assert msg["List-Unsubscribe"] == (
        "<https://kadenz.acme.example/u/abc.def>, "
        "<mailto:unsubscribe@acme.example?subject=unsubscribe>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mailto_only_has_no_one_click_post() -> None:
    msg = parse(build_mime(make(unsubscribe_mailto="mailto:u@acme.example?subject=stop")))
    assert msg["List-Unsubscribe"] == "<mailto:u@acme.example?subject=stop>"
    assert msg["List-Unsubscribe-Post"] is None


def test_footer_is_appended_to_both_parts_and_escaped_in_html() -> None:
    footer = "Acme GmbH <Sales>\nHauptstr. 1, 10115 Berlin"
    msg = parse(build_mime(make(footer_text=footer)))
    assert body(msg, "plain").endswith("Anna\n\nAcme GmbH <Sales>\nHauptstr. 1, 10115 Berlin\n")
    html = body(msg, "html")
    assert "Acme GmbH &lt;Sales&gt;<br>\nHauptstr. 1, 10115 Berlin" in html
    assert html.index("Hauptstr.") < html.index("</body>")


def test_long_lines_and_leading_dots_survive() -> None:
    text = ("x" * 2000) + "\n.\n.leading dot\n" + "é" * 10 + "\n"
    msg = parse(build_mime(make(text=text, html=None)))
    assert body(msg, "plain") == text


def test_mostly_non_latin_text_uses_base64() -> None:
    text = "こんにちは、エリックさん。\n" * 5
    raw = build_mime(make(text=text, html=None))
    assert b"Content-Transfer-Encoding: base64" in raw
    assert body(parse(raw), "plain") == text


def test_crlf_in_input_body_is_normalised() -> None:
    msg = parse(build_mime(make(text="a\r\nb\rc\n", html=None)))
    assert body(msg, "plain") == "a\nb\nc\n"


def test_date_keeps_its_offset_and_naive_is_refused() -> None:
    berlin = timezone(timedelta(hours=1))
    msg = parse(build_mime(make(date=datetime(2026, 3, 2, 9, 0, tzinfo=berlin))))
    assert msg["Date"].datetime == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_mime(make(date=datetime(2026, 3, 2, 9, 0)))


def test_extra_headers_are_checked() -> None:
    msg = parse(build_mime(make(extra_headers={"X-Kadenz-Step": "intro", "X-Note": "Grüße"})))
    assert msg["X-Kadenz-Step"] == "intro"
    assert msg["X-Note"] == "Grüße"
    with pytest.raises(InvalidInput, match="set by Kadenz"):
        build_mime(make(extra_headers={"bcc": "spy@evil.example"}))
    with pytest.raises(InvalidInput, match="header name"):
        build_mime(make(extra_headers={"X Bad": "v"}))
    with pytest.raises(HeaderInjection, match="X-Note"):
        build_mime(make(extra_headers={"X-Note": "a\r\nBcc: spy@evil.example"}))


@pytest.mark.parametrize(
    "field",
    [
        "subject",
        "from_name",
        "to_name",
        "to_address",
        "message_id",
        "in_reply_to",
        "unsubscribe_url",
    ],
)
def test_header_injection_is_refused_everywhere(field: str) -> None:
    with pytest.raises(HeaderInjection):
        build_mime(make(**{field: "x@y.example\r\nBcc: spy@evil.example"}))


@pytest.mark.parametrize(
    "address", ["not-an-address", "a b@x.example", "Erik <e@x.example>", "@x.example"]
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidInput, match="address"):
        build_mime(make(to_address=address))


def test_international_domain_is_punycoded() -> None:
    msg = parse(build_mime(make(to_address="erik@bücher.example")))
    assert msg["To"].addresses[0].addr_spec == "erik@xn--bcher-kva.example"


def test_new_message_id_is_unique_and_on_our_domain() -> None:
    ids = {new_message_id("mail.acme.example") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.endswith("@mail.acme.example") and "<" not in i for i in ids)
    assert new_message_id("acme.example", unique="k.42") == "k.42@acme.example"
    with pytest.raises(InvalidInput):
        new_message_id("acme.example", unique="a b")


def test_multipart_boundary_never_occurs_in_a_7bit_part() -> None:
    msg = parse(
        build_mime(make(text="--=_kadenz_ looks like a boundary\n", html="<p>=_kadenz_</p>"))
    )
    assert body(msg, "plain") == "--=_kadenz_ looks like a boundary\n"


# Plain spaces only: the stdlib's address parser folds other Unicode spaces (NBSP) into one.
header_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")) | st.just(" "),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip() != "" and "  " not in s and s == s.strip())


@settings(max_examples=150, deadline=None)
@given(
    subject=header_text, name=header_text.filter(lambda s: len(s) <= 9), text=st.text(max_size=400)
)
def test_any_subject_name_and_body_round_trip(subject: str, name: str, text: str) -> None:
    msg = parse(build_mime(make(subject=subject, to_name=name, text=text, html=None)))
    assert msg["Subject"] == subject
    assert msg["To"].addresses[0].display_name == name
    assert body(msg, "plain") == (
        text.replace("\r\n", "\n").replace("\r", "\n") if text else ""
    ) + ("" if text.replace("\r\n", "\n").replace("\r", "\n").endswith("\n") else "\n")
