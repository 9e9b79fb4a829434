"""Human replies: cut quoted history and signature, then read intent by transparent rules.

Rules, not a model: every decision names the phrase that made it, so an SDR can see why
a reply was called "negative" and the rule list can be reviewed in a pull request.
Order: unsubscribe > referral > negative > positive > question > neutral, because
"not interested, please remove me" is a removal request, and "not me — talk to Jane" is
a referral even though it also says no.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.core.classification import ReplyIntent
from engine.inbound.classifier.parse import ADDRESS_RE

# Where the new text ends and the quoted history or signature begins.
_CUT = re.compile(
    r"^(?:"
    r">.*"
    r"|on\b.{0,200}\bwrote:?\s*"
    r"|am\b.{0,200}\bschrieb.{0,200}:\s*"
    r"|.{0,100}\bschrieb\s+.{0,100}:\s*$"
    r"|-{2,}\s*(?:original message|ursprüngliche nachricht|forwarded message|"
    r"weitergeleitete nachricht)\s*-*"
    r"|_{5,}\s*"
    r"|(?:from|von):\s.{1,200}\n(?:.*\n){0,3}?(?:sent|date|gesendet|datum):\s.*"
    r"|-- ?"
    r"|sent from my \w+.*|von meinem \w+ gesendet.*|gesendet von meinem \w+.*"
    r"|get outlook for \w+.*"
    r"|(?:best|kind|warm)(?:est)? regards,?|regards,?|cheers,?|thanks,?|thank you,?"
    r"|mit freundlichen grüßen,?|viele grüße,?|beste grüße,?|freundliche grüße,?|"
    r"liebe grüße,?|grüße,?|vg,?|lg,?|mfg,?"
    r")$",
    re.I | re.M,
)

_UNSUBSCRIBE = re.compile(
    r"remove me|take me off|unsubscribe|opt(?:ing)? out|stop (?:e-?mailing|emails|sending|"
    r"contacting|writing)|do not (?:contact|e-?mail|email) me|don't (?:contact|e-?mail|email) me|"
    r"no (?:more|further) e-?mails|take me out of|remove (?:my (?:e-?mail|address)|us) from|"
    r"bitte austragen|austragen|abmelden|keine (?:weiteren )?(?:e-?mails|e-?mail|nachrichten|"
    r"mails)|nicht mehr (?:kontaktieren|anschreiben|schreiben)|aus (?:ihrem|dem|ihrer) "
    r"(?:verteiler|liste|e-?mail-?liste)|streichen sie mich|löschen sie meine",
)
_REFERRAL = re.compile(
    r"talk to (?:my )?(?:colleague|\w+)|speak (?:to|with) (?:my )?(?:colleague|\w+)|"
    r"reach out to|please contact|you (?:should|could|might want to) (?:contact|try|email)|"
    r"(?:contact|email|e-mail) (?:my colleague|\w+ (?:instead|directly))|"
    r"the right person (?:is|would be|to talk)|is (?:the right|the best) (?:person|contact)|"
    r"is responsible for|handles (?:this|that|these)|in charge of|i(?:'ve| have) (?:cc'?d|copied|"
    r"forwarded)|(?:cc'?ing|looping in|forwarding (?:this|your))|not the right person|"
    r"wenden sie sich (?:bitte )?an|zuständig (?:ist|dafür ist|wäre)|ist zuständig|"
    r"ansprechpartner(?:in)? (?:ist|wäre|dafür)|kontaktieren sie (?:bitte )?(?:meine|meinen|"
    r"herrn|frau)|(?:meine|meinen|meiner) kolleg(?:in|en|e)|habe .{0,40}weitergeleitet|"
    r"leite .{0,40}weiter|in kopie|in cc",
)
_NEGATIVE = re.compile(
    r"not interested|no interest|no thanks|no,? thank you|not (?:a )?(?:good )?fit|"
    r"not (?:right )?now|not at this time|not looking|we(?:'re| are) (?:all )?(?:set|good)|"
    r"already (?:have|use|using|work with)|no need|not relevant|don't need|do not need|"
    r"pass on this|we'll pass|not for us|no budget|"
    r"kein(?:e|en)? interesse|nicht interessiert|kein bedarf|nein,? danke|danke,? nein|"
    r"passt nicht|nicht relevant|brauchen wir nicht|haben (?:bereits|schon)|"
    r"nicht der richtige zeitpunkt|derzeit nicht|aktuell nicht|leider nicht",
)
_POSITIVE = re.compile(
    r"\binterested\b|sounds (?:good|great|interesting)|let'?s (?:talk|chat|meet|connect|"
    r"schedule|set up|do it)|send (?:me )?(?:some |a few )?(?:times|a calendar|an invite|"
    r"more info)|book a (?:call|meeting|time|demo)|happy to (?:chat|talk|meet|connect)|"
    r"would love to|i'?d like to (?:learn|hear|see|know) more|tell me more|free (?:on|at) |"
    r"available (?:on|at|next|this) |works for me|calendly|schedule a (?:call|meeting|demo)|"
    r"set up a (?:call|meeting|time)|(?:call|meeting|demo) (?:next|this) week|"
    r"\bgerne\b|\bgern\b|klingt (?:interessant|gut|spannend)|\btermin\b|lassen sie uns|"
    r"schicken sie mir|senden sie mir|mehr (?:infos|informationen) |interessiert mich|"
    r"können wir (?:gerne )?(?:telefonieren|sprechen)|rufen sie (?:mich )?an",
)
_QUESTION_WORD = re.compile(
    r"^(?:what|how|why|when|where|who|which|can|could|would|do|does|is|are|will|"
    r"was|wie|warum|wann|wo|wer|welche[rsn]?|können|könnten|haben|gibt es|ist|sind)\b",
    re.M,
)
_NEGATED_POSITIVE = re.compile(r"\b(?:not|nicht|kein)\b\W+(?:\w+\W+){0,2}$")


@dataclass(frozen=True, slots=True)
class Intent:
    intent: ReplyIntent
    evidence: str
    referral: str | None = None


def strip_reply(text: str) -> str:
    """The newly written part of a reply: above the quote header and the signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    match = _CUT.search(text)
    fresh = text[: match.start()] if match else text
    if not fresh.strip() and match:
        # Top-posted nothing (or bottom-posting): keep the unquoted lines after the quote.
        fresh = "\n".join(line for line in text.split("\n") if not line.startswith(">"))
        again = _CUT.search(fresh)
        fresh = fresh[: again.start()] if again and again.start() > 0 else fresh
    return "\n".join(line.rstrip() for line in fresh.strip().split("\n"))


def _positive(text: str) -> re.Match[str] | None:
    for match in _POSITIVE.finditer(text):
        if not _NEGATED_POSITIVE.search(text[max(0, match.start() - 30) : match.start()]):
            return match
    return None


def read_intent(fresh: str, own_addresses: frozenset[str] = frozenset()) -> Intent:
    """What the person wants, by the first rule that matches, with the deciding phrase."""
    text = " ".join(fresh.lower().split())  # the phrase tables are lower case
    if match := _UNSUBSCRIBE.search(text):
        return Intent(ReplyIntent.UNSUBSCRIBE_REQUEST, f'phrase "{match.group(0)}"')
    if match := _REFERRAL.search(text):
        referred = None
        for found in ADDRESS_RE.finditer(text):
            address = found.group(1).lower()
            if address not in own_addresses:
                referred = address
                break
        return Intent(ReplyIntent.REFERRAL, f'phrase "{match.group(0)}"', referred)
    if match := _NEGATIVE.search(text):
        return Intent(ReplyIntent.NEGATIVE, f'phrase "{match.group(0)}"')
    if match := _positive(text):
        return Intent(ReplyIntent.POSITIVE, f'phrase "{match.group(0).strip()}"')
    if "?" in text:
        return Intent(ReplyIntent.QUESTION, 'character "?"')
    if match := _QUESTION_WORD.search(fresh.lower()):
        return Intent(ReplyIntent.QUESTION, f'question word "{match.group(0)}"')
    return Intent(ReplyIntent.NEUTRAL, "no intent phrase matched")
