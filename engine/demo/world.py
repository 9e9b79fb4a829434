"""The prospects' side of the demo: a real SMTP server on localhost that behaves like the world.

Some addresses do not exist (550 5.1.1 at RCPT, or a DSN that arrives later), some mailboxes
are full, some people reply (positive, negative, "remove me", "talk to my colleague", a
question; in English and German, with quoted history), some are out of office. What comes
back is complete RFC 5322 mail, handed to the engine's inbound path at its (virtual) time.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import heapq
import random
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from engine.demo import mail
from engine.demo.people import DemoProspect, Persona


@dataclass(order=True)
class _Pending:
    due: datetime
    seq: int
    raw: bytes = field(compare=False)
    what: str = field(compare=False)


class _Handler:
    def __init__(self, world: World) -> None:
        self.world = world

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        person = self.world.people.get(address.lower())
        if person is not None and person.persona is Persona.NO_SUCH_USER:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        with self.world.lock:
            for rcpt in envelope.rcpt_tos:
                self.world.inbox.append((rcpt.lower(), raw))
        return "250 2.0.0 Ok: queued"


class World:
    """Holds the SMTP server and decides, per received email, what comes back and when."""

    def __init__(self, people: list[DemoProspect], seed: int) -> None:
        self.people = {p.email.lower(): p for p in people}
        self.rng = random.Random(seed + 7)
        self.lock = threading.Lock()
        self.inbox: list[tuple[str, bytes]] = []  # (recipient, raw) received, not yet reacted to
        self.received_count: dict[tuple[str, str], int] = {}  # (rcpt, Message-ID) -> copies
        self.delivered: list[tuple[str, str]] = []  # (recipient, Message-ID) in arrival order
        self._pending: list[_Pending] = []
        self._seq = 0
        self._answered: set[str] = set()
        self._away_until: dict[str, datetime] = {}
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> World:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def react(self, now: datetime) -> None:
        """Look at what arrived since the last call and schedule the world's answers."""
        with self.lock:
            arrived, self.inbox = self.inbox, []
        for rcpt, raw in arrived:
            parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
            message_id = (parsed.get("Message-ID") or "").strip().strip("<>")
            key = (rcpt, message_id)
            self.received_count[key] = self.received_count.get(key, 0) + 1
            self.delivered.append(key)
            person = self.people.get(rcpt)
            if person is None:
                continue
            self._react_to(person, _as_received(rcpt, parsed, raw), now)

    def due(self, now: datetime) -> list[tuple[str, bytes]]:
        """Messages the world sends back whose time has come: (what, raw RFC 5322 bytes)."""
        out = []
        while self._pending and self._pending[0].due <= now:
            item = heapq.heappop(self._pending)
            out.append((item.what, item.raw))
        return out

    def next_due(self) -> datetime | None:
        """When the world next has something to send back, if anything."""
        return self._pending[0].due if self._pending else None

    def _later(self, due: datetime, raw: bytes, what: str) -> None:
        self._seq += 1
        heapq.heappush(self._pending, _Pending(due, self._seq, raw, what))

    def _react_to(self, p: DemoProspect, received: mail.Received, now: datetime) -> None:
        rng = self.rng
        if p.persona is Persona.BOUNCE_LATER:
            at = now + timedelta(minutes=rng.randint(2, 30))
            self._later(at, mail.delivery_failure(p, received, "5.1.1", at), "bounce (DSN 5.1.1)")
        elif p.persona is Persona.MAILBOX_FULL:
            at = now + timedelta(minutes=rng.randint(2, 30))
            self._later(at, mail.delivery_failure(p, received, "5.2.2", at), "mailbox full (DSN)")
        elif p.persona is Persona.OUT_OF_OFFICE:
            back = self._away_until.get(p.email)
            if back is None:
                back = now + timedelta(days=rng.randint(4, 12))
                self._away_until[p.email] = back
            if now < back:  # an auto-responder answers each message while its owner is away
                at = now + timedelta(minutes=rng.randint(1, 5))
                raw = mail.out_of_office(p, received, back.date(), at)
                self._later(at, raw, f"out of office until {back.date()}")
        elif p.persona not in (Persona.SILENT, Persona.NO_SUCH_USER):
            if p.email in self._answered:
                return
            self._answered.add(p.email)
            at = now + timedelta(hours=rng.randint(1, 40), minutes=rng.randint(0, 59))
            raw = mail.human_reply(p, received, now, at)
            self._later(at, raw, f"reply ({p.persona.value}, {p.language})")


def _as_received(rcpt: str, parsed: email.message.Message, raw: bytes) -> mail.Received:
    name, sender = parseaddr(str(parsed.get("From", "")))
    refs = tuple(t.strip("<>") for t in str(parsed.get("References", "")).split() if t)
    text = ""
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = payload.decode(part.get_content_charset() or "utf-8", "replace")
            break
    header_end = raw.find(b"\r\n\r\n")
    header_block = raw[: header_end if header_end >= 0 else len(raw)].decode("utf-8", "replace")
    subject = str(email.header.make_header(email.header.decode_header(parsed.get("Subject", ""))))
    return mail.Received(
        recipient=rcpt,
        sender=sender,
        sender_name=name or sender,
        message_id=str(parsed.get("Message-ID", "")).strip().strip("<>"),
        references=refs,
        subject=subject,
        text=text,
        headers_block=header_block.replace("\r\n", "\n"),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
