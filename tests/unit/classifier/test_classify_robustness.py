"""Whatever the bytes, classify answers and never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.classification import InboundClass
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb


def test_empty_and_binary_garbage_are_unclassified() -> None:
    for raw in (b"", b"\x00\xff\xfe" * 100, bytes(range(256)) * 4):
        result = classify(raw)
        assert result.kind is InboundClass.UNCLASSIFIED
        assert result.evidence


def test_not_bytes_is_unclassified() -> None:
    assert classify("a string").kind is InboundClass.UNCLASSIFIED  # type: ignore[arg-type]


def test_cr_only_line_endings_read_like_crlf() -> None:
    raw = mb.dsn([("erik@acme.example", "failed", "5.1.1", "550 5.1.1 User unknown")])
    as_cr = raw.replace(b"\r\n", b"\r")
    a, b = classify(raw), classify(as_cr)
    assert (a.kind, a.recipients, a.status) == (b.kind, b.recipients, b.status)


def test_truncated_mime_still_answers() -> None:
    raw = mb.dsn([("erik@acme.example", "failed", "5.1.1", "550 5.1.1 User unknown")])
    for cut in (40, len(raw) // 3, len(raw) // 2, len(raw) - 10):
        result = classify(raw[:cut])
        assert result.kind in set(InboundClass)


def test_wrong_charset_does_not_break_reading() -> None:
    raw = (
        b"From: erik@acme.example\r\nSubject: Re: hi\r\n"
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\n"
        b"Not interested \xe4\xf6\xfc, thanks.\r\n"
    )
    result = classify(raw)
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.intent is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    result = classify(raw)
    assert isinstance(result.kind, InboundClass)
    assert 0.0 <= result.confidence <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_never_raises_on_arbitrary_text_after_real_headers(body: str) -> None:
    raw = b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n\r\n" + body.encode(
        "utf-8", "surrogatepass"
    )
    assert isinstance(classify(raw).kind, InboundClass)


def test_huge_unbroken_tokens_are_read_in_linear_time() -> None:
    # These shapes made an unanchored address pattern quadratic once; the suite's timeout
    # (not a timing assertion) is what would catch a regression.
    head = b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n\r\n"
    for body in (b"a" * 200_000, b"a@" * 100_000, b"a..." * 50_000, b" \n\t\n" * 50_000):
        assert isinstance(classify(head + body).kind, InboundClass)
