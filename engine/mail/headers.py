"""Header values from users and prospects: never a CR, LF or NUL (DESIGN invariant 6).

A header value containing a line break could smuggle a second header (`Bcc:` …) or end the
header block early; we refuse it with a message naming the header instead of cleaning it
silently, because a value that holds a newline is a bug upstream that somebody should see.
"""

from __future__ import annotations

from engine.errors import InvalidInput

_FORBIDDEN = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\x00": "a NUL byte"}


class HeaderInjection(InvalidInput):
    """A header value holds CR, LF or NUL: it could inject headers, so it is refused."""


def safe_header_value(name: str, value: str) -> str:
    """Return `value` trimmed, or raise HeaderInjection if it holds CR, LF or NUL."""
    for char, label in _FORBIDDEN.items():
        if char in value:
            shown = value.replace("\r", "\\r").replace("\n", "\\n").replace("\x00", "\\0")
            if len(shown) > 60:
                shown = shown[:57] + "..."
            raise HeaderInjection(
                f"header {name}: the value {shown!r} contains {label}; header values must be "
                "one line (remove the line break from the field or template it came from)"
            )
    return value.strip()
