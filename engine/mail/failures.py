"""Why a mailbox could not be reached, as one of a few kinds, each with the fix to name.

Both transports (SMTP for sending, IMAP for reading) fail in the same few ways: the
password variable is missing, the login is refused, TLS fails, the host name does not
resolve, nothing listens on the port, or the server does not answer in time. The kind
decides the fix we print; docs/mailboxes.md ("When a mailbox cannot be reached") has the
same table for people.
"""

from __future__ import annotations

import socket
import ssl
from enum import StrEnum


class FailureKind(StrEnum):
    PASSWORD_MISSING = "password_missing"  # noqa: S105 -- a kind, not a secret; the variable named by --password-env is unset
    USERNAME_MISSING = "username_missing"  # nobody to log in as
    AUTH = "auth"  # the server refused the login (or requires one we did not give)
    TLS = "tls"  # handshake, certificate or STARTTLS failure
    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # nothing listens on that host and port
    TIMEOUT = "timeout"  # no answer in time
    FOLDER = "folder"  # an IMAP folder in the mailbox's list cannot be opened
    PROTOCOL = "protocol"  # anything else the server said or did


def kind_of(exc: BaseException) -> FailureKind:
    """The kind of a low-level exception (walks `__cause__`/`__context__`)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return FailureKind.DNS
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return FailureKind.TLS
        if isinstance(current, ConnectionRefusedError):
            return FailureKind.REFUSED
        if isinstance(current, TimeoutError | socket.timeout):
            return FailureKind.TIMEOUT
        current = current.__cause__ or current.__context__
    return kind_of_text(str(exc))


def kind_of_text(text: str) -> FailureKind:
    """The kind of a failure known only by its message (what a log or a result carries)."""
    low = text.lower()
    for kind, needles in _TEXT_HINTS:
        if any(n in low for n in needles):
            return kind
    return FailureKind.PROTOCOL


_TEXT_HINTS: tuple[tuple[FailureKind, tuple[str, ...]], ...] = (
    (FailureKind.PASSWORD_MISSING, ("is not set (it holds the password)",)),
    (FailureKind.USERNAME_MISSING, ("no username",)),
    (FailureKind.DNS, ("name or service not known", "nodename nor servname", "name resolution")),
    (FailureKind.TLS, ("tls", "ssl", "certificate", "starttls")),
    (FailureKind.REFUSED, ("connection refused", "errno 111")),
    (FailureKind.TIMEOUT, ("timed out", "timeout")),
    (
        FailureKind.AUTH,
        ("login", "auth", "credentials", "password", " 530 ", " 535 ", "530 ", "535 "),
    ),
    (FailureKind.FOLDER, ("folder",)),
)


def fix(kind: FailureKind, *, mailbox: str, direction: str, password_env: str | None) -> str:
    """What a person does about it, naming the variable, setting or command."""
    option = "--imap" if direction == "imap" else "--smtp"
    variable = password_env or "ITS_PASSWORD_VARIABLE"
    update = f"kadenz mailbox update {mailbox}"
    if kind == FailureKind.PASSWORD_MISSING and password_env is None:
        return f"name the variable that holds the password: {update} --password-env NAME"
    if kind == FailureKind.PASSWORD_MISSING:
        return (
            f"export {variable} in the environment of `kadenz run` / the workers / `kadenz idle` "
            f"(or name another variable: {update} --password-env NAME)"
        )
    if kind == FailureKind.USERNAME_MISSING:
        return f"give the login name: {update} --username NAME"
    if kind == FailureKind.AUTH:
        return (
            f"check the password in ${variable} and the login name "
            f"({update} --username NAME); some providers need an app password"
        )
    if kind == FailureKind.TLS:
        return (
            f"check the URL's scheme and port (imaps:// 993, smtps:// 465, smtp+starttls:// 587) "
            f"and the server's certificate: {update} {option} URL"
        )
    if kind == FailureKind.DNS:
        return f"the host name does not resolve: correct it with {update} {option} URL"
    if kind == FailureKind.REFUSED:
        return f"nothing listens there: check the port in {update} {option} URL and the firewall"
    if kind == FailureKind.TIMEOUT:
        return f"no answer in time: check the host, port and firewall ({update} {option} URL)"
    if kind == FailureKind.FOLDER:
        return "check the mailbox's IMAP folder names (INBOX is always there)"
    return f"read the server's words above; check {update} {option} URL"
