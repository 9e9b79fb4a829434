"""The "Markdown-ish" of email bodies, to HTML. Small on purpose (docs/templates.md):

  blank line          new paragraph          line break   kept (<br>)
  **bold**            <strong>               *italic*     <em>   (_italic_ too)
  [text](url)         link (http, https, mailto only; anything else stays text)
  https://…           bare links become links
  - item / * item     bullet list            1. item      numbered list

Everything else is escaped. Values that came from template variables arrive as placeholder
tokens (see `slot`) so they are never read as Markdown: a company called "**Acme**" or a
title with "[x](javascript:…)" prints literally. `to_text` gives the plain-text part: the
same Markdown, read as plain text (no stars, links as "text (url)").
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence

_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_BULLET = re.compile(r"^\s{0,3}[-*•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,3}[.)]\s+(.*)$")
_INLINE = re.compile(
    r"\[(?P<text>[^\]\n]+)\]\((?P<url>[^)\s]+)\)"
    r"|(?P<bare>(?:https?://|mailto:)[^\s<>()\ue000\ue001]*[^\s<>().,;:!?'\"\ue000\ue001])"
    r"|\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|(?<![\w*])\*(?P<em>[^*\s\n](?:[^*\n]*?[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<em2>[^_\s\n](?:[^_\n]*?[^_\s])?)_(?![\w_])"
)
_MAYBE_INLINE = re.compile(r"[*_\[]|https?://|mailto:")
_URL = re.compile(r"https?://[^\s<>()\"']*[^\s<>().,;:!?'\"]")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def slot(index: int) -> str:
    """The placeholder for the index-th variable value of a render."""
    return f"{_OPEN}{index}{_CLOSE}"


def to_html(text: str, values: Sequence[str] = ()) -> str:
    """Convert a rendered body (with value placeholders) to an HTML fragment."""
    plan = _plan(text)
    if plan is None:
        return _convert(text, values)
    return "".join(part if isinstance(part, str) else _value(values, part) for part in plan)


def _convert(text: str, values: Sequence[str]) -> str:
    blocks = re.split(r"\n\s*\n", text.strip("\n"))
    out = [_block(b, values) for b in blocks if b.strip()]
    return "\n".join(out)


# Every prospect's render of one template gives the same text with placeholders; only the
# values differ. So the conversion is done once per text, with each value left as a hole
# (`_Holes`), and each render only fills the holes in. Texts where a value decides the
# markup (a value inside a link's URL) are converted in full every time.
_HOLE_OPEN, _HOLE_CLOSE = "\ue002", "\ue003"
_HOLE = re.compile(f"{_HOLE_OPEN}(\\d+){_HOLE_CLOSE}")


class _Holes(tuple[str, ...]):
    """The `values` of a conversion done once per text: each value becomes a hole."""


class _ValueDecides(Exception):
    """The markup depends on a value: this text cannot be converted once for all."""


@functools.lru_cache(maxsize=512)
def _plan(text: str) -> tuple[str | int, ...] | None:
    """The HTML of `text` as literal pieces and value indices, or None (convert each time)."""
    if _HOLE_OPEN in text or _HOLE_CLOSE in text:
        return None
    try:
        html_text = _convert(text, _Holes())
    except _ValueDecides:
        return None
    pieces = _HOLE.split(html_text)  # literal, index, literal, index, …, literal
    return tuple(int(p) if i % 2 else p for i, p in enumerate(pieces) if i % 2 or p)


def _block(block: str, values: Sequence[str]) -> str:
    lines = block.split("\n")
    if all(_BULLET.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_BULLET.match(x).group(1), values)}</li>" for x in lines)  # type: ignore[union-attr]
        return f"<ul>{items}</ul>"
    if all(_NUMBERED.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_NUMBERED.match(x).group(1), values)}</li>" for x in lines)  # type: ignore[union-attr]
        return f"<ol>{items}</ol>"
    return "<p>" + "<br>\n".join(_inline(line.rstrip(), values) for line in lines) + "</p>"


def _inline(text: str, values: Sequence[str]) -> str:
    if not _MAYBE_INLINE.search(text):  # most lines: plain words
        return _text(text, values)
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(_text(text[pos : match.start()], values))
        pos = match.end()
        if match.group("text") is not None:
            url = _fill(match.group("url"), values)
            label = _inline(match.group("text"), values)
            out.append(_link(url, label) if _safe(url) else _text(match.group(0), values))
        elif match.group("bare") is not None:
            url = match.group("bare")
            out.append(_link(url, html.escape(url, quote=False)))
        elif match.group("bold") is not None:
            out.append(f"<strong>{_inline(match.group('bold'), values)}</strong>")
        else:
            em = match.group("em") if match.group("em") is not None else match.group("em2")
            out.append(f"<em>{_inline(em, values)}</em>")
    out.append(_text(text[pos:], values))
    return "".join(out)


def _text(text: str, values: Sequence[str]) -> str:
    """Escape literal text, and put variable values back (escaped, newlines as <br>)."""
    if _OPEN not in text:
        return html.escape(text, quote=False)
    parts: list[str] = []
    pos = 0
    for match in _SLOT.finditer(text):
        parts.append(html.escape(text[pos : match.start()], quote=False))
        parts.append(_value(values, int(match.group(1))))
        pos = match.end()
    parts.append(html.escape(text[pos:], quote=False))
    return "".join(parts)


def _value(values: Sequence[str], index: int) -> str:
    """A variable's value: escaped, line breaks kept, http(s) links clickable."""
    if isinstance(values, _Holes):
        return f"{_HOLE_OPEN}{index}{_HOLE_CLOSE}"
    raw = values[index] if index < len(values) else ""
    return "<br>\n".join(_linkify(line) for line in raw.split("\n"))


def _linkify(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        out.append(html.escape(text[pos : match.start()], quote=False))
        out.append(_link(match.group(0), html.escape(match.group(0), quote=False)))
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _fill(url: str, values: Sequence[str]) -> str:
    if isinstance(values, _Holes) and _OPEN in url:
        raise _ValueDecides
    return _SLOT.sub(
        lambda m: values[int(m.group(1))] if int(m.group(1)) < len(values) else "", url
    )


def _safe(url: str) -> bool:
    return url.lower().startswith(_SAFE_SCHEMES) and not any(c in url for c in "\r\n\0 ")


def _link(url: str, label: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def strip_slots(text: str, values: Sequence[str]) -> str:
    """Put raw values back into placeholder text (titles and notes: no Markdown there)."""
    return _fill(text, values)


def to_text(text: str, values: Sequence[str] = ()) -> str:
    """The text/plain part: the Markdown read as a person would write a plain email.

    `**close**` and `*this*` lose their stars, `[case study](https://…)` becomes
    `case study (https://…)`; lists, line breaks and bare links stay as they are. Values are
    put back raw afterwards, so a value is never read as Markdown here either.
    """
    lines = [_plain(line) if _MAYBE_INLINE.search(line) else line for line in text.split("\n")]
    return strip_slots("\n".join(lines), values)


def _plain(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        if match.group("text") is not None:
            url, label = match.group("url"), _plain(match.group("text"))
            out.append(f"{label} ({url})" if _safe(url) or _OPEN in url else match.group(0))
        elif match.group("bare") is not None:
            out.append(match.group("bare"))
        else:
            inner = next(match.group(g) for g in ("bold", "em", "em2") if match.group(g))
            out.append(_plain(inner))
    out.append(text[pos:])
    return "".join(out)
