"""`kadenz forecast` agrees with what the engine then really plans and sends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.outbound.forecast import forecast
from engine.people import enrollment as enrolling
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.factory import make_mailbox, make_prospect
from tests.integration.sending.test_migration import V1, _drive, _push
from tests.support.smtp_server import SmtpSink

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_forecast_of_tomorrow_is_what_the_engine_then_sends(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink, tmp_path: Path
) -> None:
    start = clock.now()
    emails = [f"p{i:02d}@beta{i % 5}.example" for i in range(30)]
    with db.session() as s:
        make_mailbox(s, start, smtp_url=sink.url, daily_cap=1000)
        for email in emails:
            make_prospect(s, start, email)
    _push(db, tmp_path, V1, start)
    for cohort in range(10):  # spread over the steps, as in the migration test
        _drive(db, clock, settings, start + timedelta(hours=10 * cohort))
        with db.session() as s:
            enrolling.enroll(s, "launch", emails[cohort * 3 : cohort * 3 + 3], at=clock.now())
    _drive(db, clock, settings, start + timedelta(days=4, hours=12))  # Friday 13:00 Berlin
    with db.session() as s:
        seen = forecast(s, clock.now(), days=3)
    now_local = clock.now().astimezone(BERLIN)
    tomorrow = now_local.date() + timedelta(days=1)
    predicted = {(m.enrollment_id, m.step_id) for m in seen.emails
                 if m.at.astimezone(BERLIN).date() == tomorrow}  # fmt: skip
    row = next(r for r in seen.rows if r.day == tomorrow)
    assert row.planned == len(predicted) > 0 and row.overflow == 0
    assert row.first_touches + row.follow_ups == row.planned

    end = now_local.replace(hour=0, minute=0) + timedelta(days=2)
    _drive(db, clock, settings, end.astimezone(ZoneInfo("UTC")))
    with db.session() as s:
        sent: list[Any] = s.execute(
            select(
                OutboundMessage.enrollment_id, OutboundMessage.step_id, OutboundMessage.sent_at
            ).where(OutboundMessage.state == "sent")
        ).all()
    actual = {(e, step) for e, step, at in sent if at.astimezone(BERLIN).date() == tomorrow}
    assert actual == predicted
    times = {(e, step): at for e, step, at in sent}
    assert all(times[(m.enrollment_id, m.step_id)] == m.at for m in seen.emails
               if (m.enrollment_id, m.step_id) in actual)  # fmt: skip


def test_demand_over_the_cap_is_carried_to_the_next_days(
    db: Database, clock: VirtualClock, tmp_path: Path
) -> None:
    emails = [f"p{i}@beta.example" for i in range(5)]
    with db.session() as s:
        make_mailbox(s, clock.now(), daily_cap=2)
        for email in emails:
            make_prospect(s, clock.now(), email)
    _push(db, tmp_path, V1, clock.now())
    with db.session() as s:
        enrolling.enroll(s, "launch", emails, at=clock.now())
        rows = forecast(s, clock.now(), days=2).rows
    first, second, third = rows[:3]
    assert (first.planned, first.first_touches, first.cap, first.sendable, first.overflow) == (
        5, 5, 2, 2, 3,
    )  # fmt: skip
    assert (second.carried_in, second.sendable, second.overflow) == (3, 2, 1)
    assert (third.carried_in, third.overflow) == (1, 0)
