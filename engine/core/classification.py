"""What the classifier says about one inbound message. Pure values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class InboundClass(StrEnum):
    HARD_BOUNCE = "hard_bounce"  # the address or domain does not exist: suppress
    SOFT_BOUNCE = "soft_bounce"  # mailbox full, temporary: retry later, keep the address
    BLOCKED = "blocked"  # policy/spam/reputation/auth: the sender's problem, keep the address
    COMPLAINT = "complaint"  # ARF abuse report: suppress
    DELIVERED = "delivered"  # a success DSN: not a bounce
    AUTO_REPLY = "auto_reply"  # out-of-office, vacation, ticket acknowledgements
    HUMAN_REPLY = "human_reply"  # a person wrote back
    UNCLASSIFIED = "unclassified"  # could not decide (or malformed): kept for a human


BOUNCE_CLASSES = frozenset(
    {InboundClass.HARD_BOUNCE, InboundClass.SOFT_BOUNCE, InboundClass.BLOCKED}
)


class ReplyIntent(StrEnum):
    POSITIVE = "positive"  # interested: book a meeting
    NEGATIVE = "negative"  # not interested
    UNSUBSCRIBE_REQUEST = "unsubscribe_request"  # "remove me": suppress
    REFERRAL = "referral"  # "talk to my colleague …"
    QUESTION = "question"  # asks something; a person should answer
    NEUTRAL = "neutral"  # none of the above


class AutoReplyKind(StrEnum):
    OUT_OF_OFFICE = "out_of_office"  # away; may state a return date
    OTHER = "other"  # ticket systems, "we received your message", left the company…


@dataclass(frozen=True, slots=True)
class Classification:
    kind: InboundClass
    confidence: float  # 0..1
    evidence: tuple[str, ...]  # what decided it: "header Auto-Submitted: auto-replied", …
    intent: ReplyIntent | None = None  # human replies only
    auto_reply_kind: AutoReplyKind | None = None  # auto replies only
    recipients: tuple[str, ...] = ()  # bounced addresses (lower-cased), never from the
    # embedded original message
    status: str | None = None  # enhanced status code, e.g. "5.1.1"
    diagnostic: str | None = None  # the remote server's diagnostic text
    return_date: date | None = None  # out-of-office: when they are back
    referral: str | None = None  # referral: the colleague's address when given
    # Threading tokens for matching to our outbound message (without angle brackets):
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()  # In-Reply-To + References, newest first
    original_message_id: str | None = None  # Message-ID of our message inside a DSN/ARF
    from_address: str | None = None
    subject: str | None = None
    reply_text: str | None = None  # a human reply with quotes and signature stripped
    extra: dict[str, str] = field(default_factory=dict)
