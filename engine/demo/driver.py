"""Runs the demo: a throwaway workspace, the example sequences, a month on a virtual clock.

Everything goes through the real engine: sequences are validated and pushed, the CSV is
imported, prospects are enrolled, the Runner ticks and sends over SMTP to the demo world,
and what the world answers is ingested by the same path IMAP uses.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.core.states import EnrollmentState, MessageState, TaskState
from engine.demo import examples
from engine.demo.people import DemoProspect, write_csv
from engine.demo.world import World
from engine.embedded.runner import Runner
from engine.inbound.ingest import ingest
from engine.people import enrollment, prospects
from engine.people.resume import resume_due
from engine.people.tasks import complete_task
from engine.sequence_language.loader import load_paths
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage, Task
from engine.workspace import mailboxes, sequences

START = datetime(2026, 3, 16, 6, 0, tzinfo=UTC)  # a Monday; the month spans DST and Easter
MAX_STEP = timedelta(hours=6)  # the virtual clock jumps to the next due thing, at most this far
MIN_STEP = timedelta(minutes=5)  # sends due within a few minutes go out in one round

# (name, address, display name, timezone, daily cap)
MAILBOXES = [
    ("anna", "anna@kadenz-demo.example", "Anna Berg", "Europe/Berlin", 60),
    ("ben", "ben@kadenz-demo.example", "Ben Carter", "America/New_York", 60),
    ("clara", "clara@kadenz-demo.example", "Clara Vogt", "Europe/Berlin", 60),
]
CALL_OUTCOMES = ["connected", "voicemail", "no_answer", "no_answer", "meeting_booked"]


@dataclass
class DemoOptions:
    out: Path = Path("demo-out")
    seed: int = 7
    prospects: int = 300
    days: int = 30
    start: datetime = START


@dataclass
class Counters:
    sent: int = 0
    inbound: int = 0
    replies: int = 0
    bounces: int = 0
    auto_replies: int = 0
    tasks_done: int = 0


@dataclass
class DemoRun:
    options: DemoOptions
    settings: Settings
    db: Database
    clock: VirtualClock
    world: World
    people: list[DemoProspect]
    counters: Counters = field(default_factory=Counters)
    import_summary: str = ""
    enroll_summary: list[str] = field(default_factory=list)
    inbound_log: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, what, class)


ProgressFn = Callable[[DemoRun], None]


def prepare(options: DemoOptions) -> tuple[Settings, Database]:
    """A fresh workspace in `options.out` (deleted first): the demo never touches yours."""
    if options.out.exists():
        shutil.rmtree(options.out)
    options.out.mkdir(parents=True)
    settings = Settings(
        home=options.out / ".kadenz",
        public_url="http://127.0.0.1:8025",
        postal_address="Kadenz Demo GmbH · Musterstraße 1 · 10115 Berlin · Germany",
        tick_seconds=1.0,
    )
    db = Database(settings.database_url)
    db.upgrade()
    return settings, db


def setup(run: DemoRun) -> None:
    """Mailboxes, sequences, prospects and enrollments, each through the real services."""
    now = run.clock.now()
    with run.db.session() as session:
        for name, address, display, tz, cap in MAILBOXES:
            mailboxes.add(
                session,
                name,
                mailboxes.MailboxSettings(
                    address=address,
                    smtp_url=f"smtp://127.0.0.1:{run.world.port}",
                    display_name=display,
                    daily_cap=cap,
                    timezone=tz,
                    signature=f"{display}\nKadenz Demo GmbH",
                ),
                at=now,
            )
    root = examples.root()
    loaded, problems = load_paths([root / "sequences"], templates_dir=root / "templates")
    if problems:
        raise RuntimeError("example sequences are invalid: " + "; ".join(map(str, problems)))
    with run.db.session() as session:
        for item in loaded:
            sequences.push(session, item, now)
    csv_path = run.options.out / "prospects.csv"
    write_csv(csv_path, run.people, run.options.seed)
    report = prospects.import_csv(run.db, csv_path, clock=run.clock, owner="sam")
    run.import_summary = (
        f"imported {report.created} prospects, {len(report.refused)} rows refused "
        f"({'; '.join(f'row {i.row}: {i.message}' for i in report.refused)})"
    )
    by_sequence: dict[str, list[str]] = {}
    for person in run.people:
        by_sequence.setdefault(person.sequence, []).append(person.email)
    for key, emails in sorted(by_sequence.items()):
        with run.db.session() as session:
            result = enrollment.enroll(session, key, emails, at=now, owner="sam")
        run.enroll_summary.append(
            f"{key}: enrolled {len(result.enrolled)}, refused {len(result.refused)}"
        )


def simulate(run: DemoRun, on_progress: ProgressFn | None = None) -> None:
    """Drive the engine and the world until the end of the virtual month."""
    runner = Runner(run.db, run.clock, run.settings)
    mailbox_by_address = _mailbox_ids(run.db)
    rng = random.Random(run.options.seed + 3)
    end = run.options.start + timedelta(days=run.options.days)
    while run.clock.now() < end:
        now = run.clock.now()
        resume_due(run.db, run.clock)
        report = runner.round()
        run.counters.sent += report.send.sent
        run.world.react(now)
        for what, raw in run.world.due(now):
            result = ingest(
                run.db,
                run.clock,
                raw,
                source="demo",
                mailbox_id=_addressed_to(raw, mailbox_by_address),
            )
            run.counters.inbound += 1
            run.inbound_log.append((now, what, str(result.kind)))
        _work_the_queue(run, rng)
        if on_progress:
            on_progress(run)
        run.clock.set(min(_next_interesting(run), end))


def _work_the_queue(run: DemoRun, rng: random.Random) -> None:
    """The SDR makes the sequence's calls on their due date, with realistic outcomes.

    Tasks that rules create (book a meeting, follow up a referral) stay in the queue: they
    are what `kadenz demo` shows as the SDR's work at the end of the month.
    """
    now = run.clock.now()
    with run.db.session() as session:
        due = session.scalars(
            select(Task).where(
                Task.state == str(TaskState.OPEN), Task.due_at <= now, Task.blocking.is_(True)
            )
        ).all()
        for task in due:
            outcome = rng.choice(CALL_OUTCOMES) if task.kind == "call" else "done"
            complete_task(session, task.id, outcome, now)
            run.counters.tasks_done += 1


def _next_interesting(run: DemoRun) -> datetime:
    now = run.clock.now()
    candidates: list[datetime | None] = [now + MAX_STEP]
    with run.db.session() as session:
        candidates += [
            session.scalar(
                select(func.min(Enrollment.next_run_at)).where(
                    Enrollment.state == str(EnrollmentState.ACTIVE)
                )
            ),
            session.scalar(
                select(func.min(Enrollment.paused_until)).where(
                    Enrollment.state == str(EnrollmentState.PAUSED)
                )
            ),
            session.scalar(
                select(func.min(OutboundMessage.not_before)).where(
                    OutboundMessage.state == str(MessageState.PLANNED)
                )
            ),
            session.scalar(select(func.min(Task.due_at)).where(Task.state == str(TaskState.OPEN))),
        ]
    pending = run.world.next_due()
    if pending is not None:
        candidates.append(pending)
    future = [c for c in candidates if c is not None and c > now]
    # Never stand still: a thing due "now" that could not run (a cap) waits a minute.
    return max(min(future, default=now + MAX_STEP), now + MIN_STEP)


def _mailbox_ids(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {m.address.lower(): m.id for m in session.scalars(select(Mailbox))}


def _addressed_to(raw: bytes, by_address: dict[str, int]) -> int | None:
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace").lower()
    for address, mailbox_id in by_address.items():
        if address in head:
            return mailbox_id
    return None
