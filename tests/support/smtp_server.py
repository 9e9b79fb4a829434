"""A real SMTP server for tests and benchmarks: aiosmtpd in a background thread, with faults.

    from tests.support.smtp_server import Fault, SmtpSink

    with SmtpSink(faults={"gone@x.example": Fault.RCPT_550}) as sink:
        sender = SmtpSender(parse_smtp_url(sink.url), password=None)
        ...                                   # send to 127.0.0.1:sink.port
        sink.wait_for(3, timeout=5)           # blocks on a condition variable, no polling
        sink.messages                         # accepted messages: envelope + exact bytes
        sink.connections                      # connections accepted so far

What it can do:

- `faults={recipient: Fault}` scripts a reply for one recipient, every time; pass
  `(Fault.RCPT_451, 1)` to fail only the first N times (then the recipient is accepted).
  `sink.set_fault(...)` changes faults while running.
- `refuse_connections=N` answers the next N connections with `421` instead of `220`.
- `sink.drop_connections()` closes every open connection, as a server does with idle ones.
- `data_delay=seconds` waits that long before answering each DATA (a slow server), and
  `sink.in_transaction()` lists the client (host, port) of every session between MAIL FROM
  and the reply to DATA, so a test can find the process inside a transaction.
- `auth=("user", "secret")` offers AUTH PLAIN/LOGIN and refuses MAIL without it (530).
- `tls="starttls"` offers (and requires) STARTTLS; `tls="implicit"` is SMTPS. Both use a
  self-signed certificate made with the `openssl` CLI (`tls_available()` says whether it
  exists); `sink.client_tls_context()` trusts it.

Only messages answered with 250 land in `messages`: a message the sink dropped, rejected or
never answered was not delivered. `data_received` counts every complete DATA payload.
"""

from __future__ import annotations

import asyncio
import atexit
import email
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


class Fault(StrEnum):
    RCPT_451 = "rcpt_451"  # 451 4.7.1 greylisted: try again later
    RCPT_550 = "rcpt_550"  # 550 5.1.1 no such user (hard bounce)
    RCPT_552 = "rcpt_552"  # 552 5.2.2 mailbox full
    DATA_554 = "data_554"  # 554 5.7.1 content rejected as the final reply to DATA
    DATA_451 = "data_451"  # 451 4.3.0 temporary failure as the final reply to DATA
    DROP_DURING_DATA = "drop_during_data"  # payload read, connection closed, no reply
    HANG_AFTER_DATA = "hang_after_data"  # payload read, never answered


_REPLIES = {
    Fault.RCPT_451: "451 4.7.1 Greylisted, please try again later",
    Fault.RCPT_550: "550 5.1.1 The email account that you tried to reach does not exist",
    Fault.RCPT_552: "552 5.2.2 Mailbox full",
    Fault.DATA_554: "554 5.7.1 Message rejected as spam",
    Fault.DATA_451: "451 4.3.0 Temporary local problem, try again",
}
_RCPT_FAULTS = {Fault.RCPT_451, Fault.RCPT_550, Fault.RCPT_552}


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int  # 1-based number of the connection that carried it

    @property
    def message_id(self) -> str | None:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        value = parsed["Message-ID"]
        return str(value).strip() if value is not None else None


class SmtpSink:
    """See the module docstring."""

    def __init__(
        self,
        *,
        faults: Mapping[str, Fault | tuple[Fault, int]] | None = None,
        refuse_connections: int = 0,
        auth: tuple[str, str] | None = None,
        tls: Literal["starttls", "implicit"] | None = None,
        host: str = "127.0.0.1",
        data_delay: float = 0.0,
    ) -> None:
        self.host = host
        self.data_delay = data_delay
        self._in_transaction: dict[int, tuple[str, int]] = {}  # id(session) → client
        self.auth = auth
        self.tls = tls
        self._cond = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._faults: dict[str, list[Any]] = {}
        for recipient, fault in (faults or {}).items():
            if isinstance(fault, tuple):
                self.set_fault(recipient, fault[0], times=fault[1])
            else:
                self.set_fault(recipient, fault)
        self._refuse = refuse_connections
        self._counting = False
        self.connections = 0
        self.data_received = 0
        self._open: set[_FaultySMTP] = set()
        self._controller: Controller | None = None

    # --- lifecycle ---

    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.tls == "starttls")
        if self.tls == "starttls":
            kwargs.update(tls_context=_server_tls_context(), require_starttls=True)
        sink = self

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return _FaultySMTP(
                    sink, self.handler, hostname="sink.localhost", **self.SMTP_kwargs
                )

            def _trigger_server(self) -> None:
                assert self.server is not None
                self.port = self.server.sockets[0].getsockname()[1]  # bound to port 0
                super()._trigger_server()

        controller = _Controller(
            _Handler(self),
            hostname=self.host,
            port=0,
            ssl_context=_server_tls_context() if self.tls == "implicit" else None,
            **kwargs,
        )
        controller.start()
        self._controller = controller
        with self._cond:
            self._counting = True
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._controller is not None and self._controller.server is not None
        sockets = self._controller.server.sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = {None: "smtp", "starttls": "smtp+starttls", "implicit": "smtps"}[self.tls]
        user = f"{self.auth[0]}@" if self.auth else ""
        return f"{scheme}://{user}{self.host}:{self.port}"

    # --- what was received ---

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._cond:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages were accepted; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"SMTP sink: expected {count} messages within {timeout}s, "
                    f"got {len(self._messages)}"
                )
            return list(self._messages)

    # --- scripting ---

    def set_fault(self, recipient: str, fault: Fault | None, *, times: int | None = None) -> None:
        with self._cond:
            if fault is None:
                self._faults.pop(recipient.lower(), None)
            else:
                self._faults[recipient.lower()] = [fault, times]

    def refuse_next_connections(self, count: int) -> None:
        with self._cond:
            self._refuse = count

    def in_transaction(self) -> list[tuple[str, int]]:
        """(host, port) of each client between its MAIL FROM and the reply to its DATA."""
        with self._cond:
            return list(self._in_transaction.values())

    def drop_connections(self) -> None:
        """Close every open connection from the server side and wait until they are closed."""
        assert self._controller is not None
        loop = self._controller.loop

        async def close_all() -> None:
            for server in list(self._open):
                if server.transport is not None:
                    server.transport.close()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=5)

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts the sink's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self_signed_certificate()[0]))

    # --- called from the server thread ---

    def _take_fault(self, recipient: str, *, rcpt_phase: bool) -> Fault | None:
        with self._cond:
            entry = self._faults.get(recipient.lower())
            if entry is None or (entry[0] in _RCPT_FAULTS) != rcpt_phase:
                return None
            fault, times = entry
            if times is not None:
                if times <= 1:
                    del self._faults[recipient.lower()]
                else:
                    entry[1] = times - 1
            return Fault(fault)

    def _connected(self, server: _FaultySMTP) -> bool:
        """Count the connection; False if it should be refused with 421."""
        with self._cond:
            if not self._counting:
                return True  # the controller's own readiness probe
            self.connections += 1
            server.number = self.connections
            self._open.add(server)
            if self._refuse > 0:
                self._refuse -= 1
                return False
            return True

    def _record(self, message: ReceivedMessage) -> None:
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.auth is not None
        ok = (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(),
                data.password.decode(),
            )
            == self.auth
        )
        return AuthResult(success=ok, handled=False)


class _FaultySMTP(SMTP):
    number = 0

    def __init__(self, sink: SmtpSink, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sink = sink

    async def _handle_client(self) -> None:
        if not self.sink._connected(self):
            await self.push("421 4.3.2 Too many connections, try again later")
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()

    def connection_lost(self, error: Exception | None) -> None:
        self.sink._open.discard(self)
        with self.sink._cond:
            self.sink._in_transaction.pop(id(self.session), None)
        super().connection_lost(error)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.sink.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        peer = session.peer if isinstance(session.peer, tuple) else ("", 0)
        with self.sink._cond:
            self.sink._in_transaction[id(session)] = (str(peer[0]), int(peer[1]))
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        fault = self.sink._take_fault(address, rcpt_phase=True)
        if fault is not None:
            return _REPLIES[fault]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        try:
            return await self._data(server, session, envelope)
        finally:
            with self.sink._cond:
                self.sink._in_transaction.pop(id(session), None)

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.sink._cond:
            self.sink._in_transaction.pop(id(session), None)
        return "250 OK"

    async def _data(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.data_delay:
            await asyncio.sleep(self.sink.data_delay)
        with self.sink._cond:
            self.sink.data_received += 1
        faults = [self.sink._take_fault(r, rcpt_phase=False) for r in envelope.rcpt_tos]
        fault = next((f for f in faults if f is not None), None)
        if fault is Fault.DROP_DURING_DATA:
            assert server.transport is not None
            server.transport.close()
            return "250 never seen"  # written to a closed transport: the client sees EOF
        if fault is Fault.HANG_AFTER_DATA:
            await asyncio.sleep(3600)  # cancelled when the sink stops
        if fault is not None:
            return _REPLIES[fault]
        content = envelope.original_content or b""
        assert isinstance(content, bytes)
        self.sink._record(
            ReceivedMessage(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=content,
                connection=getattr(server, "number", 0),
            )
        )
        return f"250 2.0.0 Ok: queued as {len(self.sink._messages)}"


# --- a throwaway certificate, made once per test process ---------------------------------


def tls_available() -> bool:
    return shutil.which("openssl") is not None


@cache
def self_signed_certificate() -> tuple[Path, Path]:
    if not tls_available():
        raise RuntimeError("the openssl CLI is needed to make a test certificate")
    folder = Path(tempfile.mkdtemp(prefix="kadenz-tls-"))
    atexit.register(shutil.rmtree, folder, True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_tls_context() -> ssl.SSLContext:
    cert, key = self_signed_certificate()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
