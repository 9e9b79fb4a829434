"""Amazon SES notifications relayed by SNS as email: JSON, not prose.

`{"notificationType": "Bounce" | "Complaint" | "Delivery", ...}` — read the recipients,
status and diagnostic straight from the JSON rather than guessing from text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SesRecipient:
    address: str
    action: str = ""
    status: str | None = None
    diagnostic: str | None = None


@dataclass
class SesNotification:
    kind: str  # "bounce" | "complaint" | "delivery"
    recipients: list[SesRecipient] = field(default_factory=list)
    detail: str = ""  # bounceType/bounceSubType or complaintFeedbackType


def _decode(text: str) -> dict[str, Any] | None:
    if '\\"notificationType\\"' in text:
        return _decode_envelope(text)
    start = text.find('{"notificationType"')
    if start < 0:
        start = text.find("{")
        if start < 0 or '"notificationType"' not in text[start : start + 200]:
            return None
    end = text.rfind("}")
    if end <= start:
        return None
    # Mail clients wrap long lines: join them back before decoding.
    blob = text[start : end + 1].replace("\n", "")
    try:
        value = json.JSONDecoder().raw_decode(blob)[0]
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _decode_envelope(text: str) -> dict[str, Any] | None:
    """The SNS envelope: {"Type": "Notification", "Message": "<the notification as a string>"}."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        outer = json.JSONDecoder().raw_decode(text[start:].replace("\n", " "))[0]
        inner = json.loads(outer["Message"]) if isinstance(outer, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    return inner if isinstance(inner, dict) else None


def read(text: str) -> SesNotification | None:
    if "notificationType" not in text:
        return None
    data = _decode(text)
    if data is None:
        return None
    kind = str(data.get("notificationType", "")).lower()
    if kind == "bounce":
        bounce = data.get("bounce") or {}
        out = SesNotification(
            "bounce", detail=f"{bounce.get('bounceType', '')}/{bounce.get('bounceSubType', '')}"
        )
        for item in bounce.get("bouncedRecipients") or []:
            if isinstance(item, dict) and item.get("emailAddress"):
                diagnostic = str(item.get("diagnosticCode") or "")
                if diagnostic[:5].lower() == "smtp;":
                    diagnostic = diagnostic[5:].strip()
                out.recipients.append(
                    SesRecipient(
                        str(item["emailAddress"]).lower(),
                        str(item.get("action") or "failed").lower(),
                        item.get("status") or None,
                        diagnostic or None,
                    )
                )
        return out
    if kind == "complaint":
        complaint = data.get("complaint") or {}
        out = SesNotification("complaint", detail=str(complaint.get("complaintFeedbackType", "")))
        for item in complaint.get("complainedRecipients") or []:
            if isinstance(item, dict) and item.get("emailAddress"):
                out.recipients.append(SesRecipient(str(item["emailAddress"]).lower()))
        return out
    if kind == "delivery":
        delivery = data.get("delivery") or {}
        out = SesNotification("delivery")
        for address in delivery.get("recipients") or []:
            out.recipients.append(
                SesRecipient(str(address).lower(), "delivered", None, delivery.get("smtpResponse"))
            )
        return out
    return None
