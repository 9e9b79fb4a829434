"""Auto-replies: RFC 3834 headers, vendor headers, and phrases in eight languages.

An out-of-office must never count as a reply (or a bounce): it pauses the prospect until
the return date instead. Headers are strong evidence; subject and body phrases are used
when mail clients send vacation replies without any header (many do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.core.classification import AutoReplyKind

# Out-of-office and automatic-reply wording per language (EN, DE, FR, ES, IT, NL, PT, PL),
# as data: subjects first, then phrases of the body. Lower case; accents optional.
OOO_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": (r"out of (?:the )?office", r"\booo\b", r"on (?:annual )?(?:vacation|holiday|leave)"),
    "de": (r"abwesenheit", r"nicht im (?:b(?:ü|ue)ro|hause?)", r"au(?:ß|ss)er haus", r"urlaub"),
    "fr": (r"absente?s? du bureau", r"en cong(?:é|e)s?", r"\babsence\b", r"en vacances"),
    "es": (r"fuera de la oficina", r"de vacaciones", r"\bausente\b"),
    "it": (r"fuori (?:sede|ufficio)", r"in ferie", r"\bassente\b"),
    "nl": (r"afwezig", r"buiten kantoor", r"op vakantie", r"met verlof"),
    "pt": (r"fora do escrit(?:ó|o)rio", r"de f(?:é|e)rias", r"\bausente\b"),
    "pl": (r"poza biurem", r"na urlopie", r"nieobecn"),
}
AUTO_SUBJECT_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": (r"auto(?:matic)?[- ]?(?:reply|response|responder)", r"autoreply"),
    "de": (r"automatische antwort", r"abwesenheitsnotiz", r"auto-?antwort"),
    "fr": (r"r(?:é|e)ponse automatique",),
    "es": (r"respuesta autom(?:á|a)tica",),
    "it": (r"risposta automatica",),
    "nl": (r"automatisch antwoord",),
    "pt": (r"resposta autom(?:á|a)tica",),
    "pl": (r"automatyczna odpowied(?:ź|z)", r"autoodpowied(?:ź|z)"),
}


def _alternatives(table: dict[str, tuple[str, ...]]) -> str:
    return "|".join(p for phrases in table.values() for p in phrases)


_OOO_SUBJECT = re.compile(_alternatives(OOO_BY_LANGUAGE) + r"|vacation|holiday|away|on leave")
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:re:\s*|aw:\s*)?[\[(]?\s*(?:"
    + _alternatives(AUTO_SUBJECT_BY_LANGUAGE)
    + r"|"
    + _alternatives(OOO_BY_LANGUAGE)
    + r")"
)
# Challenge-response systems (RFC 3834 section 2 names them as automatic responders): they
# hold our message until we prove we are a person. Never a reply, never a bounce.
_CHALLENGE = re.compile(
    (
        r"add yourself to (?:my|the|their) .{0,30}list|guest list|"
        r"(?:allowed|approved|safe|trusted) (?:senders? )?list|pre-?approved|"
        r"click (?:on )?the (?:following )?link .{0,60}(?:added|approved|verif|confirm)|"
        r"verify (?:that )?you are (?:a )?(?:human|real person|not a robot)|"
        r"(?:awaiting|pending) (?:your )?(?:sender )?(?:verification|confirmation)"
    ).replace(" ", r"\s+")  # wrapped lines: any run of white space
)
_OOO_PHRASES = re.compile(
    r"out of (?:the )?office|\booo\b|on (?:annual |parental |sick |maternity |paternity )?"
    r"(?:vacation|holiday|leave)|away from (?:the |my )?(?:office|desk|email)|"
    r"i am (?:currently )?(?:away|out|travell?ing|on leave)|i'm (?:currently )?(?:away|out)|"
    r"limited access to (?:my )?e-?mail|back in the office|return to the office|"
    r"will be back|i will return|returning on|abwesenheit|nicht im (?:büro|hause|haus)|"
    r"außer haus|ausser haus|im urlaub|urlaubsbedingt|nicht erreichbar|"
    r"wieder (?:im büro|erreichbar|da|zurück)|bin (?:ab|bis) .{0,40}(?:wieder|zurück)|"
    r"out of office|vacation|urlaub|elternzeit|dienstreise|abwesend|"
    + _alternatives(OOO_BY_LANGUAGE),
)
_OTHER_PHRASES = re.compile(
    r"(?:we|i) (?:have )?received your (?:e-?mail|message|request|inquiry)|"
    r"thank(?:s| you) for (?:your |you )?(?:e-?mail|message|contacting)|"
    r"(?:reply|respond|get back to you) as soon as (?:possible|i can)|"
    r"this is an automated (?:response|message|reply)|do not reply to this (?:e-?mail|message)|"
    r"ticket (?:#|number|id)|no longer (?:with|works? (?:at|for))|has left the company|"
    r"(?:ist )?nicht mehr (?:im unternehmen|bei uns|für .{0,40} tätig)|"
    r"ihre (?:nachricht|e-?mail|anfrage) (?:ist )?(?:bei uns )?eingegangen|"
    r"vielen dank für ihre (?:nachricht|e-?mail|anfrage)|automatisch (?:generiert|erstellt)",
)


@dataclass
class AutoReply:
    kind: AutoReplyKind
    evidence: list[str] = field(default_factory=list)
    strength: float = 0.0  # how sure: headers are stronger than phrases


_CHALLENGE_WORDS = ("list", "approved", "link", "verif", "confirmation")


def challenge(text: str) -> str | None:
    """The phrase of a challenge-response system asking us to confirm we are a sender."""
    sample = text[:3000].lower()
    if not any(word in sample for word in _CHALLENGE_WORDS):  # cheap: most mail has none
        return None
    found = _CHALLENGE.search(sample)
    return " ".join(found.group(0).split()) if found else None


def detect(headers: dict[str, str], text: str) -> AutoReply | None:
    """An auto-reply's kind and evidence, or None for anything a person may have written."""
    evidence: list[str] = []
    strength = 0.0
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        evidence.append(f"header Auto-Submitted: {auto[:40]}")
        strength = max(strength, 0.95)
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply"):
        if name in headers:
            label = "-".join(p.capitalize() for p in name.split("-"))
            evidence.append(f"header {label}: {headers[name][:40]}".rstrip())
            strength = max(strength, 0.95)
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("auto_reply", "auto-reply", "auto_reply"):
        evidence.append(f"header Precedence: {precedence}")
        strength = max(strength, 0.9)
    if "x-ms-exchange-inbox-rules-loop" in headers:
        evidence.append("header X-MS-Exchange-Inbox-Rules-Loop")
        strength = max(strength, 0.85)
    subject = headers.get("subject", "").lower()  # the phrase tables are lower case
    subject_hit = _AUTO_SUBJECT.search(subject)
    if subject_hit:
        evidence.append(f'subject "{subject_hit.group(0).strip()}"')
        strength = max(strength, 0.85)
    # Weaker hints: only count together with a phrase or a stronger signal.
    weak: list[str] = []
    if precedence in ("bulk", "junk", "list"):
        weak.append(f"header Precedence: {precedence}")
    if headers.get("return-path", "").strip() == "<>":
        weak.append("header Return-Path: <> (RFC 3834 §3.3)")
    if "x-auto-response-suppress" in headers:
        weak.append(f"header X-Auto-Response-Suppress: {headers['x-auto-response-suppress'][:20]}")
    body = text[:3000].lower()
    ooo = _OOO_PHRASES.search(body) or _OOO_SUBJECT.search(subject)
    other = _OTHER_PHRASES.search(body) or _OTHER_PHRASES.search(subject)
    asked = challenge(body)
    if asked and not evidence:
        evidence.append(f'challenge-response phrase "{asked}"')
        strength = 0.75
    if not evidence:
        if weak and (ooo or other):
            evidence.extend(weak)
            strength = 0.7
        elif ooo and _OOO_SUBJECT.search(subject) and _OOO_PHRASES.search(body):
            strength = 0.6  # "Out of office" subject and body, no headers at all
        else:
            return None
    else:
        evidence.extend(weak)
    if ooo:
        evidence.append(f'phrase "{ooo.group(0)}"')
        return AutoReply(AutoReplyKind.OUT_OF_OFFICE, evidence, strength)
    if other:
        evidence.append(f'phrase "{other.group(0)}"')
    return AutoReply(AutoReplyKind.OTHER, evidence, strength)
