"""Unsubscribe tokens (RFC 8058 links): an HMAC over the recipient, unforgeable without the key.

A token names one outbound message and the address it went to; it cannot be altered to
unsubscribe someone else, and verifying it needs no database lookup of a stored secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_VERSION = "u1"
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL; a longer number names nothing


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(secret: str, outbound_id: int, email_key: str) -> str:
    payload = f"{_VERSION}.{outbound_id}"
    return f"{payload}.{_mac(secret, f'{payload}.{email_key.lower()}')}"


def read_outbound_id(token: str) -> int | None:
    """The message id a token claims to be for (unverified): used to look up the address."""
    parts = token.split(".")
    if (
        len(parts) != 3
        or parts[0] != _VERSION
        or not (parts[1].isascii() and parts[1].isdigit())
        or len(parts[1]) > 10
    ):
        return None
    value = int(parts[1])
    return value if 0 < value <= MAX_ID else None


def verify_token(secret: str, token: str, email_key: str) -> bool:
    """True only when the token was made by us for exactly this message and address."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION or not (parts[1].isascii() and parts[1].isdigit()):
        return False
    expected = _mac(secret, f"{parts[0]}.{parts[1]}.{email_key.lower()}")
    return hmac.compare_digest(expected, parts[2])
