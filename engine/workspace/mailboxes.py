"""Mailboxes: the team's sending addresses. Passwords live in environment variables only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.errors import Conflict, InvalidInput, NotFound
from engine.mail.urls import parse_imap_url, parse_smtp_url
from engine.schedule import zones
from engine.store import event_log as events
from engine.store.models import Mailbox

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """Everything `mailbox add/update` can set. None means "not given"."""

    address: str | None = None
    smtp_url: str | None = None
    imap_url: str | None = None
    username: str | None = None
    password_env: str | None = None
    display_name: str | None = None
    daily_cap: int | None = None
    hourly_cap: int | None = None
    min_gap_seconds: int | None = None
    timezone: str | None = None
    signature: str | None = None
    owner: str | None = None  # the user who sends from it ("" clears); checked by the caller


def check_url(url: str, option: str) -> str:
    """Validate an SMTP/IMAP URL (engine.mail.urls) and store it in canonical form."""
    parse = parse_imap_url if option == "--imap" else parse_smtp_url
    try:
        return str(parse(url))
    except InvalidInput as exc:
        raise InvalidInput(f"{option}: {exc}") from None


def _validated(s: MailboxSettings) -> dict[str, Any]:
    """The non-None settings, checked, as column values."""
    values: dict[str, Any] = {}
    if s.address is not None:
        try:
            values["address"] = addresses.normalise(s.address).email
        except addresses.InvalidAddress as exc:
            raise InvalidInput(f"--address: {s.address!r} is not a valid email: {exc}") from None
    if s.smtp_url is not None:
        values["smtp_url"] = check_url(s.smtp_url, "--smtp")
    if s.imap_url is not None:
        values["imap_url"] = check_url(s.imap_url, "--imap")
    if s.password_env is not None:
        if not _ENV.match(s.password_env):
            raise InvalidInput(
                f"--password-env: {s.password_env!r} is not an environment variable name "
                "(give the NAME, e.g. ANNA_SMTP_PASSWORD, not the password)"
            )
        values["password_env"] = s.password_env
    for option, text in (("--display-name", s.display_name), ("--username", s.username)):
        if text is not None and any(c in text for c in "\r\n\x00"):
            raise InvalidInput(f"{option}: must be one line (no line breaks)")
    if s.display_name is not None:
        values["display_name"] = s.display_name.strip() or None
    if s.username is not None:
        values["username"] = s.username.strip() or None
    for option, column, number, minimum in (
        ("--daily-cap", "daily_cap", s.daily_cap, 1),
        ("--hourly-cap", "hourly_cap", s.hourly_cap, 1),
        ("--min-gap", "min_gap_seconds", s.min_gap_seconds, 0),
    ):
        if number is not None:
            if number < minimum:
                raise InvalidInput(f"{option}: must be at least {minimum}, got {number}")
            values[column] = number
    if s.timezone is not None:
        zone = zones.timezone_name(s.timezone)
        if zone is None:
            raise InvalidInput(
                f"--timezone: {s.timezone!r} is not an IANA timezone (e.g. Europe/Berlin)"
            )
        values["timezone"] = zone
    if s.signature is not None:
        values["signature"] = s.signature
    if s.owner is not None:
        values["owner"] = s.owner.strip() or None
    return values


def add(session: Session, name: str, settings: MailboxSettings, *, at: datetime) -> Mailbox:
    """Create a mailbox; `address` and `smtp_url` are required."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"mailbox name {name!r}: use lower-case letters, digits, '-', '_' or '.' (e.g. anna)"
        )
    if settings.address is None or settings.smtp_url is None:
        raise InvalidInput("a mailbox needs --address and --smtp")
    if find(session, name) is not None:
        raise Conflict(
            f"mailbox {name!r} already exists (change it with: kadenz mailbox update {name} …)"
        )
    mailbox = Mailbox(name=name, created_at=at, imap_folders=[], warmup={}, **_validated(settings))
    session.add(mailbox)
    session.flush()
    return mailbox


def update(session: Session, name: str, settings: MailboxSettings) -> Mailbox:
    mailbox = get(session, name)
    values = _validated(settings)
    if not values:
        raise InvalidInput("nothing to change (give at least one option, see --help)")
    for column, value in values.items():
        setattr(mailbox, column, value)
    session.flush()
    return mailbox


def find(session: Session, name: str) -> Mailbox | None:
    return session.scalars(select(Mailbox).where(Mailbox.name == name)).first()


def get(session: Session, name: str) -> Mailbox:
    mailbox = find(session, name)
    if mailbox is None:
        known = ", ".join(m.name for m in list_all(session)) or "none yet"
        raise NotFound(
            f"no mailbox {name!r} (known: {known}; add one with: kadenz mailbox add NAME …)"
        )
    return mailbox


def list_all(session: Session) -> Sequence[Mailbox]:
    return session.scalars(select(Mailbox).order_by(Mailbox.name)).all()


def pause(session: Session, name: str, *, at: datetime, reason: str | None = None) -> Mailbox:
    mailbox = get(session, name)
    if not mailbox.paused:
        mailbox.paused = True
        mailbox.paused_reason = reason or "paused by a person"
        events.record(
            session,
            EventType.MAILBOX_PAUSED,
            at,
            mailbox_id=mailbox.id,
            data={"reason": mailbox.paused_reason},
        )
    return mailbox


def resume(session: Session, name: str, *, at: datetime, reason: str | None = None) -> Mailbox:
    mailbox = get(session, name)
    if mailbox.paused:
        mailbox.paused = False
        mailbox.paused_reason = None
        events.record(
            session,
            EventType.MAILBOX_RESUMED,
            at,
            mailbox_id=mailbox.id,
            data={"reason": reason or "resumed by a person"},
        )
    return mailbox
