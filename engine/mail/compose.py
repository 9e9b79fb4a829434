"""Compose one outgoing email as complete RFC 5322 bytes, fast.

The stdlib `EmailMessage` (policy.default) costs ~2 ms per message, most of a send's CPU,
so the bytes are assembled here directly: headers are folded and RFC 2047-encoded by hand,
bodies go through `binascii` (C) quoted-printable or base64. Correctness is proven by the
tests, which parse every shape back with `email.message_from_bytes(policy=default)`.

Everything that came from a user or a prospect passes `safe_header_value` first.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html as html_lib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from types import MappingProxyType

from engine.errors import InvalidInput
from engine.mail.headers import safe_header_value

CRLF = "\r\n"
_MAX_LINE = 78  # RFC 5322 "SHOULD" for header lines; 998 is the hard limit
_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' and space
_MSGID = re.compile(r"[^\s<>@]+@[^\s<>@]+")
# Headers that build_mime writes itself: extra_headers may not replace them.
_RESERVED = frozenset(
    name.lower()
    for name in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Return-Path",
        "Sender",
    )
)


@dataclass(frozen=True)
class OutgoingEmail:
    """What to send, already rendered. Ids are written without angle brackets."""

    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    subject: str
    text: str
    html: str | None
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    unsubscribe_url: str | None = None  # https: List-Unsubscribe + RFC 8058 one-click POST
    unsubscribe_mailto: str | None = None  # address (or mailto: URL) for List-Unsubscribe
    footer_text: str | None = None  # postal address etc., appended to both parts
    extra_headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    date: datetime | None = None  # aware; from the injected clock


def new_message_id(domain: str, *, unique: str | None = None) -> str:
    """A Message-ID on our own domain, without brackets: `<unique or 128 random bits>@domain`."""
    left = unique if unique is not None else secrets.token_hex(16)
    domain = _ascii_domain(safe_header_value("Message-ID", domain))
    message_id = f"{safe_header_value('Message-ID', left)}@{domain}"
    if not _MSGID.fullmatch(message_id):
        raise InvalidInput(
            f"Message-ID {message_id!r} is not valid; the unique part and the domain may not "
            "contain spaces, '<', '>' or '@'"
        )
    return message_id


def build_mime(email: OutgoingEmail) -> bytes:
    """The complete message: headers, then text (and HTML) parts; CRLF line endings."""
    lines = [
        _address_header("From", email.from_name, email.from_address),
        _address_header("To", email.to_name, email.to_address),
        _unstructured("Subject", safe_header_value("Subject", email.subject)),
    ]
    if email.date is not None:
        if email.date.tzinfo is None or email.date.utcoffset() is None:
            raise ValueError("OutgoingEmail.date must be timezone-aware (take it from the Clock)")
        lines.append(f"Date: {_date(email.date)}")
    lines.append(f"Message-ID: <{_message_id('Message-ID', email.message_id)}>")
    if email.in_reply_to:
        lines.append(f"In-Reply-To: <{_message_id('In-Reply-To', email.in_reply_to)}>")
    if email.references:
        ids = [f"<{_message_id('References', ref)}>" for ref in email.references]
        lines.append(_fold_tokens("References:", ids, sep=""))
    lines.extend(_unsubscribe_headers(email))
    for name, value in email.extra_headers.items():
        lines.append(_extra_header(name, value))
    lines.append("MIME-Version: 1.0")

    text = _normalise_newlines(email.text)
    html = _normalise_newlines(email.html) if email.html is not None else None
    if email.footer_text:
        footer = _normalise_newlines(email.footer_text).strip("\n")
        text = f"{text.rstrip(chr(10))}\n\n{footer}\n"
        if html is not None:
            html = _html_with_footer(html, footer)

    if html is None:
        ctype, cte, body = _text_part(text, "plain")
        lines.append(f"Content-Type: {ctype}")
        lines.append(f"Content-Transfer-Encoding: {cte}")
        return (CRLF.join(lines) + CRLF + CRLF).encode("utf-8") + body

    parts = [_text_part(text, "plain"), _text_part(html, "html")]
    boundary = _boundary(parts)
    lines.append(f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"')
    chunks = [(CRLF.join(lines) + CRLF + CRLF).encode("utf-8")]
    for ctype, cte, body in parts:
        head = f"--{boundary}{CRLF}Content-Type: {ctype}{CRLF}Content-Transfer-Encoding: {cte}"
        chunks.append(f"{head}{CRLF}{CRLF}".encode("ascii"))
        chunks.append(body)
        chunks.append(b"\r\n")  # the delimiter owns this CRLF, so the body keeps its last one
    chunks.append(f"--{boundary}--{CRLF}".encode("ascii"))
    return b"".join(chunks)


# --- headers ------------------------------------------------------------------------------


def _date(at: datetime) -> str:
    """RFC 5322 date; a claimed batch shares one `now`, so it is formatted once."""
    # Keyed with the offset too: equal instants in other zones format differently.
    return _formatted_date(at, at.utcoffset())


@functools.lru_cache(maxsize=16)
def _formatted_date(at: datetime, _offset: timedelta | None) -> str:
    return format_datetime(at)


def _address_header(name: str, display: str | None, address: str) -> str:
    addr = _address(name, address)
    if not display or not display.strip():
        return f"{name}: {addr}"
    phrase = safe_header_value(name, display)
    if phrase.isascii() and "=?" not in phrase:
        if not _ATEXT_PHRASE.fullmatch(phrase):
            phrase = '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return _fold_tokens(f"{name}:", [*phrase.split(" "), f"<{addr}>"], sep=" ")
    return _fold_tokens(f"{name}:", [*_phrase_words(phrase), f"<{addr}>"], sep=" ")


def _phrase_words(phrase: str) -> list[str]:
    """Plain atoms stay readable; each run of other words becomes encoded words.

    Keeping a run's spaces inside one encoded word matters: decoders disagree about the
    space between two adjacent encoded words (RFC 2047 drops it, Python's parser keeps it).
    """
    words: list[str] = []
    run: list[str] = []
    for token in phrase.split(" "):
        if token and token.isascii() and "=?" not in token and _ATEXT_PHRASE.fullmatch(token):
            if run:
                words.extend(_encoded_words(" ".join(run)))
                run = []
            words.append(token)
        else:
            run.append(token)
    if run:
        words.extend(_encoded_words(" ".join(run)))
    return words


def _address(name: str, address: str) -> str:
    value = safe_header_value(name, address)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c in value for c in ' <>,;"()'):
        raise InvalidInput(f"header {name}: {value!r} is not a plain email address (user@domain)")
    return f"{local}@{_ascii_domain(domain)}"


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(f"domain {domain!r} is not a valid internationalised domain") from None


def _message_id(name: str, value: str) -> str:
    value = safe_header_value(name, value).strip("<>")
    if not _MSGID.fullmatch(value) or not value.isascii():
        raise InvalidInput(
            f"header {name}: {value!r} is not a message id (write it as unique@domain, "
            "ASCII, without spaces or angle brackets)"
        )
    return value


def _unstructured(name: str, value: str) -> str:
    words = value.split(" ")
    if value.isascii() and "=?" not in value and all(len(w) < 900 for w in words):
        return _fold_tokens(f"{name}:", words, sep=" ")
    return _fold_tokens(f"{name}:", _encoded_words(value), sep=" ")


def _fold_tokens(head: str, tokens: list[str], *, sep: str) -> str:
    """Join tokens after `head`, breaking lines before a token when one would pass 78 chars.

    A fold is CRLF plus one space, and unfolding removes only the CRLF: so for `sep=" "`
    the space that separated the tokens is the one that starts the continuation line.
    """
    out = [head]
    width = len(head)
    for token in tokens:
        if width + 1 + len(token) > _MAX_LINE and width > len(head):
            out.append(f"{CRLF} {token}")
            width = 1 + len(token)
        elif sep == "" and width > len(head):
            out.append(f"{CRLF} {token}")  # References: one id a line keeps it readable
            width = 1 + len(token)
        else:
            out.append(f" {token}")
            width += 1 + len(token)
    return "".join(out)


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 B-encoded words of at most 75 chars, split on character boundaries."""
    words: list[str] = []
    chunk: list[bytes] = []
    size = 0
    for char in value:
        raw = char.encode("utf-8")
        if size + len(raw) > 39:  # 39 bytes -> 52 base64 chars -> a 64-char encoded word
            words.append(_b_word(b"".join(chunk)))
            chunk, size = [], 0
        chunk.append(raw)
        size += len(raw)
    if chunk or not words:
        words.append(_b_word(b"".join(chunk)))
    return words


def _b_word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def _unsubscribe_headers(email: OutgoingEmail) -> list[str]:
    targets: list[str] = []
    if email.unsubscribe_url:
        url = safe_header_value("List-Unsubscribe", email.unsubscribe_url)
        if not url.startswith(("https://", "http://")) or not url.isascii() or " " in url:
            raise InvalidInput(
                f"unsubscribe URL {url!r} must be an absolute https:// URL (ASCII, no spaces)"
            )
        targets.append(f"<{url}>")
    if email.unsubscribe_mailto:
        mailto = safe_header_value("List-Unsubscribe", email.unsubscribe_mailto)
        if mailto.lower().startswith("mailto:"):
            mailto = mailto[len("mailto:") :]
        if "?" not in mailto:
            mailto += "?subject=unsubscribe"
        if not mailto.isascii() or " " in mailto or "@" not in mailto:
            raise InvalidInput(f"unsubscribe address {mailto!r} must be a plain ASCII address")
        targets.append(f"<mailto:{mailto}>")
    if not targets:
        return []
    lines = [
        _fold_tokens("List-Unsubscribe:", [t + "," for t in targets[:-1]] + targets[-1:], sep=" ")
    ]
    if email.unsubscribe_url:
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    return lines


def _extra_header(name: str, value: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise InvalidInput(f"header name {name!r} is not valid (printable ASCII, no ':' or space)")
    if name.lower() in _RESERVED:
        raise InvalidInput(
            f"header {name} is set by Kadenz itself; remove it from the extra headers"
        )
    return _unstructured(name, safe_header_value(name, value))


# --- bodies -------------------------------------------------------------------------------


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _html_with_footer(html: str, footer: str) -> str:
    block = "<br>\n".join(html_lib.escape(line) for line in footer.split("\n"))
    footer_html = f'<p style="color:#666;font-size:12px">{block}</p>\n'
    index = html.lower().rfind("</body>")
    if index == -1:
        return f"{html.rstrip(chr(10))}\n{footer_html}"
    return html[:index] + footer_html + html[index:]


def _text_part(text: str, subtype: str) -> tuple[str, str, bytes]:
    """(Content-Type, Content-Transfer-Encoding, encoded body with CRLF line endings)."""
    ctype = f'text/{subtype}; charset="utf-8"'
    data = text.encode("utf-8")
    if not data.endswith(b"\n"):
        data += b"\n"
    if data.isascii() and max(len(line) for line in data.split(b"\n")) <= 900:
        return ctype, "7bit", data.replace(b"\n", b"\r\n")
    non_ascii = sum(1 for byte in data if byte > 127)
    if non_ascii * 3 > len(data):  # mostly non-Latin text: base64 is smaller than QP
        encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
        return ctype, "base64", encoded
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    return ctype, "quoted-printable", encoded.replace(b"\n", b"\r\n")


def _boundary(parts: list[tuple[str, str, bytes]]) -> str:
    # "=_" can never occur in quoted-printable or base64 output; 7bit parts are checked.
    while True:
        boundary = f"=_kadenz_{secrets.token_hex(12)}"
        marker = boundary.encode("ascii")
        if not any(marker in body for _, _, body in parts):
            return boundary
