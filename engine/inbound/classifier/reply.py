"""Human replies: cut quoted history and signature, then read intent by transparent rules.

Rules, not a model: every decision names the phrase that made it, so an SDR can see why
a reply was called "negative" and the rule tables (engine.inbound.classifier.intent_rules)
can be reviewed in a pull request. Order: unsubscribe > referral > negative > positive >
question > neutral, because "not interested, please remove me" is a removal request, and
"not me — talk to Jane" is a referral even though it also says no.

Only the person's own words count: quoted history is cut (engine.inbound.classifier.quoting)
and text inside quotation marks is set aside, so "you wrote 'reply unsubscribe'" or a
question mark inside a quotation decides nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.core.classification import ReplyIntent
from engine.inbound.classifier import intent_rules as rules
from engine.inbound.classifier import quoting
from engine.inbound.classifier.parse import ADDRESS_RE, Parsed, part_text


@dataclass(frozen=True, slots=True)
class Intent:
    intent: ReplyIntent
    evidence: str
    referral: str | None = None


def _compile(table: Mapping[str, Iterable[str]]) -> list[tuple[str, re.Pattern[str]]]:
    flags = re.MULTILINE  # `^` is the start of a line of the new text
    return [
        (lang, re.compile(r"(?<!\w)(?:" + p + ")", flags)) for lang, ps in table.items() for p in ps
    ]


_UNSUBSCRIBE = _compile(rules.UNSUBSCRIBE)
_REFERRAL = _compile(rules.REFERRAL)
_REFERRAL_WITH_ADDRESS = _compile(rules.REFERRAL_WITH_ADDRESS)
_NEGATIVE = _compile(rules.NEGATIVE)
_POSITIVE = _compile(rules.POSITIVE)
_COMMAND = re.compile(
    r"^\W*(?:please\W+|bitte\W+|svp\W+|por favor\W+)?(?:" + rules.COMMANDS + r")\W*$"
)
_FOOTER_SENTENCE = re.compile(rules.FOOTER_SENTENCE)
_NEGATOR = re.compile(r"(?<!\w)(?:" + rules.NEGATORS + r")(?!\w)")
_CLAUSE_END = re.compile(r"[.;:!?\n,]|\bbut\b|\baber\b|\bmais\b|\bpero\b|\bma\b|\bmaar\b")
_QUESTION_WORD = re.compile(r"(?:^|[.!?\n]\s*)(" + rules.QUESTION_WORDS + r")\b")
# Quotations the person cites: "…", “…”, „…“, «…», '…' (never an apostrophe inside a word).
_QUOTATION = re.compile(
    r"\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|„[^“”\n]{1,200}[“”]|«[^»\n]{1,200}»|"
    r"(?<!\w)'[^'\n]{1,80}'(?!\w)"
)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_READ_LIMIT = 6000
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|wg|fw|fwd|tr|sv|vs|antw|odp|r|rif|res|enc)\s*(?:\[\d+\])?\s*:\s*)+", re.I
)


def readable_text(parsed: Parsed) -> str:
    """The reply's text; for an HTML-only reply, read again with <blockquote> as quotes."""
    html_part = None
    for part in parsed.message.walk():
        ctype = part.get_content_type()
        if ctype == "text/plain" and part_text(part).strip():
            return parsed.text
        if ctype == "text/html" and html_part is None:
            html_part = part
    return parsed.text if html_part is None else quoting.html_with_quotes(part_text(html_part))


def strip_reply(text: str) -> str:
    """The newly written part of a reply: above the quote header and the signature."""
    return quoting.new_text(text)


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, single spaces; line breaks kept (they end clauses)."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def without_quotations(text: str) -> str:
    """Cited text and links set aside: their words and `?` are not the person's."""
    return _QUOTATION.sub(" … ", _URL.sub(" ", text))


def _negated(text: str, start: int) -> bool:
    """A negator among the few words before `start`, in the same clause."""
    before = text[max(0, start - 80) : start]
    ends = [found.end() for found in _CLAUSE_END.finditer(before)]
    if ends:
        before = before[ends[-1] :]
    words = before.split()[-rules.NEGATION_WINDOW :]
    return bool(_NEGATOR.search(" ".join(words)))


def _in_footer_sentence(text: str, start: int, end: int) -> bool:
    """The sentence around a match reads like a mailing footer ("click here to unsubscribe")."""
    before = max((text.rfind(ch, 0, start) for ch in ".!?\n"), default=-1)
    after = min((i for i in (text.find(ch, end) for ch in ".!?\n") if i >= 0), default=len(text))
    return bool(_FOOTER_SENTENCE.search(text[before + 1 : after]))


def _first(
    patterns: list[tuple[str, re.Pattern[str]]],
    text: str,
    *,
    negatable: bool,
    footer_aware: bool = False,
) -> tuple[re.Match[str], str] | None:
    """The earliest phrase of a table in the text (skipping negated ones), with its language."""
    best: tuple[re.Match[str], str] | None = None
    for lang, pattern in patterns:
        for found in pattern.finditer(text):
            if best is not None and found.start() >= best[0].start():
                break
            if negatable and _negated(text, found.start()):
                continue
            if footer_aware and _in_footer_sentence(text, found.start(), found.end()):
                continue
            best = (found, lang)
            break
    return best


def _evidence(found: tuple[re.Match[str], str]) -> str:
    match, lang = found
    return f'phrase "{match.group(0).strip()}" ({lang})'


def referred_address(fresh: str, excluded: Iterable[str], cc: Iterable[str] = ()) -> str | None:
    """The colleague's address: the first one in the new text (else in Cc) that is not ours."""
    skip = {a.lower() for a in excluded}
    for candidate in [m.group(1) for m in ADDRESS_RE.finditer(fresh)] + list(cc):
        address = candidate.lower().strip(".")
        if address not in skip:
            return address
    return None


def read_intent(
    fresh: str,
    own_addresses: frozenset[str] = frozenset(),
    *,
    sender: str | None = None,
    cc: Iterable[str] = (),
) -> Intent:
    """What the person wants, by the first rule that matches, with the deciding phrase."""
    fresh = fresh[:_READ_LIMIT]  # intent is stated early; bounded time on a 10 MB body
    text = without_quotations(normalise(fresh))
    excluded = set(own_addresses) | ({sender.lower()} if sender else set())
    if command := _COMMAND.match(text):
        return Intent(ReplyIntent.UNSUBSCRIBE_REQUEST, f'command "{command.group(0).strip()}"')
    if found := _first(_UNSUBSCRIBE, text, negatable=True, footer_aware=True):
        return Intent(ReplyIntent.UNSUBSCRIBE_REQUEST, _evidence(found))
    address = referred_address(fresh, excluded, cc)
    found = _first(_REFERRAL, text, negatable=False)
    if address is not None:
        weak = _first(_REFERRAL_WITH_ADDRESS, text, negatable=False)
        if weak is not None and (found is None or weak[0].start() < found[0].start()):
            found = weak
    if found:
        return Intent(ReplyIntent.REFERRAL, _evidence(found), address)
    if found := _first(_NEGATIVE, text, negatable=False):
        return Intent(ReplyIntent.NEGATIVE, _evidence(found))
    if found := _first(_POSITIVE, text, negatable=True):
        return Intent(ReplyIntent.POSITIVE, _evidence(found))
    if "?" in text:
        return Intent(ReplyIntent.QUESTION, 'character "?"')
    if match := _QUESTION_WORD.search(text):
        return Intent(ReplyIntent.QUESTION, f'question word "{match.group(1)}"')
    return Intent(ReplyIntent.NEUTRAL, "no intent phrase matched")


def unsubscribe_subject(subject: str) -> str | None:
    """The command when a subject is one (a mail to our List-Unsubscribe address, RFC 2369).

    "unsubscribe", "Abmelden", "STOP", "désinscription", … possibly after "Re:"/"AW:".
    A subject that merely mentions the word ("How do I unsubscribe my team?") is not one.
    """
    bare = _SUBJECT_PREFIX.sub("", subject or "")
    text = normalise(bare)
    if not text or len(text) > 80:
        return None
    if _COMMAND.match(text):
        return text
    found = _first(_UNSUBSCRIBE, text, negatable=True)
    if found is not None and "?" not in text and len(text.split()) <= 8:
        return text
    return None


def read_reply(
    text: str,
    subject: str,
    own_addresses: frozenset[str] = frozenset(),
    *,
    sender: str | None = None,
    cc: Iterable[str] = (),
) -> tuple[str, Intent]:
    """The new text of a reply and its intent; an unsubscribe subject decides on its own."""
    fresh = strip_reply(text)
    command = unsubscribe_subject(subject)
    if command is not None:
        return fresh, Intent(ReplyIntent.UNSUBSCRIBE_REQUEST, f'subject "{command[:60]}"')
    return fresh, read_intent(fresh, own_addresses, sender=sender, cc=cc)
