"""Issue 19 item 16: a header-injection attempt (CR/LF in KADENZ_PUBLIC_URL, or in one
message's stored threading headers) is refused before the message enters `sending`: that
message is cancelled with the reason and its enrollment paused for a person; it never
becomes `ambiguous`, and the messages beside it are sent, not charged a retry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.outbound.limits.caps import MemoryRateLimiter
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage
from tests.integration.sending.factory import advance_to_due, build_world
from tests.support.smtp_server import SmtpSink

EMAILS = [f"p{i}@beta{i}.example" for i in range(3)]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


def _settings(tmp_path: object, public_url: str) -> Settings:
    return Settings(
        home=tmp_path,  # type: ignore[arg-type]
        secret_key="test-secret",
        public_url=public_url,
        postal_address="Acme GmbH, Hauptstr. 1, 80331 München",
    )


def test_item16_one_hostile_message_fails_alone(
    db: Database, clock: VirtualClock, sink: SmtpSink, tmp_path: object
) -> None:
    settings = _settings(tmp_path, "https://kadenz.acme.example")
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
    tick(db, clock, settings)
    advance_to_due(db, clock)
    with db.session() as s:
        hostile = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).first()
        assert hostile is not None
        hostile.in_reply_to = "x@y.example>\r\nBcc: victim@evil.example\r\nX-A: <z"
        hostile_id = hostile.id
    report = send_due(db, clock, settings, limiter=MemoryRateLimiter())
    assert (report.sent, report.failed, report.retried, report.ambiguous) == (2, 1, 0, 0)
    assert len(sink.messages) == 2 and all(b"Bcc" not in m.data for m in sink.messages)
    with db.session() as s:
        row = s.get(OutboundMessage, hostile_id)
        assert row is not None and row.state == MessageState.CANCELLED
        assert row.held_reason and row.held_reason.startswith("not sent: ")
        enrollment = s.get(Enrollment, row.enrollment_id)
        assert enrollment is not None and enrollment.state == "paused"
        assert row.attempts == 0 and row.lease_until is None


def test_item16_header_injection_via_public_url_never_leaves_sending(
    db: Database, clock: VirtualClock, sink: SmtpSink, tmp_path: object
) -> None:
    good = _settings(tmp_path, "https://kadenz.acme.example")
    with db.session() as s:
        build_world(s, clock.now(), EMAILS, smtp_url=sink.url)
    tick(db, clock, good)
    advance_to_due(db, clock)
    bad = _settings(tmp_path, "https://kadenz.acme.example/\r\nBcc: victim@evil.example")
    report = send_due(db, clock, bad, limiter=MemoryRateLimiter())
    assert (report.sent, report.failed, report.retried, report.ambiguous) == (0, 3, 0, 0)
    assert sink.messages == []
    with db.session() as s:
        states = set(s.scalars(select(OutboundMessage.state)))
    assert states == {MessageState.CANCELLED}  # none left in `sending` to turn ambiguous
