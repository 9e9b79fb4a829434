"""Dashboard sessions: a signed, HttpOnly, SameSite=Strict cookie, and CSRF tokens for forms.

The cookie holds `<token id>.<expiry>.<mac>`; the API token itself never goes into it. Each
request re-checks that the token still exists and is not revoked, and that this cookie was
not logged out (`revoke`: a server-side denylist, so a copied cookie dies at logout too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.store.models import ApiToken, RevokedSession

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


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def revoke(session: Session, cookie: str, token_id: int, now: datetime) -> None:
    """Log this cookie out for good; forget revocations of cookies that expired anyway."""
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
    if session.get(RevokedSession, _digest(cookie)) is None:
        expiry = int(cookie.split(".")[1])
        session.add(
            RevokedSession(
                id=_digest(cookie),
                token_id=token_id,
                expires_at=datetime.fromtimestamp(expiry, UTC),
                revoked_at=now,
            )
        )


def is_revoked(session: Session, cookie: str) -> bool:
    return session.get(RevokedSession, _digest(cookie)) is not None
