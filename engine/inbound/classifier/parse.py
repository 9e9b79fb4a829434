"""Bytes → a parsed message and its readable text, tolerant of whatever arrives.

Inbound mail is hostile or broken often enough: CR-only line endings, wrong or unknown
charsets, truncated MIME, binary junk. Everything here degrades (replacement characters,
empty strings) instead of raising; `classify` still wraps it all as a last line of defence.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message

_ADDR = (  # a dot-atom or (RFC 5321 §4.1.2) quoted-string local part
    r"(?:\"[^\"\\\s<>]{1,64}\"|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64})@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.){1,8}[A-Za-z]{2,24}"
)
ADDRESS_RE = re.compile(r"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])(" + _ADDR + r")(?![A-Za-z0-9-])")
_TOKEN_RE = re.compile(r"<([^<>\s]{1,500})>")
_BARE_TOKEN_RE = re.compile(r"(?<![^\s<>,;\"()])[^\s<>,;\"()]{1,250}@[^\s<>,;\"()]{1,250}")
_TAG_RE = re.compile(r"<[^<>]{0,2000}>")
_BLOCK_TAG_RE = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|/h\d|p|div|tr|li)\b[^<>]{0,500}>", re.I)
_SCRIPT_RE = re.compile(r"<(script|style|head)\b.{0,100000}?</\1\s*>", re.I | re.S)
_BLANKS_RE = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")

# Bounds on what is read, so that every message costs linear, bounded work (issue 19: one
# email whose References held 100,000 ids took 49 s). Reports, replies and auto-replies say
# what they have to say in their first kilobytes; what lies beyond is attachments or copies.
MAX_SCAN_BYTES = 8 << 20  # bytes of the raw message looked at at all
MAX_HEADER_BYTES = 64 << 10  # a header block larger than this is trimmed field by field
MAX_MESSAGE_BYTES = 1 << 20  # bytes of the body parsed as MIME
MAX_HEADER_FIELDS = 500  # header fields read, in order
MAX_HEADER_CHARS = 4096  # per header value (References keeps its newest end)
MAX_PART_CHARS = 200_000  # decoded text per MIME part
MAX_TEXT_CHARS = 300_000  # readable text in all
MAX_PARTS = 200  # MIME parts visited
MAX_DEPTH = 64  # multipart nesting followed
MAX_TOKENS = 100  # Message-ID tokens kept from In-Reply-To/References

# Parts whose payload is the message we sent (or its headers), not the report about it.
ORIGINAL_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"})
STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
FEEDBACK_TYPES = frozenset({"message/feedback-report"})


@dataclass
class Parsed:
    """What the classifiers need from one message, computed once."""

    message: Message
    headers: dict[str, str]  # lower-cased name → decoded value (first occurrence)
    content_type: str
    report_type: str  # multipart/report's report-type parameter, "" otherwise
    text: str  # readable text of the report/reply itself (no embedded original)
    status_text: str  # delivery-status / feedback-report parts, as text
    original: str  # embedded original message or its headers, as text ("" if none)
    parts: list[str] = field(default_factory=list)  # content types seen, for evidence
    limits: list[str] = field(default_factory=list)  # which bounds cut the input, for evidence


def normalise_newlines(raw: bytes) -> bytes:
    """CRLF and lone CR become LF so the parser and our regexes see one convention."""
    if b"\r" not in raw:
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def decode_header_value(value: object) -> str:
    """An RFC 2047 header as text; undecodable pieces are kept, not fatal."""
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        # A broken encoded-word stays as written: still readable for a human.
        with contextlib.suppress(Exception):
            text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def _charset(part: Message) -> str:
    charset = part.get_content_charset() or "utf-8"
    charset = charset.strip().strip('"').lower()
    if charset in {"us-ascii", "ascii", "unknown-8bit", "x-unknown", "8bit", "default"}:
        return "utf-8"
    return charset


def part_text(part: Message) -> str:
    """The decoded text of a leaf part; wrong charsets fall back to UTF-8 then Latin-1."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            return raw[:MAX_PART_CHARS]
        if isinstance(raw, list):
            rendered = (render_message(m) for m in raw[:10] if isinstance(m, Message))
            return "\n\n".join(rendered)[:MAX_PART_CHARS]
        return ""
    if not isinstance(payload, bytes):
        return str(payload)[:MAX_PART_CHARS]
    payload = payload[: MAX_PART_CHARS * 2]  # a UTF-8 character is rarely more than 2 bytes
    charset = _charset(part)
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)[:MAX_PART_CHARS]
        except UnicodeDecodeError as exc:
            if exc.start >= len(payload) - 4:  # our cut split the last character
                return payload[: exc.start].decode(candidate, "replace")[:MAX_PART_CHARS]
        except LookupError:
            continue
    return payload.decode("latin-1")[:MAX_PART_CHARS]


def html_to_text(markup: str) -> str:
    """Good enough HTML → text for phrase matching: drop scripts, tags; unescape."""
    markup = _SCRIPT_RE.sub(" ", markup)
    markup = _BLOCK_TAG_RE.sub("\n", markup)
    markup = _TAG_RE.sub("", markup)
    return html.unescape(markup)


def render_message(msg: Message) -> str:
    """A (sub)message as header lines + text, as a human would read it."""
    lines = [
        f"{k}: {decode_header_value(str(v)[:MAX_HEADER_CHARS])}"
        for k, v in msg.items()[:MAX_HEADER_FIELDS]
    ]
    body = ""
    if not msg.is_multipart():
        payload = msg.get_payload()
        if isinstance(payload, str) or msg.get_content_maintype() == "text":
            body = part_text(msg)
    else:
        chunks = []
        for index, sub in enumerate(msg.walk()):
            if index > MAX_PARTS:
                break
            if sub is msg or sub.is_multipart():
                continue
            if sub.get_content_maintype() == "text":
                chunks.append(part_text(sub))
        body = "\n".join(chunks)[:MAX_TEXT_CHARS]
    return "\n".join(lines) + ("\n\n" + body if body else "")


def _render_status(part: Message) -> str:
    """delivery-status / feedback-report payload as 'Field: value' blocks."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append("\n".join(f"{k}: {decode_header_value(v)}" for k, v in block.items()))
        return "\n\n".join(blocks)
    return part_text(part)


def header_value(name: str, value: object) -> str:
    """A header's value, bounded: References keeps its end (the newest ids), others the start."""
    text = str(value)
    if len(text) > MAX_HEADER_CHARS:
        text = text[-MAX_HEADER_CHARS:] if name == "references" else text[:MAX_HEADER_CHARS]
    return decode_header_value(text)


def _bounded_headers(block: bytes, limits: list[str]) -> bytes:
    """The header block with at most MAX_HEADER_FIELDS fields of at most MAX_HEADER_CHARS
    each (References keeps its end: the newest ids). One pass over at most 8 MB."""
    fields: list[list[bytes]] = []
    size = 0
    cut = False
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            if size < MAX_HEADER_CHARS or fields[-1][0][:11].lower() == b"references:":
                fields[-1].append(line)
                size += len(line)
            else:
                cut = True
            continue
        if len(fields) >= MAX_HEADER_FIELDS:
            limits.append(f"read the first {MAX_HEADER_FIELDS} header fields")
            break
        fields.append([line])
        size = len(line)
    out: list[bytes] = []
    for lines in fields:
        joined = b"\n".join(lines)
        if len(joined) > MAX_HEADER_CHARS:
            cut = True
            name, _, value = joined.partition(b":")
            if name.strip().lower() == b"references":
                tail = value[-MAX_HEADER_CHARS:]
                start = tail.find(b"<")
                joined = name + b": " + (tail[start:] if start > 0 else tail)
            else:
                joined = joined[:MAX_HEADER_CHARS]
        out.append(joined)
    if cut:
        limits.append(f"read at most {MAX_HEADER_CHARS} characters of each header field")
    return b"\n".join(out)


def bounded(raw: bytes, limits: list[str] | None = None) -> bytes:
    """The part of a raw message that is read: LF line ends, no blank lines before the
    headers, a header block trimmed field by field, at most MAX_MESSAGE_BYTES of body.
    Linear in the input; `limits` collects what was cut, for the evidence."""
    limits = [] if limits is None else limits
    data = normalise_newlines(raw[:MAX_SCAN_BYTES])
    if data[:1] == b"\n":
        # A blank first line would make every header body text: a relay's slip, skip it.
        limits.append("skipped blank lines before the headers")
        data = data.lstrip(b"\n")
    end = data.find(b"\n\n")
    head, body = (data, b"") if end < 0 else (data[:end], data[end:])
    if len(head) > MAX_HEADER_BYTES or head.count(b"\n") > MAX_HEADER_FIELDS:
        head = _bounded_headers(head, limits)
    if len(body) > MAX_MESSAGE_BYTES:
        limits.append(f"read the first {MAX_MESSAGE_BYTES} bytes of a {len(raw)}-byte message")
        body = body[:MAX_MESSAGE_BYTES]
    return head + body


def parse(raw: bytes) -> Parsed:
    limits: list[str] = []
    data = bounded(raw, limits)
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    headers: dict[str, str] = {}
    fields = msg.items()
    if len(fields) > MAX_HEADER_FIELDS:
        limits.append(f"read the first {MAX_HEADER_FIELDS} of {len(fields)} header fields")
        fields = fields[:MAX_HEADER_FIELDS]
    for key, value in fields:
        name = key.lower()
        if name not in headers:
            headers[name] = header_value(name, value)
    content_type = msg.get_content_type()
    report_type = (msg.get_param("report-type") or "") if content_type == "multipart/report" else ""
    if not isinstance(report_type, str):
        report_type = ""
    texts: list[str] = []
    html_texts: list[str] = []
    status: list[str] = []
    original: list[str] = []
    seen: list[str] = []
    _collect(msg, texts, html_texts, status, original, seen, top=True)
    if len(seen) > MAX_PARTS:
        limits.append(f"read the first {MAX_PARTS} MIME parts")
    text = "\n".join(t for t in texts if t.strip()) or "\n".join(html_texts)
    if len(text) > MAX_TEXT_CHARS:
        limits.append(f"read the first {MAX_TEXT_CHARS} characters of text")
        text = text[:MAX_TEXT_CHARS]
    return Parsed(
        message=msg,
        headers=headers,
        content_type=content_type,
        report_type=report_type.lower(),
        text=_BLANKS_RE.sub("\n\n", text),
        status_text="\n\n".join(status),
        original="\n\n".join(original)[:MAX_TEXT_CHARS],
        parts=seen,
        limits=limits,
    )


def _collect(
    part: Message,
    texts: list[str],
    html_texts: list[str],
    status: list[str],
    original: list[str],
    seen: list[str],
    *,
    top: bool = False,
    depth: int = 0,
) -> None:
    ctype = part.get_content_type()
    seen.append(ctype)
    if len(seen) > MAX_PARTS or depth > MAX_DEPTH:  # a MIME bomb: enough is enough
        return
    if ctype in ORIGINAL_TYPES and not top:
        payload = part.get_payload()
        if isinstance(payload, list):
            original.extend(render_message(m) for m in payload[:5] if isinstance(m, Message))
        else:
            original.append(part_text(part))
        return
    if ctype in STATUS_TYPES or ctype in FEEDBACK_TYPES:
        status.append(_render_status(part))
        return
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _collect(sub, texts, html_texts, status, original, seen, depth=depth + 1)
        return
    if part.get_content_maintype() == "multipart":
        # A multipart without a usable boundary: its body is all we have, read it as text.
        texts.append(part_text(part))
        return
    if ctype == "text/html":
        html_texts.append(html_to_text(part_text(part)))
    elif part.get_content_maintype() == "text" or ctype == "message/partial" or top:
        texts.append(part_text(part))


def angle_tokens(value: str) -> list[str]:
    """Message-ID tokens of a References/In-Reply-To header: `<…>` first, bare ones too."""
    value = value[-MAX_HEADER_CHARS:]
    tokens = _TOKEN_RE.findall(value)
    if not tokens:
        tokens = [t.strip(".") for t in _BARE_TOKEN_RE.findall(value)]
    return [t for t in tokens[-MAX_TOKENS:] if t]


def addresses_in(text: str) -> list[str]:
    """Every email address in `text`, lower-cased, in order, without duplicates."""
    seen: dict[str, None] = {}
    for match in ADDRESS_RE.finditer(text):
        address = match.group(1).lower().strip(".").lstrip("'")
        if address.startswith(("smtp=", "smtp:")):  # X.400 / Exchange "dda:SMTP=x@y" forms
            address = address[5:]
        seen.setdefault(address, None)
    return list(seen)
