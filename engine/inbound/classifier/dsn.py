"""Delivery reports: RFC 3464 DSNs and the free-text bounces of real MTAs.

Finds out whether a message reports on delivery, and for which recipients, with which
status code and diagnostic. The one rule that matters most: a bounced address must come
from the report itself (DSN fields, X-Failed-Recipients, the MTA's own text), never from
the embedded copy of our message, whose To/Cc may list people who got it fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.inbound.classifier import ses, transcript
from engine.inbound.classifier.parse import Parsed, addresses_in

STATUS_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
REPLY_CODE_RE = re.compile(r"(?<![\d.-])([245][0-5]\d)(?=[ -][^\d])")

_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})\s*:\s?(.*)$")
_PER_RECIPIENT = {
    "final-recipient",
    "original-recipient",
    "x-actual-recipient",
    "action",
    "status",
    "diagnostic-code",
    "remote-mta",
}

_DAEMON_LOCALS = re.compile(
    r"^(?:mailer[-_]?daemon|mail[-_]?daemon|post_?master|poostmaster|mdaemon|"
    r"mail[-_]?delivery[-_]?(?:system|subsystem)?|bounces?|nobody|mailerdaemon|"
    r"mail-?system|msgdelivery|no-?reply|"
    # help desks named in bounce boilerplate ("please contact <support@…>")
    r"support|help|helpdesk|abuse|hostmaster|webmaster)(?:[+=.-].*)?$",
    re.I,
)
_DAEMON_FROM = re.compile(
    r"mailer[-_ ]?daemon|postmaster|mail delivery|delivery (?:status|subsystem)|"
    r"mail administrator|system administrator|mail ?system|bounce|"
    r"microsoft outlook|internet mail delivery|mail transport",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|returned mail|failure notice|"
    r"mail delivery fail|delivery fail|delivery has failed|non[- ]?delivery|nondeliver|"
    r"could not be delivered|could not send message|not delivered|delivery problem|"
    r"mail system error|returned to sender|delivery report|delivery notification|"
    r"mail could not|failed delivery|message you sent|unable to deliver|"
    r"delivery (?:error|warning|delayed)|warning: message|permanent error|"
    r"mailbox unavailable|rejected|delivery unsuccessful|returned message|"
    r"unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|unzustellbare|"
    r"unknown recipient|user unknown|bounce|error sending|message (?:status|delivery)|"
    r"nondeliverable|failed to deliver|undelivery|delivery failure|"
    r"mail (?:system|delivery) (?:error|problem)|kontakt mit|"
    r"不達|エラー|返送|配信",
)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|wasn't delivered|"
    r"delivery (?:to the following recipients? )?(?:has )?failed|failed permanently|"
    r"permanent (?:fatal )?error|undeliverable|unable to deliver|not be delivered|"
    r"delivery to the following|following address(?:es)?(?:\(es\))? (?:had|failed)|"
    r"i'm afraid i wasn't able to deliver|returning message to sender|"
    r"message could not be|your message (?:to .{1,200} )?(?:was|has been|couldn't be|could not be) "
    r"(?:rejected|blocked|bounced|returned)|"
    r"delivery status notification|hop count exceeded|mail delivery failed|"
    r"transcript of session follows|recipient address rejected|"
    r"user unknown|unknown user|no such user|mailbox (?:is )?(?:full|unavailable)|"
    r"message delivery has been delayed|has not yet been delivered|could not deliver|"
    r"delivery is delayed|temporary failure|giving up on|was undeliverable|"
    r"nicht zugestellt|konnte nicht zugestellt",
)

# Lines where a free-text bounce's explanation ends and the copy of our message starts.
_ORIGINAL_START = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|unsent message|below this line is a copy|"
    r"this is a copy of|the header of the original|original message headers?|"
    r"returned message|message header follows|undelivered message|the original message|"
    r"copy of the (?:original )?message|original mail|header of (?:the )?original|"
    r"headers of (?:your|the) (?:original )?message|forwarded message|start of returned|"
    r"included is a copy|rfc822 headers)|"
    r"original message headers:|original message follows|"
    r"(?:-+ )?(?:begin|start) (?:of )?(?:original|returned|forwarded) message|"
    r"content-type: message/rfc822|content-type: text/rfc822-headers|"
    r"-+\s*(?:message text|original headers)|"
    r"\*+\s*original message|"
    r"the (?:original )?message (?:headers|header) (?:follow|are below)|"
    r"your message (?:reads|was)(?: \(in part\))?:?\s*$|"
    r"the original message was:?\s*$|"
    r"original message header:|"
    r"--- original message ---|"
    r"below is a copy of the original message|"
    r"a copy of the original message|"
    r"header of original message"
    r")",
    re.I | re.M,
)
# A block of RFC 5322 header lines inside a text body is the copy of a message.
_HEADER_BLOCK = re.compile(
    r"^(?:Return-Path|Received|DKIM-Signature|Message-I[Dd]|X-Received|ARC-Seal):[ \t]",
    re.M,
)

# Address contexts that name a failed recipient in MTA prose, strongest first.
_STRONG = (
    re.compile(r"^\s*<([^<>\s]+@[^<>\s]+)>\s*(?::|\.\.\.|\(|$)", re.M),  # qmail, sendmail
    re.compile(r"^\s*([^<>\s:;]+@[^<>\s:;]+?)\s*(?:<mailto:[^>]*>)?\s*$", re.M),  # alone on a line
    re.compile(r"RCPT TO:?\s*<([^<>\s]+@[^<>\s]+)>", re.I),
    re.compile(
        r"\b(?:recipient|address|user|mailbox|to|an|for)(?:\s+address)?\s*(?::|is|was)?\s*"
        r"<?([^<>\s\"',;()]+@[^<>\s\"',;()]+?)>?[\s.,;:)]",
        re.I,
    ),
    re.compile(r"<([^<>\s]{1,254}@[^<>\s]{1,254})>\s*\.\.\.", re.I),
    re.compile(r"^\s*([^<>\s]+@[^<>\s]+) on \w{3}, ", re.M),  # Exchange 2003
    # The lookbehind starts a match only at a token's first character: linear, not O(n²).
    re.compile(
        r"(?<![^<>\s\"':;])([^<>\s\"':;]{1,254}@[^<>\s\"':;]{1,254}?)\s*\.\.\.\s*"
        r"(?:user|mailbox|deferred)",
        re.I,
    ),
)
_MAIL_FROM = re.compile(r"MAIL FROM:?\s*<([^<>\s]*)>", re.I)


@dataclass
class RecipientReport:
    address: str | None
    action: str = ""
    status: str | None = None
    diagnostic: str | None = None
    source: str = ""  # where the address came from: "Final-Recipient", "text", …
    final: str | None = None  # Final-Recipient when Original-Recipient gave `address`


@dataclass
class DeliveryReport:
    recipients: list[RecipientReport] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    is_standard: bool = False  # RFC 3464 fields present
    text: str = ""  # the report's own prose, without the embedded original
    original: str = ""  # the embedded copy of our message (or its headers)


def split_original(text: str) -> tuple[str, str]:
    """A free-text bounce's own prose, and the copy of our message appended after it."""
    match = _ORIGINAL_START.search(text)
    header = _HEADER_BLOCK.search(text)
    cut = None
    if match is not None:
        cut = match.start()
    if header is not None and (cut is None or header.start() < cut):
        cut = header.start()
    if cut is None:
        return text, ""
    return text[:cut], text[cut:]


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        if line[:1] in (" ", "\t") and lines and lines[-1]:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.rstrip())
    return lines


def _address_of(value: str) -> str | None:
    """`rfc822; Erik@Acme.example` → erik@acme.example."""
    if ";" in value:
        value = value.split(";", 1)[1]
    found = addresses_in(value)
    return found[0] if found else None


_GROUP_BODY = frozenset({"action", "status", "diagnostic-code"})


def parse_status_fields(text: str) -> list[RecipientReport]:
    """Per-recipient groups of RFC 3464 fields found anywhere in `text`."""
    groups: list[RecipientReport] = []
    current: RecipientReport | None = None
    seen: set[str] = set()
    for line in _unfold(text):
        match = _FIELD_RE.match(line)
        if match is None:
            continue
        name = match.group(1).lower()
        value = match.group(2).strip()
        if name not in _PER_RECIPIENT:
            continue
        # A recipient line opens a new group unless it belongs to the current one: Postfix
        # writes Final- then Original-Recipient, RFC 3464 the other way round; both are one
        # recipient. A repeated field, or one after the group's Action/Status, is the next.
        if name in ("final-recipient", "original-recipient") and (
            current is None or name in seen or bool(seen & _GROUP_BODY)
        ):
            current = RecipientReport(address=None)
            groups.append(current)
            seen = set()
        if current is None:
            if name in ("action", "status", "diagnostic-code"):
                current = RecipientReport(address=None)
                groups.append(current)
                seen = set()
            else:
                continue
        seen.add(name)
        if name == "original-recipient":
            # RFC 3464 §2.3.1: the address as the sender gave it, before any forwarding or
            # aliasing — the one we sent to, so it wins over Final-Recipient.
            address = _address_of(value)
            if address:
                if current.address and current.source == "Final-Recipient":
                    current.final = current.address
                current.address = address
                current.source = "Original-Recipient"
        elif name in ("final-recipient", "x-actual-recipient"):
            address = _address_of(value)
            if address is None:
                continue
            if current.source == "Original-Recipient":
                if name == "final-recipient":
                    current.final = address  # forwarded to: kept aside, never blamed
            elif current.address is None or name == "final-recipient":
                current.address = address
                current.source = match.group(1)
        elif name == "action":
            current.action = value.lower().split()[0] if value else ""
        elif name == "status":
            found = STATUS_RE.search(value)
            if found:
                current.status = ".".join(found.groups())
        elif name == "diagnostic-code":
            diagnostic = value.split(";", 1)[1].strip() if ";" in value[:20] else value
            current.diagnostic = diagnostic[:1000]
    return [g for g in groups if g.address or g.status or g.action]


def from_daemon(headers: dict[str, str]) -> bool:
    """Sent by a mail system (MAILER-DAEMON, postmaster, …) or with the null sender."""
    sender = headers.get("from", "")
    local = sender.rsplit("@", 1)[0].rsplit("<", 1)[-1].strip().strip('"')
    if _DAEMON_LOCALS.match(local) or (sender and _DAEMON_FROM.search(sender.split("@")[0])):
        return True
    return headers.get("return-path", "").strip() == "<>"


def looks_like_bounce(parsed: Parsed, prose: str) -> list[str]:
    """Evidence that this is a delivery report at all (empty list: it is not)."""
    h = parsed.headers
    evidence: list[str] = []
    if parsed.report_type == "delivery-status":
        evidence.append("Content-Type multipart/report; report-type=delivery-status")
    if "notificationType" in prose[:5000]:
        evidence.append("Amazon SES notification")
    if "x-failed-recipients" in h:
        evidence.append(f"header X-Failed-Recipients: {h['x-failed-recipients'][:80]}")
    if "x-ms-exchange-message-is-ndr" in h:
        evidence.append("header X-MS-Exchange-Message-Is-Ndr")
    sender = h.get("from", "")
    local = sender.rsplit("@", 1)[0].rsplit("<", 1)[-1].strip().strip('"')
    if _DAEMON_LOCALS.match(local) or (sender and _DAEMON_FROM.search(sender.split("@")[0])):
        evidence.append(f"header From: {sender[:80]}")
    elif "from" in h and sender.strip() in ("", "<>"):
        evidence.append("header From: <> (the null sender)")
    if h.get("return-path", "").strip() in ("<>", "") and "return-path" in h:
        evidence.append("header Return-Path: <>")
    subject = h.get("subject", "")
    if subject and _BOUNCE_SUBJECT.search(subject.lower()):
        evidence.append(f"header Subject: {subject[:80]}")
    body = _BOUNCE_BODY.search(prose[:20000].lower())
    if body:
        evidence.append(f'phrase "{body.group(0)}"')
    return evidence


def _excluded(parsed: Parsed, original: str) -> set[str]:
    """Addresses that are never the bounced recipient: us, the daemon, the original sender."""
    h = parsed.headers
    out: set[str] = set()
    for name in ("to", "from", "delivered-to", "return-path"):
        out.update(addresses_in(h.get(name, "")))
    for line in original.split("\n")[:300]:
        low = line[:14].lower()
        if low.startswith(("from:", "sender:", "return-path:", "reply-to:", "errors-to:")):
            out.update(addresses_in(line))
    return out


def recipients_from_text(prose: str, parsed: Parsed, original: str) -> list[str]:
    """Failed recipients named in an MTA's prose, strongest context first."""
    excluded = _excluded(parsed, original)
    excluded.update(a.lower() for a in _MAIL_FROM.findall(prose))
    # "To: …", "Cc: …" lines echo the original's headers: never the failed recipient.
    local = _listed_local_names(prose, parsed.headers)
    if local:
        return local
    prose = transcript.without_header_echoes(prose)
    named = [a for a in addresses_in(prose) if a not in excluded]
    candidates = [a for a in named if not _is_daemon(a)]
    if not candidates:
        # A bounce to postmaster@… is rare but real: only when named in a failure context.
        return [a for a in _strong(prose, named)]
    if len(candidates) <= 1:
        return candidates
    return _strong(prose, candidates) or candidates[:1]


_LIST_HEAD = re.compile(
    r"following (?:recipients?|addresses|address\(es\)|users?|mailbox(?:es)?)\b"
    r"[^:]{0,200}:[ \t]*\n",
    re.I,
)
_LOCAL_NAME = re.compile(r"^[ \t]+([A-Za-z0-9][A-Za-z0-9._+-]{0,63})[ \t]*$", re.M)


def _listed_local_names(prose: str, headers: dict[str, str]) -> list[str]:
    """Mailbox names without a domain, listed under "the following recipients:" by the
    recipients' own mail system (AOL writes screen names): name@the daemon's domain."""
    head = _LIST_HEAD.search(prose[:20000])
    if head is None:
        return []
    sender = addresses_in(headers.get("from", ""))
    if not sender or not _is_daemon(sender[0]):
        return []
    domain = sender[0].split("@", 1)[1]
    block = prose[head.end() : head.end() + 2000].split("\n\n", 1)[0]
    names = _LOCAL_NAME.findall(block)
    if not names or len(names) != len([line for line in block.split("\n") if line.strip()]):
        return []  # every listed line must be a bare name, or this is something else
    return [f"{name.lower()}@{domain}" for name in names]


def _strong(prose: str, candidates: list[str]) -> list[str]:
    """The candidates an MTA names in a failure context, in order of first mention."""
    if not candidates:
        return []
    prose = prose[:50000]  # the failure text is at the top; bound the work on huge bodies
    strong: dict[str, int] = {}
    for pattern in _STRONG:
        for match in pattern.finditer(prose):
            for address in addresses_in(match.group(1)):
                if address in candidates:
                    strong[address] = min(strong.get(address, match.start()), match.start())
    return sorted(strong, key=strong.__getitem__)


def _is_daemon(address: str) -> bool:
    return bool(_DAEMON_LOCALS.match(address.split("@", 1)[0]))


def read_report(parsed: Parsed) -> DeliveryReport:
    """Whatever delivery information the message holds (possibly none)."""
    prose, tail = split_original(parsed.text)
    original = "\n".join(part for part in (parsed.original, tail) if part)
    report = DeliveryReport(text=prose, original=original)
    notification = ses.read(parsed.text)
    if notification is not None and notification.kind in ("bounce", "delivery"):
        report.is_standard = True
        report.evidence.append(f"Amazon SES notification: {notification.kind}")
        for item in notification.recipients:
            status = None
            found = STATUS_RE.search(item.status or item.diagnostic or "")
            if found:
                status = ".".join(found.groups())
            report.recipients.append(
                RecipientReport(item.address, item.action, status, item.diagnostic, "SES JSON")
            )
        return report
    groups = parse_status_fields(parsed.status_text) if parsed.status_text else []
    if not groups:
        groups = [g for g in parse_status_fields(prose) if g.address or g.status]
        # Inline fields without Status/Action are too weak to call it a DSN.
        groups = [g for g in groups if g.status or g.action]
    if groups:
        report.is_standard = True
        report.recipients = groups
    if not any(g.address for g in report.recipients):
        named_in_text = recipients_from_text(prose, parsed, original)
        failed = addresses_in(parsed.headers.get("x-failed-recipients", ""))
        if failed and not set(failed) & set(named_in_text):
            # The MTA's own header, unless its prose names other addresses explicitly.
            named_in_text = (
                named_in_text if len(named_in_text) == 1 and not report.recipients else failed
            )
        if named_in_text:
            if report.recipients and len(named_in_text) == 1:
                for g in report.recipients:
                    g.address = named_in_text[0]
                    g.source = "text"
            elif not report.recipients:
                report.recipients = [
                    RecipientReport(address=a, source="text") for a in named_in_text
                ]
    _expanded_from(prose, report.recipients)
    return report


# "gail@example.com (expanded from: <Gail@example.net>)", "x@y (generated from z@w)": an
# alias or forward the MTA resolved; the address we sent to is the one it came from.
_EXPANDED_FROM = re.compile(
    r"\(\s*(?:ultimately\s+)?(?:expanded|generated)\s+from:?\s*<?([^\s<>()]+@[^\s<>()]+?)>?\s*\)",
    re.I,
)


def _expanded_from(prose: str, groups: list[RecipientReport]) -> None:
    """Point each group whose address an MTA expanded back at the address we sent to."""
    prose = prose[:50000]
    for found in _EXPANDED_FROM.finditer(prose):
        before = addresses_in(prose[max(0, found.start() - 400) : found.start()])
        origin = addresses_in(found.group(1))
        if not before or not origin:
            continue
        final = before[-1]  # the address named last before "(expanded from …)"
        for group in groups:
            if group.address == final and group.source != "Original-Recipient":
                group.address, group.final = origin[0], final
                group.source = "expanded from"
