"""Bulk seeding of the real schema: COPY on PostgreSQL, executemany on SQLite.

Rows go straight into the tables the engine reads (prospects, enrollments, events), so the
figures measure the engine on exactly the data a real workspace would hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox

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
    """Validate and push the sequence through the engine's own code; (sequence, version, step)."""
    from engine.sequence_language.loader import load_sequence
    from engine.workspace import sequences

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


# --- bulk rows, generated inside the database --------------------------------------------
#
# INSERT … SELECT over generate_series (PostgreSQL) or a recursive CTE (SQLite): the rows are
# built by the server, so seeding a million is seconds, not minutes of Python. On PostgreSQL
# the FK triggers are skipped for the seeding transaction (the rows are consistent by
# construction); the engine then runs with every constraint on.

_SERIES = {
    "postgresql": "generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g(i)",
    "sqlite": "s AS g",
}
_SQLITE_CTE = (
    "WITH RECURSIVE s(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM s WHERE i < :last) "
)


@dataclass
class Workspace:
    """The pushed sequence and its mailboxes, and how many prospects are enrolled so far."""

    db: Database
    sequence_id: int
    version_id: int
    step_id: str
    mailbox_ids: list[int]
    enrolled: int = 0

    def enroll_up_to(self, total: int, *, due: int = 0) -> None:
        """Enroll prospects until there are `total`; `due` of the new ones are due now."""
        seed_enrollments(
            self.db,
            start=self.enrolled + 1,
            count=total - self.enrolled,
            due=due,
            sequence_id=self.sequence_id,
            version_id=self.version_id,
            step_id=self.step_id,
            mailbox_ids=self.mailbox_ids,
        )
        self.enrolled = max(self.enrolled, total)


def workspace(db: Database, folder: Path, mailboxes: int, smtp_url: str) -> Workspace:
    """Push the benchmark sequence and add `mailboxes` mailboxes sending to `smtp_url`."""
    sequence_id, version_id, step_id = push_sequence(db, folder)
    return Workspace(db, sequence_id, version_id, step_id, add_mailboxes(db, mailboxes, smtp_url))


def _ts(db: Database, value: datetime) -> Any:
    """A datetime parameter in the form the column stores (SQLite: naive UTC text)."""
    if db.dialect == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _minus_seconds(db: Database, base: str, seconds: str) -> str:
    if db.dialect == "sqlite":
        return f"(datetime({base}, '-' || ({seconds}) || ' seconds') || '.000000')"
    return f"({base} - make_interval(secs => {seconds}))"


def _generate(db: Database, table: str, columns: dict[str, str], params: dict[str, Any]) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    exprs = ", ".join(columns.values())
    series = _SERIES[db.dialect]
    if db.dialect == "sqlite":
        sql = f"{_SQLITE_CTE}INSERT INTO {table} ({cols}) SELECT {exprs} FROM {series}"
    else:
        sql = f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM {series}"
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            # Plain indexes are dropped and rebuilt after the load (a sort beats a million
            # single inserts into each b-tree); constraint indexes stay.
            indexes = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                ),
                {"t": table},
            ).all()
            for name, _definition in indexes:
                conn.execute(text(f'DROP INDEX "{name}"'))
            conn.execute(text(sql), params)
            for _name, definition in indexes:
                conn.execute(text(definition))
        else:
            conn.execute(text(sql), params)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text(f"ANALYZE {table}"))
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )


def _concat(db: Database, *parts: str) -> str:
    return " || ".join(f"CAST({p} AS TEXT)" if not p.startswith("'") else p for p in parts)


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
    """`count` prospects each with one active enrollment (ids from `start`); the first `due`
    of them are due now (spread over the last hour), the rest in 30 days."""
    if count <= 0:
        return
    email = _concat(db, "'person'", "g.i", "'@company'", "g.i % 5000", "'.example'")
    params = {"first": start, "last": start + count - 1, "now": _ts(db, NOW)}
    _generate(
        db,
        "prospects",
        {
            "id": "g.i",
            "email": email,
            "email_key": email,
            "first_name": _concat(db, "'Person'", "g.i"),
            "last_name": "'Example'",
            "company": _concat(db, "'Company '", "g.i % 5000"),
            "timezone": "'Europe/Berlin'",
            "custom": "'{}'",
            "owner": "'sdr@acme.example'",
            "score": "0",
            "created_at": ":now",
            "updated_at": ":now",
        },
        params,
    )
    boxes = sorted(mailbox_ids)
    if boxes != list(range(boxes[0], boxes[0] + len(boxes))):
        raise ValueError("mailbox ids must be contiguous")
    due_at = _minus_seconds(db, ":now", "(g.i - :first) % 3600")
    _generate(
        db,
        "enrollments",
        {
            "id": "g.i",
            "prospect_id": "g.i",
            "sequence_id": ":sequence",
            "version_id": ":version",
            "mailbox_id": f":box0 + g.i % {len(boxes)}",
            "state": "'active'",
            "step_index": "0",
            "step_id": ":step",
            "next_run_at": f"CASE WHEN g.i - :first < :due THEN {due_at} ELSE :later END",
            "step_started_at": ":now",
            "variants": "'{}'",
            "owner": "'sdr@acme.example'",
            "created_at": ":now",
            "updated_at": ":now",
        },
        {
            **params,
            "sequence": sequence_id,
            "version": version_id,
            "box0": boxes[0],
            "step": step_id,
            "due": due,
            "later": _ts(db, LATER),
        },
    )


EVENT_TYPES = (
    ["message.sent"] * 60
    + ["enrollment.step_executed"] * 15
    + ["enrollment.enrolled"] * 12
    + ["reply.received"] * 6
    + ["message.bounced"] * 3
    + ["reply.auto"] * 2
    + ["prospect.unsubscribed"]
    + ["meeting.booked"]
)


def seed_events(db: Database, start: int, count: int, *, days: int = 90) -> int:
    """A plausible event log: sends, steps, replies, bounces, opt-outs, meetings.

    Event i belongs to enrollment i mod 1M, whose sequence, variant, mailbox and owner are
    fixed (as in a real enrollment); its type is drawn by a hash of i, so each enrollment
    mixes sends, replies and outcomes (attribution and the median have work to do), and its
    successive emails walk intro, bump, breakup. PostgreSQL only; ids from `start`.
    """
    kinds = "ARRAY[" + ",".join(f"'{k}'" for k in EVENT_TYPES) + "]"
    draw = f"((g.i::bigint * 2654435761) % 4294967296 % {len(EVENT_TYPES)})"  # Knuth's hash
    first_reply = EVENT_TYPES.index("reply.received")
    first_bounce = EVENT_TYPES.index("message.bounced")
    _generate(
        db,
        "events",
        {
            "id": "g.i",
            # The k-th event of an enrollment (i div 1M) falls in week k, at a spread time.
            "at": ":since + make_interval(secs => (g.i / 1000000) * 604800 "
            "+ (g.i::bigint * 7919) % 604800)",
            "type": f"({kinds})[1 + {draw}]",
            "prospect_id": "g.i % 1000000",
            "enrollment_id": "g.i % 1000000",
            "sequence_id": "1 + g.i % 20",
            "version_id": "1 + g.i % 20",
            "step_id": "(ARRAY['intro','bump','breakup'])[1 + (g.i / 1000000) % 3]",
            "variant": "(ARRAY['a','b'])[1 + g.i % 2]",
            "mailbox_id": "1 + g.i % 8",
            "owner": "'sdr' || (g.i % 12) || '@acme.example'",
            # A third of the human replies positive; two of three bounces hard.
            "data": f"CASE WHEN {draw} IN ({first_reply}, {first_reply + 1}) "
            "THEN CAST(:positive AS jsonb) "
            f"WHEN {draw} IN ({first_bounce}, {first_bounce + 1}) THEN CAST(:hard AS jsonb) "
            f"WHEN {draw} = {first_bounce + 2} THEN CAST(:soft AS jsonb) ELSE '{{}}' END",
        },
        {
            "first": start,
            "last": start + count - 1,
            "since": NOW - timedelta(days=days),
            "positive": '{"intent": "positive"}',
            "hard": '{"kind": "hard"}',
            "soft": '{"kind": "soft"}',
        },
    )
    return count


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
