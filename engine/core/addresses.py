"""Email addresses: one person, one key (DESIGN invariant 11), and hashes that outlive erasure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

# Free-mail providers: a reply from one never stands for a company (no company_reply stop).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.de",
        "yahoo.co.uk",
        "hotmail.com",
        "hotmail.de",
        "outlook.com",
        "outlook.de",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
        "mail.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
    }
)


@dataclass(frozen=True, slots=True)
class Address:
    email: str  # normalised for display and sending (domain lower-cased, IDNA-aware)
    key: str  # what identifies the person: the normalised address, lower-cased

    @property
    def domain(self) -> str:
        return self.key.rsplit("@", 1)[1]


class InvalidAddress(ValueError):
    """Not a deliverable email address; the message says why."""


def normalise(raw: str, *, check_dns: bool = False) -> Address:
    """Validate and normalise an address with email-validator; InvalidAddress if it is not one."""
    text = (raw or "").strip()
    if not text:
        raise InvalidAddress("the email address is empty")
    try:
        result = validate_email(text, check_deliverability=check_dns)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return Address(email=result.normalized, key=result.normalized.lower())


def key_of(raw: str) -> str:
    """The lookup key of an address we already trust (e.g. from our own database)."""
    return raw.strip().lower()


def domain_of(raw: str) -> str:
    return key_of(raw).rsplit("@", 1)[-1]


def is_free_mail(domain: str) -> bool:
    return domain.lower() in FREE_MAIL_DOMAINS


def value_hash(kind: str, value: str) -> str:
    """sha256 of a suppression value; kept after erasure so the address stays suppressed."""
    return hashlib.sha256(f"{kind}:{value.strip().lower()}".encode()).hexdigest()
