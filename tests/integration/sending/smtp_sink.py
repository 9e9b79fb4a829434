"""A real SMTP server (aiosmtpd) for the sending tests, with faults chosen by recipient.

The recipient's local part picks the server's behaviour:
  t421…  421 4.3.2 at RCPT (service shutting down)      t451…  451 4.7.1 at RCPT (greylisted)
  t550…  550 5.1.1 at RCPT (no such user)               t552…  552 5.2.2 at RCPT (mailbox full)
  t571…  550 5.7.1 at RCPT (refused by policy)
  drop…  the connection is dropped during DATA (after the body arrived)
  hang…  the server never answers after DATA
Everything else is accepted. `attempts` counts every DATA the server saw (accepted or not),
so a test can assert that each Message-ID reached the server at most once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

RCPT_FAULTS = {
    "t421": "421 4.3.2 Service shutting down",
    "t451": "451 4.7.1 Greylisted, try again later",
    "t550": "550 5.1.1 No such user here",
    "t552": "552 5.2.2 Mailbox full",
    "t571": "550 5.7.1 Message refused by policy",
}


@dataclass
class Sink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)  # accepted
    attempts: list[Message] = field(default_factory=list)  # every DATA the server saw
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]).strip("<>") for m in self.attempts]


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        local = address.split("@", 1)[0].lower()
        for prefix, reply in RCPT_FAULTS.items():
            if local.startswith(prefix):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content)
        self.sink.attempts.append(parsed)
        local = envelope.rcpt_tos[0].split("@", 1)[0].lower()
        if local.startswith("drop"):
            server.transport.close()
            return "421 closing"
        if local.startswith("hang"):
            while not self.sink.release.is_set():
                await asyncio.sleep(0.05)
            return "451 released"
        self.sink.messages.append(parsed)
        return "250 2.0.0 Ok: queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SinkServer:
    """Start/stop wrapper: `with SinkServer() as sink: …`."""

    def __init__(self) -> None:
        self.sink = Sink("127.0.0.1", free_port())
        self._controller = Controller(
            _Handler(self.sink), hostname=self.sink.host, port=self.sink.port
        )

    def __enter__(self) -> Sink:
        self._controller.start()
        return self.sink

    def __exit__(self, *exc: object) -> None:
        self.sink.release.set()
        self._controller.stop()
