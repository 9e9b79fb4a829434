"""Reports: the rollups summed by one dimension, turned into the metrics of engine.core.metrics.

Reports never scan the event log: they read `report_rollups` (and, for the median time to
reply, `report_facts`) after bringing them up to date with `refresh_rollups`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core import metrics
from engine.errors import InvalidInput, NotFound
from engine.store.models import (
    Mailbox,
    OutboundMessage,
    ReportFact,
    ReportRollup,
    Sequence,
    SequenceVersion,
)

GroupBy = Literal["sequence", "version", "step", "variant", "mailbox", "owner", "week"]
GROUPINGS: tuple[str, ...] = ("sequence", "version", "step", "variant", "mailbox", "owner", "week")

COLUMNS = (
    "group",
    "enrolled",
    "contacted",
    "delivered",
    "bounced",
    "bounce_rate",
    "replied",
    "reply_rate",
    "positive",
    "positive_rate",
    "opted_out",
    "opt_out_rate",
    "meetings",
    "median_reply_hours",
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    group: str
    enrolled: int | None
    contacted: int
    delivered: int
    bounced: int
    replied: int
    positive: int
    opted_out: int
    meetings: int
    median_reply_hours: float | None
    key: tuple[Any, ...] = ()  # the raw group key (ids), for links

    @property
    def bounce_rate(self) -> float | None:
        return metrics.rate(self.bounced, self.contacted)

    @property
    def reply_rate(self) -> float | None:
        return metrics.rate(self.replied, self.delivered)

    @property
    def positive_rate(self) -> float | None:
        return metrics.rate(self.positive, self.delivered)

    @property
    def opt_out_rate(self) -> float | None:
        return metrics.rate(self.opted_out, self.delivered)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}


@dataclass(slots=True)
class Report:
    by: str
    sequence: str | None
    since: date | None
    rows: list[ReportRow] = field(default_factory=list)
    total: ReportRow | None = None
    definitions: dict[str, str] = field(default_factory=lambda: dict(metrics.DEFINITIONS))
    # Emails not sent, now: held for missing consent, skipped for it, held by the footer rule.
    held: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "by": self.by,
            "sequence": self.sequence,
            "since": self.since.isoformat() if self.since else None,
            "columns": list(COLUMNS),
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict() if self.total else None,
            "definitions": self.definitions,
        }


def build_report(
    session: Session,
    *,
    by: str = "sequence",
    sequence: str | None = None,
    since: date | None = None,
) -> Report:
    """The report grouped `by` one dimension (see GROUPINGS), optionally for one sequence."""
    if by not in GROUPINGS:
        raise InvalidInput(
            f"--by {by!r} is not a report grouping (use one of: {', '.join(GROUPINGS)})"
        )
    sequence_id = _sequence_id(session, sequence) if sequence else None
    per_step = by in ("step", "variant")
    counts = _counts(session, by, sequence_id, since)
    medians = _median_hours(session, by, sequence_id, since)
    namer = _namer(session, by, with_sequence=sequence is None)
    order = _step_order(session) if per_step else {}

    def sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        if per_step:  # sequences by key, steps in the order the sequence defines them
            seq_name = namer((key[0], "", ""))
            return (seq_name, order.get((key[0], key[1]), 999), *map(str, key[1:]))
        return (namer(key),)

    rows = [
        _row(namer(key), key, counts[key], medians.get(key), per_step)
        for key in sorted(counts, key=sort_key)
    ]
    total_counts: dict[str, int] = defaultdict(int)
    if per_step:  # a prospect reached by two steps is still one prospect in the total
        overall = _counts(session, "sequence", sequence_id, since)
        for c in overall.values():
            for metric, n in c.items():
                total_counts[metric] += n
    else:
        for c in counts.values():
            for metric, n in c.items():
                total_counts[metric] += n
    all_median = _median_hours(session, None, sequence_id, since).get(())
    total = _row("total", (), total_counts, all_median, per_step=False)
    held = _held(session, sequence_id)
    return Report(by=by, sequence=sequence, since=since, rows=rows, total=total, held=held)


HELD = {  # kind → (message state, how its held_reason starts): see engine.outbound.gate
    "held_for_consent": ("planned", "consent:"),
    "skipped_for_consent": ("cancelled", "consent:"),
    "held_for_postal_address": ("planned", "postal address:"),
}


def _held(session: Session, sequence_id: int | None) -> dict[str, int]:
    """Messages the consent policy keeps from leaving, counted from their current state."""
    out: dict[str, int] = {}
    for kind, (state, prefix) in HELD.items():
        stmt = select(func.count(OutboundMessage.id)).where(
            OutboundMessage.state == state, OutboundMessage.held_reason.startswith(prefix)
        )
        if sequence_id is not None:
            stmt = stmt.where(OutboundMessage.sequence_id == sequence_id)
        out[kind] = session.scalar(stmt) or 0
    return out


def _row(
    name: str, key: tuple[Any, ...], c: dict[str, int], median: float | None, per_step: bool
) -> ReportRow:
    contacted = c.get(metrics.STEP_SENT if per_step else metrics.CONTACTED, 0)
    bounced = c.get(metrics.BOUNCED, 0)
    return ReportRow(
        group=name,
        enrolled=None if per_step else c.get(metrics.ENROLLED, 0),
        contacted=contacted,
        delivered=max(0, contacted - bounced),
        bounced=bounced,
        replied=c.get(metrics.REPLIED, 0),
        positive=c.get(metrics.POSITIVE, 0),
        opted_out=c.get(metrics.OPTED_OUT, 0),
        meetings=c.get(metrics.MEETING, 0),
        median_reply_hours=median,
        key=key,
    )


def _group_columns(model: type[ReportRollup] | type[ReportFact], by: str | None) -> list[Any]:
    if by is None:
        return []
    columns: dict[str, list[Any]] = {
        "sequence": [model.sequence_id],
        "version": [model.sequence_id, model.version_id],
        "step": [model.sequence_id, model.step_id],
        "variant": [model.sequence_id, model.step_id, model.variant],
        "mailbox": [model.mailbox_id],
        "owner": [model.owner],
        "week": [model.day],
    }
    return columns[by]


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _counts(
    session: Session, by: str, sequence_id: int | None, since: date | None
) -> dict[tuple[Any, ...], dict[str, int]]:
    cols = _group_columns(ReportRollup, by)
    stmt = select(*cols, ReportRollup.metric, func.sum(ReportRollup.count)).group_by(
        *cols, ReportRollup.metric
    )
    if sequence_id is not None:
        stmt = stmt.where(ReportRollup.sequence_id == sequence_id)
    if since is not None:
        stmt = stmt.where(ReportRollup.day >= since)
    out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in session.execute(stmt):
        *key, metric, total = tuple(row)
        if by == "week":
            key = [_week(key[0])]
        if by in ("step", "variant") and metric == metrics.ENROLLED:
            continue  # enrollments belong to no step
        out[tuple(key)][metric] += int(total or 0)
    return out


def _median_hours(
    session: Session, by: str | None, sequence_id: int | None, since: date | None
) -> dict[tuple[Any, ...], float | None]:
    cols = _group_columns(ReportFact, by)
    where = [ReportFact.metric == metrics.REPLIED, ReportFact.value.is_not(None)]
    if sequence_id is not None:
        where.append(ReportFact.sequence_id == sequence_id)
    if since is not None:
        where.append(ReportFact.day >= since)
    hours = ReportFact.value / 3600.0
    if session.get_bind().dialect.name == "postgresql":
        # In the database: a big log has hundreds of thousands of replies to sort.
        if by == "week":
            cols = [func.to_char(ReportFact.day, 'IYYY-"W"IW')]
        median = func.percentile_cont(0.5).within_group(hours)
        stmt = select(*cols, median).where(*where).group_by(*cols)
        return {tuple(key): value for *key, value in map(tuple, session.execute(stmt))}
    values: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for row in session.execute(select(*cols, hours).where(*where)):
        *key, value = tuple(row)
        if by == "week":
            key = [_week(key[0])]
        values[tuple(key)].append(float(value))
    return {k: metrics.median(v) for k, v in values.items()}


def _sequence_id(session: Session, key: str) -> int:
    found = session.scalars(select(Sequence.id).where(Sequence.key == key)).first()
    if found is None:
        raise NotFound(f"sequence {key!r} does not exist (see `kadenz sequences list`)")
    return found


def _step_order(session: Session) -> dict[tuple[int, str], int]:
    """(sequence id, step id) -> position in the sequence's current version."""
    order: dict[tuple[int, str], int] = {}
    stmt = select(SequenceVersion).join(Sequence, Sequence.current_version_id == SequenceVersion.id)
    for version in session.scalars(stmt):
        steps = [s.get("id") for s in version.spec.get("steps", []) if isinstance(s, dict)]
        for i, step in enumerate(s for s in steps if s):
            order[(version.sequence_id, str(step))] = i
    return order


def _namer(
    session: Session, by: str, *, with_sequence: bool = True
) -> Callable[[tuple[Any, ...]], str]:
    seqs = {s.id: s.key for s in session.scalars(select(Sequence))}
    versions = {v.id: v.version for v in session.scalars(select(SequenceVersion))}
    boxes = {m.id: m.name for m in session.scalars(select(Mailbox))}

    def seq(i: int) -> str:
        return seqs.get(i, "(none)" if not i else f"#{i}")

    def name(key: tuple[Any, ...]) -> str:
        if by == "sequence":
            return seq(key[0])
        if by == "version":
            return f"{seq(key[0])} v{versions.get(key[1], '?')}"
        prefix = f"{seq(key[0])} / " if with_sequence else ""
        if by == "step":
            return f"{prefix}{key[1] or '(none)'}"
        if by == "variant":
            return f"{prefix}{key[1] or '(none)'} / {key[2] or '-'}"
        if by == "mailbox":
            return boxes.get(key[0], "(none)" if not key[0] else f"#{key[0]}")
        if by == "owner":
            return str(key[0] or "(none)")
        return str(key[0])

    return name


@dataclass(frozen=True, slots=True)
class StepComparison:
    step_id: str
    comparison: metrics.Comparison


def variant_comparisons(session: Session, sequence: str) -> list[StepComparison]:
    """Per step with two or more variants: reply rates with Wilson CIs and a verdict."""
    report = build_report(session, by="variant", sequence=sequence)
    per_step: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in report.rows:
        _, step_id, variant = row.key
        if variant:
            per_step[step_id][variant] = (row.replied, row.delivered)
    return [
        StepComparison(step, metrics.compare_variants(counts))
        for step, counts in sorted(per_step.items())
        if len(counts) >= 2
    ]
