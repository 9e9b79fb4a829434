"""Read models for the dashboard: weekly sends, mailbox health, a prospect's timeline."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core import metrics
from engine.reporting import reports
from engine.store.models import (
    Enrollment,
    Event,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Prospect,
    ReportRollup,
    Sequence,
    SequenceVersion,
    Task,
)
from engine.workspace import links


def sends_per_week(session: Session, sequence_id: int | None = None) -> list[tuple[str, int]]:
    """Emails sent per ISO week (from the rollups' per-step send counts)."""
    stmt = (
        select(ReportRollup.day, func.sum(ReportRollup.count))
        .where(ReportRollup.metric == metrics.STEP_SENT)
        .group_by(ReportRollup.day)
    )
    if sequence_id is not None:
        stmt = stmt.where(ReportRollup.sequence_id == sequence_id)
    weeks: dict[str, int] = {}
    for day, count in session.execute(stmt):
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}"
        weeks[label] = weeks.get(label, 0) + int(count or 0)
    return sorted(weeks.items())


@dataclass(frozen=True, slots=True)
class MailboxHealth:
    mailbox: Mailbox
    sent_today: int
    sent_24h: int
    contacted: int
    bounced: int
    bounce_rate: float | None
    problems: list[links.Problem] = field(default_factory=list)  # SMTP/IMAP unreachable now
    checked: bool = False  # a send or poll has tried to reach its servers at least once


def mailbox_health(session: Session, now: datetime) -> list[MailboxHealth]:
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    by_mailbox = {
        row.key[0]: row for row in reports.build_report(session, by="mailbox").rows if row.key
    }
    out = []
    problems: dict[str, list[links.Problem]] = {}
    for problem in links.problems(session):
        problems.setdefault(problem.mailbox, []).append(problem)
    checked = {name for name, _ in links.all_links(session)}
    for box in session.scalars(select(Mailbox).order_by(Mailbox.name)):

        def sent_since(start: datetime, box_id: int = box.id) -> int:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(
                        OutboundMessage.mailbox_id == box_id,
                        OutboundMessage.sent_at >= start,
                        OutboundMessage.sent_at <= now,
                    )
                )
                or 0
            )

        row = by_mailbox.get(box.id)
        out.append(
            MailboxHealth(
                mailbox=box,
                sent_today=sent_since(midnight),
                sent_24h=sent_since(now - timedelta(hours=24)),
                contacted=row.contacted if row else 0,
                bounced=row.bounced if row else 0,
                bounce_rate=row.bounce_rate if row else None,
                problems=problems.get(box.name, []),
                checked=box.name in checked,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Timeline:
    prospect: Prospect
    events: list[Event]
    inbound: list[InboundMessage]
    enrollments: list[tuple[Enrollment, str]]  # with the sequence key
    tasks: list[Task]
    explanations: dict[int, str]  # enrollment id -> "why it is where it is"
    versions: dict[int, int] = field(default_factory=dict)  # version id -> version number


def timeline(session: Session, prospect_id: int, now: datetime) -> Timeline | None:
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        return None
    events = list(
        session.scalars(select(Event).where(Event.prospect_id == prospect_id).order_by(Event.id))
    )
    inbound = list(
        session.scalars(
            select(InboundMessage)
            .where(InboundMessage.prospect_id == prospect_id)
            .order_by(InboundMessage.received_at)
        )
    )
    enrollments: list[tuple[Enrollment, str]] = [
        (e, key)
        for e, key in session.execute(
            select(Enrollment, Sequence.key)
            .join(Sequence, Sequence.id == Enrollment.sequence_id)
            .where(Enrollment.prospect_id == prospect_id)
            .order_by(Enrollment.id)
        )
    ]
    tasks = list(session.scalars(select(Task).where(Task.prospect_id == prospect_id)))
    engine_says = explanations(session, prospect, now)
    return Timeline(
        prospect,
        events,
        inbound,
        enrollments,
        tasks,
        {e.id: engine_says.get(e.id) or explain(session, e, now) for e, _ in enrollments},
        enrollment_versions(session, [e.version_id for e, _ in enrollments]),
    )


def enrollment_versions(session: Session, version_ids: list[int]) -> dict[int, int]:
    """version id -> version number, for showing which version an enrollment is on."""
    if not version_ids:
        return {}
    rows = session.execute(
        select(SequenceVersion.id, SequenceVersion.version).where(
            SequenceVersion.id.in_(set(version_ids))
        )
    )
    return {version_id: number for version_id, number in rows}


def live_by_version(session: Session, sequence_id: int) -> list[tuple[int, str, int]]:
    """(version number, state, enrollments) of a sequence's live enrollments."""
    rows = session.execute(
        select(SequenceVersion.version, Enrollment.state, func.count())
        .join(SequenceVersion, SequenceVersion.id == Enrollment.version_id)
        .where(
            Enrollment.sequence_id == sequence_id,
            Enrollment.state.in_(["active", "waiting", "paused"]),
        )
        .group_by(SequenceVersion.version, Enrollment.state)
        .order_by(SequenceVersion.version, Enrollment.state)
    )
    return [(int(v), str(state), int(n)) for v, state, n in rows]


def explanations(session: Session, prospect: Prospect, now: datetime) -> dict[int, str]:
    """enrollment id -> the sending engine's explanation (`kadenz explain`), in one line."""
    out: dict[int, str] = {}
    try:
        module: Any = importlib.import_module("engine.outbound.explain")
    except ImportError:
        module = None
    if module is not None and prospect.email:
        try:
            found = module.explain_prospect(session, prospect.email, now)
            for e in found.enrollments:
                holds = f" Holds: {'; '.join(e.holds)}." if e.holds else ""
                out[e.id] = f"{e.next_action}{holds}"
        except Exception as exc:  # the page must render even if explaining fails
            out[-1] = f"(could not explain: {type(exc).__name__})"
    return out


def explain(session: Session, enrollment: Enrollment, now: datetime) -> str:
    """Fallback when the engine cannot explain: the stored state and its reason."""
    parts = [f"{enrollment.state}"]
    if enrollment.state_reason:
        parts.append(f"because {enrollment.state_reason}")
    if enrollment.step_id:
        parts.append(f"at step {enrollment.step_id}")
    if enrollment.next_run_at and enrollment.state == "active":
        parts.append(f"next run {enrollment.next_run_at:%Y-%m-%d %H:%M} UTC")
    return ", ".join(parts)
