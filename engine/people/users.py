"""The team: users own prospects, mailboxes and tokens; an import's owner column finds them.

An owner column in a CRM export holds whatever the CRM shows: "Maria Lopez", "maria",
"maria.lopez@acme.example", "María López". `Directory.match` reads any of those as the
user `maria` — by the user's handle, email, full name or an alias, compared without case,
accents or extra spaces — so prospects, tokens and reports all say `maria`. While the
workspace has no users at all, owners are kept as typed (as before users existed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.states import LIVE_ENROLLMENT_STATES, TaskState
from engine.errors import Conflict, InvalidInput, NotFound
from engine.store.models import ApiToken, Enrollment, Mailbox, Prospect, Task, User

ROLES = ("sdr", "growth", "manager", "admin")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def fold(text: str) -> str:
    """Case-, accent- and space-insensitive form of a name: "  María  López" → "maria lopez"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def handle_for(text: str) -> str:
    """A user handle made from a full name: "María López" → "maria-lopez"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:63] or "user"


def _check(name: str, role: str, email: str | None) -> str | None:
    if not _NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a user name (lower-case letters, digits, '.', '_' or '-', "
            "e.g. maria or maria.lopez); put the full name in --name"
        )
    if role not in ROLES:
        raise InvalidInput(f"--role {role!r} is not a role (use one of: {', '.join(ROLES)})")
    if email is None:
        return None
    try:
        return addresses.key_of(email)
    except addresses.InvalidAddress as exc:
        raise InvalidInput(f"--email {email!r} is not an email address ({exc})") from None


def booking_link_of(text: str | None) -> str | None:
    """A user's meeting link as templates print it (`{{ sender.booking_link }}`): an
    http(s) URL with a host, nothing else; empty means none."""
    link = (text or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in link):
        raise InvalidInput(
            f"--booking-link {text!r} is not a web address "
            "(write the full link, e.g. https://cal.com/maria/30min)"
        )
    if len(link) > 500:
        raise InvalidInput("--booking-link is longer than 500 characters")
    return link


def add(
    session: Session,
    name: str,
    *,
    at: datetime,
    email: str | None = None,
    full_name: str | None = None,
    aliases: Iterable[str] = (),
    role: str = "sdr",
    booking_link: str | None = None,
) -> User:
    key = _check(name, role, email)
    link = booking_link_of(booking_link)
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise Conflict(f"user {name!r} exists (change it: kadenz user update {name} …)")
    if key and session.scalars(select(User).where(func.lower(User.email) == key)).first():
        raise Conflict(f"another user has the email {email!r}")
    user = User(
        name=name,
        email=key,
        full_name=(full_name or "").strip() or None,
        aliases=sorted({a.strip() for a in aliases if a.strip()}),
        role=role,
        booking_link=link,
        created_at=at,
    )
    session.add(user)
    session.flush()
    return user


def update(
    session: Session,
    name: str,
    *,
    email: str | None = None,
    full_name: str | None = None,
    add_aliases: Iterable[str] = (),
    role: str | None = None,
    booking_link: str | None = None,
) -> User:
    user = get(session, name)
    if role is not None and role not in ROLES:
        raise InvalidInput(f"--role {role!r} is not a role (use one of: {', '.join(ROLES)})")
    key = _check(user.name, role or user.role, email) if email else None
    if key:
        user.email = key
    if full_name is not None:
        user.full_name = full_name.strip() or None
    if role is not None:
        user.role = role
    if booking_link is not None:
        user.booking_link = booking_link_of(booking_link)
    extra = {a.strip() for a in add_aliases if a.strip()}
    if extra:
        user.aliases = sorted({*user.aliases, *extra})
    session.flush()
    return user


# Where an owner is stored as a name: rows kept "as typed" before the user existed.
_OWNED: dict[str, tuple[type[Any], Any]] = {
    "prospects": (Prospect, Prospect.owner),
    "enrollments": (Enrollment, Enrollment.owner),
    "tasks": (Task, Task.owner),
    "tokens": (ApiToken, ApiToken.owner),
}


def adopt(session: Session, user: User) -> dict[str, int]:
    """Give `user` what is owned under another of their spellings — owners kept as typed
    while the workspace had no users ("Maria Lopez"), or an alias added later — so their
    SDR token sees it and queues show it. Events keep what they recorded (reports read
    those spellings as the user too). Returns how many rows of each kind moved.

    Called after adding a user or changing their spellings (CLI, API, import)."""
    directory = Directory.load(session)
    moved: dict[str, int] = {}
    for kind, (model, column) in _OWNED.items():
        owners = session.scalars(select(column).where(column.is_not(None)).distinct())
        spellings = [o for o in owners if o != user.name and _is(directory.match(o), user)]
        if not spellings:
            continue
        result = session.execute(
            sql_update(model)
            .where(column.in_(spellings))
            .values(owner=user.name)
            .execution_options(synchronize_session="fetch")
        )
        moved[kind] = int(getattr(result, "rowcount", 0) or 0)
    return moved


def _is(found: Known | None, user: User) -> bool:
    return found is not None and found.id == user.id


def adopted_line(user: User, moved: dict[str, int]) -> str | None:
    """ "owned under another spelling, now maria's: 3 prospects, 1 task" (None: nothing)."""
    parts = [f"{n} {kind if n != 1 else kind[:-1]}" for kind, n in moved.items() if n]
    if not parts:
        return None
    return f"owned under another spelling, now {user.name}'s: {', '.join(parts)}"


def get(session: Session, name: str) -> User:
    found = Directory.load(session).match(name)
    if found is None:
        raise NotFound(f"no user {name!r} (see: kadenz user list; add: kadenz user add NAME)")
    user = session.get(User, found.id)
    assert user is not None
    return user


def list_all(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.name)).all()


@dataclass(frozen=True, slots=True)
class Known:
    id: int
    name: str
    role: str


class Directory:
    """Every spelling of every user, loaded once (an import matches thousands of rows)."""

    def __init__(self, users: Iterable[User]) -> None:
        self._by: dict[str, Known] = {}
        self._ambiguous: set[str] = set()
        for user in users:
            known = Known(user.id, user.name, user.role)
            spellings = [user.name, user.email or "", user.full_name or "", *user.aliases]
            if user.email:
                spellings.append(user.email.split("@", 1)[0])
            for text in spellings:
                key = fold(text)
                if not key:
                    continue
                other = self._by.get(key)
                if other is not None and other.id != user.id:
                    self._ambiguous.add(key)  # two users answer to it: match neither
                self._by.setdefault(key, known)

    @classmethod
    def load(cls, session: Session) -> Directory:
        return cls(session.scalars(select(User)))

    def __bool__(self) -> bool:
        return bool(self._by)

    def match(self, text: str) -> Known | None:
        key = fold(text)
        if not key or key in self._ambiguous:
            return None
        return self._by.get(key)


@dataclass(frozen=True, slots=True)
class Member:
    """One row of the team page: a user and what they hold."""

    user: User
    mailboxes: list[str]
    prospects: int  # prospects they own (erased ones not counted)
    active_enrollments: int  # live: active, waiting or paused
    open_tasks: int


def team(session: Session) -> list[Member]:
    """Every user with their mailboxes and counts, in five queries whatever the team size."""

    def counted(column: Any, *where: Any) -> dict[str, int]:
        stmt = select(column, func.count()).where(column.is_not(None), *where).group_by(column)
        return {str(k): int(n) for k, n in session.execute(stmt)}

    boxes: dict[str, list[str]] = {}
    for owner, name in session.execute(
        select(Mailbox.owner, Mailbox.name).where(Mailbox.owner.is_not(None)).order_by(Mailbox.name)
    ):
        boxes.setdefault(str(owner), []).append(str(name))
    owned = counted(Prospect.owner, Prospect.erased_at.is_(None))
    live = counted(Enrollment.owner, Enrollment.state.in_([str(s) for s in LIVE_ENROLLMENT_STATES]))
    tasks = counted(Task.owner, Task.state == str(TaskState.OPEN))
    return [
        Member(
            user=u,
            mailboxes=boxes.get(u.name, []),
            prospects=owned.get(u.name, 0),
            active_enrollments=live.get(u.name, 0),
            open_tasks=tasks.get(u.name, 0),
        )
        for u in list_all(session)
    ]
