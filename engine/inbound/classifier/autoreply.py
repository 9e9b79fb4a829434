"""Auto-replies: RFC 3834 headers, vendor headers, and English/German phrases.

An out-of-office must never count as a reply (or a bounce): it pauses the prospect until
the return date instead. Headers are strong evidence; subject and body phrases are used
when mail clients send vacation replies without any header (many do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.core.classification import AutoReplyKind

_OOO_PHRASES = re.compile(
    r"out of (?:the )?office|\booo\b|on (?:annual |parental |sick |maternity |paternity )?"
    r"(?:vacation|holiday|leave)|away from (?:the |my )?(?:office|desk|email)|"
    r"i am (?:currently )?(?:away|out|travell?ing|on leave)|i'm (?:currently )?(?:away|out)|"
    r"limited access to (?:my )?e-?mail|back in the office|return to the office|"
    r"will be back|i will return|returning on|abwesenheit|nicht im (?:büro|hause|haus)|"
    r"außer haus|ausser haus|im urlaub|urlaubsbedingt|nicht erreichbar|"
    r"wieder (?:im büro|erreichbar|da|zurück)|bin (?:ab|bis) .{0,40}(?:wieder|zurück)|"
    r"out of office|vacation|urlaub|elternzeit|dienstreise|abwesend",
)
_OOO_SUBJECT = re.compile(
    r"out of (?:the )?office|\booo\b|abwesenheit|vacation|holiday|urlaub|away|"
    r"nicht im büro|außer haus|ausser haus|on leave",
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|"
    r"automatische antwort|abwesenheitsnotiz|out of (?:the )?office|"
    r"réponse automatique|respuesta automática|risposta automatica|automatisch antwoord|"
    r"\[?auto(?:-| )?reply\]?|\[?autoresponder\]?)",
)
_OTHER_PHRASES = re.compile(
    r"(?:we|i) (?:have )?received your (?:e-?mail|message|request|inquiry)|"
    r"thank you for (?:your )?(?:e-?mail|message|contacting)|"
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
    if precedence in ("auto_reply", "auto-reply"):
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
    if "x-auto-response-suppress" in headers:
        weak.append(f"header X-Auto-Response-Suppress: {headers['x-auto-response-suppress'][:20]}")
    body = text[:3000].lower()
    ooo = _OOO_PHRASES.search(body) or _OOO_SUBJECT.search(subject)
    other = _OTHER_PHRASES.search(body)
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
