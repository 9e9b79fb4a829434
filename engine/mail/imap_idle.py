"""IMAP IDLE (RFC 2177): one connection that waits for the server to announce new mail.

A `Doorbell` only rings; it never fetches. Whoever listens then polls the mailbox the
ordinary way (engine.inbound.poll), so checkpoints, dedupe and failure handling stay in one
place. The folder is opened read-only (EXAMINE), like the poll: nothing in the SDR's
mailbox changes.

RFC 2177 lets a server end an IDLE after 30 minutes of inactivity, so `wait` never idles
longer than it is told (the caller renews well before 29 minutes). Responses during IDLE
are read straight from the socket with `select`, so a wait can end early on a stop event
without leaving the connection half-read.

Blocking (stdlib imaplib + select): run it in a thread of its own.
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import re
import select
import ssl
import threading
import time

from engine.mail.failures import FailureKind, kind_of
from engine.mail.imap import ImapError, open_session, quote_folder
from engine.mail.urls import Endpoint

_NEW_MAIL = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)
_SLICE = 0.5  # how often a wait looks at its stop event
_tags = itertools.count(1)


class Doorbell:
    """One logged-in IDLE connection on one folder. `open()`, then `wait()` in a loop."""

    def __init__(
        self,
        endpoint: Endpoint,
        password: str | None,
        folder: str = "INBOX",
        *,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.folder = folder
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        self._conn: imaplib.IMAP4 | None = None
        self._buffer = b""

    def open(self) -> bool:
        """Connect, log in, EXAMINE the folder. False when the server does not offer IDLE
        (the caller keeps polling); ImapError (with its kind) when it cannot be reached."""
        conn = open_session(
            self.endpoint, self._password, timeout=self._timeout, tls_context=self._tls_context
        )
        self._conn = conn
        try:
            typ, data = conn.capability()  # after login: capabilities may have grown
            words = b" ".join(d for d in data if isinstance(d, bytes)).upper().split()
            if typ != "OK" or b"IDLE" not in words:
                self.close()
                return False
            typ, data = conn.select(quote_folder(self.folder), readonly=True)
            if typ != "OK":
                raise ImapError(
                    f"{self.endpoint}: folder {self.folder!r} cannot be opened for IDLE",
                    FailureKind.FOLDER,
                )
        except ImapError:
            self.close()
            raise
        except (imaplib.IMAP4.error, OSError) as exc:
            self.close()
            raise ImapError(f"{self.endpoint}: IDLE setup failed: {exc}", kind_of(exc)) from exc
        return True

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """IDLE for at most `seconds` (or until `stop`); True when new mail was announced."""
        conn = self._conn
        if conn is None:
            raise ImapError(f"{self.endpoint}: IDLE on a closed connection")
        tag = f"KZI{next(_tags)}".encode()
        try:
            conn.send(tag + b" IDLE\r\n")
            first = self._line(time.monotonic() + self._timeout)
            if first is None or not first.startswith(b"+"):
                raise ImapError(f"{self.endpoint}: IDLE refused: {_text(first)}")
            rang = False
            deadline = time.monotonic() + seconds
            while not rang and time.monotonic() < deadline:
                if stop is not None and stop.is_set():
                    break
                line = self._line(min(deadline, time.monotonic() + _SLICE))
                if line is None:
                    continue
                if line.upper().startswith(b"* BYE"):
                    raise ImapError(f"{self.endpoint}: server ended IDLE: {_text(line)}")
                rang = bool(_NEW_MAIL.match(line))
            conn.send(b"DONE\r\n")
            self._until_tagged(tag)
            return rang
        except ImapError:
            self.close()
            raise
        except (imaplib.IMAP4.error, OSError) as exc:
            self.close()
            raise ImapError(f"{self.endpoint}: IDLE connection lost: {exc}", kind_of(exc)) from exc

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._buffer = b""
        if conn is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError, ValueError):
                conn.shutdown()

    # --- reading responses from the socket ---

    def _until_tagged(self, tag: str | bytes) -> None:
        tag_bytes = tag if isinstance(tag, bytes) else tag.encode()
        deadline = time.monotonic() + self._timeout
        while True:
            line = self._line(deadline)
            if line is None:
                raise ImapError(f"{self.endpoint}: no answer to DONE", FailureKind.TIMEOUT)
            if line.startswith(tag_bytes + b" "):
                if not line[len(tag_bytes) + 1 :].upper().startswith(b"OK"):
                    raise ImapError(f"{self.endpoint}: IDLE ended with {_text(line)}")
                return

    def _line(self, deadline: float) -> bytes | None:
        """The next response line, or None when the deadline passes first."""
        conn = self._conn
        assert conn is not None
        sock = conn.sock
        while b"\r\n" not in self._buffer:
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                readable, _, _ = select.select([sock], [], [], remaining)
                if not readable:
                    return None
            data = sock.recv(65536)
            if not data:
                raise ImapError(f"{self.endpoint}: the server closed the IDLE connection")
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line


def _text(line: bytes | None) -> str:
    return "no answer" if line is None else line.decode("utf-8", "replace")[:200]
