"""API tokens: created once and shown once; only their sha256 is stored (ApiToken)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.store.models import ApiToken

ROLES = ("sdr", "growth", "manager", "admin")
PREFIX = "kdz_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name, role and (for SDRs) the owner they act as."""

    token_id: int
    name: str
    role: str
    owner: str | None

    def can(self, role: str) -> bool:
        """Admins can do everything; other roles only their own endpoints."""
        return self.role == "admin" or self.role == role


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session, *, name: str, role: str, at: datetime, owner: str | None = None
) -> tuple[ApiToken, str]:
    """A new token; returns the row and the secret, which is never stored or shown again."""
    if role not in ROLES:
        raise InvalidInput(f"--role {role!r} is not a role (use one of: {', '.join(ROLES)})")
    if role == "sdr" and not owner:
        raise InvalidInput("--owner is required for an sdr token (the SDR it acts as, e.g. anna)")
    if not name.strip():
        raise InvalidInput("--name must not be empty (e.g. --name hubspot-sync)")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name.strip(),
        token_hash=hash_token(secret),
        prefix=secret[:10],
        role=role,
        owner=owner,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row, secret


def authenticate(session: Session, token: str, at: datetime) -> Principal | None:
    """The principal for a presented token, or None when unknown or revoked."""
    if not token:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = at
    return Principal(row.id, row.name, row.role, row.owner)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke(session: Session, name_or_id: str, at: datetime) -> ApiToken:
    stmt = select(ApiToken).where(ApiToken.name == name_or_id)
    if name_or_id.isdigit():
        stmt = select(ApiToken).where(ApiToken.id == int(name_or_id))
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"token {name_or_id!r} does not exist (see `kadenz token list`)")
    if row.revoked_at is None:
        row.revoked_at = at
    return row
