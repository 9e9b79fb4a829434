"""Mailboxes: the team's sending addresses. Passwords live in environment variables only."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.errors import Conflict, InvalidInput, KadenzError, NotFound
from engine.mail.urls import Endpoint, parse_imap_url, parse_smtp_url
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
    per_domain_daily_cap: int | None = None  # sends to one recipient domain per rolling 24 h
    warmup: Warmup | None = None
    clear: frozenset[str] = frozenset()  # columns to reset: per_domain_daily_cap, warmup
    sent_folder: str | None = None  # "" clears it (back to the folder marked \\Sent)
    sent_files_submissions: bool | None = None
    owner: str | None = None  # the user who sends from it ("" clears); checked by the caller


@dataclass(frozen=True, slots=True)
class Warmup:
    """A ramp: `first` sends on `start`, `step` more each day, up to the daily cap."""

    start: date
    first: int
    step: int = 5


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
        ("--per-domain-cap", "per_domain_daily_cap", s.per_domain_daily_cap, 1),
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
    if s.sent_folder is not None:
        if any(c in s.sent_folder for c in "\r\n\x00"):
            raise InvalidInput("--sent-folder: must be one line (no line breaks)")
        values["sent_folder"] = s.sent_folder.strip() or None
    if s.sent_files_submissions is not None:
        values["sent_folder_files_submissions"] = s.sent_files_submissions
    if s.warmup is not None:
        if s.warmup.first < 1:
            raise InvalidInput(f"--warmup-from: must be at least 1, got {s.warmup.first}")
        if s.warmup.step < 1:
            raise InvalidInput(f"--warmup-step: must be at least 1, got {s.warmup.step}")
        values["warmup"] = {
            "start": s.warmup.start.isoformat(),
            "from": s.warmup.first,
            "step": s.warmup.step,
        }
    for column in s.clear:
        if column in values:
            raise InvalidInput(f"{column}: set and cleared at once; give one of the two")
        values[column] = {} if column == "warmup" else None
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
    values = {"warmup": {}, **_validated(settings)}
    mailbox = Mailbox(name=name, created_at=at, imap_folders=[], **values)
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


# --- logging in: one rule for SMTP and IMAP ---------------------------------------------


class MissingPassword(KadenzError):
    """The mailbox names a password variable that the process's environment lacks."""

    def __init__(self, variable: str) -> None:
        super().__init__(f"environment variable {variable} is not set (it holds the password)")
        self.variable = variable


def login_name(username: str | None, address: str) -> str:
    """`--username`, else the mailbox's address: the documented default of
    `kadenz mailbox add --username`, for SMTP and IMAP alike."""
    return username or address


def login_endpoint(endpoint: Endpoint, *, username: str | None, address: str) -> Endpoint:
    """The endpoint to log in to: a user written in the URL wins, else `login_name`."""
    if endpoint.username:
        return endpoint
    return dataclasses.replace(endpoint, username=login_name(username, address))


def read_password(password_env: str | None, env: Mapping[str, str]) -> str | None:
    """The password from the named variable; None when the mailbox names none (no login).
    A named but unset (or empty) variable is MissingPassword, never a silent "no login"."""
    if not password_env:
        return None
    value = env.get(password_env)
    if not value:
        raise MissingPassword(password_env)
    return value
