"""Issue 19, item 9: the embedded runner claims at most KADENZ_SEND_BATCH messages at a time,
as a worker's send task does, so a kill never finds more than one batch in `sending`."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.embedded.runner import Runner
from engine.mail.smtp import BeforeData, SendOutcome, SendResult, go_ahead
from engine.outbound.limits.caps import MemoryRateLimiter
from engine.outbound.runtime import Runtimes
from engine.outbound.send import SendReport, claim
from engine.outbound.tick import tick
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox, OutboundMessage, SequenceVersion
from tests.integration.sending.factory import (
    advance_to_due,
    build_world,
    enroll,
    make_mailbox,
    make_prospect,
)


class CountingMailer:
    """Accepts everything; before each send, notes how many messages are `sending`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.in_sending: list[int] = []

    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        await before_data()  # nothing goes out before the start is committed
        with self.db.session() as s:
            n = s.scalar(select(func.count()).where(OutboundMessage.state == MessageState.SENDING))
        self.in_sending.append(int(n or 0))
        return SendResult(SendOutcome.ACCEPTED, 250, "2.0.0", "250 2.0.0 OK")


def test_embedded_runner_claims_at_most_send_batch_messages(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    settings.send_batch = 5
    with db.session() as s:
        build_world(s, clock.now(), [f"p{i}@beta{i}.example" for i in range(12)], daily_cap=100)
    mailer = CountingMailer(db)

    @asynccontextmanager
    async def factory(mailbox: Mailbox, password: str | None) -> AsyncIterator[CountingMailer]:
        yield mailer

    runner = Runner(db, clock, settings, mailer_factory=factory)
    report = runner.round()  # plans the emails
    if report.send.sent == 0:  # the window was closed at the start: move to the slot
        advance_to_due(db, clock)
        report = runner.round()
    assert report.send.sent == 12  # one round still sends everything due, batch by batch
    assert len(mailer.in_sending) == 12
    assert max(mailer.in_sending) <= 5, mailer.in_sending


def test_a_claim_over_several_mailboxes_gives_each_its_share(
    db: Database, clock: VirtualClock, settings: Settings
) -> None:
    """A send task streaming two mailboxes: anna's older backlog must not take the whole
    batch and leave ben's connection idle: each gets half."""
    with db.session() as s:
        now = clock.now()
        world = build_world(s, now, [f"a{i}@beta{i}.example" for i in range(8)], daily_cap=100)
        version = s.get(SequenceVersion, world.version_id)
        assert version is not None
        ben = make_mailbox(s, now, name="ben", daily_cap=100)
        for i in range(8):
            enroll(s, now, make_prospect(s, now, f"b{i}@gamma{i}.example"), version, ben)
        ben_id = ben.id
    tick(db, clock, settings, runtimes=Runtimes())
    advance_to_due(db, clock)
    with db.session() as s:  # anna's mail has waited an hour longer than ben's
        for message in s.scalars(
            select(OutboundMessage).where(OutboundMessage.mailbox_id == world.mailbox_id)
        ):
            message.not_before -= timedelta(hours=1)
    claimed = claim(
        db, clock, settings, MemoryRateLimiter(), Runtimes(), SendReport(),
        mailbox_id=[world.mailbox_id, ben_id], limit=6,
    )  # fmt: skip
    by_mailbox = Counter(item.mailbox.id for item in claimed)
    assert by_mailbox == {world.mailbox_id: 3, ben_id: 3}
