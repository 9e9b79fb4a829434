"""Hostile and broken inbound mail: each is classified (or `unclassified` with evidence), never
a traceback, and the work is bounded by construction — what is read is capped, and the tests
assert on the bounded result rather than on a time (issue 12 "bad input", issue 19 item 4)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.classification import InboundClass, ReplyIntent
from engine.inbound import ingest
from engine.inbound.classifier import match, parse
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb

HEAD = (
    b"From: Erik Lund <erik@acme.example>\r\nTo: anna@kadenz.example\r\n"
    b"Subject: Re: Quick question\r\nDate: Fri, 27 Feb 2026 10:00:00 +0000\r\n"
    b"Message-ID: <r1@mail.acme.example>\r\n"
)


def _references(n: int) -> bytes:
    ids = b"\r\n ".join(b"<id%d.thread@mail%d.example>" % (i, i % 97) for i in range(n))
    return b"References: " + ids + b"\r\n"


def test_quadratic_inbound_100000_references_ids_are_read_bounded() -> None:
    # Issue 19 item 4: a 1.9 MB email whose References held 100,000 ids took 49 s.
    raw = (
        HEAD
        + b"In-Reply-To: <id99999.thread@mail89.example>\r\n"
        + _references(100_000)
        + b"\r\nNo thanks, we are not interested.\r\n"
    )
    assert len(raw) > 1_900_000
    result = classify(raw)
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.intent is ReplyIntent.NEGATIVE
    # Newest first, and no more ids than the cap: the newest end of References is kept.
    assert len(result.in_reply_to) == parse.MAX_TOKENS
    assert result.in_reply_to[:2] == (
        "id99999.thread@mail89.example",
        "id99998.thread@mail88.example",
    )
    assert any("input bounded" in e for e in result.evidence)
    # The read itself is bounded: the header block handed to the MIME parser is small.
    assert len(parse.bounded(raw)) < parse.MAX_HEADER_FIELDS * parse.MAX_HEADER_CHARS


def test_ingest_fallbacks_and_matching_are_bounded_too() -> None:
    raw = HEAD + _references(100_000) + b"\r\nHello\r\n"
    fallback = ingest.headers_only(raw)
    assert fallback.kind is InboundClass.UNCLASSIFIED
    assert len(fallback.in_reply_to) == parse.MAX_TOKENS
    assert fallback.in_reply_to[0] == "id99999.thread@mail89.example"
    assert ingest.header_message_id(raw) == "r1@mail.acme.example"
    many = classify(raw).__class__(
        kind=InboundClass.HUMAN_REPLY,
        confidence=0.5,
        evidence=("test",),
        in_reply_to=tuple(f"id{i}@x.example" for i in range(100_000)),
    )
    assert len(match.thread_tokens(many)) == match.MAX_THREAD_TOKENS
    assert len(match.id_tokens(_references(100_000).decode())) == match.MAX_THREAD_TOKENS


def test_a_10_mb_message_is_read_up_to_the_cap() -> None:
    line = b"x" * 76 + b"\r\n"
    raw = HEAD + b"\r\nNot interested, thanks.\r\n" + line * (10_000_000 // len(line))
    result = classify(raw)
    assert result.kind is InboundClass.HUMAN_REPLY
    assert any(f"first {parse.MAX_MESSAGE_BYTES} bytes" in e for e in result.evidence)
    assert len(parse.parse(raw).text) <= parse.MAX_TEXT_CHARS


def _nested(levels: int, leaf: bytes) -> bytes:
    raw = HEAD + b"MIME-Version: 1.0\r\n"
    for i in range(levels):
        raw += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
    raw += b"Content-Type: text/plain\r\n\r\n" + leaf + b"\r\n"
    for i in reversed(range(levels)):
        raw += b"--b%d--\r\n" % i
    return raw


def test_50_level_nested_multiparts_are_read() -> None:
    result = classify(_nested(50, b"Not interested, thanks."))
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.intent is ReplyIntent.NEGATIVE


def test_deeper_nesting_stops_at_the_cap_with_evidence() -> None:
    raw = _nested(parse.MAX_DEPTH + 30, b"Not interested, thanks.")
    result = classify(raw)
    assert result.kind in set(InboundClass)
    assert result.evidence
    assert len(parse.parse(raw).parts) <= parse.MAX_DEPTH + 2


def test_headers_after_a_blank_first_line_are_still_headers() -> None:
    raw = b"\r\n" + HEAD + b"\r\nNot interested, thanks.\r\n"
    result = classify(raw)
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.from_address == "erik@acme.example"
    assert any("blank lines before the headers" in e for e in result.evidence)


def test_too_many_header_fields_are_cut_with_evidence() -> None:
    raw = b"".join(b"X-Junk-%d: v\r\n" % i for i in range(100_000)) + HEAD + b"\r\nhello\r\n"
    result = classify(raw)
    assert result.kind is InboundClass.UNCLASSIFIED
    assert any(f"first {parse.MAX_HEADER_FIELDS} header fields" in e for e in result.evidence)


def test_a_2_mb_subject_is_cut_and_the_body_still_read() -> None:
    raw = HEAD.replace(b"Subject: Re: Quick question", b"Subject: " + b"x " * 1_000_000)
    result = classify(raw + b"\r\nNot interested, thanks.\r\n")
    assert result.kind is InboundClass.HUMAN_REPLY
    assert result.subject is not None and len(result.subject) <= parse.MAX_HEADER_CHARS


def test_unknown_charset_and_truncated_report_are_answered() -> None:
    dsn = mb.dsn([("erik@acme.example", "failed", "5.1.1", "550 5.1.1 User unknown")])
    unknown = dsn.replace(b'charset="utf-8"', b'charset="x-no-such-charset"')
    assert classify(unknown).kind is InboundClass.HARD_BOUNCE
    cut = classify(dsn[: len(dsn) * 2 // 3])
    assert cut.kind in set(InboundClass) and cut.evidence


@settings(max_examples=60, deadline=None)
@given(
    depth=st.integers(min_value=0, max_value=120),
    fields=st.integers(min_value=0, max_value=3000),
    refs=st.integers(min_value=0, max_value=3000),
    blank_lines=st.integers(min_value=0, max_value=3),
    cut=st.floats(min_value=0.05, max_value=1.0),
)
def test_hostile_shapes_give_a_bounded_answer(
    depth: int, fields: int, refs: int, blank_lines: int, cut: float
) -> None:
    raw = b"\r\n" * blank_lines + b"".join(b"X-F%d: v\r\n" % i for i in range(fields))
    raw += _references(refs) if refs else b""
    raw = raw + _nested(depth, b"Not interested, thanks.")
    raw = raw[: max(1, int(len(raw) * cut))]
    result = classify(raw)
    assert result.kind in set(InboundClass)
    assert result.evidence
    assert len(result.in_reply_to) <= parse.MAX_TOKENS
    assert len(parse.parse(raw).parts) <= parse.MAX_PARTS + 1
