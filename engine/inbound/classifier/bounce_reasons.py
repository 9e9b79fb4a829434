"""Why a message bounced: status code, reply code and the server's words → hard, soft or blocked.

The standards decide first (docs/inbound.md, "Hard, soft or blocked"): the class of the
RFC 3463 status (else of the RFC 5321 reply code) says permanent or temporary, and no wording
changes that. For a permanent failure the reporting server's words may say which kind
(address, mailbox, policy, the recipient's system) — "550 5.1.1 … spam" is a block, "5.7.1 No
such user" an unknown address; then the status's subject.detail; then the reply code; and a
permanent failure nobody explains is hard. Words decide alone only where no code exists.

- hard_bounce: the address or domain does not exist — suppress it.
- soft_bounce: mailbox full, disabled, timed out, temporarily failing — keep the address.
- blocked: the receiver refused us (spam, policy, reputation, authentication) — our problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.core.classification import InboundClass
from engine.inbound.classifier import phrases

HARD = InboundClass.HARD_BOUNCE
SOFT = InboundClass.SOFT_BOUNCE
BLOCKED = InboundClass.BLOCKED


@dataclass(frozen=True, slots=True)
class Reason:
    kind: InboundClass
    name: str  # short reason, e.g. "user unknown"
    evidence: str  # the phrase or code that decided


def _rx(*phrases: str) -> re.Pattern[str]:
    # Matched against lower-cased text: re.I makes long alternations ~3x slower.
    return re.compile("|".join(phrases))


def _language(category: str) -> tuple[str, ...]:
    """The non-English phrases of one category (`phrases.LANGUAGES`), folded into the English
    rule of the same meaning: one pattern per rule, however many languages."""
    return tuple(p for table in phrases.LANGUAGES.values() for p in table[category])


# Order matters: the first table with a match wins. Blocks come first because their
# wording often quotes an address-ish phrase ("sender address rejected").
_RULES: tuple[tuple[InboundClass, str, re.Pattern[str]], ...] = (
    (
        SOFT,
        "mailbox disabled",
        _rx(
            *_language("disabled"),
            r"(?:mailbox|account|user|address) (?:is |has been )?(?:currently )?"
            r"(?:temporar(?:y|ily) )?"
            r"(?:disabled|suspended|inactive|deactivated|locked|frozen|blocked|on hold)",
            r"(?:mailbox|account)\b.{0,40}\b(?:is|has been) (?:currently |temporarily )?"
            r"(?:disabled|deactivated|suspended|inactive|locked|frozen)",
            r"(?:disabled|deactivated|suspended|inactive|locked|frozen) "
            r"(?:recipient|mailbox|account|user)",
            r"\bon hold\b",
            r"delivery (?:temporarily )?suspended",
        ),
    ),
    (
        SOFT,
        "mailbox full",
        _rx(
            *_language("full"),
            r"mailbox (?:is )?full",
            r"mail ?box full",
            r"over ?quota",
            r"(?<!relay )quota",
            r"exceeded (?:the )?(?:storage|size)",
            r"insufficient (?:disk )?(?:space|storage)",
            r"storage (?:limit|allocation|space)",
            r"disk full",
            r"disk space",
            r"(?:exceeded|over) (?:its |the |their )?(?:disk|storage|mailbox|space)",
            r"mailbox size limit",
            r"full mailbox",
            r"is full",
            r"too much mail",
            r"too many (?:messages|mails?|e-?mails) (?:on|in) (?:the |their )?(?:server|mailbox)",
            r"(?:mail ?box|disk|storage) space",
            r"not enough (?:space|storage)",
            r"postfach (?:ist )?voll",
        ),
    ),
    (HARD, "user unknown", _rx(r"recipient address rejected: access denied")),
    (
        SOFT,
        "too many connections",
        _rx(
            r"frequency limit", r"too many (?:connections|recipients|messages)", r"sent to too many"
        ),
    ),
    (
        BLOCKED,
        "authentication",
        _rx(
            r"\bspf\b",
            r"\bdkim\b",
            r"\bdmarc\b",
            r"sender policy framework",
            r"authentication (?:checks? )?(?:failed|failure|required|results)",
            r"not authenticated",
            r"unauthenticated",
            r"(?:reverse|ptr|rdns) (?:dns )?(?:record|lookup|hostname)",
            r"no ptr record",
            r"\bptr\b",
            r"reverse dns",
            r"rdns",
            r"resolve your (?:address|ip)",
            r"cannot find your hostname",
            r"hostname does not resolve",
            r"client host\b.{0,80}\b(?:unknown|rejected)",
            r"has no reverse",
            r"not resolvable",
            r"(?:invalid|bad) (?:helo|ehlo)",
            r"helo (?:command )?(?:rejected|invalid|name)",
            r"does not match (?:the )?(?:sending|connecting)",
            r"mismatch",
            r"tls (?:is )?required",
            r"must (?:issue|use) (?:a )?starttls",
            r"encryption required",
        ),
    ),
    (
        BLOCKED,
        "spam or virus",
        _rx(
            r"spam",
            r"complaint",
            r"junk mail",
            r"unsolicited",
            r"bulk mail",
            r"virus",
            r"malware",
            r"infected",
            r"phish",
            r"content (?:rejected|filter)",
            r"message content",
            r"suspicious",
            r"\bufe\b",
            r"high probability of being",
            r"scored? (?:too )?high",
            r"\burl\b.{0,40}(?:block|listed)",
        ),
    ),
    (
        BLOCKED,
        "blocklisted or reputation",
        _rx(
            *_language("policy"),
            r"black ?list",
            r"block ?list",
            r"blocked",
            r"\brbl\b",
            r"\bdnsbl\b",
            r"spamhaus",
            r"spamcop",
            r"sorbs",
            r"barracuda",
            r"(?<!not )listed (?:at|in|on|by)",
            r"permission to post",
            r"(?:not|no) permission",
            r"protocol violation",
            r"not implemented",
            r"improper sequence",
            r"bad sequence",
            r"not verified",
            r"sender (?:address|domain)",
            r"purported responsible",
            r"invalid ip",
            r"unverif",
            r"reputation",
            r"poor reputation",
            r"banned",
            r"refused due to",
            r"relay quota",
            r"denied by policy",
            r"policy",
            r"access denied",
            r"not allowed",
            r"not permitted",
            r"prohibited",
            r"relay(?:ing)? (?:access )?denied",
            r"relaying",
            r"not (?:a )?(?:gateway|relay)",
            r"unable to relay",
            r"relay not permitted",
            r"we do not relay",
            r"open relay",
            r"dial-?up",
            r"dynamic ip",
            r"residential",
            r"use the smtp server of your isp",
            r"smtp server of your isp",
            r"sender (?:address )?(?:rejected|denied|blocked|refused|verify failed)",
            r"domain of sender address .{0,80} does not exist",
            r"sender domain must exist",
            r"rejected sender",
            r"sender .{0,60} (?:rejected|denied)",
            r"envelope sender",
            r"not accepted here",
            r"administrative prohibition",
            r"filter",
            r"\bbl\b",
            r"\bcbl\b",
            r"too many (?:bad|invalid) recipients",
            r"syntax error",
            r"invalid (?:command|argument|sender|from)",
            r"rfc ?5322",
            r"rfc ?2822",
            r"rfc ?822",
            r"not compliant",
            r"header (?:error|is missing|missing|syntax)",
            r"duplicate header",
            r"security (?:policy|reasons?|error|violation)",
            r"certificate",
            r"executable",
            r"attachment",
            r"(?:not|no longer) accept(?:ing)? (?:any )?(?:e-?mail|mail|messages) from",
            r"white ?list",
            r"allow ?list",
            r"requires? (?:sender |your )?(?:confirmation|verification)",
        ),
    ),
    (
        SOFT,
        "message too big",
        _rx(
            r"message (?:is )?too (?:big|large)",
            r"message size exceeds",
            r"size (?:limit )?exceed",
            r"exceeds (?:the )?(?:maximum )?(?:message )?size",
            r"size limit",
            r"message length exceeds",
            r"(?:size|message|mail|e-?mail|attachments?) (?:is |are )?too large",
        ),
    ),
    (
        HARD,
        "user unknown",
        _rx(
            *_language("address"),
            r"user unknown",
            r"unknown user",
            r"unknown (?:local[- ]part|recipient|mailbox|address|or illegal alias)",
            r"no such (?:user|mailbox|recipient|address|account|local user|person)",
            r"(?:user|mailbox|recipient|address|account|addressee)"
            r"(?: name)? (?:does not|doesn't|did not) exist",
            r"does not exist",
            r"doesn't exist",
            r"not exist",
            r"(?:user|recipient|mailbox|address|account)(?: address)? (?:is )?"
            r"(?:unknown|invalid|not found|not valid)",
            r"no such domain",
            r"not listed in",
            r"invalid .{0,20}userid",
            r"no valid recipients",
            r"doesn.t have an? .{1,40} account",
            r"invalid (?:recipient|mailbox|address|user)",
            r"not (?:a )?(?:valid|known) (?:user|recipient|mailbox|address)",
            r"address (?:unknown|not found|couldn't be found|wasn't found)",
            r"domain (?:is )?(?:not reachable|unreachable)",
            r"wasn.t found at the destination",
            r"not found",
            r"unrouteable address",
            r"unroutable address",
            r"no mailbox",
            r"mailbox not found",
            r"invalid address",
            r"bad (?:destination )?(?:mailbox|address|recipient)",
            r"has (?:moved|left)",
            r"no longer (?:valid|available|active|with|in use|exists)",
            r"not (?:listed|known) (?:in|at)",
            r"is not a (?:known|valid) user",
            r"unknown or illegal",
            r"addressee unknown",
            r"recipient unknown",
            r"(?:user|recipient|mailbox|address|addressee) not known",
            r"no (?:such )?account",
            r"unbekannt",
            r"existiert nicht",
            r"host (?:or domain name )?not found",
            r"host unknown",
            r"unknown host",
            r"name or service not known",
            r"domain (?:name )?(?:not found|does not exist|unknown|is not valid)",
            r"no (?:mx|a) records?",
            r"nxdomain",
            r"unable to resolve",
            r"mx (?:record )?lookup",
            r"not accept(?:ing)? (?:any )?(?:mail|email|messages)",
            r"null mx",
            r"no smtp service",
            r"recipient name is not recognized",
            # directory look-ups (ph, LDAP gateways): the name matched no mailbox
            r"no match(?:es)? (?:to|for|in) (?:the )?(?:\w+ )?(?:query|directory|lookup)",
            r"did not (?:exactly )?match (?:an?|any) .{0,30}(?:e-?mail )?address",
            r"check (?:if|that) (?:the )?address is correct",
            r"not accepting network messages",
            r"does not accept mail",
            r"no mail ?(?:server|exchanger)",
        ),
    ),
    (
        SOFT,
        "mailbox disabled",
        _rx(
            r"(?:mailbox|account|user|address) (?:is |has been )?expired",
            r"temporarily (?:disabled|suspended|deferred|unavailable|blocked)",
            r"inactive (?:user|account|mailbox)",
            r"not (?:currently )?active",
        ),
    ),
    (
        SOFT,
        "expired or temporary",
        _rx(
            *_language("temporary"),
            r"expired",
            r"timed? ?out",
            r"time-?out",
            r"too long",
            r"could not be delivered for",
            r"retry (?:timeout|time)",
            r"giving up",
            r"delivery (?:is )?delayed",
            r"has not yet been delivered",
            r"will (?:continue|keep) (?:to )?(?:try|retry)",
            r"try(?:ing)? again",
            r"temporar",
            r"connection (?:refused|reset|closed|lost|dropped)",
            r"network",
            r"could not connect",
            r"unable to connect",
            r"no route",
            r"too many (?:connections|messages|concurrent|recipients)",
            r"rate limit",
            r"throttl",
            r"try later",
            r"later",
            r"tls",
        ),
    ),
    (
        SOFT,
        "recipient's mail system",
        _rx(
            r"loop",
            r"hop count",
            r"too many hops",
            r"service (?:is )?(?:currently |temporarily )?(?:not available|unavailable)",
            r"system (?:error|failure|busy|full)",
            r"local error",
            r"internal (?:server )?error",
            r"mailer error",
            r"insufficient (?:system )?resources",
            r"program (?:exited|failed|error)",
            r"pipe to",
        ),
    ),
    (HARD, "recipient rejected", _rx(r"address rejected")),
    (BLOCKED, "rejected", _rx(r"\brejected\b", r"\bdenied\b", r"\brefused\b")),
)

# What each rule answers. A permanent failure's class is fixed by its code; only the
# address / mailbox / policy rules may refine it. "transient" words count only where no code
# exists or the code is temporary; "generic" words ("rejected") only when nothing specific does.
_CATEGORY = {
    "user unknown": "address",
    "mailbox disabled": "mailbox",
    "mailbox full": "mailbox",
    "message too big": "mailbox",
    "authentication": "policy",
    "spam or virus": "policy",
    "blocklisted or reputation": "policy",
    "refused by policy": "policy",
    "too many connections": "system",
    "expired or temporary": "transient",
    "recipient's mail system": "system",
    "recipient rejected": "generic",
    "rejected": "generic",
}
_SPECIFIC = frozenset({"address", "mailbox", "policy", "system", "transient"})
_REFINING = frozenset({"address", "mailbox", "policy", "system"})

# RFC 3463 subject.detail of a permanent (5.x.x) status, when the server's words do not say.
_CODE_RULES: tuple[tuple[re.Pattern[str], InboundClass, str], ...] = (
    (re.compile(r"^5\.1\.[78]$"), BLOCKED, "bad sender address"),
    (re.compile(r"^5\.1\.(?:1|2|3|6|10)$"), HARD, "address does not exist"),
    (re.compile(r"^5\.1\.\d+$"), HARD, "bad destination address"),
    (re.compile(r"^5\.4\.4$"), HARD, "domain not routable"),
    (re.compile(r"^5\.7\.\d+$"), BLOCKED, "refused by policy"),
    (re.compile(r"^5\.2\.2$"), SOFT, "mailbox full"),
    (re.compile(r"^5\.2\.1$"), SOFT, "mailbox disabled"),
    (re.compile(r"^5\.2\.3$"), SOFT, "message too big"),
    (re.compile(r"^5\.3\.4$"), SOFT, "message too big"),
    (re.compile(r"^5\.4\.7$"), SOFT, "delivery time expired"),
    (re.compile(r"^5\.6\.\d+$"), BLOCKED, "content refused"),
    (re.compile(r"^5\.[234]\.\d+$"), SOFT, "mailbox or system problem"),
)
# RFC 5321 (and RFC 7504) permanent reply codes, when neither words nor a status decide.
_REPLY_RULES: dict[str, tuple[InboundClass, str]] = {
    "550": (HARD, "mailbox unavailable"),
    "551": (HARD, "user not local"),
    "553": (HARD, "mailbox name not allowed"),
    "521": (HARD, "domain does not accept mail"),
    "556": (HARD, "domain does not accept mail"),
    "552": (SOFT, "exceeded storage allocation"),
    "554": (BLOCKED, "transaction failed"),
    "500": (BLOCKED, "command refused (syntax)"),  # 500-504: our SMTP commands refused
    "501": (BLOCKED, "command refused (syntax in parameters)"),
    "502": (BLOCKED, "command not implemented"),
    "503": (BLOCKED, "bad sequence of commands"),
    "504": (BLOCKED, "command parameter not implemented"),
    "530": (BLOCKED, "authentication required"),
    "535": (BLOCKED, "authentication failed"),
    "538": (BLOCKED, "encryption required"),
}
_PERMANENT_WORDS = re.compile(
    r"permanent(?:ly)? (?:fatal )?(?:error|failure|failed|rejected)|failed permanently|"
    r"fatal error|will not (?:be )?retr|(?:not|never) be delivered"
)
_TEMPORARY_WORDS = re.compile(
    r"will (?:continue to |keep )?(?:retry|try again|keep trying)|still trying|"
    r"(?:has been |is )?(?:delayed|deferred)|temporar"
)

_ADDRESS_RE = re.compile(r"\S+@\S+")
_URL_RE = re.compile(r"https?://([^/\s]+)\S*")
_SPACES_RE = re.compile(r"[ \t]+")


def _match(text: str, categories: frozenset[str]) -> Reason | None:
    """The rule of the earliest line with a match among `categories` (table order within a
    line: with several recipients, the first one's reason wins)."""
    best: tuple[int, re.Match[str]] | None = None
    limit = len(text)
    for index, (_, name, pattern) in enumerate(_RULES):
        if _CATEGORY[name] not in categories:
            continue
        found = pattern.search(text, 0, limit)  # only lines before the best so far
        if found is None:
            continue
        line_start = text.rfind("\n", 0, found.start())
        if best is None or line_start < text.rfind("\n", 0, best[1].start()):
            best = (index, found)
            limit = line_start + 1 if line_start >= 0 else 0
            if limit == 0:
                break  # the first line matched: no earlier line can win
    if best is None:
        return None
    kind, name, _ = _RULES[best[0]]
    return Reason(kind, name, f'diagnostic "{best[1].group(0)}"')


def _normalise(text: str) -> str:
    # "filtered@host" or ".../reason/#filtered" must not read as "filter"; a URL's host
    # ("www.spamhaus.org") still counts. BAD_RECIPIENT reads as "bad recipient".
    text = _URL_RE.sub(r" \1 ", _ADDRESS_RE.sub(" ", text.lower())).replace("_", " ")
    return _SPACES_RE.sub(" ", text)


_MAIL_FROM_STAGE = re.compile(r"(?:after|in reply to|response to) (?:the )?mail from")


def _sender_refused(status: str | None, diagnostic: str) -> bool:
    if status and status[2:] in ("1.7", "1.8"):
        return True
    return bool(_MAIL_FROM_STAGE.search(diagnostic.lower()))


def permanence(status: str | None, reply_code: str | None, action: str, text: str) -> str:
    """ "5" (permanent), "4" (temporary) or "" (unknown): the status's class, else the reply
    code's, else the DSN Action, else the server's words about it."""
    if status and status[0] in "45":
        return status[0]
    if reply_code and reply_code[0] in "45":
        return reply_code[0]
    if action == "delayed":
        return "4"
    if action == "failed":
        return "5"
    lowered = text.lower()
    if _PERMANENT_WORDS.search(lowered):
        return "5"
    if _TEMPORARY_WORDS.search(lowered):
        return "4"
    return ""


def classify_reason(
    status: str | None, diagnostic: str, action: str = "", reply_code: str | None = None
) -> Reason:
    """The bounce class for one recipient, with what decided it.

    The code's class decides permanent or temporary; the reporting server's words (address,
    mailbox, policy) then the status's subject.detail then the reply code decide which kind
    of permanent failure; words decide alone only where no code exists."""
    text = _normalise(diagnostic) if diagnostic else ""
    klass = permanence(status, reply_code, action, text)
    if klass == "4":
        # A deferral keeps the address, unless the words say we were blocked (4.7.x reputation).
        by_policy = _match(text, frozenset({"policy"}))
        if by_policy is not None:
            return by_policy
        return Reason(SOFT, "temporary failure", f"Status {status}" if status else "temporary")
    coded = bool(status and status[0] in "45") or bool(reply_code and reply_code[0] in "45")
    if klass == "5" and coded:
        by_text = _match(text, _REFINING)
        if by_text is not None and by_text.kind is HARD and _sender_refused(status, diagnostic):
            # RFC 5321: a reply to MAIL FROM, or X.1.7/X.1.8 (RFC 3463), is about our sender
            # address ("No such domain" is ours), not the recipient's.
            return Reason(BLOCKED, "sender address refused", by_text.evidence)
        if by_text is not None:
            return by_text
        if status and status.endswith(".0") and status[2:3] != "1":
            # X.2.0, X.3.0 …: "other or undefined" status of its subject; a plain
            # "rejected" from the server says more than that.
            generic = _match(text, frozenset({"generic"}))
            if generic is not None and generic.kind is BLOCKED:
                return generic
        if status:
            for pattern, kind, name in _CODE_RULES:
                if pattern.match(status):
                    return Reason(kind, name, f"Status {status}")
        generic = _match(text, frozenset({"generic"}))
        if generic is not None:
            return generic
        if reply_code in _REPLY_RULES:
            kind, name = _REPLY_RULES[reply_code]
            return Reason(kind, name, f"reply code {reply_code}")
        why = f"Status {status}" if status and status[0] == "5" else f"reply code {reply_code}"
        return Reason(HARD, "permanent failure, no reason given", why)
    # No code: the words decide alone (a failed Action or "permanent error" says the failure
    # is final, not what it was).
    by_text = _match(text, _SPECIFIC) or _match(text, frozenset({"generic"}))
    if by_text is not None:
        return by_text
    return Reason(SOFT, "unknown failure", "no status code, reply code or known phrase")
