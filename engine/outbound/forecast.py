"""`kadenz forecast`: what the live set will send, per mailbox and local day, against caps.

Each active enrollment is walked forward from where it is with the tick's own scheduling
(`VersionRuntime.placement`, `tick.plan_send` for emails, `Placement.add_wait` for waits):
the same planner as the tick and `simulate`, not a second implementation of the rules.
Emails already planned count at their `not_before`. The walk assumes an email leaves when
planned (its following wait counts from then) and stops at a blocking call or task (a
person decides when it is done); paused and waiting enrollments are not projected.

Per mailbox and day (the mailbox's time zone) the demand is compared with the daily cap in
force that day (warm-up included); what exceeds it is overflow, moved to the prospect's next
window slot after that day (where it counts as carried in), as the sender's cap hold would.
Reference: docs/sending.md, "kadenz forecast".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.states import EnrollmentState, MessageState
from engine.outbound.limits.caps import limits_for
from engine.outbound.runtime import Placement, Runtimes, Slot
from engine.outbound.tick import plan_send
from engine.sequence_language.model import CallStep, EmailStep, TaskStep, WaitStep
from engine.store.models import Enrollment, Mailbox, OutboundMessage, Prospect

MAX_STEPS = 100  # per enrollment walk: a guard, sequences are far shorter


@dataclass(frozen=True, slots=True)
class ForecastEmail:
    enrollment_id: int
    step_id: str
    mailbox_id: int
    at: datetime  # UTC, when it is planned to leave
    first_touch: bool  # the enrollment's first email
    in_outbox: bool  # already planned by the tick (else: still to be planned)


@dataclass
class DayRow:
    mailbox: str
    day: date  # in the mailbox's time zone
    planned: int = 0  # emails due that day
    first_touches: int = 0
    follow_ups: int = 0
    cap: int = 0
    carried_in: int = 0  # overflow from earlier days
    sendable: int = 0  # min(cap, planned + carried_in)
    overflow: int = 0  # pushed to the next day

    def as_json(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "day": self.day.isoformat(),
            "planned": self.planned,
            "first_touches": self.first_touches,
            "follow_ups": self.follow_ups,
            "cap": self.cap,
            "carried_in": self.carried_in,
            "sendable": self.sendable,
            "overflow": self.overflow,
        }


@dataclass
class Forecast:
    start: datetime
    days: int
    rows: list[DayRow] = field(default_factory=list)
    emails: list[ForecastEmail] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "days": self.days,
            "rows": [r.as_json() for r in self.rows],
        }


def forecast(
    session: Session, now: datetime, days: int = 14, runtimes: Runtimes | None = None
) -> Forecast:
    """Every email the live set will send from `now` for `days` days, and the daily table."""
    cache = runtimes or Runtimes()
    end = now + timedelta(days=days)
    mailboxes = {m.id: m for m in session.scalars(select(Mailbox))}
    outbox: dict[int, Any] = {}  # enrollment id -> its planned message (step_id, not_before)
    touched: set[int] = set()
    for message in session.execute(
        select(
            OutboundMessage.enrollment_id,
            OutboundMessage.state,
            OutboundMessage.step_id,
            OutboundMessage.not_before,
        )
        .join(Enrollment, Enrollment.id == OutboundMessage.enrollment_id)
        .where(
            Enrollment.state == EnrollmentState.ACTIVE,
            OutboundMessage.state != MessageState.CANCELLED,
        )
    ):
        if message.state == MessageState.PLANNED:
            outbox[message.enrollment_id] = message
        else:
            touched.add(message.enrollment_id)
    out = Forecast(now, days)
    memo = _Memo()
    placed: list[tuple[ForecastEmail, Placement]] = []
    for e in session.execute(
        select(
            Enrollment.id,
            Enrollment.version_id,
            Enrollment.mailbox_id,
            Enrollment.step_index,
            Enrollment.next_run_at,
            Enrollment.step_started_at,
            Prospect.timezone,
        )
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(Enrollment.state == EnrollmentState.ACTIVE)
    ):
        mailbox = mailboxes.get(e.mailbox_id or 0)
        if mailbox is None or mailbox.paused:
            continue
        found, placement = _walk(session, e, mailbox, outbox.get(e.id), e.id in touched, now,
                                 end, cache, memo)  # fmt: skip
        placed += [(email, placement) for email in found]
    placed.sort(key=lambda pair: (pair[0].at, pair[0].enrollment_id))
    out.emails = [email for email, _ in placed]
    out.rows = _table(placed, mailboxes, now, days)
    return out


@dataclass
class _Memo:
    """The planner's answers for identical questions (same version, zone and instant):
    thousands of enrollments due at the same moment ask the same thing. Only the answers
    that do not depend on the enrollment (no spread key) are kept."""

    slots: dict[tuple[int, str, int, datetime], Slot] = field(default_factory=dict)
    waits: dict[tuple[int, str, int, datetime, str], datetime] = field(default_factory=dict)
    placements: dict[tuple[int, str | None, int], Placement] = field(default_factory=dict)

    def plan(self, version_id: int, placement: Placement, due: datetime, key: str) -> Slot:
        memo = (version_id, placement.tz.key, id(placement.policy), due)
        slot = self.slots.get(memo)
        if slot is None:
            slot = self.slots[memo] = placement.next_slot(due)
        return slot if slot.at == due else plan_send(placement, due, key)

    def wait(
        self, version_id: int, placement: Placement, start: datetime, step: WaitStep
    ) -> datetime:
        memo = (version_id, placement.tz.key, id(placement.policy), start, str(step.duration))
        until = self.waits.get(memo)
        if until is None:
            until = self.waits[memo] = placement.add_wait(start, step.duration)
        return until


def _walk(
    session: Session,
    e: Any,
    mailbox: Mailbox,
    planned: Any,
    touched: bool,
    now: datetime,
    end: datetime,
    cache: Runtimes,
    memo: _Memo,
) -> tuple[list[ForecastEmail], Placement]:
    runtime = cache.get(session, e.version_id)
    where = (e.version_id, e.timezone, mailbox.id)
    placement = memo.placements.get(where)
    if placement is None:
        placement = memo.placements[where] = runtime.placement_in(e.timezone, mailbox)
    out: list[ForecastEmail] = []
    index, started = e.step_index, e.step_started_at
    if planned is not None:  # the email it waits for leaves at its not_before
        at = max(planned.not_before, now)
        out.append(ForecastEmail(e.id, planned.step_id, mailbox.id, at, not touched, True))
        touched, started, due = True, at, at
    elif e.next_run_at is None:
        return out, placement
    else:
        due = max(e.next_run_at, now)
    for _ in range(MAX_STEPS):
        if due > end:
            break
        step = runtime.step_at(index)
        if step is None:
            break
        if isinstance(step, EmailStep):
            slot = memo.plan(e.version_id, placement, due, f"{e.id}:{step.id}")
            if slot.at > end:
                break
            out.append(ForecastEmail(e.id, step.id, mailbox.id, slot.at, not touched, False))
            touched, started, due = True, slot.at, slot.at
        elif isinstance(step, WaitStep):
            due = memo.wait(e.version_id, placement, started or due, step)
            started = due
        elif isinstance(step, CallStep | TaskStep):
            if step.blocking:
                break  # a person decides when it is done
            started = due
        index += 1
    return out, placement


def _table(
    emails: list[tuple[ForecastEmail, Placement]],
    mailboxes: dict[int, Mailbox],
    now: datetime,
    days: int,
) -> list[DayRow]:
    """Per mailbox and local day: what is due, against the day's cap. What exceeds the cap
    moves, as the sender's cap hold would, to the prospect's next window slot after that
    day (the next business day for a Mon-Fri window), and counts there as carried in."""
    rows: list[DayRow] = []
    opening: dict[tuple[str, int, datetime], datetime] = {}  # the planner, memoised
    by_mailbox: dict[int, list[tuple[datetime, int, ForecastEmail, Placement, bool]]] = defaultdict(
        list
    )
    for n, (email, placement) in enumerate(emails):
        by_mailbox[email.mailbox_id].append((email.at, n, email, placement, False))
    for mailbox_id in sorted(by_mailbox, key=lambda i: mailboxes[i].name):
        mailbox = mailboxes[mailbox_id]
        tz = _zone(mailbox)
        last_day = (now + timedelta(days=days)).astimezone(tz).date()
        queue = sorted(by_mailbox[mailbox_id], key=lambda item: (item[0], item[1]))
        while queue:
            day = queue[0][0].astimezone(tz).date()
            if day > last_day:
                break
            todays = [item for item in queue if item[0].astimezone(tz).date() == day]
            queue = [item for item in queue if item[0].astimezone(tz).date() != day]
            noon = datetime.combine(day, time(12), tz).astimezone(UTC)
            cap = limits_for(mailbox, noon).daily
            fresh = [item for item in todays if not item[4]]
            row = DayRow(mailbox.name, day, planned=len(fresh), cap=cap)
            row.carried_in = len(todays) - len(fresh)
            row.first_touches = sum(1 for item in fresh if item[2].first_touch)
            row.follow_ups = row.planned - row.first_touches
            row.sendable = min(cap, len(todays))
            row.overflow = len(todays) - row.sendable
            rows.append(row)
            midnight = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
            for _, n, email, placement, _moved in todays[row.sendable :]:
                key = (placement.tz.key, id(placement.policy), midnight)
                later = opening.get(key)
                if later is None:
                    later = opening[key] = placement.next_slot(midnight).at
                queue.append((later, n, email, placement, True))
            queue.sort(key=lambda item: (item[0], item[1]))
    return rows


def _zone(mailbox: Mailbox) -> ZoneInfo:
    try:
        return ZoneInfo(mailbox.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
