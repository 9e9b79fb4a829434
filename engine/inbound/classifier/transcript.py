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

# A reply code (RFC 5321) or an enhanced status (RFC 3463) counts where servers and MTAs
# write one: opening a line (after transcript arrows or quotes), after "said:", "returned:",
# "error code", "smtp;" and the like, or (a status) after its reply code, in "(#5.1.1)", after
# "Status:"; never inside a version number ("Mailman 2.0.12"). Candidates are found with a
# plain pattern and their context checked after, which keeps the scan linear and cheap.
_CODE = re.compile(r"(?<![\w.])([245][0-5]\d)(?![\w.])(?=[\s\-:,;)\]\"']|$)", re.M)
_STATUS_CODE = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_CODE_THEN_STATUS = re.compile(
    r"(?<![\d.])([245][0-5]\d)[ -]([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])"
)
_LINE_PREFIX = re.compile(r"[\s<>#\"'*(\[-]*")
_WORD_BEFORE = re.compile(
    r"(?:said|replied|returned|response|responded|error|code|reply|answered|answer|smtp|"
    r"message|diagnostic)\s*(?:was|is)?\s*[:;=]?\s*[(\"'\[]?$",
    re.I,
)
_STATUS_BEFORE = re.compile(r"(?:[245]\d\d[ -]|[#(\[]|status(?: code)?\s*[:=]?\s*|smtp;\s*)$", re.I)


def _spoken_at(text: str, start: int, before: re.Pattern[str]) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    if _LINE_PREFIX.fullmatch(text, line_start, start):
        return True
    return before.search(text[max(line_start, start - 40) : start]) is not None


def _first(pattern: re.Pattern[str], before: re.Pattern[str], text: str) -> re.Match[str] | None:
    for found in pattern.finditer(text):
        if _spoken_at(text, found.start(), before):
            return found
    return None


# Lines that echo the original message's headers, not the server.
_HEADER_ECHO = re.compile(
    r"^\s*(?:to|cc|bcc|from|subject|sent|date|message-id|reply-to|in-reply-to|references|"
    r"received|return-path|mime-version|content-[\w-]+|x-[\w-]+|thread-\w+|importance)\s*:",
    re.I,
)
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
            status = _STATUS_CODE.match(rest)
            lines[-1] += " " + (rest[status.end() :].strip() if status else rest.strip())
            continue
        lines.append(line)
    return lines


_MAYBE_CODE = re.compile(r"[245](?:\d\d|\.\d)")  # a cheap test before the full patterns
_DECORATION = frozenset("*=~#_-")


def _echo_or_banner(line: str) -> bool:
    bare = line.strip()
    if bare[:1] in _DECORATION and _DECORATION.issuperset(bare[:3]):
        # "****** Message from InterScan ******", "==========": decoration, not the server
        return len(bare) < 3 or _DECORATION.issuperset(bare[-3:])
    return ":" in line[:40] and _HEADER_ECHO.match(line) is not None


def speaking(prose: str) -> tuple[str, bool]:
    """The server's words in a bounce's prose, and whether they are a transcript (lines with
    codes) rather than explanation. Header echoes, banners and footers are left out."""
    footer = _FOOTER.search(prose)
    if footer is not None:
        prose = prose[: prose.rfind("\n", 0, footer.start()) + 1]
    kept: list[str] = []
    coded: list[str] = []
    for line in unfold(prose):
        if _echo_or_banner(line):
            continue
        kept.append(line)
        if _MAYBE_CODE.search(line) and (reply_code(line) or status_code(line)):
            coded.append(line.strip())
    if coded:
        return "\n".join(coded), True
    return "\n".join(kept).strip()[:3000], False


def without_header_echoes(prose: str) -> str:
    """The prose without the lines that echo the original message's headers."""
    return "\n".join(line for line in unfold(prose) if not _echo_or_banner(line))


def reply_code(text: str) -> str | None:
    """The first RFC 5321 reply code the server wrote, e.g. "550"."""
    both = _CODE_THEN_STATUS.search(text)
    found = _first(_CODE, _WORD_BEFORE, text)
    if both is not None and (found is None or both.start() <= found.start()):
        return both.group(1)
    return found.group(1) if found else None


def status_code(text: str) -> str | None:
    """The first RFC 3463 enhanced status code the server wrote, e.g. "5.1.1"."""
    found = _first(_STATUS_CODE, _STATUS_BEFORE, text)
    return ".".join(found.groups()) if found else None
