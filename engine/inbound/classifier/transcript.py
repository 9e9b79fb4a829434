"""Where the reporting server speaks in a bounce's human-readable part, and its codes.

A bounce's prose mixes the server's own words (the SMTP transcript: "host mx.example said:
550 5.1.1 <erik@…>: user unknown") with explanation for people, echoes of the original's
headers ("Subject: Virus warning …"), banners ("*** InterScan VirusWall ***") and footers
(disclaimers, "scanned for viruses"). Only the first may decide why a message bounced:
reply codes (RFC 5321) and enhanced status codes (RFC 3463) are read where a server writes
them, never from a version number in a subject ("Mailman 2.0.12"). Folded lines and SMTP
multi-line replies ("550-5.1.1 …" then "550 5.1.1 …") are unfolded first.
"""

from __future__ import annotations

import re

# A reply code where servers and MTAs write one: at the start of a line (after transcript
# arrows or quotes), or after "said:", "returned:", "error code", "smtp;" and the like.
_REPLY_CODE = re.compile(
    r"(?:^[\s<>#\"'*(\[-]*|"
    r"(?:said|replied|returned|response|responded|error|code|reply|answered|answer|smtp|"
    r"message|diagnostic)\s*(?:was|is)?\s*[:;=]?\s*[(\"'\[]?)"
    r"([245][0-5]\d)(?![\d.])(?=[\s\-:,;)\]\"']|$)",
    re.I | re.M,
)
_CODE_THEN_STATUS = re.compile(
    r"(?<![\d.])([245][0-5]\d)[ -]([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])"
)
# An enhanced status code where servers write one: after a reply code, in "(#5.1.1)", after
# "Status:", or opening a line; never inside a version number.
_STATUS = re.compile(
    r"(?:^[\s<>#\"'*(\[-]*|[245]\d\d[ -]|[#(\[]|status(?: code)?\s*[:=]?\s*|smtp;\s*)"
    r"([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])",
    re.I | re.M,
)
# Lines that echo the original message's headers, not the server.
_HEADER_ECHO = re.compile(
    r"^\s*(?:to|cc|bcc|from|subject|sent|date|message-id|reply-to|in-reply-to|references|"
    r"received|return-path|mime-version|content-[\w-]+|x-[\w-]+|thread-\w+|importance)\s*:",
    re.I,
)
# Decoration lines and banners: "****** Message from InterScan VirusWall ******".
_BANNER = re.compile(r"^\s*(?:[*=~#_-]{3,}.*[*=~#_-]{3,}|[*=~#_-]{3,})\s*$")
# Where a footer starts: disclaimers and scanner notices appended by the sender's or the
# reporting site's gateway. Everything from here on is nobody's diagnostic.
_FOOTER = re.compile(
    r"disclaimer|has been (?:scanned|checked)|scanned (?:for|by)|virus[- ]?(?:free|checked|scan)|"
    r"anti-?virus|confidential|intended (?:only |solely )?for the|"
    r"received this (?:e-?mail|message|communication) in error",
    re.I,
)


def unfold(text: str) -> list[str]:
    """Lines with folded continuations and SMTP multi-line replies joined."""
    lines: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        if lines and lines[-1] and line[:1] in (" ", "\t") and line.strip():
            lines[-1] += " " + line.strip()
            continue
        previous = lines[-1].lstrip() if lines else ""
        # "550-5.1.1 The email account" / "550-5.1.1 does not exist": one reply.
        if previous[3:4] == "-" and previous[:3].isdigit() and line.lstrip()[:3] == previous[:3]:
            rest = line.lstrip()[4:]
            status = _STATUS.match(rest)
            lines[-1] += " " + (rest[status.end() :].strip() if status else rest.strip())
            continue
        lines.append(line)
    return lines


def speaking(prose: str) -> tuple[str, bool]:
    """The server's words in a bounce's prose, and whether they are a transcript (lines with
    codes) rather than explanation. Header echoes, banners and footers are left out."""
    kept: list[str] = []
    coded: list[str] = []
    for line in unfold(prose):
        if _FOOTER.search(line):
            break
        if _HEADER_ECHO.match(line) or _BANNER.match(line):
            continue
        kept.append(line)
        if _REPLY_CODE.search(line) or _STATUS.search(line):
            coded.append(line.strip())
    if coded:
        return "\n".join(coded), True
    return "\n".join(kept).strip()[:3000], False


def without_header_echoes(prose: str) -> str:
    """The prose without the lines that echo the original message's headers."""
    return "\n".join(line for line in unfold(prose) if not _HEADER_ECHO.match(line))


def reply_code(text: str) -> str | None:
    """The first RFC 5321 reply code the server wrote, e.g. "550"."""
    both = _CODE_THEN_STATUS.search(text)
    found = _REPLY_CODE.search(text)
    if both is not None and (found is None or both.start() <= found.start()):
        return both.group(1)
    return found.group(1) if found else None


def status_code(text: str) -> str | None:
    """The first RFC 3463 enhanced status code the server wrote, e.g. "5.1.1"."""
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else None
