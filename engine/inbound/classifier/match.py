"""Pure helpers for matching an inbound message to what we sent. No I/O.

Matching itself (the database look-ups) lives in engine.inbound.ingest; this module only
normalises the tokens those look-ups use, so they are tested without a database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from engine.core import addresses
from engine.core.classification import Classification

_ID_TOKEN = re.compile(r"<([^<>\s]+)>")
_DEDUPE_MAX = 300  # InboundMessage.dedupe_key length
MAX_THREAD_TOKENS = 100  # newest In-Reply-To/References ids looked up (the classifier's cap)


class MatchedBy:
    """How an inbound message was tied to an outbound message or a prospect (recorded)."""

    THREAD = "thread"  # In-Reply-To / References carried our Message-ID
    DSN_ORIGINAL = "dsn_original"  # the bounce report quoted our Message-ID
    DSN_RECIPIENT = "dsn_recipient"  # the bounced address received our latest email
    SENDER = "sender"  # the From address is a known prospect
    COMPANY = "company_domain"  # the sender's (non free-mail) domain is a known account


def normalise_message_id(token: str | None) -> str | None:
    """`<abc@x>` / ` abc@x ` → `abc@x`; None for empty or absurd values."""
    if token is None:
        return None
    text = token.strip()
    found = _ID_TOKEN.search(text)
    if found:
        text = found.group(1)
    text = text.strip().strip("<>").strip()
    if not text or len(text) > 255 or any(c.isspace() for c in text):
        return None
    return text


def id_tokens(header_value: str | None) -> list[str]:
    """All `<…>` tokens of an In-Reply-To/References header, in the order they appear."""
    if not header_value:
        return []
    found = _ID_TOKEN.findall(header_value[-65536:])[-MAX_THREAD_TOKENS:]
    if not found:
        one = normalise_message_id(header_value)
        return [one] if one else []
    return [t for t in (normalise_message_id(f) for f in found) if t]


def thread_tokens(classification: Classification) -> list[str]:
    """The Message-IDs this message refers to, newest first, without duplicates."""
    seen: dict[str, None] = {}  # ordered, and linear where a list's `in` was quadratic
    for token in classification.in_reply_to[:MAX_THREAD_TOKENS]:
        norm = normalise_message_id(token)
        if norm:
            seen.setdefault(norm, None)
    return list(seen)


def lookup_variants(tokens: Iterable[str]) -> list[str]:
    """Tokens plus their lower-cased form: some gateways lower-case the whole header."""
    out: dict[str, None] = {}
    for token in tokens:
        out.setdefault(token, None)
        out.setdefault(token.lower(), None)
    return list(out)


def dedupe_key(message_id: str | None, raw: bytes) -> str:
    """The Message-ID when there is one, else a hash of the bytes (both fit the column)."""
    norm = normalise_message_id(message_id)
    if norm:
        key = f"mid:{norm}"
        if len(key) <= _DEDUPE_MAX:
            return key
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def address_key(value: str | None) -> str | None:
    """The lookup key of an address found in a header, or None when it is not one."""
    if not value or "@" not in value:
        return None
    key = addresses.key_of(value).strip("<>")
    local, _, domain = key.rpartition("@")
    if not local or not domain or "." not in domain:
        return None
    return key


def company_domain(sender: str | None) -> str | None:
    """The sender's domain when it can stand for a company (never a free-mail provider)."""
    key = address_key(sender)
    if key is None:
        return None
    domain = addresses.domain_of(key)
    return None if addresses.is_free_mail(domain) else domain
