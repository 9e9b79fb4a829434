"""Every SMTP outcome of a send, then the report: refused at RCPT is contacted and bounced.

Lives beside the SMTP fault tests because it drives the same real send path (and their sink
fixture); what it checks is the report's definitions (engine.reporting).
"""

from __future__ import annotations

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.states import MessageState
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.reporting import reports, rollups
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.factory import advance_to_due, build_world
from tests.integration.sending.test_smtp_faults import _short_timeouts
from tests.support.smtp_server import Fault, SmtpSink

OUTCOMES = {
    "ok1@beta.example": None,  # accepted
    "ok2@beta.example": None,  # accepted
    "gone1@beta.example": Fault.RCPT_550,  # hard bounce at RCPT
    "gone2@beta.example": Fault.RCPT_550,  # hard bounce at RCPT
    "full@beta.example": Fault.RCPT_552,  # soft bounce at RCPT: not a bounce of the address
    "spam@beta.example": Fault.DATA_554,  # refused after DATA: failed
    "grey@beta.example": Fault.RCPT_451,  # greylisted: retried later
    "drop@beta.example": Fault.DROP_DURING_DATA,  # ambiguous
}


def test_every_outcome_keeps_the_report_consistent(
    db: Database, clock: VirtualClock, settings: Settings, sink: SmtpSink
) -> None:
    for email, fault in OUTCOMES.items():
        if fault is not None:
            sink.set_fault(email, fault)
    with db.session() as s:
        build_world(s, clock.now(), list(OUTCOMES), smtp_url=sink.url)
    tick(db, clock, settings)
    advance_to_due(db, clock)
    send_due(db, clock, settings, _short_timeouts)
    with db.session() as s:
        states = {m.to_address: m.state for m in s.scalars(select(OutboundMessage))}
    assert states["gone1@beta.example"] == MessageState.BOUNCED
    assert states["ok1@beta.example"] == MessageState.SENT
    assert states["spam@beta.example"] == MessageState.FAILED
    assert states["drop@beta.example"] == MessageState.AMBIGUOUS

    rollups.refresh_rollups(db)
    with db.session() as s:
        report = reports.build_report(s, by="sequence")
        by_step = reports.build_report(s, by="step")
    [row] = report.rows
    # two accepted + two refused at RCPT as unknown users; the rest reached nobody (yet)
    assert (row.contacted, row.bounced, row.delivered) == (4, 2, 2)
    for r in [*report.rows, *by_step.rows]:
        assert r.contacted >= r.delivered + r.bounced
        for rate in (r.bounce_rate, r.reply_rate, r.positive_rate, r.opt_out_rate):
            assert rate is None or 0.0 <= rate <= 1.0
    assert row.bounce_rate == 0.5
