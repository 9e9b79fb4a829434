"""Bulk seeding of the real schema: COPY on PostgreSQL, executemany on SQLite.

Rows go straight into the tables the engine reads (prospects, enrollments, events), so the
figures measure the engine on exactly the data a real workspace would hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, select, text, update

from bench.common import psycopg_url
from engine.store.db import Database
from engine.store.models import Enrollment, Event, Mailbox, Prospect

# A Wednesday, 10:00 in Berlin: inside the usual Mon-Fri 09:00-17:00 window, no holiday.
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)

SEQUENCE_YAML = """\
key: bench
name: Benchmark sequence
schedule:
  timezone: prospect
  fallback_timezone: Europe/Berlin
  window: Mon-Fri 09:00-17:00
stop_on: [reply, bounce, unsubscribe]
steps:
  - id: intro
    email:
      subject: "Quick question, {{ first_name }}"
      template: bench/intro.md.j2
  - wait: 3 business days
  - id: bump
    email:
      thread: previous
      template: bench/bump.md.j2
"""
INTRO = (
    "Hi {{ first_name }},\n\nhow does {{ company }} book demos today? We help teams like "
    "yours cut the time from first call to signed order.\n\nWorth a short call next week?\n"
)
BUMP = "Hi {{ first_name }}, bumping this up in case it got buried.\n"


def write_sequence(folder: Path) -> Path:
    """The benchmark sequence as a user would write it: YAML plus Jinja templates."""
    (folder / "sequences").mkdir(parents=True, exist_ok=True)
    (folder / "templates" / "bench").mkdir(parents=True, exist_ok=True)
    (folder / "templates" / "bench" / "intro.md.j2").write_text(INTRO)
    (folder / "templates" / "bench" / "bump.md.j2").write_text(BUMP)
    path = folder / "sequences" / "bench.yaml"
    path.write_text(SEQUENCE_YAML)
    return path


def push_sequence(db: Database, folder: Path) -> tuple[int, int, str]:
    """Validate and push the sequence through the engine's own code; (sequence, version, step).

    Raises ImportError while the spec/sequence services are not on this branch.
    """
    from engine.spec.loader import load_sequence

    from engine.services import sequences

    loaded = load_sequence(write_sequence(folder))
    with db.session() as session:
        version, _created = sequences.push(session, loaded, NOW)
        first = loaded.spec.steps[0].id
        return version.sequence_id, version.id, str(first)


def add_mailboxes(db: Database, count: int, smtp_url: str) -> list[int]:
    """Sending mailboxes with caps lifted (the benchmark measures throughput, not policy)."""
    ids = []
    with db.session() as session:
        for i in range(count):
            box = Mailbox(
                name=f"bench{i}",
                address=f"bench{i}@acme.example",
                display_name=f"Bench {i}",
                smtp_url=smtp_url,
                timezone="Europe/Berlin",
                daily_cap=1_000_000_000,
                min_gap_seconds=0,
                imap_folders=[],
                warmup={},
                created_at=NOW,
            )
            session.add(box)
            session.flush()
            ids.append(box.id)
    return ids


def prospect_rows(start: int, count: int) -> Iterator[dict[str, Any]]:
    for i in range(start, start + count):
        email = f"person{i}@company{i % 5000}.example"
        yield {
            "id": i,
            "email": email,
            "email_key": email,
            "first_name": f"Person{i}",
            "last_name": "Example",
            "company": f"Company {i % 5000}",
            "timezone": "Europe/Berlin",
            "custom": {},
            "owner": "sdr@acme.example",
            "score": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }


def enrollment_rows(
    start: int,
    count: int,
    *,
    due: int,
    sequence_id: int,
    version_id: int,
    step_id: str,
    mailbox_ids: Sequence[int],
) -> Iterator[dict[str, Any]]:
    """`count` active enrollments from id `start`; the first `due` of them are due now."""
    for n, i in enumerate(range(start, start + count)):
        yield {
            "id": i,
            "prospect_id": i,
            "sequence_id": sequence_id,
            "version_id": version_id,
            "mailbox_id": mailbox_ids[i % len(mailbox_ids)],
            "state": "active",
            "step_index": 0,
            "step_id": step_id,
            # spread the due ones over the last hour so ORDER BY next_run_at means something
            "next_run_at": NOW - timedelta(seconds=n % 3600) if n < due else LATER,
            "step_started_at": NOW,
            "variants": {},
            "owner": "sdr@acme.example",
            "created_at": NOW,
            "updated_at": NOW,
        }


def event_rows(
    start: int, count: int, *, sequences: int = 20, days: int = 90
) -> Iterator[dict[str, Any]]:
    """A plausible event log: sends, a few replies, bounces and opt-outs, over `days`."""
    kinds = ["message.sent"] * 60 + ["enrollment.step_executed"] * 15
    kinds += ["enrollment.enrolled"] * 12 + ["reply.received"] * 6 + ["message.bounced"] * 3
    kinds += ["reply.auto"] * 2 + ["prospect.unsubscribed"] * 1 + ["meeting.booked"] * 1
    start = NOW - timedelta(days=days)
    span = days * 86400
    for i in range(start, start + count):
        yield {
            "id": i,
            "at": start + timedelta(seconds=(i * 7919) % span),
            "type": kinds[i % len(kinds)],
            "prospect_id": i % 1_000_000,
            "enrollment_id": i % 1_000_000,
            "sequence_id": 1 + i % sequences,
            "version_id": 1 + i % sequences,
            "step_id": ("intro", "bump", "breakup")[i % 3],
            "variant": ("a", "b")[i % 2],
            "mailbox_id": 1 + i % 8,
            "owner": f"sdr{i % 12}@acme.example",
            "data": {"kind": "hard"} if i % 100 < 3 else {},
        }


# --- writers --------------------------------------------------------------------------------


def bulk_insert(
    db: Database, model: Any, rows: Iterable[dict[str, Any]], chunk: int = 20_000
) -> int:
    """Insert rows fast: COPY on PostgreSQL, chunked executemany on SQLite."""
    if db.dialect == "postgresql":
        return _copy(db, model.__table__, rows)
    total = 0
    it = iter(rows)
    while batch := list(islice(it, chunk)):
        with db.engine.begin() as conn:
            conn.execute(insert(model), batch)
        total += len(batch)
    return total


def _copy(db: Database, table: Any, rows: Iterable[dict[str, Any]]) -> int:
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return 0
    columns = list(first)
    total = 0
    with psycopg.connect(psycopg_url(db.url)) as conn, conn.cursor() as cur:
        cols = ", ".join(f'"{c}"' for c in columns)
        with cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
            for row in _chain(first, it):
                copy.write_row([_pg(row[c]) for c in columns])
                total += 1
        conn.commit()
    # the planner needs statistics for tables that were empty a moment ago
    with db.engine.begin() as conn2:
        conn2.execute(text(f"ANALYZE {table.name}"))
    _bump_sequence(db, table.name)
    return total


def _bump_sequence(db: Database, table: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def _pg(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def seed_enrollments(
    db: Database,
    *,
    start: int,
    count: int,
    due: int,
    sequence_id: int,
    version_id: int,
    step_id: str,
    mailbox_ids: Sequence[int],
) -> None:
    """`count` prospects each with one active enrollment (ids from `start`), `due` due now."""
    bulk_insert(db, Prospect, prospect_rows(start, count))
    bulk_insert(
        db,
        Enrollment,
        enrollment_rows(
            start,
            count,
            due=due,
            sequence_id=sequence_id,
            version_id=version_id,
            step_id=step_id,
            mailbox_ids=mailbox_ids,
        ),
    )


def seed_events(db: Database, start: int, count: int) -> int:
    return bulk_insert(db, Event, event_rows(start, count))


def make_due(db: Database, count: int) -> int:
    """Make `count` more not-yet-due active enrollments due now (for repeated runs)."""
    with db.engine.begin() as conn:
        ids = (
            conn.execute(
                select(Enrollment.id)
                .where(Enrollment.state == "active", Enrollment.next_run_at > NOW)
                .order_by(Enrollment.id)
                .limit(count)
            )
            .scalars()
            .all()
        )
        if ids:
            conn.execute(update(Enrollment).where(Enrollment.id.in_(ids)).values(next_run_at=NOW))
    return len(ids)
