"""Reports: the rollups summed by one dimension, turned into the metrics of engine.core.metrics.

Reports never scan the event log: they read `report_rollups` (and, for the median time to
reply, `report_facts`) after bringing them up to date with `refresh_rollups`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.core import csv_safe, metrics
from engine.errors import InvalidInput, NotFound
from engine.people import users
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

DATE_BASES = ("event", "send")

COLUMNS = (
    "group",
    "enrolled",
    "contacted",
    "delivered",
    "bounced",
    "bounce_rate",
    "replied",
    "reply_rate",
    "reply_rate_low",
    "reply_rate_high",
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
    def reply_rate_low(self) -> float | None:
        """Lower end of the reply rate's 95 % Wilson interval (None with nothing delivered)."""
        return metrics.wilson_interval(self.replied, self.delivered)[0] if self.delivered else None

    @property
    def reply_rate_high(self) -> float | None:
        return metrics.wilson_interval(self.replied, self.delivered)[1] if self.delivered else None

    @property
    def positive_rate(self) -> float | None:
        return metrics.rate(self.positive, self.delivered)

    @property
    def opt_out_rate(self) -> float | None:
        return metrics.rate(self.opted_out, self.delivered)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Which facts a report counts. Dates are UTC days, both ends included.

    `dates="event"` counts the facts that happened in the range (a reply on 3 March counts in
    March, whenever its email went out); `dates="send"` counts everything that ever happened
    to the enrollments first emailed in the range (a cohort: March's sends and all their
    replies). The other fields keep one value of a dimension: a sequence key, an owner, a
    mailbox name, a step id, a variant.
    """

    since: date | None = None
    until: date | None = None
    dates: str = "event"
    sequence: str | None = None
    owner: str | None = None
    mailbox: str | None = None
    step: str | None = None
    variant: str | None = None

    def __post_init__(self) -> None:
        if self.dates not in DATE_BASES:
            raise InvalidInput(f"dates {self.dates!r} is not event or send")
        if self.since and self.until and self.until < self.since:
            raise InvalidInput(
                f"until {self.until.isoformat()} is before since {self.since.isoformat()}"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "dates": self.dates,
            "sequence": self.sequence,
            "owner": self.owner,
            "mailbox": self.mailbox,
            "step": self.step,
            "variant": self.variant,
        }

    def describe(self) -> str:
        """ "sent 2026-03-01…2026-03-31, owner anna" — for titles; "" when nothing is set."""
        parts = []
        if self.since or self.until:
            verb = "sent" if self.dates == "send" else "events"
            start = self.since.isoformat() if self.since else "…"
            end = self.until.isoformat() if self.until else "…"
            parts.append(f"{verb} {start} to {end}")
        for name in ("owner", "mailbox", "step", "variant"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name} {value}")
        return ", ".join(parts)


@dataclass(slots=True)
class Report:
    by: str
    sequence: str | None
    since: date | None
    rows: list[ReportRow] = field(default_factory=list)
    total: ReportRow | None = None
    definitions: dict[str, str] = field(default_factory=lambda: dict(metrics.DEFINITIONS))
    filters: ReportFilter = field(default_factory=ReportFilter)
    # Emails not sent, now: held for missing consent, skipped for it, held by the footer rule.
    held: dict[str, int] = field(default_factory=dict)

    def as_csv(self) -> str:
        """The rows and the total as CSV, one column per COLUMNS entry (`--format csv`)."""
        buffer = io.StringIO()
        writer = csv_safe.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in [*self.rows, *([self.total] if self.total else [])]:
            writer.writerow(row.as_dict())
        return buffer.getvalue()

    def as_dict(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "by": self.by,
            "sequence": self.sequence,
            "since": self.since.isoformat() if self.since else None,
            "filters": self.filters.as_dict(),
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
    filters: ReportFilter | None = None,
) -> Report:
    """The report grouped `by` one dimension (see GROUPINGS), narrowed by `filters`."""
    if by not in GROUPINGS:
        raise InvalidInput(
            f"--by {by!r} is not a report grouping (use one of: {', '.join(GROUPINGS)})"
        )
    f = filters or ReportFilter()
    if sequence is not None or since is not None:
        f = replace(f, sequence=sequence or f.sequence, since=since or f.since)
    where = _Where.of(session, f)
    per_step = by in ("step", "variant")
    counts = _counts(session, by, where)
    medians = _median_hours(session, by, where)
    namer = _namer(session, by, with_sequence=f.sequence is None)
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
        overall = _counts(session, "sequence", where)
        for c in overall.values():
            for metric, n in c.items():
                total_counts[metric] += n
    else:
        for c in counts.values():
            for metric, n in c.items():
                total_counts[metric] += n
    all_median = _median_hours(session, None, where).get(())
    total = _row("total", (), total_counts, all_median, per_step=False)
    held = _held(session, where.sequence_id)
    return Report(
        by=by, sequence=f.sequence, since=f.since, rows=rows, total=total, filters=f, held=held
    )


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


@dataclass(frozen=True, slots=True)
class _Where:
    """A ReportFilter resolved to ids, as conditions on a rollup or fact table."""

    f: ReportFilter
    sequence_id: int | None
    mailbox_id: int | None
    # Owner spellings stored before they were a user's ("Maria Lopez") → the handle (maria).
    spellings: dict[str, str] = field(default_factory=dict)
    owner: str | None = None  # the filter's owner, as a handle when it names a user

    @classmethod
    def of(cls, session: Session, f: ReportFilter) -> _Where:
        spellings, owner = _owner_spellings(session, f.owner)
        sequence_id = _sequence_id(session, f.sequence) if f.sequence else None
        mailbox_id = None
        if f.mailbox:
            mailbox_id = session.scalars(
                select(Mailbox.id).where(Mailbox.name == f.mailbox)
            ).first()
            if mailbox_id is None:
                raise NotFound(f"mailbox {f.mailbox!r} does not exist (see `kadenz mailbox list`)")
        return cls(f, sequence_id, mailbox_id, spellings, owner)

    def owner_column(self, model: type[ReportRollup] | type[ReportFact]) -> Any:
        """The owner as a user's handle: old spellings of a user count as that user."""
        if not self.spellings:
            return model.owner
        return case(self.spellings, value=model.owner, else_=model.owner)

    @property
    def cohort(self) -> bool:
        return self.f.dates == "send" and bool(self.f.since or self.f.until)

    def conditions(self, model: type[ReportRollup] | type[ReportFact]) -> list[Any]:
        out: list[Any] = []
        if self.sequence_id is not None:
            out.append(model.sequence_id == self.sequence_id)
        if self.mailbox_id is not None:
            out.append(model.mailbox_id == self.mailbox_id)
        if self.owner:
            out.append(self.owner_column(model) == self.owner)
        if self.f.step:
            out.append(model.step_id == self.f.step)
        if self.f.variant:
            out.append(model.variant == self.f.variant)
        if self.cohort:
            assert model is ReportFact  # a cohort is made of enrollments: facts only
            first_sent = select(ReportFact.enrollment_id).where(
                ReportFact.metric == metrics.CONTACTED, *self._days(ReportFact)
            )
            out.append(ReportFact.enrollment_id.in_(first_sent))
        else:
            out.extend(self._days(model))
        return out

    def _days(self, model: type[ReportRollup] | type[ReportFact]) -> list[Any]:
        out: list[Any] = []
        if self.f.since is not None:
            out.append(model.day >= self.f.since)
        if self.f.until is not None:
            out.append(model.day <= self.f.until)
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


def _owner_spellings(session: Session, wanted: str | None) -> tuple[dict[str, str], str | None]:
    """Owners the rollups hold under another spelling than a user's handle, mapped to it
    (owners kept as typed before the user was added, e.g. "Maria Lopez" → maria), and the
    filter's owner as a handle. Unknown owners stay as they are."""
    directory = users.Directory.load(session)
    if not directory:
        return {}, wanted
    spellings: dict[str, str] = {}
    for (raw,) in session.execute(select(ReportRollup.owner).distinct()):
        found = directory.match(raw) if raw else None
        if found is not None and found.name != raw:
            spellings[raw] = found.name
    found = directory.match(wanted) if wanted else None
    return spellings, (found.name if found is not None else wanted)


def _group_columns(
    model: type[ReportRollup] | type[ReportFact], by: str | None, where: _Where | None = None
) -> list[Any]:
    if by is None:
        return []
    owner = where.owner_column(model) if where is not None else model.owner
    columns: dict[str, list[Any]] = {
        "sequence": [model.sequence_id],
        "version": [model.sequence_id, model.version_id],
        "step": [model.sequence_id, model.step_id],
        "variant": [model.sequence_id, model.step_id, model.variant],
        "mailbox": [model.mailbox_id],
        "owner": [owner],
        "week": [model.day],
    }
    return columns[by]


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _counts(session: Session, by: str, where: _Where) -> dict[tuple[Any, ...], dict[str, int]]:
    # Rollups are the facts counted per day: the fast path. A send-date cohort needs to know
    # which enrollment each fact belongs to, so it counts the facts themselves.
    if where.cohort:
        cols = _group_columns(ReportFact, by, where)
        stmt = (
            select(*cols, ReportFact.metric, func.count())
            .where(*where.conditions(ReportFact))
            .group_by(*cols, ReportFact.metric)
        )
    else:
        cols = _group_columns(ReportRollup, by, where)
        stmt = (
            select(*cols, ReportRollup.metric, func.sum(ReportRollup.count))
            .where(*where.conditions(ReportRollup))
            .group_by(*cols, ReportRollup.metric)
        )
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
    session: Session, by: str | None, filters: _Where
) -> dict[tuple[Any, ...], float | None]:
    cols = _group_columns(ReportFact, by, filters)
    where = [ReportFact.metric == metrics.REPLIED, ReportFact.value.is_not(None)]
    where.extend(filters.conditions(ReportFact))
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
