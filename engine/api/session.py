"""Dashboard sessions: a signed, HttpOnly, SameSite=Strict cookie, and CSRF tokens for forms.

The cookie holds `<token id>.<expiry>.<mac>`; the API token itself never goes into it. Each
request re-checks that the token still exists and is not revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from engine.store.models import ApiToken

COOKIE = "kadenz_session"
LIFETIME = timedelta(hours=12)


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_cookie(secret: str, token: ApiToken, now: datetime) -> str:
    payload = f"{token.id}.{int((now + LIFETIME).timestamp())}"
    return f"{payload}.{_mac(secret, 'session.' + payload)}"


def read_cookie(secret: str, value: str | None, now: datetime) -> int | None:
    """The API token id a valid, unexpired cookie names."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(secret, "session." + payload), parts[2]):
        return None
    if int(parts[1]) < now.timestamp():
        return None
    return int(parts[0])


def csrf_token(secret: str, cookie: str) -> str:
    """Bound to the session: a form posted from another site cannot know it."""
    return _mac(secret, "csrf." + cookie)[:32]


def csrf_ok(secret: str, cookie: str | None, presented: str | None) -> bool:
    if not cookie or not presented:
        return False
    return hmac.compare_digest(csrf_token(secret, cookie), presented)
