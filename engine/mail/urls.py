"""Mailbox endpoint URLs: `smtp+starttls://user@host:587`, `imaps://host:993` and friends.

Passwords never live in a URL (it ends up in the database, in logs and in shell history);
the mailbox names an environment variable instead (`--password-env`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from engine.errors import InvalidInput

Scheme = Literal["smtp", "imap"]
Security = Literal["plain", "starttls", "tls"]

# scheme in the URL -> (protocol, security, default port)
_SMTP_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
_IMAP_SCHEMES: dict[str, tuple[Security, int]] = {
    "imap": ("plain", 143),
    "imap+starttls": ("starttls", 143),
    "imaps": ("tls", 993),
}


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: no secrets here, so it can be logged and stored."""

    scheme: Scheme
    host: str
    port: int
    security: Security
    username: str | None

    def __str__(self) -> str:
        prefix = {"plain": "", "starttls": "+starttls", "tls": "s"}[self.security]
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}{prefix}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> Endpoint:
    """Parse smtp://host[:25], smtp+starttls://host[:587] or smtps://host[:465]."""
    return _parse(url, "smtp", _SMTP_SCHEMES)


def parse_imap_url(url: str) -> Endpoint:
    """Parse imap://host[:143], imap+starttls://host[:143] or imaps://host[:993]."""
    return _parse(url, "imap", _IMAP_SCHEMES)


def _parse(url: str, protocol: Scheme, schemes: dict[str, tuple[Security, int]]) -> Endpoint:
    allowed = ", ".join(f"{s}://" for s in schemes)
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise InvalidInput(
            f"{protocol} URL {_redact(text)!r}: unknown scheme {parts.scheme or '(none)'!r}; "
            f"use one of {allowed} (e.g. {next(iter(schemes))}://mail.example.com)"
        )
    if parts.password is not None:
        raise InvalidInput(
            f"{protocol} URL {_redact(text)!r}: contains a password; remove it from the URL "
            "and put it in an environment variable named with --password-env"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(
            f"{protocol} URL {text!r}: unexpected path or query; write only "
            f"{scheme}://[user@]host[:port]"
        )
    host = parts.hostname
    if not host:
        raise InvalidInput(f"{protocol} URL {text!r}: no host; write {scheme}://[user@]host[:port]")
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput(
            f"{protocol} URL {text!r}: the port must be a number from 1 to 65535"
        ) from None
    security, default_port = schemes[scheme]
    username = unquote(parts.username) if parts.username else None
    return Endpoint(
        scheme=protocol,
        host=host,
        port=port or default_port,
        security=security,
        username=username,
    )


def _redact(url: str) -> str:
    """The URL with any password replaced, so an error message never echoes a secret."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
