"""Sending domains and their DKIM keys: add, rotate (two selectors), activate, load to sign.

A domain has at most one `active` key (the one that signs) and one `pending` key (published
in DNS, waiting to take over). Rotation: `rotate` makes the pending key and prints its
record; once DNS serves it, `activate` makes it sign and retires the old one, whose record
should stay published a few days for mail still in transit (docs/deliverability.md).

Private keys never enter the database: a generated key is written to
`KADENZ_HOME/dkim/DOMAIN/SELECTOR.pem` (mode 0600, folder 0700); an operator's key stays in
its file (`--key-file`) or in an environment variable (`--key-env`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from engine.mail import dkim
from engine.settings import Settings
from engine.store.models import DkimKey, SendingDomain

PENDING, ACTIVE, RETIRED = "pending", "active", "retired"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class KeySource:
    """Where a key comes from, as the user gave it (None: generate one)."""

    key_file: str | None = None
    key_env: str | None = None


@dataclass(frozen=True)
class Added:
    domain: str
    selector: str
    state: str
    record_name: str
    record_value: str
    zone_line: str
    stored_at: str  # where the private key is (a path or $VAR), never the key


def check_domain(domain: str) -> str:
    name = domain.strip().lower().rstrip(".")
    if not _DOMAIN.match(name):
        raise InvalidInput(f"{domain!r} is not a domain name (e.g. acme.example)")
    return name


def default_selector(at: datetime) -> str:
    """kYYYYMM: sortable, and a new one each month makes rotation names obvious."""
    return f"k{at:%Y%m}"


def add(
    session: Session,
    settings: Settings,
    domain: str,
    *,
    at: datetime,
    selector: str | None = None,
    source: KeySource | None = None,
) -> Added:
    """Register a sending domain with its first (active) DKIM key."""
    name = check_domain(domain)
    if find(session, name) is not None:
        raise Conflict(
            f"domain {name} is already added (new key: kadenz domain rotate {name}; "
            f"see: kadenz domain list)"
        )
    row = SendingDomain(domain=name, check_status="unchecked", check_findings=[], created_at=at)
    session.add(row)
    session.flush()
    return _new_key(session, settings, row, selector or default_selector(at), source, ACTIVE, at)


def rotate(
    session: Session,
    settings: Settings,
    domain: str,
    *,
    at: datetime,
    selector: str,
    source: KeySource | None = None,
) -> Added:
    """Add the next key as `pending`: publish its record, then `activate` it."""
    row = get(session, domain)
    waiting = [k for k in keys_of(session, row) if k.state == PENDING]
    if waiting:
        raise Conflict(
            f"{row.domain} already has a pending key {waiting[0].selector!r}; activate it "
            f"(kadenz domain activate {row.domain} {waiting[0].selector}) first"
        )
    return _new_key(session, settings, row, selector, source, PENDING, at)


def activate(session: Session, domain: str, selector: str, *, at: datetime) -> DkimKey:
    """The pending key signs from now on; the active one retires (keep its DNS record)."""
    row = get(session, domain)
    keys = keys_of(session, row)
    chosen = next((k for k in keys if k.selector == selector), None)
    if chosen is None:
        known = ", ".join(f"{k.selector} ({k.state})" for k in keys) or "none"
        raise NotFound(f"{row.domain} has no key with selector {selector!r} (known: {known})")
    if chosen.state == ACTIVE:
        return chosen
    if chosen.state == RETIRED:
        raise Conflict(f"selector {selector!r} of {row.domain} is retired; rotate to a new one")
    for key in keys:
        if key.state == ACTIVE:
            key.state, key.retired_at = RETIRED, at
    chosen.state, chosen.activated_at = ACTIVE, at
    session.flush()
    return chosen


def _new_key(
    session: Session,
    settings: Settings,
    row: SendingDomain,
    selector: str,
    source: KeySource | None,
    state: str,
    at: datetime,
) -> Added:
    dkim.check_selector(selector)
    if any(k.selector == selector for k in keys_of(session, row)):
        raise Conflict(f"{row.domain} already has a key with selector {selector!r}; pick another")
    source = source or KeySource()
    if source.key_file and source.key_env:
        raise InvalidInput("give --key-file or --key-env, not both")
    key_file, key_env = None, None
    if source.key_env:
        if not _ENV.match(source.key_env):
            raise InvalidInput(
                f"--key-env: {source.key_env!r} is not a variable NAME (e.g. ACME_DKIM_KEY)"
            )
        key_env = source.key_env
        key = load(row.domain, selector, None, key_env)
        stored = f"${key_env}"
    elif source.key_file:
        path = Path(source.key_file).expanduser().resolve()
        _refuse_readable_by_others(path, "--key-file")
        key_file = str(path)
        key = load(row.domain, selector, key_file, None)
        stored = key_file
    else:
        path = _write_new_key(settings, row.domain, selector)
        key_file = str(path)
        key = load(row.domain, selector, key_file, None)
        stored = key_file
    session.add(
        DkimKey(
            domain_id=row.id,
            selector=selector,
            state=state,
            key_file=key_file,
            key_env=key_env,
            public_key=key.public_key,
            created_at=at,
            activated_at=at if state == ACTIVE else None,
        )
    )
    session.flush()
    return Added(
        domain=row.domain,
        selector=selector,
        state=state,
        record_name=dkim.record_name(row.domain, selector),
        record_value=dkim.record_value(key.public_key),
        zone_line=dkim.zone_line(row.domain, selector, key.public_key),
        stored_at=stored,
    )


def keys_dir(settings: Settings) -> Path:
    return Path(settings.dkim_keys_dir) if settings.dkim_keys_dir else settings.home / "dkim"


def _write_new_key(settings: Settings, domain: str, selector: str) -> Path:
    folder = keys_dir(settings) / domain
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    path = (folder / f"{selector}.pem").resolve()
    try:
        # O_EXCL: never overwrite a key some DNS record may still point at.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{path} already exists; pick another --selector") from None
    with os.fdopen(fd, "wb") as out:
        out.write(dkim.generate_pem())
    return path


def _refuse_readable_by_others(path: Path, option: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InvalidInput(f"{option}: cannot read {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(
            f"{option}: {path} can be read by other users; run `chmod 600 {path}` first"
        )


def load(domain: str, selector: str, key_file: str | None, key_env: str | None) -> dkim.SigningKey:
    """Read one private key from its file or variable; errors name the place, never the key."""
    if key_env:
        pem = os.environ.get(key_env)
        if not pem:
            raise InvalidInput(
                f"DKIM key of {selector}._domainkey.{domain}: the variable {key_env} is not set "
                "(export it with the PEM key on every sending process)"
            )
        return dkim.load_key(domain, selector, pem.encode(), f"${key_env}")
    assert key_file is not None
    try:
        pem_bytes = Path(key_file).read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"DKIM key of {selector}._domainkey.{domain}: cannot read {key_file}: "
            f"{exc.strerror} (restore the file, or rotate to a new key)"
        ) from None
    return dkim.load_key(domain, selector, pem_bytes, key_file)


def active_key(session: Session, domain: str) -> DkimKey | None:
    return session.scalars(
        select(DkimKey)
        .join(SendingDomain, SendingDomain.id == DkimKey.domain_id)
        .where(SendingDomain.domain == domain.lower(), DkimKey.state == ACTIVE)
    ).first()


def active_keys(session: Session) -> dict[str, tuple[str, str | None, str | None]]:
    """domain → (selector, key_file, key_env) of every signing key."""
    rows = session.execute(
        select(SendingDomain.domain, DkimKey.selector, DkimKey.key_file, DkimKey.key_env)
        .join(DkimKey, DkimKey.domain_id == SendingDomain.id)
        .where(DkimKey.state == ACTIVE)
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def find(session: Session, domain: str) -> SendingDomain | None:
    name = domain.strip().lower().rstrip(".")
    return session.scalars(select(SendingDomain).where(SendingDomain.domain == name)).first()


def get(session: Session, domain: str) -> SendingDomain:
    row = find(session, domain)
    if row is None:
        known = ", ".join(d.domain for d in list_all(session)) or "none yet"
        raise NotFound(f"no sending domain {domain!r} (known: {known}; kadenz domain add DOMAIN)")
    return row


def list_all(session: Session) -> Sequence[SendingDomain]:
    return session.scalars(select(SendingDomain).order_by(SendingDomain.domain)).all()


def keys_of(session: Session, row: SendingDomain) -> list[DkimKey]:
    return list(
        session.scalars(
            select(DkimKey).where(DkimKey.domain_id == row.id).order_by(DkimKey.created_at)
        )
    )


def override(session: Session, domain: str, reason: str | None) -> SendingDomain:
    """Send despite failed hard checks (`reason`), or take the override back (None)."""
    row = get(session, domain)
    if reason is not None and not reason.strip():
        raise InvalidInput("--reason: say why sending should go on despite the failed checks")
    row.override_reason = reason.strip() if reason else None
    session.flush()
    return row
