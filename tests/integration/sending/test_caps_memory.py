"""The in-process limiter passes the RateLimiter contract; seeding from the database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.services.caps import Limits, MemoryRateLimiter, seed_from_database
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.caps_contract import *  # noqa: F403
from tests.integration.sending.caps_contract import MakeLimiter
from tests.integration.sending.factory import build_world


@pytest.fixture
def make_limiter() -> MakeLimiter:
    return MemoryRateLimiter


def test_seeding_counts_the_last_24_hours_of_sends(db: Database, clock: VirtualClock) -> None:
    now = clock.now()
    with db.session() as s:
        world = build_world(s, now, ["a@beta.example", "b@beta.example", "c@beta.example"])
        for i, enrollment_id in enumerate(world.enrollment_ids):
            sent_at = now - timedelta(hours=30 if i == 0 else i)
            s.add(
                OutboundMessage(
                    enrollment_id=enrollment_id,
                    step_id="intro",
                    prospect_id=enrollment_id,
                    mailbox_id=world.mailbox_id,
                    sequence_id=1,
                    version_id=world.version_id,
                    state=MessageState.SENT,
                    to_address=f"x{i}@beta.example",
                    from_address="anna@acme.example",
                    subject="s",
                    body_text="b",
                    message_id=f"m{i}@acme.example",
                    references=[],
                    headers={},
                    not_before=sent_at,
                    sent_at=sent_at,
                    attempts=1,
                    created_at=sent_at,
                    updated_at=sent_at,
                )
            )
    limiter = MemoryRateLimiter()
    with db.session() as s:
        assert seed_from_database(limiter, s, now) == 2  # the 30-hour-old one is out
    limits = Limits(label="anna", daily=3)
    assert limiter.acquire(world.mailbox_id, "beta.example", now, limits).allowed
    assert not limiter.acquire(world.mailbox_id, "beta.example", now, limits).allowed
