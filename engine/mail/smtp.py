"""SMTP transport: one sender per mailbox, one reused connection, honest outcomes.

We drive the SMTP steps ourselves (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) instead of
`sendmail`, because the outcome depends on *when* something failed: before the DATA payload
nothing was delivered (safe to retry), after it started the message may have been delivered
(AMBIGUOUS: never retried automatically, DESIGN invariant 2). The table is in
docs/mailboxes.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Protocol

import aiosmtplib

from engine.mail.failures import FailureKind, kind_of, kind_of_text
from engine.mail.urls import Endpoint

log = logging.getLogger(__name__)

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")
_DOT_LINE = re.compile(rb"^\.", re.MULTILINE)


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"  # 2xx after DATA: the server took the message
    RETRY = "retry"  # nothing was delivered (4xx, refused, dropped before DATA): try later
    REJECTED = "rejected"  # 5xx for this recipient or this content: a bounce, decided by code
    AMBIGUOUS = "ambiguous"  # dropped/timed out after the payload started: maybe delivered
    MAILBOX_ERROR = "mailbox_error"  # AUTH/TLS/sender refused: pause the mailbox, not sent


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    code: int | None  # the SMTP reply code, None when there was no reply
    status: str | None  # the enhanced status code ("5.1.1") from the reply text
    message: str  # what happened, with the server's words; never a secret
    # Set when the mailbox itself could not be reached or logged in to (connect, TLS, AUTH,
    # sender refused): why, for engine.workspace.links. None once the server took MAIL.
    unreachable: FailureKind | None = None


# Awaited after RCPT TO is accepted and before the DATA command; raising withdraws the
# message (RSET, nothing sent). The sender commits the message's start there: by RFC 5321
# section 3.8 a transaction without its end of data is cancelled when the connection goes,
# so nothing can be delivered before DATA and the start need only be durable by then.
BeforeData = Callable[[], Awaitable[None]]


async def go_ahead() -> None:
    """The BeforeData of a caller with nothing to commit first."""


class Mailer(Protocol):
    """The port the sending service uses: one call, one recipient, one outcome.

    `before_data` is awaited before anything of the message's content goes out (see
    BeforeData); an exception from it propagates after the transaction is reset.
    """

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult: ...


class _Failed(Exception):
    """A classified failure inside one attempt; `fresh_retry` = worth one new connection."""

    def __init__(self, result: SendResult, *, fresh_retry: bool = False) -> None:
        super().__init__(result.message)
        self.result = result
        self.fresh_retry = fresh_retry


class SmtpSender:
    """Sends through one endpoint, reusing its connection; safe for concurrent callers."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        password: str | None,
        timeout: float = 30.0,
        data_timeout: float = 60.0,
        tls_context: ssl.SSLContext | None = None,
        helo_name: str | None = None,
    ) -> None:
        if endpoint.scheme != "smtp":
            raise ValueError(f"SmtpSender needs an smtp endpoint, got {endpoint}")
        self.endpoint = endpoint
        self._password = password
        self._timeout = timeout
        self._data_timeout = data_timeout
        self._tls_context = tls_context
        self._helo_name = helo_name
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> SmtpSender:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit(timeout=min(self._timeout, 5.0))
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        async with self._lock:
            reused = self._smtp is not None and self._smtp.is_connected
            result = await self._attempt(
                envelope_from, recipient, data, retry_fresh=reused, before_data=before_data
            )
        log.info(
            "smtp.send endpoint=%s recipient_domain=%s outcome=%s code=%s status=%s",
            self.endpoint,
            recipient.rpartition("@")[2],
            result.outcome,
            result.code,
            result.status,
        )
        return result

    async def _attempt(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        retry_fresh: bool,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        try:
            try:
                smtp = await self._connection()
            except _Failed as failed:
                failed.result = dataclasses.replace(failed.result, unreachable=kind_of(failed))
                raise
            result = await self._transaction(smtp, envelope_from, recipient, data, before_data)
            return result
        except asyncio.CancelledError:
            # Cancelled mid-transaction: the connection's state is unknown, never reuse it.
            # (If the payload had started, the caller must treat the message as ambiguous.)
            if self._smtp is not None:
                self._smtp.close()
            raise
        except _Failed as failed:
            if failed.result.outcome == SendOutcome.MAILBOX_ERROR and not failed.result.unreachable:
                kind = kind_of_text(failed.result.message)
                failed.result = dataclasses.replace(failed.result, unreachable=kind)
            await self._reset_after_failure()
            if failed.fresh_retry and retry_fresh:
                # The server dropped (or 421-closed) a connection we kept open between
                # messages; nothing was delivered, so one fresh connection is safe.
                return await self._attempt(
                    envelope_from, recipient, data, retry_fresh=False, before_data=before_data
                )
            return failed.result

    # --- connection ---

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        ep = self.endpoint
        if self._password is not None and ep.security == "plain" and not _is_loopback(ep.host):
            raise _Failed(
                _no_reply(
                    SendOutcome.MAILBOX_ERROR,
                    f"{ep}: refusing to send the password unencrypted; use smtp+starttls:// "
                    "or smtps://",
                )
            )
        smtp = aiosmtplib.SMTP(
            hostname=ep.host,
            port=ep.port,
            timeout=self._timeout,
            use_tls=ep.security == "tls",
            start_tls=False,  # done explicitly below, so a missing STARTTLS is an error
            tls_context=self._tls_context,
            local_hostname=self._helo_name,
        )
        try:
            await smtp.connect()
        except aiosmtplib.SMTPConnectResponseError as exc:
            outcome = SendOutcome.RETRY if exc.code < 500 else SendOutcome.MAILBOX_ERROR
            raise _Failed(_reply(outcome, exc.code, exc.message, "at connect")) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            if isinstance(exc.__cause__, ssl.SSLError) or isinstance(exc, ssl.SSLError):
                raise _Failed(_tls_error(ep, exc)) from exc
            raise _Failed(_no_reply(SendOutcome.RETRY, f"cannot connect to {ep}: {exc}")) from exc
        self._smtp = smtp
        try:
            await smtp.ehlo()
            if ep.security == "starttls":
                if not smtp.supports_extension("starttls"):
                    raise _Failed(
                        _no_reply(
                            SendOutcome.MAILBOX_ERROR,
                            f"{ep} does not offer STARTTLS; use smtps:// (port 465) or fix "
                            "the server",
                        )
                    )
                await smtp.starttls()
                await smtp.ehlo()
            if self._password is not None:
                await self._login(smtp)
        except _Failed:
            smtp.close()
            raise
        except ssl.SSLError as exc:
            smtp.close()
            raise _Failed(_tls_error(ep, exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            smtp.close()
            outcome = SendOutcome.RETRY if exc.code < 500 else SendOutcome.MAILBOX_ERROR
            raise _Failed(_reply(outcome, exc.code, exc.message, "during EHLO/STARTTLS")) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            if isinstance(exc.__cause__, ssl.SSLError):
                raise _Failed(_tls_error(ep, exc)) from exc
            raise _Failed(_no_reply(SendOutcome.RETRY, f"{ep} failed before MAIL: {exc}")) from exc
        return smtp

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        ep = self.endpoint
        if not ep.username:
            raise _Failed(
                _no_reply(
                    SendOutcome.MAILBOX_ERROR,
                    f"{ep}: a password is set but no username; put it in the URL (user@host)",
                )
            )
        assert self._password is not None
        try:
            await smtp.login(ep.username, self._password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Never the password in the message: only who and where.
            raise _Failed(
                _reply(
                    SendOutcome.MAILBOX_ERROR,
                    exc.code,
                    exc.message,
                    f"login as {ep.username!r} refused; check the password variable",
                )
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _Failed(_reply(SendOutcome.MAILBOX_ERROR, exc.code, exc.message, "AUTH")) from exc
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except aiosmtplib.SMTPException as exc:  # e.g. the server offers no AUTH at all
            raise _Failed(_no_reply(SendOutcome.MAILBOX_ERROR, f"{ep}: {exc}")) from exc

    async def _reset_after_failure(self) -> None:
        """Leave a still-open connection ready for the next MAIL, or close it."""
        smtp = self._smtp
        if smtp is None or not smtp.is_connected:
            return
        try:
            response = await smtp.rset(timeout=min(self._timeout, 5.0))
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
            return
        if response.code != 250:
            smtp.close()

    # --- one transaction ---

    async def _transaction(
        self,
        smtp: aiosmtplib.SMTP,
        envelope_from: str,
        recipient: str,
        data: bytes,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        utf8 = not (envelope_from.isascii() and recipient.isascii())
        if utf8 and not smtp.supports_extension("smtputf8"):
            raise _Failed(
                _no_reply(
                    SendOutcome.REJECTED,
                    f"{recipient!r} needs SMTPUTF8, which {self.endpoint} does not offer",
                )
            )
        encoding = "utf-8" if utf8 else "ascii"
        options = ["SMTPUTF8"] if utf8 else []
        try:
            await smtp.mail(envelope_from, options=options, encoding=encoding)
        except aiosmtplib.SMTPResponseException as exc:
            raise _pre_data_reply(exc.code, exc.message, "at MAIL FROM", sender=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _dropped_before_data(exc, "at MAIL FROM") from exc
        try:
            await smtp.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPResponseException as exc:
            raise _pre_data_reply(exc.code, exc.message, "at RCPT TO") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _dropped_before_data(exc, "at RCPT TO") from exc
        try:
            await before_data()
        except BaseException:
            await self._reset_after_failure()  # RSET: the envelope is dropped, unsent
            raise
        try:
            response = await smtp.execute_command(b"DATA")
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _dropped_before_data(exc, "at DATA") from exc
        if response.code != 354:
            raise _pre_data_reply(response.code, response.message, "at DATA")
        protocol = smtp.protocol
        if protocol is None:
            raise _dropped_before_data(ConnectionError("connection lost"), "at DATA")
        try:
            protocol.write(_dot_stuff(data))
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _dropped_before_data(exc, "after DATA 354") from exc
        # From here on the server may have the message: no failure is retried.
        try:
            final = await protocol.read_response(timeout=self._data_timeout)
        except aiosmtplib.SMTPTimeoutError as exc:
            smtp.close()
            raise _Failed(
                _no_reply(
                    SendOutcome.AMBIGUOUS,
                    f"no reply within {self._data_timeout:g}s after the message was sent; "
                    "it may have been delivered",
                )
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise _Failed(
                _no_reply(
                    SendOutcome.AMBIGUOUS,
                    f"connection lost after the message was sent ({exc}); "
                    "it may have been delivered",
                )
            ) from exc
        if 200 <= final.code < 300:
            return _reply(SendOutcome.ACCEPTED, final.code, final.message, "")
        if 400 <= final.code < 500:
            raise _Failed(_reply(SendOutcome.RETRY, final.code, final.message, "after DATA"))
        raise _Failed(_reply(SendOutcome.REJECTED, final.code, final.message, "after DATA"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dot_stuff(data: bytes) -> bytes:
    """SMTP transparency (RFC 5321 4.5.2) and the end-of-data marker; CRLF line endings."""
    if b"\n" in data.replace(b"\r\n", b""):
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return _DOT_LINE.sub(b"..", data) + b".\r\n"


def _pre_data_reply(code: int, text: str, where: str, *, sender: bool = False) -> _Failed:
    if code == 530 or (code >= 500 and sender):
        # Authentication required, or our own sender address refused: the mailbox is wrong.
        return _Failed(_reply(SendOutcome.MAILBOX_ERROR, code, text, where))
    if code >= 500:
        return _Failed(_reply(SendOutcome.REJECTED, code, text, where))
    # 421 means the server is closing this connection: a fresh one may well work.
    return _Failed(_reply(SendOutcome.RETRY, code, text, where), fresh_retry=code == 421)


def _dropped_before_data(exc: BaseException, where: str) -> _Failed:
    return _Failed(
        _no_reply(SendOutcome.RETRY, f"connection lost {where}, nothing delivered: {exc}"),
        fresh_retry=True,
    )


def _tls_error(endpoint: Endpoint, exc: BaseException) -> SendResult:
    return _no_reply(
        SendOutcome.MAILBOX_ERROR,
        f"TLS with {endpoint} failed: {exc} (check the host name, port and certificate)",
    )


def _reply(outcome: SendOutcome, code: int, text: str, where: str) -> SendResult:
    text = " ".join(text.split())
    match = _ENHANCED.match(text)
    status = ".".join(match.groups()) if match else None
    message = f"{code} {text}" + (f" ({where})" if where else "")
    return SendResult(outcome=outcome, code=code, status=status, message=message)


def _no_reply(outcome: SendOutcome, message: str) -> SendResult:
    return SendResult(outcome=outcome, code=None, status=None, message=message)
