"""`kadenz simulate`: run a sequence for a list of prospects on a virtual clock, send nothing.

The simulation runs the real engine — `tick`, `send_due` (with its window checks and caps),
task completion — against a throwaway SQLite database in a temporary folder, with a mailer
that accepts every message without any network. Nothing is written to the workspace.
Calls and tasks count as done on their due date; nobody replies.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.core.states import EnrollmentState, MessageState, TaskState
from engine.mail.smtp import BeforeData, SendOutcome, SendResult, go_ahead
from engine.outbound.limits.caps import MemoryRateLimiter
from engine.outbound.runtime import Runtimes, build_runtime
from engine.outbound.send import send_due
from engine.outbound.tick import tick
from engine.people import consent, consent_records, csv_import
from engine.people.csv_import import RowIssue
from engine.people.field_map import PROSPECT_COLUMNS
from engine.people.tasks import complete_task
from engine.sequence_language.policy import LoadedPolicy
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    Event,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
    Task,
    User,
    WorkspacePolicy,
)
from engine.workspace import policy as stored_policy

MAILBOX_CAPS = (
    "daily_cap",
    "hourly_cap",
    "min_gap_seconds",
    "per_domain_daily_cap",
    "warmup",
    "timezone",
    "address",
    "display_name",
    "signature",
    "owner",
)


@dataclass(frozen=True)
class PlannedAction:
    prospect: str
    step: str
    type: str  # email | call | task
    mailbox: str
    at: datetime  # UTC
    local_time: datetime
    timezone: str
    sequence: str = ""  # set when several sequences were simulated together
    held: str = ""  # what held the email later than planned (a contact limit), if anything

    def as_json(self) -> dict[str, str]:
        out = {
            "prospect": self.prospect,
            "step": self.step,
            "type": self.type,
            "mailbox": self.mailbox,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "local_time": self.local_time.isoformat(),
            "timezone": self.timezone,
        }
        if self.sequence:
            out["sequence"] = self.sequence
        if self.held:
            out["held"] = self.held
        return out


@dataclass
class SequenceInput:
    key: str
    name: str
    spec: dict[str, Any]  # the stored JSON form
    templates: dict[str, str]
    pool: list[str]  # mailbox names


def read_prospects(path: Path) -> tuple[list[dict[str, Any]], list[RowIssue]]:
    """The CSV read exactly as `kadenz prospects import` reads it (same header recognition,
    encodings and validation), without writing anything. Bad rows are returned as issues and
    left out. A `mailbox` column, if present, pins a prospect to a mailbox."""
    source = csv_import.open_csv(path, {})
    rows: list[dict[str, Any]] = []
    issues: list[RowIssue] = []
    cache = csv_import.AddressCache(check_dns=False)
    for number, record in csv_import.iter_records(source):
        clean, row_issues = csv_import.clean(source, number, record, cache=cache)
        issues.extend(i for i in row_issues if i.severity == "error")
        if clean is None:
            continue
        custom = dict(clean.custom)
        fields: dict[str, Any] = {k: clean.values.get(k) or None for k in PROSPECT_COLUMNS}
        fields["timezone_source"] = clean.values.get("timezone_source")
        if fields.get("consent_date"):
            fields["consent_date"] = date.fromisoformat(fields["consent_date"])
        fields["email"] = clean.email
        fields["mailbox"] = custom.pop("mailbox", None) or None
        fields["custom"] = custom
        rows.append(fields)
    return rows, issues


def simulate(
    sequence: SequenceInput,
    prospects: list[dict[str, Any]],
    start: datetime,
    days: int,
    *,
    mailbox_settings: dict[str, dict[str, Any]] | None = None,
    mailboxes: int | None = None,
    also: list[SequenceInput] | None = None,
    policy: LoadedPolicy | None = None,
    consent_policy: dict[str, Any] | None = None,
    postal_address: str = "",
    held: list[str] | None = None,
    booking_links: dict[str, str | None] | None = None,
) -> list[PlannedAction]:
    """Every email, call and task the engine would execute from `start` for `days` days.

    `also`: more sequences every prospect is enrolled in at the same time; `policy`: the
    workspace policy whose contact limits hold across them (as `kadenz policy push` would).
    With `consent_policy` (the stored document, engine.people.consent) emails are held or
    skipped as the sender would; `held` then receives one line per email that never left.
    `booking_links`: the users who own mailboxes (handle → link), for `sender.booking_link`.
    """
    end = start + timedelta(days=days)
    pool = list(sequence.pool)
    if mailboxes is not None or not pool:
        wanted = mailboxes or max(1, len(pool))
        pool = [pool[i] if i < len(pool) else f"mailbox-{i + 1}" for i in range(wanted)]
    with tempfile.TemporaryDirectory(prefix="kadenz-simulate-") as folder:
        settings = Settings(
            home=Path(folder), secret_key=secrets.token_urlsafe(), postal_address=postal_address
        )
        db = Database(settings.database_url)
        # A throwaway database: durability buys nothing here, speed does.
        event.listen(db.engine, "connect", _no_sync)
        try:
            db.upgrade()
            clock = VirtualClock(start)
            with db.session() as session:
                for handle, link in sorted((booking_links or {}).items()):
                    session.add(User(name=handle, role="sdr", booking_link=link, created_at=start))
            for one in [sequence, *(also or [])]:
                _seed(db, one, prospects, pool, mailbox_settings or {}, start)
            if policy is not None:
                with db.session() as session:
                    stored_policy.push(session, policy, start)
            if consent_policy is not None:
                with db.session() as session:
                    session.add(
                        WorkspacePolicy(
                            name=consent.POLICY_NAME,
                            document=consent_policy,
                            source="(simulation)",
                            updated_at=start,
                        )
                    )
            _run(db, clock, settings, end)
            if held is not None:
                held.extend(_held(db))
            return _actions(db, end, several=bool(also))
        finally:
            db.dispose()


def _no_sync(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _seed(
    db: Database,
    sequence: SequenceInput,
    prospects: list[dict[str, Any]],
    pool: list[str],
    mailbox_settings: dict[str, dict[str, Any]],
    at: datetime,
) -> None:
    with db.session() as session:
        row = Sequence(key=sequence.key, name=sequence.name, created_at=at)
        session.add(row)
        session.flush()
        version = SequenceVersion(
            sequence_id=row.id,
            version=1,
            content_hash="simulation",
            source="",
            spec=sequence.spec,
            templates=sequence.templates,
            created_at=at,
        )
        session.add(version)
        session.flush()
        row.current_version_id = version.id
        first = build_runtime(version).step_at(0)
        boxes: dict[str, Mailbox] = {}
        names = set(pool) | {p["mailbox"] for p in prospects if p.get("mailbox")}
        existing = {m.name: m for m in session.scalars(select(Mailbox))}
        for name in sorted(names):
            if name in existing:
                boxes[name] = existing[name]
                continue
            known = {k: v for k, v in mailbox_settings.get(name, {}).items() if k in MAILBOX_CAPS}
            values: dict[str, Any] = {
                "address": f"{name}@simulation.example",
                "smtp_url": "smtp://simulation.invalid",
                "daily_cap": 50,
                **{k: v for k, v in known.items() if v is not None},
            }
            boxes[name] = Mailbox(name=name, created_at=at, **values)
            session.add(boxes[name])
        session.flush()
        for i, fields in enumerate(prospects):
            data = {k: v for k, v in fields.items() if k != "mailbox"}
            prospect = session.scalar(
                select(Prospect).where(Prospect.email_key == fields["email"].lower())
            ) or Prospect(email_key=fields["email"].lower(), created_at=at, updated_at=at, **data)
            session.add(prospect)
            session.flush()
            mailbox = boxes[fields.get("mailbox") or pool[i % len(pool)]]
            session.add(
                Enrollment(
                    prospect_id=prospect.id,
                    sequence_id=row.id,
                    version_id=version.id,
                    mailbox_id=mailbox.id,
                    state=EnrollmentState.ACTIVE,
                    step_index=0,
                    step_id=first.id if first is not None else None,
                    next_run_at=at,
                    step_started_at=at,
                    variants={},
                    owner=prospect.owner,
                    created_at=at,
                    updated_at=at,
                )
            )


class _AcceptingMailer:
    async def send(
        self,
        envelope_from: str,
        recipient: str,
        data: bytes,
        *,
        before_data: BeforeData = go_ahead,
    ) -> SendResult:
        await before_data()  # nothing goes out before the start is committed
        return SendResult(SendOutcome.ACCEPTED, 250, "2.0.0", "accepted (simulation)")


@asynccontextmanager
async def _accepting(_mailbox: Mailbox, _password: str | None) -> Any:
    yield _AcceptingMailer()


def _accepting_factory(mailbox: Mailbox, password: str | None) -> Any:
    return _accepting(mailbox, password)


def _run(db: Database, clock: VirtualClock, settings: Settings, end: datetime) -> None:
    limiter = MemoryRateLimiter()
    runtimes = Runtimes()
    while clock.now() <= end:
        tick(db, clock, settings, runtimes=runtimes)
        send_due(db, clock, settings, _accepting_factory, limiter=limiter, runtimes=runtimes)
        _complete_due_tasks(db, clock)
        upcoming = _next_event(db, clock.now())
        if upcoming is None or upcoming > end:
            break
        clock.set(max(upcoming, clock.now()))


def _complete_due_tasks(db: Database, clock: VirtualClock) -> None:
    with db.session() as session:
        due = session.scalars(
            select(Task.id).where(Task.state == TaskState.OPEN, Task.due_at <= clock.now())
        ).all()
        for task_id in due:
            complete_task(session, task_id, "done (simulated)", clock.now())


def _next_event(db: Database, now: datetime) -> datetime | None:
    with db.session() as session:
        candidates = [
            session.scalar(
                select(func.min(Enrollment.next_run_at)).where(
                    Enrollment.state == EnrollmentState.ACTIVE
                )
            ),
            session.scalar(
                select(func.min(OutboundMessage.not_before)).where(
                    OutboundMessage.state == MessageState.PLANNED
                )
            ),
            session.scalar(select(func.min(Task.due_at)).where(Task.state == TaskState.OPEN)),
        ]
    times = [t for t in candidates if t is not None]
    if not times:
        return None
    nxt = min(times)
    return nxt if nxt > now else now + timedelta(seconds=1)


def _held(db: Database) -> list[str]:
    """Emails the run never sent because the consent policy (or its footer rule) said no,
    and enrollments that paused for missing template data."""
    with db.session() as session:
        rows = session.execute(
            select(OutboundMessage.to_address, OutboundMessage.step_id, OutboundMessage.held_reason)
            .where(
                OutboundMessage.state.in_([MessageState.PLANNED, MessageState.CANCELLED]),
                OutboundMessage.held_reason.startswith(consent_records.HELD_PREFIX)
                | OutboundMessage.held_reason.startswith("postal address:"),
            )
            .order_by(OutboundMessage.id)
        ).all()
        # Paused for data a template needs (a prospect field, the sender's booking link):
        # nothing of theirs goes out from that step on, so the simulation says so.
        paused = session.execute(
            select(Prospect.email, Enrollment.step_id, Enrollment.state_reason)
            .join(Prospect, Prospect.id == Enrollment.prospect_id)
            .where(
                Enrollment.state == EnrollmentState.PAUSED,
                Enrollment.state_reason.startswith("missing variable"),
            )
            .order_by(Enrollment.id)
        ).all()
    return [f"{to} {step}: {reason}" for to, step, reason in [*rows, *paused]]


def _actions(db: Database, end: datetime, *, several: bool = False) -> list[PlannedAction]:
    out: list[PlannedAction] = []
    runtimes = Runtimes()
    with db.session() as session:
        mailbox_names = {m.id: m.name for m in session.scalars(select(Mailbox))}
        keys = {q.id: q.key for q in session.scalars(select(Sequence))} if several else {}
        held: dict[int, str] = {}
        for outbound_id, data in session.execute(
            select(Event.outbound_id, Event.data)
            .where(Event.type == EventType.MESSAGE_HELD)
            .order_by(Event.id)
        ):
            reason = str((data or {}).get("reason", ""))
            if outbound_id is not None and reason.startswith("contact limit"):
                held[outbound_id] = reason

        def where(enrollment_id: int | None) -> tuple[Prospect, Enrollment, Any]:
            enrollment = session.get(Enrollment, enrollment_id)
            assert enrollment is not None
            prospect = session.get(Prospect, enrollment.prospect_id)
            assert prospect is not None
            mailbox = session.get(Mailbox, enrollment.mailbox_id)
            runtime = runtimes.get(session, enrollment.version_id)
            return prospect, enrollment, runtime.placement(prospect, mailbox)

        for message in session.scalars(
            select(OutboundMessage).where(OutboundMessage.state == MessageState.SENT)
        ):
            assert message.sent_at is not None
            prospect, _, placement = where(message.enrollment_id)
            out.append(
                PlannedAction(
                    prospect=prospect.email or "",
                    step=message.step_id,
                    type="email",
                    mailbox=mailbox_names[message.mailbox_id],
                    at=message.sent_at,
                    local_time=message.sent_at.astimezone(placement.tz),
                    timezone=placement.tz.key,
                    sequence=keys.get(message.sequence_id, ""),
                    held=held.get(message.id, ""),
                )
            )
        for task in session.scalars(select(Task).where(Task.due_at <= end)):
            if task.step_id is None or "#" in task.step_id:
                continue  # requests for missing data are not sequence steps
            prospect, enrollment, placement = where(task.enrollment_id)
            out.append(
                PlannedAction(
                    prospect=prospect.email or "",
                    step=task.step_id,
                    type=task.kind,
                    mailbox=mailbox_names.get(enrollment.mailbox_id or 0, ""),
                    at=task.due_at,
                    local_time=task.due_at.astimezone(placement.tz),
                    timezone=placement.tz.key,
                    sequence=keys.get(enrollment.sequence_id, ""),
                )
            )
    out.sort(key=lambda a: (a.at, a.prospect, a.step))
    return out


def iter_table(actions: list[PlannedAction]) -> Iterator[tuple[str, ...]]:
    for a in actions:
        yield (
            a.at.strftime("%Y-%m-%d %H:%M"),
            a.local_time.strftime("%a %Y-%m-%d %H:%M"),
            a.timezone,
            a.prospect,
            a.step,
            a.type,
            a.mailbox,
        )
