"""Stable SQL views for BI tools (Power BI, Tableau, Metabase): the contract docs/bi.md lists.

The tables may change between releases; these views do not, within a `VERSION`. On
PostgreSQL they live in the schema `kadenz_bi` (`kadenz_bi.prospects`); SQLite has no
schemas, so there they are `kadenz_bi_prospects`. A read-only role sees only them.

Views are derived objects, not data: `Database.upgrade` drops them before migrating and
creates the current version after, so a migration never trips over a view that depends on
a column it changes. Every column is documented in docs/bi.md, and a test checks that the
views and that page agree on both databases.

Personal data: the prospects view carries names and email (a BI tool needs them to join to
a CRM); message bodies and raw inbound mail are never exposed. Erased prospects show NULLs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

VERSION = 1
SCHEMA = "kadenz_bi"


@dataclass(frozen=True, slots=True)
class View:
    name: str
    select: str  # with {day_of_at}-style placeholders filled per dialect

    def qualified(self, dialect: str) -> str:
        return f"{SCHEMA}.{self.name}" if dialect == "postgresql" else f"{SCHEMA}_{self.name}"


def _day(column: str, dialect: str) -> str:
    """The UTC calendar day of a timestamp column."""
    if dialect == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _true(dialect: str) -> str:
    return "TRUE" if dialect == "postgresql" else "1"


_FACTS = (
    ("enrolled", "enrolled"),
    ("contacted", "contacted"),
    ("step_sent", "emails_sent"),
    ("bounced", "bounced"),
    ("replied", "replied"),
    ("positive_reply", "positive_replies"),
    ("opted_out", "opted_out"),
    ("meeting", "meetings"),
)


def views(dialect: str) -> list[View]:

    def day_of(column: str) -> str:
        return _day(column, dialect)

    facts = ",\n  ".join(
        f"SUM(CASE WHEN r.metric = '{metric}' THEN r.count ELSE 0 END) AS {column}"
        for metric, column in _FACTS
    )
    return [
        View(
            "prospects",
            """SELECT p.id AS prospect_id, p.email, p.first_name, p.last_name, p.company,
  p.title, p.country, p.region, p.timezone, p.owner, a.domain AS account_domain, p.score,
  p.created_at, p.updated_at, p.erased_at
FROM prospects p LEFT JOIN accounts a ON a.id = p.account_id""",
        ),
        View(
            "sequences",
            """SELECT s.id AS sequence_id, s.key AS sequence_key, s.name, s.archived,
  v.version AS current_version, s.created_at
FROM sequences s LEFT JOIN sequence_versions v ON v.id = s.current_version_id""",
        ),
        View(
            "mailboxes",
            """SELECT m.id AS mailbox_id, m.name AS mailbox, m.address, m.daily_cap, m.paused,
  m.paused_reason, m.created_at
FROM mailboxes m""",
        ),
        View(
            "enrollments",
            """SELECT e.id AS enrollment_id, e.prospect_id, s.key AS sequence_key,
  v.version, m.name AS mailbox, e.owner, e.state, e.state_reason, e.step_id AS current_step,
  e.next_run_at, e.created_at AS enrolled_at, e.finished_at
FROM enrollments e
JOIN sequences s ON s.id = e.sequence_id
JOIN sequence_versions v ON v.id = e.version_id
LEFT JOIN mailboxes m ON m.id = e.mailbox_id""",
        ),
        View(
            "messages",
            f"""SELECT o.id AS message_id, o.enrollment_id, o.prospect_id, s.key AS sequence_key,
  v.version, o.step_id, o.variant, m.name AS mailbox, o.state, o.subject,
  o.created_at AS planned_at, o.not_before, o.held_reason, o.sent_at,
  {day_of("o.sent_at")} AS sent_day, o.smtp_code, o.smtp_status, o.attempts
FROM outbound_messages o
JOIN sequences s ON s.id = o.sequence_id
JOIN sequence_versions v ON v.id = o.version_id
JOIN mailboxes m ON m.id = o.mailbox_id""",
        ),
        View(
            "events",
            f"""SELECT ev.id AS event_id, ev.at, {day_of("ev.at")} AS day, ev.type,
  ev.prospect_id, ev.enrollment_id, s.key AS sequence_key, v.version, ev.step_id, ev.variant,
  m.name AS mailbox, ev.owner, ev.outbound_id AS message_id, ev.inbound_id, ev.task_id
FROM events ev
LEFT JOIN sequences s ON s.id = ev.sequence_id
LEFT JOIN sequence_versions v ON v.id = ev.version_id
LEFT JOIN mailboxes m ON m.id = ev.mailbox_id""",
        ),
        View(
            "replies",
            f"""SELECT i.id AS inbound_id, i.received_at, {day_of("i.received_at")} AS day,
  i.prospect_id, i.enrollment_id, s.key AS sequence_key, o.step_id, o.variant,
  m.name AS mailbox, i.classification, i.intent, i.return_date, i.matched_by,
  CASE WHEN i.overridden_by IS NULL THEN {"FALSE" if dialect == "postgresql" else "0"}
       ELSE {_true(dialect)} END AS reclassified
FROM inbound_messages i
LEFT JOIN outbound_messages o ON o.id = i.outbound_id
LEFT JOIN sequences s ON s.id = o.sequence_id
LEFT JOIN mailboxes m ON m.id = i.mailbox_id""",
        ),
        View(
            "tasks",
            """SELECT t.id AS task_id, t.kind, t.prospect_id, t.enrollment_id,
  s.key AS sequence_key, t.step_id, t.owner, t.title, t.state, t.outcome, t.blocking,
  t.due_at, t.completed_at, t.created_at
FROM tasks t
LEFT JOIN enrollments e ON e.id = t.enrollment_id
LEFT JOIN sequences s ON s.id = e.sequence_id""",
        ),
        View(
            "calls",
            f"""SELECT t.id AS task_id, t.prospect_id, t.enrollment_id, s.key AS sequence_key,
  t.step_id, t.owner, t.state, t.outcome, t.due_at, t.completed_at,
  {day_of("t.completed_at")} AS completed_day
FROM tasks t
LEFT JOIN enrollments e ON e.id = t.enrollment_id
LEFT JOIN sequences s ON s.id = e.sequence_id
WHERE t.kind = 'call'""",
        ),
        View(
            "daily_facts",
            f"""SELECT r.day, s.key AS sequence_key, v.version, r.step_id, r.variant,
  m.name AS mailbox, r.owner,
  {facts}
FROM report_rollups r
LEFT JOIN sequences s ON s.id = r.sequence_id
LEFT JOIN sequence_versions v ON v.id = r.version_id
LEFT JOIN mailboxes m ON m.id = r.mailbox_id
GROUP BY r.day, s.key, v.version, r.step_id, r.variant, m.name, r.owner""",
        ),
    ]


def fingerprint(dialect: str) -> str:
    """A short hash of this version's view definitions: what `about` says was created."""
    text_ = "\n".join(f"{v.name}:{v.select}" for v in views(dialect))
    return hashlib.sha256(f"{VERSION}\n{text_}".encode()).hexdigest()[:16]


def _about(dialect: str) -> View:
    return View("about", f"SELECT {VERSION} AS version, '{fingerprint(dialect)}' AS fingerprint")


def up_to_date(conn: Connection) -> bool:
    """True when this version's views exist as defined (checked by `about`'s fingerprint)."""
    dialect = conn.dialect.name
    try:
        with conn.begin_nested():
            found = conn.execute(
                text(f"SELECT fingerprint FROM {_about(dialect).qualified(dialect)}")
            ).scalar()
    except DBAPIError:
        return False
    return found == fingerprint(dialect)


def drop(conn: Connection) -> None:
    """Drop every view of every version (a no-op where none exist).

    On PostgreSQL the schema itself stays: the read-only role's USAGE and default SELECT
    privileges (`kadenz bi reader`) belong to it and must survive an upgrade."""
    if conn.dialect.name == "postgresql":
        names = conn.execute(
            text("SELECT table_name FROM information_schema.views WHERE table_schema = :s"),
            {"s": SCHEMA},
        ).scalars()
        for name in list(names):
            conn.execute(text(f'DROP VIEW IF EXISTS {SCHEMA}."{name}" CASCADE'))
        return
    rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'view'")).scalars()
    for name in [str(n) for n in rows if str(n).startswith(f"{SCHEMA}_")]:
        conn.execute(text(f'DROP VIEW IF EXISTS "{name}"'))


def create(conn: Connection) -> None:
    """Create the current version's views (after migrating to head)."""
    dialect = conn.dialect.name
    drop(conn)
    if dialect == "postgresql":
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        conn.execute(
            text(f"COMMENT ON SCHEMA {SCHEMA} IS 'Kadenz BI views, version {VERSION} (docs/bi.md)'")
        )
    for view in [*views(dialect), _about(dialect)]:
        conn.execute(text(f"CREATE VIEW {view.qualified(dialect)} AS\n{view.select}"))
