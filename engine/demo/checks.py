"""What the demo proves, checked from the database and the world after the run.

These are the promises users care most about; `kadenz demo` prints them and the end-to-end
test asserts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.core.events import EventType
from engine.core.states import MessageState
from engine.demo.driver import DemoRun
from engine.demo.people import Persona
from engine.people import suppression
from engine.schedule import planner, zones
from engine.store.models import Event, Mailbox, OutboundMessage, Prospect, SequenceVersion
from engine.workspace.sequences import version_spec

SENT_STATES = (str(MessageState.SENT), str(MessageState.BOUNCED))


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(run: DemoRun) -> list[Check]:
    return [
        _nobody_twice(run),
        _bounces_suppressed(run),
        _out_of_office_resumed(run),
        _silent_after_reply(run),
        _inside_windows(run),
    ]


def _nobody_twice(run: DemoRun) -> Check:
    copies = run.world.received_count
    twice = [k for k, n in copies.items() if n > 1]
    return Check(
        "nobody emailed twice for one step",
        not twice and len(copies) == run.counters.sent,
        f"{len(copies)} distinct messages received by the world, {len(twice)} duplicates, "
        f"{run.counters.sent} sends recorded",
    )


def _bounces_suppressed(run: DemoRun) -> Check:
    hard = [p for p in run.people if p.persona in (Persona.NO_SUCH_USER, Persona.BOUNCE_LATER)]
    with run.db.session() as session:
        contacted = set(
            session.scalars(
                select(OutboundMessage.to_address).where(
                    OutboundMessage.state.in_((*SENT_STATES, str(MessageState.FAILED)))
                )
            )
        )
        bounced = [p for p in hard if p.email in contacted]
        missing = [p.email for p in bounced if suppression.find(session, p.email) is None]
    return Check(
        "every bounced address suppressed",
        bool(bounced) and not missing,
        f"{len(bounced)} hard-bouncing addresses contacted, {len(missing)} not suppressed"
        + (f": {', '.join(missing[:3])}" if missing else ""),
    )


def _out_of_office_resumed(run: DemoRun) -> Check:
    end = run.clock.now()
    with run.db.session() as session:
        pauses = session.scalars(
            select(Event).where(Event.type == str(EventType.PAUSED)).order_by(Event.id)
        ).all()
        resumes = session.scalars(
            select(Event).where(Event.type == str(EventType.RESUMED)).order_by(Event.id)
        ).all()
        stops = session.scalars(
            select(Event).where(Event.type == str(EventType.STOPPED)).order_by(Event.id)
        ).all()
    due, late = 0, []
    for pause in pauses:
        until_text = (pause.data or {}).get("until")
        if not until_text:
            continue
        until = datetime.fromisoformat(until_text)
        if until > end:
            continue  # still away when the month ended
        stopped_first = any(
            r.enrollment_id == pause.enrollment_id and pause.id < r.id and r.at <= until
            for r in stops
        )
        if stopped_first:
            continue  # a colleague replied, or the address bounced, while they were away
        due += 1
        if not any(
            r.enrollment_id == pause.enrollment_id and r.at >= until and r.id > pause.id
            for r in resumes
        ):
            late.append(pause.enrollment_id)
    return Check(
        "every out-of-office resumed after its date",
        due > 0 and not late,
        f"{due} pauses ended during the month, {len(late)} not resumed",
    )


def _silent_after_reply(run: DemoRun) -> Check:
    with run.db.session() as session:
        replies = session.execute(
            select(Event.prospect_id, Event.at).where(Event.type == str(EventType.REPLY_RECEIVED))
        ).all()
        first_reply: dict[int, datetime] = {}
        for prospect_id, at in replies:
            if prospect_id is not None and (
                prospect_id not in first_reply or at < first_reply[prospect_id]
            ):
                first_reply[prospect_id] = at
        after = 0
        for prospect_id, at in first_reply.items():
            after += len(
                session.scalars(
                    select(OutboundMessage.id).where(
                        OutboundMessage.prospect_id == prospect_id,
                        OutboundMessage.sent_at > at,
                    )
                ).all()
            )
    return Check(
        "no prospect emailed after a reply",
        bool(first_reply) and after == 0,
        f"{len(first_reply)} prospects replied, {after} emails sent to them afterwards",
    )


def _inside_windows(run: DemoRun) -> Check:
    outside: list[str] = []
    total = 0
    with run.db.session() as session:
        specs = {v.id: version_spec(v) for v in session.scalars(select(SequenceVersion))}
        boxes = {m.id: m for m in session.scalars(select(Mailbox))}
        rows = session.execute(
            select(OutboundMessage, Prospect)
            .join(Prospect, Prospect.id == OutboundMessage.prospect_id)
            .where(OutboundMessage.sent_at.is_not(None))
        ).all()
        for message, prospect in rows:
            total += 1
            spec = specs[message.version_id]
            schedule = spec.schedule
            sequence_tz = (
                schedule.fallback_timezone
                if schedule.timezone == "prospect"
                else (schedule.timezone)
            )
            tz, _ = zones.resolve_timezone(
                prospect.timezone if schedule.timezone == "prospect" else None,
                sequence_tz,
                boxes[message.mailbox_id].timezone,
            )
            assert message.sent_at is not None
            if not planner.is_allowed(message.sent_at, schedule.send_policy(), tz):
                outside.append(f"{message.to_address} at {message.sent_at.astimezone(tz)}")
    return Check(
        "all sends inside their windows (prospect's local time, no holidays)",
        total > 0 and not outside,
        f"{total} sends checked, {len(outside)} outside"
        + (f": {', '.join(outside[:3])}" if outside else ""),
    )
