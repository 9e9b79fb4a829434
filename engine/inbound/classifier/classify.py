"""One inbound email → a Classification with evidence. Never raises.

Order of questions: is it a feedback report (complaint)? a delivery report (bounce,
delay, success)? a mailing-list manager's notice? an auto-reply? otherwise a person wrote
it, and we read the intent.
Delivery reports come before auto-replies because many bounces carry
`Auto-Submitted: auto-replied`, and a bounce taken for a vacation reply would keep us
mailing a dead address.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from engine.core.classification import (
    BOUNCE_CLASSES,
    AutoReplyKind,
    Classification,
    InboundClass,
)
from engine.inbound.classifier import (
    arf,
    autoreply,
    bounce_reasons,
    dates,
    dsn,
    listserver,
    reply,
    transcript,
)
from engine.inbound.classifier.parse import (
    MAX_PARTS,
    MAX_TOKENS,
    Parsed,
    addresses_in,
    angle_tokens,
    parse,
)

_HEADER_NAMES = frozenset({"from", "subject", "date", "message-id"})
_DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})
_SEVERITY = {InboundClass.HARD_BOUNCE: 0, InboundClass.BLOCKED: 1, InboundClass.SOFT_BOUNCE: 2}


def classify(raw: bytes) -> Classification:
    """Classify the raw bytes of one inbound email; on any failure, UNCLASSIFIED with why."""
    try:
        if not isinstance(raw, bytes | bytearray | memoryview):
            return _unclassified(f"input is {type(raw).__name__}, not bytes")
        data = bytes(raw)
        if not data.strip():
            return _unclassified("empty message")
        parsed = parse(data)
        inner = _wrapped_report(parsed)
        if inner is not None:
            # A gateway re-sent a delivery report as an attachment: read the report itself.
            parsed = parse(inner.as_bytes())
            parsed.limits.insert(0, "read the delivery report attached by a mail gateway")
        result = _classify(parsed)
        if parsed.limits:
            # Say what was left unread: a verdict on a bounded read is still a verdict.
            evidence = (*result.evidence, *(f"input bounded: {x}" for x in parsed.limits))
            result = dataclasses.replace(result, evidence=evidence)
        return result
    except Exception as exc:  # the contract: never raise, keep the message for a human
        return _unclassified(f"classifier error: {type(exc).__name__}: {str(exc)[:200]}")


def _wrapped_report(parsed: Parsed) -> Message | None:
    """The multipart/report a mail system attached whole (a gateway re-wrapping a DSN)."""
    if parsed.status_text or not dsn.from_daemon(parsed.headers):
        return None
    for index, part in enumerate(parsed.message.walk()):
        if index > MAX_PARTS:
            break
        payload = part.get_payload() if part.get_content_type() == "message/rfc822" else None
        if (
            isinstance(payload, list)
            and payload
            and isinstance(payload[0], Message)
            and payload[0].get_content_type() == "multipart/report"
        ):
            return payload[0]
    return None


def _unclassified(why: str, **threading: object) -> Classification:
    return Classification(
        kind=InboundClass.UNCLASSIFIED,
        confidence=0.0,
        evidence=(why,),
        **threading,  # type: ignore[arg-type]
    )


def _threading(parsed: Parsed) -> dict[str, object]:
    h = parsed.headers
    message_ids = angle_tokens(h.get("message-id", ""))
    tokens: dict[str, None] = {}  # ordered and linear: a set would lose the order
    for name in ("in-reply-to", "references"):
        values = angle_tokens(h.get(name, ""))
        if name == "references":
            values.reverse()  # References lists oldest first; we want newest first
        for token in values:
            tokens.setdefault(token, None)
    from_pairs = getaddresses([h.get("from", "")])
    from_address = next((addr.lower() for _, addr in from_pairs if "@" in addr), None)
    return {
        "message_id": message_ids[0] if message_ids else None,
        "in_reply_to": tuple(tokens)[:MAX_TOKENS],
        "original_message_id": _original_message_id(parsed),
        "from_address": from_address,
        "subject": h.get("subject") or None,
    }


def _original_message_id(parsed: Parsed) -> str | None:
    """Message-ID of our message inside a DSN/ARF (embedded message or its headers)."""
    for chunk in (parsed.original, dsn.split_original(parsed.text)[1]):
        # The copy starts with its headers: the first Message-ID line is the original's.
        for line in chunk.split("\n", 400)[:400]:
            if line[:11].lower() == "message-id:":
                tokens = angle_tokens(line[11:])
                if tokens:
                    return tokens[0]
    return None


def _reference_date(parsed: Parsed) -> date | None:
    value = parsed.headers.get("date", "")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _classify(parsed: Parsed) -> Classification:
    threading = _threading(parsed)
    feedback = arf.read_feedback(parsed)
    if feedback is not None:
        return Classification(
            kind=InboundClass.COMPLAINT,
            confidence=0.98 if parsed.report_type == "feedback-report" else 0.85,
            evidence=tuple(feedback.evidence),
            recipients=tuple(feedback.recipients),
            extra={"feedback_type": feedback.feedback_type},
            **threading,  # type: ignore[arg-type]
        )
    asked = autoreply.challenge(parsed.text)
    if asked and not (transcript.status_code(parsed.status_text) or "").startswith("5"):
        # A challenge-response system holds our message until we confirm we are a sender;
        # it may dress that up as a DSN with a 4.x.x status. Not a bounce, not a person.
        return Classification(
            kind=InboundClass.AUTO_REPLY,
            confidence=0.8,
            evidence=(f'challenge-response phrase "{asked}"', "no permanent status"),
            auto_reply_kind=AutoReplyKind.OTHER,
            **threading,  # type: ignore[arg-type]
        )
    bounce = _delivery_report(parsed, threading)
    if bounce is not None:
        return bounce
    notice = listserver.detect(parsed.headers, parsed.headers.get("subject", ""), parsed.text)
    if notice is not None:
        return Classification(
            kind=notice.kind,
            confidence=0.8,
            evidence=(*notice.evidence, f"reason: {notice.reason}"),
            recipients=notice.recipients,
            **threading,  # type: ignore[arg-type]
        )
    auto = autoreply.detect(parsed.headers, parsed.text)
    if auto is not None:
        fresh = reply.strip_reply(parsed.text)
        return_date, phrase = dates.find_return_date(fresh or parsed.text, _reference_date(parsed))
        evidence = list(auto.evidence)
        if phrase:
            evidence.append(f'return date {return_date} from "{phrase[:80]}"')
        return Classification(
            kind=InboundClass.AUTO_REPLY,
            confidence=auto.strength,
            evidence=tuple(evidence),
            auto_reply_kind=auto.kind,
            return_date=return_date,
            **threading,  # type: ignore[arg-type]
        )
    return _human(parsed, threading)


def _delivery_report(parsed: Parsed, threading: dict[str, object]) -> Classification | None:
    report = dsn.read_report(parsed)
    signals = dsn.looks_like_bounce(parsed, report.text)
    if not report.is_standard and not _enough(signals, report):
        return None
    groups = report.recipients
    if report.is_standard and groups and all(_delivered(g) for g in groups):
        addresses = tuple(dict.fromkeys(g.address for g in groups if g.address))
        first = groups[0]
        return Classification(
            kind=InboundClass.DELIVERED,
            confidence=0.95,
            evidence=(
                *signals[:2],
                f"DSN Action: {first.action}"
                + (f" Status: {first.status}" if first.status else ""),
            ),
            recipients=addresses,
            status=first.status,
            **threading,  # type: ignore[arg-type]
        )
    failed = [g for g in groups if not _delivered(g)] or groups
    diagnostic = next((g.diagnostic for g in failed if g.diagnostic), None)
    action = next((g.action for g in failed if g.action), "")
    # The server speaks in the DSN's Diagnostic-Code and in the prose's SMTP transcript;
    # never in the returned original, footers or the echo of the original's headers.
    text_for_reason = diagnostic or transcript.speaking(report.text)[0]
    status_code = next((g.status for g in failed if g.status), None)
    said = transcript.status_code(text_for_reason)
    if status_code is None or (
        status_code.endswith(".0.0") and said is not None and said[0] == status_code[0]
    ):
        status_code = said or status_code  # "Status: 5.0.0" but the server said 5.1.1
    reply_code = transcript.reply_code(text_for_reason)
    reason = bounce_reasons.classify_reason(status_code, text_for_reason, action, reply_code)
    recipients = tuple(dict.fromkeys(g.address for g in failed if g.address))
    if (
        status_code is None
        and reply_code is None
        and any(r.endswith("@googlegroups.com") for r in recipients)
    ):
        # Google Groups explains in the sender's language that the post was not accepted
        # (not a member, no permission; "may not exist or you may not post"): a refusal of
        # us, not a dead address.
        reason = bounce_reasons.Reason(
            InboundClass.BLOCKED, "group refused the post", "recipient is a Google Group"
        )
    evidence = list(signals[:3])
    who = ", ".join(recipients) if recipients else "an unnamed recipient"
    evidence.append(
        f"{'DSN' if report.is_standard else 'bounce'} Status: {status_code or '?'} for {who}"
    )
    if action:
        evidence.append(f"DSN Action: {action}")
    evidence.append(f"reason: {reason.name} ({reason.evidence})")
    confidence = 0.95 if report.is_standard else 0.85
    if not recipients:
        confidence -= 0.15
    return Classification(
        kind=reason.kind,
        confidence=round(confidence, 2),
        evidence=tuple(evidence),
        recipients=recipients,
        status=status_code,
        diagnostic=(text_for_reason or None) and text_for_reason[:500].strip(),
        extra=_extra(reason.name, failed),
        **threading,  # type: ignore[arg-type]
    )


def _extra(reason: str, groups: list[dsn.RecipientReport]) -> dict[str, str]:
    extra = {"reason": reason}
    forwarded = [g.final for g in groups if g.final and g.final != g.address]
    if forwarded:
        # We report the address we sent to (Original-Recipient); where the report forwarded
        # it elsewhere, the final address is kept for a human, never suppressed.
        extra["final_recipients"] = ",".join(dict.fromkeys(forwarded))
    return extra


def _delivered(group: dsn.RecipientReport) -> bool:
    """Action delivered/relayed/expanded, or a 2.x.x status (e.g. sendmail's "deliverable")."""
    if group.action in _DELIVERED_ACTIONS:
        return True
    return bool(group.status and group.status.startswith("2") and group.action != "failed")


def _enough(signals: list[str], report: dsn.DeliveryReport) -> bool:
    """A free-text bounce needs two independent hints, or one plus a named recipient."""
    if not signals:
        return False
    kinds = {s.split(" ", 2)[1] if s.startswith("header") else s.split(" ", 1)[0] for s in signals}
    if len(kinds) >= 2:
        return True
    return any(g.address for g in report.recipients) and any(
        s.startswith(("header From", "header X-Failed", "header X-MS")) for s in signals
    )


def _human(parsed: Parsed, threading: dict[str, object]) -> Classification:
    subject = parsed.headers.get("subject", "")
    # A mail to our List-Unsubscribe address may carry nothing but its subject.
    if not parsed.text.strip() and reply.unsubscribe_subject(subject) is None:
        return _unclassified(
            "no readable text and no report, auto-reply or reply markers", **threading
        )
    if not _HEADER_NAMES.intersection(parsed.headers):
        return _unclassified("no RFC 5322 headers (From, Subject, Date, Message-ID)", **threading)
    sample = parsed.text[:2000]
    if sum(1 for ch in sample if ch < " " and ch not in "\n\t\r") > len(sample) // 10:
        return _unclassified("binary content, not readable text", **threading)
    own = frozenset(addresses_in(parsed.headers.get("to", "")))
    fresh, intent = reply.read_reply(
        reply.readable_text(parsed),
        subject,
        own,
        sender=threading["from_address"],  # type: ignore[arg-type]
        cc=addresses_in(parsed.headers.get("cc", "")),
    )
    evidence = [intent.evidence]
    if intent.referral:
        evidence.append(f"referred to {intent.referral}")
    if threading["in_reply_to"]:
        evidence.insert(0, "header In-Reply-To/References present")
    confidence = 0.8 if threading["in_reply_to"] else 0.6
    return Classification(
        kind=InboundClass.HUMAN_REPLY,
        confidence=confidence,
        evidence=tuple(evidence),
        intent=intent.intent,
        referral=intent.referral,
        reply_text=fresh[:5000],
        **threading,  # type: ignore[arg-type]
    )


__all__ = ["BOUNCE_CLASSES", "classify"]
