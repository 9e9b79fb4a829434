"""Operating figures of a running Kadenz: queue depth, due backlog, sends, failures.

`collect(db, clock, redis_client=…)` reads them (the broker's queues from Redis, everything
else from the database, which is the truth); `to_prometheus` renders the Prometheus text
exposition format for a node-exporter textfile or a scrape wrapper. docs/operations.md
explains how to read each figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from engine.clock import Clock
from engine.core.states import EnrollmentState, MessageState
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox, OutboundMessage, SendingDomain
from engine.workspace import links

QUEUES = ("kadenz", "kadenz.send", "kadenz.poll")


@dataclass
class MailboxSends:
    name: str
    last_hour: int
    last_24h: int
    planned_due: int
    paused: bool


@dataclass
class MailboxReach:
    """One mailbox direction (smtp out, imap in): reached at its last attempt or not."""

    name: str
    direction: str
    reachable: bool
    failures_total: int  # only grows: a Prometheus counter
    failing_seconds: float  # how long it has been failing (0 while it works)
    kind: str | None  # why it failed (engine.mail.failures.FailureKind)
    error: str | None
    fix: str | None
    sending_paused: bool  # the outage paused the mailbox's sending


@dataclass
class DomainHealth:
    domain: str
    status: str  # ok | warning | unknown | fail | unchecked (engine.workspace.domain_checks)
    problems: list[str]  # failed and unknown checks, each with its fix
    override: str | None  # a person allowed sending despite failures


@dataclass
class Health:
    queues: dict[str, int | None] = field(default_factory=dict)  # None: broker unreachable
    unacked: int | None = None  # tasks taken by a worker and not yet acknowledged
    due_enrollments: int = 0  # active enrollments whose next step is due now
    due_messages: int = 0  # planned messages whose time has come
    oldest_due_seconds: float = 0.0  # how late the oldest due message is
    sending: int = 0
    sending_expired: int = 0  # past their lease: the next resolve_leases makes them ambiguous
    ambiguous: int = 0
    failed: int = 0
    bounced: int = 0
    sent_last_hour: int = 0
    sent_last_24h: int = 0
    mailboxes: list[MailboxSends] = field(default_factory=list)
    reach: list[MailboxReach] = field(default_factory=list)

    @property
    def degraded(self) -> list[MailboxReach]:
        return [r for r in self.reach if not r.reachable]

    domains: list[DomainHealth] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)  # planned messages held, by kind

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect(db: Database, clock: Clock, redis_client: Any | None = None) -> Health:
    now = clock.now()
    health = Health()
    if redis_client is not None:
        _queues(health, redis_client)
    m = OutboundMessage
    with db.session() as s:
        health.due_enrollments = (
            s.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(Enrollment.state == EnrollmentState.ACTIVE, Enrollment.next_run_at <= now)
            )
            or 0
        )
        due = (m.state == MessageState.PLANNED) & (m.not_before <= now)
        health.due_messages = s.scalar(select(func.count()).select_from(m).where(due)) or 0
        oldest = s.scalar(select(func.min(m.not_before)).where(due))
        health.oldest_due_seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        states = dict(s.execute(select(m.state, func.count()).group_by(m.state)).all())
        health.sending = states.get(MessageState.SENDING, 0)
        health.ambiguous = states.get(MessageState.AMBIGUOUS, 0)
        health.failed = states.get(MessageState.FAILED, 0)
        health.bounced = states.get(MessageState.BOUNCED, 0)
        health.sending_expired = (
            s.scalar(
                select(func.count())
                .select_from(m)
                .where(m.state == MessageState.SENDING, m.lease_until < now)
            )
            or 0
        )
        hour, day = now - timedelta(hours=1), now - timedelta(hours=24)
        per_box = {
            row[0]: row
            for row in s.execute(
                select(
                    m.mailbox_id,
                    func.count().filter(m.sent_at > hour),
                    func.count().filter(m.sent_at > day),
                )
                .where(m.state.in_([MessageState.SENT, MessageState.BOUNCED]), m.sent_at > day)
                .group_by(m.mailbox_id)
            ).all()
        }
        due_box = dict(
            s.execute(select(m.mailbox_id, func.count()).where(due).group_by(m.mailbox_id)).all()
        )
        for box in s.scalars(select(Mailbox).order_by(Mailbox.name)).all():
            _, last_hour, last_day = per_box.get(box.id, (box.id, 0, 0))
            health.mailboxes.append(
                MailboxSends(box.name, last_hour, last_day, due_box.get(box.id, 0), box.paused)
            )
        paused = {b.name: b.paused for b in health.mailboxes}
        for name, link in links.all_links(s):
            since = link.failing_since
            health.reach.append(
                MailboxReach(
                    name=name,
                    direction=link.direction,
                    reachable=since is None,
                    failures_total=link.failures_total or 0,
                    failing_seconds=max(0.0, (now - since).total_seconds()) if since else 0.0,
                    kind=link.error_kind,
                    error=link.error,
                    fix=link.fix,
                    sending_paused=bool(link.paused_sending and paused.get(name)),
                )
            )
        _deliverability(health, s)
    health.sent_last_hour = sum(b.last_hour for b in health.mailboxes)
    health.sent_last_24h = sum(b.last_24h for b in health.mailboxes)
    return health


# held_reason prefixes the sender writes (engine.outbound.gate, caps, window)
HELD_KINDS = {
    "consent": "consent:",
    "domain": "sending domain ",
    "postal_address": "postal address:",
}


def domains(s: Any) -> list[DomainHealth]:
    """Each sending domain's last DNS check, its problems with their fixes."""
    out = []
    for row in s.scalars(select(SendingDomain).order_by(SendingDomain.domain)).all():
        problems = [
            f"{f.get('check')}: {f.get('message')}"
            + (f" (fix: {f['fix']})" if f.get("fix") else "")
            for f in row.check_findings or []
            if f.get("level") in ("fail", "unknown", "warning")
        ]
        out.append(DomainHealth(row.domain, row.check_status, problems, row.override_reason))
    return out


def unsigned_domains(s: Any) -> list[str]:
    """Domains mailboxes send from that no sending domain covers: their mail is not signed."""
    registered = set(s.scalars(select(SendingDomain.domain)).all())
    out = set()
    for address in s.scalars(select(Mailbox.address)).all():
        domain = address.rpartition("@")[2].lower()
        labels = domain.split(".")
        if not any(".".join(labels[i:]) in registered for i in range(len(labels) - 1)):
            out.add(domain)
    return sorted(out)


def _deliverability(health: Health, s: Any) -> None:
    health.domains = domains(s)
    m = OutboundMessage
    for kind, prefix in HELD_KINDS.items():
        health.held[kind] = (
            s.scalar(
                select(func.count())
                .select_from(m)
                .where(m.state == MessageState.PLANNED, m.held_reason.startswith(prefix))
            )
            or 0
        )


def _queues(health: Health, client: Any) -> None:
    try:
        for name in QUEUES:
            # Celery's Redis transport keeps one list per queue (and per priority step).
            health.queues[name] = int(client.llen(name))
        health.unacked = int(client.hlen("unacked"))
    except Exception:  # the broker is down: say so, do not fail the whole report
        health.queues = dict.fromkeys(QUEUES)
        health.unacked = None


def to_prometheus(health: Health) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: Sequence[tuple[str, float]]) -> None:
        lines.append(f"# HELP kadenz_{name} {help_}")
        lines.append(f"# TYPE kadenz_{name} {kind}")
        for labels, value in samples:
            lines.append(f"kadenz_{name}{labels} {_number(value)}")

    queues = [(f'{{queue="{q}"}}', n) for q, n in health.queues.items() if n is not None]
    if queues:
        metric("queue_depth", "gauge", "Tasks waiting in the broker queue.", queues)
    if health.unacked is not None:
        metric(
            "tasks_unacked",
            "gauge",
            "Tasks taken by a worker, not yet acknowledged.",
            [("", health.unacked)],
        )
    metric(
        "due_enrollments",
        "gauge",
        "Active enrollments whose next step is due.",
        [("", health.due_enrollments)],
    )
    metric(
        "due_messages",
        "gauge",
        "Planned messages whose send time has come.",
        [("", health.due_messages)],
    )
    metric(
        "oldest_due_seconds",
        "gauge",
        "Lateness of the oldest due message.",
        [("", health.oldest_due_seconds)],
    )
    metric(
        "messages",
        "gauge",
        "Messages by state (in flight and needing a person).",
        [
            ('{state="sending"}', health.sending),
            ('{state="ambiguous"}', health.ambiguous),
            ('{state="failed"}', health.failed),
            ('{state="bounced"}', health.bounced),
        ],
    )
    metric(
        "sending_expired",
        "gauge",
        "Messages in `sending` past their lease.",
        [("", health.sending_expired)],
    )
    metric(
        "sent_last_hour",
        "gauge",
        "Messages sent in the last hour, per mailbox.",
        [(f'{{mailbox="{_label(b.name)}"}}', b.last_hour) for b in health.mailboxes],
    )
    metric(
        "sent_last_24h",
        "gauge",
        "Messages sent in the last 24 hours, per mailbox.",
        [(f'{{mailbox="{_label(b.name)}"}}', b.last_24h) for b in health.mailboxes],
    )
    if health.reach:
        reach = [
            (f'{{mailbox="{_label(r.name)}",direction="{r.direction}"}}', r) for r in health.reach
        ]
        metric(
            "mailbox_reachable",
            "gauge",
            "1 if the mailbox's SMTP/IMAP server was reached at the last attempt, else 0.",
            [(labels, 1 if r.reachable else 0) for labels, r in reach],
        )
        metric(
            "mailbox_unreachable_seconds",
            "gauge",
            "How long the mailbox's SMTP/IMAP server has been failing (0 while it works).",
            [(labels, r.failing_seconds) for labels, r in reach],
        )
        metric(
            "mailbox_connect_failures_total",
            "counter",
            "Failed attempts to reach the mailbox (auth, TLS, DNS, refused, timeout, password).",
            [(labels, r.failures_total) for labels, r in reach],
        )
    metric(
        "mailboxes_degraded",
        "gauge",
        "Mailbox directions failing now (details: /api/v1/health, kadenz metrics).",
        [("", len(health.degraded))],
    )
    if health.domains:
        metric(
            "domain_check_failing",
            "gauge",
            "1 when a sending domain fails a hard DNS check (SPF, DKIM, DMARC, alignment).",
            [(f'{{domain="{_label(d.domain)}"}}', int(d.status == "fail")) for d in health.domains],
        )
    metric(
        "messages_held",
        "gauge",
        "Planned messages held by consent, a failing sending domain or a missing postal address.",
        [(f'{{reason="{kind}"}}', n) for kind, n in health.held.items()],
    )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
