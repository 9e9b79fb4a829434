"""ARF feedback reports (RFC 5965): a mailbox provider tells us a recipient complained.

Unlike a bounce, the complaining recipient may legitimately be read from the embedded
copy of our message: the report is about that message, and providers often redact the
report fields but leave (or rewrite) the embedded To.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.inbound.classifier import ses
from engine.inbound.classifier.parse import Parsed, addresses_in

_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40})\s*:\s?(.*)$", re.M)
_SUBJECT_RE = re.compile(
    r"complaint|abuse report|feedback report|fbl|spam report|reported as spam", re.I
)


@dataclass
class Feedback:
    feedback_type: str
    recipients: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def _fields(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for match in _FIELD_RE.finditer(text):
        out.setdefault(match.group(1).lower(), []).append(match.group(2).strip())
    return out


def _embedded_to(original: str) -> list[str]:
    """To/Cc of the embedded message's header block (before its first blank line)."""
    head = original.split("\n\n", 1)[0]
    found: list[str] = []
    for line in head.split("\n"):
        if line[:3].lower() in ("to:", "cc:"):
            found.extend(addresses_in(line))
    return found


def read_feedback(parsed: Parsed) -> Feedback | None:
    """The complaint in this message, or None when it is not a feedback report."""
    fields = _fields(parsed.status_text) if parsed.status_text else {}
    is_report = parsed.report_type == "feedback-report" or "feedback-type" in fields
    if not is_report:
        # Some providers (e.g. older Hotmail/AOL loops) send the fields inline as text.
        inline = _fields(parsed.text[:20000])
        if "feedback-type" in inline and (
            "user-agent" in inline or "version" in inline or "original-rcpt-to" in inline
        ):
            fields, is_report = inline, True
    if not is_report:
        return _other_feedback(parsed)
    kind = (fields.get("feedback-type") or ["abuse"])[0].lower() or "abuse"
    feedback = Feedback(feedback_type=kind)
    if parsed.report_type == "feedback-report":
        feedback.evidence.append("Content-Type multipart/report; report-type=feedback-report")
    feedback.evidence.append(f"ARF Feedback-Type: {kind}")
    for name in ("original-rcpt-to", "removal-recipient"):
        for value in fields.get(name, []):
            feedback.recipients.extend(
                a for a in addresses_in(value) if a not in feedback.recipients
            )
    if feedback.recipients:
        feedback.evidence.append(f"ARF Original-Rcpt-To: {', '.join(feedback.recipients)}")
    else:
        embedded = _embedded_to(parsed.original)
        if embedded:
            feedback.recipients = embedded
            feedback.evidence.append(f"embedded To: {', '.join(embedded)}")
    return feedback


_APPLE_UNSUBSCRIBE = re.compile(r"apple mail sent this email to unsubscribe", re.I)


def _other_feedback(parsed: Parsed) -> Feedback | None:
    """Complaints that are not ARF: SES JSON, Hotmail JMRP, Apple Mail's unsubscribe mail."""
    notification = ses.read(parsed.text)
    if notification is not None and notification.kind == "complaint":
        feedback = Feedback(notification.detail or "abuse")
        feedback.recipients = [r.address for r in notification.recipients]
        feedback.evidence.append("Amazon SES notification: complaint")
        return feedback
    subject = parsed.headers.get("subject", "")
    if parsed.original and _SUBJECT_RE.search(subject):
        feedback = Feedback("abuse", evidence=[f"header Subject: {subject[:80]}"])
        hotmail = re.search(r"^X-HmXmrOriginalRecipient:\s*(\S+)", parsed.original, re.M)
        if hotmail:
            feedback.recipients = addresses_in(hotmail.group(1))
            feedback.evidence.append(f"embedded X-HmXmrOriginalRecipient: {hotmail.group(1)}")
        else:
            feedback.recipients = _embedded_to(parsed.original)
        return feedback
    if _APPLE_UNSUBSCRIBE.search(parsed.text[:2000]):
        feedback = Feedback(
            "opt-out", evidence=['phrase "Apple Mail sent this email to unsubscribe"']
        )
        feedback.recipients = addresses_in(parsed.headers.get("from", ""))[:1]
        return feedback
    return None


def looks_like_complaint_subject(subject: str) -> bool:
    return bool(_SUBJECT_RE.search(subject))
