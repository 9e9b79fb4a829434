"""Report rollups: the event log folded, incrementally and in SQL, into facts and per-day counts.

`refresh_rollups(db)` reads the events after the last one it processed, turns them into
prospect-level facts (engine.core.metrics: contacted, replied, …; at most one per enrollment)
and keeps `report_rollups` (counts per day × sequence × version × step × variant × mailbox ×
owner × metric) in step. Each batch is a range of event ids folded by a few set-based
statements (`INSERT … SELECT`, `ON CONFLICT … DO UPDATE`), so the cost per event is the
database's, not Python's, and memory does not grow with the batch. Facts, counts and the
cursor move in one transaction, so a crash redoes a batch instead of counting it twice; a lock
(advisory on PostgreSQL, the single writer on SQLite) makes concurrent refreshes take turns.
Running it again is a no-op.

Counting is idempotent by construction: a fact is unique per enrollment × metric × step, and
rollups only ever add the facts a statement actually inserted (and subtract those it
deleted): folding an event twice changes nothing. On PostgreSQL the facts a statement
inserts are counted from its own RETURNING rows; on SQLite from the ids above the last one.
Idempotence is also what lets an event that committed after a later one was folded be
folded late (engine.reporting.rollup_gaps).

Attribution: an outcome (bounce, reply, opt-out, meeting) belongs to the enrollment's most
recent email sent at or before it — its step, variant and mailbox.

Reclassification: replies are recomputed from the enrollment's reply.received, reply.auto and
inbound.reclassified events in order; the current class of each inbound message counts. A
reply reclassified as an auto-reply removes the "replied" fact (and its count) again. This is
the one part folded in Python: a state machine over few events (only enrollments whose reply
events are in the batch).
"""

from __future__ import annotations

import itertools
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from engine.core import metrics, person_replies
from engine.core.events import EventType
from engine.reporting import rollup_gaps
from engine.store.db import Database
from engine.store.models import Enrollment, Event, ReportCursor, ReportFact, ReportRollup

CURSOR = "rollups"
BATCH = 50_000  # events per transaction: big enough for set-based work, small enough to redo
_ANALYZE_EVERY = 4  # batches
_LOCK_KEY = zlib.crc32(b"kadenz.rollups")
_REPLY_EVENTS = (
    EventType.REPLY_RECEIVED.value,
    EventType.AUTO_REPLY_RECEIVED.value,
    EventType.INBOUND_RECLASSIFIED.value,
)
_HUMAN = {"human_reply", "reply", "human"}  # accepted spellings of the human class
_HARD_BOUNCE = ("", "hard", "hard_bounce")  # or no kind at all
_DIMS = ("sequence_id", "version_id", "step_id", "variant", "mailbox_id", "owner")
_ROLLUP_KEY = ("day", *_DIMS, "metric")


@dataclass(frozen=True, slots=True)
class Dims:
    sequence_id: int = 0
    version_id: int = 0
    step_id: str = ""
    variant: str = ""
    mailbox_id: int = 0
    owner: str = ""


@dataclass(frozen=True, slots=True)
class Span:
    """The events one fold reads: `where` selects them; `upto` is the highest id folded."""

    where: ColumnElement[bool]
    upto: int


def refresh_rollups(db: Database, batch_size: int = BATCH) -> int:
    """Process every new event; returns how many were read. Idempotent, concurrency-safe."""
    total = 0
    for batch in itertools.count(1):
        with db.session() as session:
            done = _refresh_batch(session, batch_size)
            if batch % _ANALYZE_EVERY == 0 and db.dialect == "postgresql":
                # A catch-up grows the facts faster than autovacuum re-counts them, and
                # stale statistics send the planner to sequential scans of the whole table.
                session.execute(text("ANALYZE report_facts, report_rollups"))
        total += done
        if done < batch_size:
            break
    return total


def last_event_id(session: Session) -> int:
    cursor = session.get(ReportCursor, CURSOR)
    return cursor.last_event_id if cursor else 0


def _refresh_batch(session: Session, batch_size: int) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    cursor = session.get(ReportCursor, CURSOR)
    after = cursor.last_event_id if cursor else 0
    for late in _chunks(rollup_gaps.arrived(session)):
        fold(session, Span(Event.id.in_(late), after))
    window = (
        select(Event.id).where(Event.id > after).order_by(Event.id).limit(batch_size).subquery()
    )
    count, upto = session.execute(select(func.count(), func.max(window.c.id))).one()
    if not count:
        return 0
    rollup_gaps.note(session, after, upto, count)
    fold(session, Span(Event.id.between(after + 1, upto), upto))
    last_at = session.scalars(select(Event.at).where(Event.id == upto)).one()
    if cursor is None:
        cursor = ReportCursor(name=CURSOR, last_event_id=0, updated_at=last_at)
        session.add(cursor)
    cursor.last_event_id = upto
    cursor.updated_at = max(cursor.updated_at, last_at)
    return int(count)


def fold(session: Session, span: Span) -> None:
    """Fold the events of `span` into facts and rollups (idempotent: see the module doc)."""
    _add_facts(session, _own_facts(session, span))
    _add_facts(session, _attributed_facts(session, span))  # after the sends they attribute to
    _Replies(session, span).recompute()


# --- facts, set-based -------------------------------------------------------------------


def _own_facts(session: Session, span: Span) -> Select[Any]:
    """Enrolled, contacted and per-step sent: dated and dimensioned by their own event."""
    # A person's answer from the inbox is neither a first contact nor a step's email.
    # An email refused at RCPT reached the prospect's server as surely as one accepted: it is
    # contacted (and bounced), so delivered = contacted - bounced never goes below zero.
    kind = Event.data["kind"].as_string()
    refused = (Event.type == EventType.MESSAGE_BOUNCED.value) & or_(
        kind.is_(None), kind.in_(_HARD_BOUNCE)
    )
    sent = (
        (Event.type == EventType.MESSAGE_SENT.value)
        & ~func.coalesce(Event.step_id, "").startswith(person_replies.PREFIX)
    ) | refused
    facts = union_all(
        _candidates(session, span, metrics.ENROLLED, Event.type == EventType.ENROLLED.value),
        _candidates(session, span, metrics.CONTACTED, sent),
        _candidates(session, span, metrics.STEP_SENT, sent, step_key=True),
    ).subquery()
    return select(facts)


def _attributed_facts(session: Session, span: Span) -> Select[Any]:
    """Bounced, opted out, meeting: dated by their event, dimensioned by the last send."""
    kind = Event.data["kind"].as_string()
    hard = or_(kind.is_(None), kind.in_(_HARD_BOUNCE))
    bounce = EventType.MESSAGE_BOUNCED.value, EventType.BOUNCE_RECEIVED.value
    opt_out = EventType.UNSUBSCRIBED.value, EventType.COMPLAINT_RECEIVED.value
    meeting = or_(
        Event.type == EventType.MEETING_BOOKED.value,
        (Event.type == EventType.TASK_COMPLETED.value)
        & (Event.data["outcome"].as_string() == "meeting_booked"),
    )
    own = union_all(
        _candidates(session, span, metrics.BOUNCED, Event.type.in_(bounce) & hard),
        _candidates(session, span, metrics.OPTED_OUT, Event.type.in_(opt_out)),
        _candidates(session, span, metrics.MEETING, meeting),
    ).subquery()
    sends = ReportFact.__table__.alias("sends")
    last_send = (
        select(sends.c.id)
        .where(
            sends.c.enrollment_id == own.c.enrollment_id,
            sends.c.metric == metrics.STEP_SENT,
            sends.c.at <= own.c.at,
        )
        .order_by(sends.c.at.desc(), sends.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    with_send = select(own, last_send.label("send_id")).subquery()
    send = ReportFact.__table__.alias("send")
    dims = [func.coalesce(send.c[d], with_send.c[d]).label(d) for d in _DIMS]
    keep = [with_send.c[c] for c in ("event_id", "enrollment_id", "metric", "step_key", "at")]
    return select(*keep, with_send.c.day, *dims).select_from(
        with_send.outerjoin(send, send.c.id == with_send.c.send_id)
    )


def _candidates(
    session: Session,
    span: Span,
    metric: str,
    condition: ColumnElement[bool],
    *,
    step_key: bool = False,
) -> Select[Any]:
    """Events of `span` matching `condition` as would-be facts of `metric`, own dimensions
    (the event's, falling back to its enrollment's), one per fact key: the earliest event."""
    dims = _own_dims()
    key = dims[2] if step_key else literal_column("''")
    rows = (
        select(
            Event.id.label("event_id"),
            Event.enrollment_id,
            literal_column(f"'{metric}'").label("metric"),
            key.label("step_key"),
            Event.at,
            _day(session, Event.at).label("day"),
            *dims,
            func.row_number()
            .over(
                partition_by=[Event.enrollment_id, *([key] if step_key else [])], order_by=Event.id
            )
            .label("rank"),
        )
        .outerjoin(Enrollment, Enrollment.id == Event.enrollment_id)
        .where(span.where, Event.enrollment_id.is_not(None), condition)
        .subquery()
    )
    return select(*(c for c in rows.c if c.name != "rank")).where(rows.c.rank == 1)


def _own_dims() -> list[ColumnElement[Any]]:
    """An event's dimensions; a missing (NULL, 0, '') id or owner falls back to its enrollment."""
    values = [
        func.coalesce(func.nullif(Event.sequence_id, 0), Enrollment.sequence_id, 0),
        func.coalesce(func.nullif(Event.version_id, 0), Enrollment.version_id, 0),
        func.coalesce(Event.step_id, ""),
        func.coalesce(Event.variant, ""),
        func.coalesce(func.nullif(Event.mailbox_id, 0), Enrollment.mailbox_id, 0),
        func.coalesce(func.nullif(Event.owner, ""), Enrollment.owner, ""),
    ]
    return [value.label(name) for value, name in zip(values, _DIMS, strict=True)]


def _add_facts(session: Session, facts: Select[Any]) -> None:
    """Insert the facts not known yet and add exactly those to the rollup counts."""
    rows = facts.subquery()
    columns = ["enrollment_id", "metric", "step_key", "at", "day", *_DIMS]
    ordered = select(*(rows.c[c] for c in columns)).where(true()).order_by(rows.c.event_id)
    stmt = _dialect_insert(session, ReportFact).from_select(columns, ordered)
    stmt = stmt.on_conflict_do_nothing(index_elements=["enrollment_id", "metric", "step_key"])
    if session.get_bind().dialect.name == "postgresql":
        # One statement: the rows actually inserted (RETURNING) are counted as they land.
        new = stmt.returning(*(ReportFact.__table__.c[c] for c in _ROLLUP_KEY)).cte("new")
        key = [new.c[c] for c in _ROLLUP_KEY]
        session.execute(_upsert_counts(session, select(*key, func.count()).group_by(*key)))
    else:
        mark = _last_fact_id(session)
        session.execute(stmt)
        _roll_up(session, ReportFact.id > mark)


def _dialect_insert(session: Session, model: Any) -> Any:
    """INSERT with ON CONFLICT (both dialects spell it the same; SQLAlchemy splits them)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _day(session: Session, at: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return func.date(at)  # SQLite stores naive UTC text


def _last_fact_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(ReportFact.id), 0))) or 0)


# --- rollup rows --------------------------------------------------------------------------


def _roll_up(session: Session, which: ColumnElement[bool], sign: int = 1) -> None:
    """Add (sign 1) or subtract (sign -1) the facts selected by `which` to their day's counts."""
    key = [getattr(ReportFact, c) for c in _ROLLUP_KEY]
    counts = select(*key, func.count() * sign).where(which).group_by(*key)
    session.execute(_upsert_counts(session, counts))


def _upsert_counts(session: Session, counts: Select[Any]) -> Any:
    """Add `counts` (rows of day, dimensions, metric, delta) to report_rollups."""
    stmt = _dialect_insert(session, ReportRollup).from_select([*_ROLLUP_KEY, "count"], counts)
    return stmt.on_conflict_do_update(
        index_elements=list(_ROLLUP_KEY),
        set_={"count": ReportRollup.count + stmt.excluded["count"]},
    )


# --- replies: recomputed per enrollment ---------------------------------------------------


class _Replies:
    """The replied / positive facts of every enrollment with a reply event in the span."""

    def __init__(self, session: Session, span: Span) -> None:
        self.session = session
        self.span = span
        self.touched = (
            select(Event.enrollment_id)
            .where(span.where, Event.type.in_(_REPLY_EVENTS), Event.enrollment_id.is_not(None))
            .distinct()
        )

    def recompute(self) -> None:
        if self.session.scalar(select(self.touched.exists())) is not True:
            return
        facts = self._rows(
            ReportFact,
            ReportFact.enrollment_id.in_(self.touched),
            ReportFact.metric.in_(
                [metrics.REPLIED, metrics.POSITIVE, metrics.CONTACTED, metrics.STEP_SENT]
            ),
        )
        existing: dict[tuple[int, str], Row[Any]] = {}
        contacted: dict[int, datetime] = {}
        sends: dict[int, list[Row[Any]]] = defaultdict(list)
        for fact in facts:
            if fact.metric == metrics.CONTACTED:
                contacted[fact.enrollment_id] = fact.at
            elif fact.metric == metrics.STEP_SENT:
                sends[fact.enrollment_id].append(fact)
            else:
                existing[(fact.enrollment_id, fact.metric)] = fact
        for chain in sends.values():
            chain.sort(key=lambda f: (f.at, f.id))
        enrollments = {e.id: e for e in self._rows(Enrollment, Enrollment.id.in_(self.touched))}
        per_enrollment: dict[int, list[Row[Any]]] = defaultdict(list)
        for event in self._rows(
            Event,
            Event.enrollment_id.in_(self.touched),
            Event.type.in_(_REPLY_EVENTS),
            Event.id <= self.span.upto,
        ):
            per_enrollment[event.enrollment_id].append(event)
        removed: list[int] = []
        added: list[dict[str, Any]] = []
        for enrollment_id, events in per_enrollment.items():
            first, positive = _first_replies(events)
            for metric, reply in ((metrics.REPLIED, first), (metrics.POSITIVE, positive)):
                old = existing.get((enrollment_id, metric))
                if old is not None and reply is not None and _same_reply(old, reply):
                    continue  # unchanged: keep the fact as it was dated and attributed
                if old is not None:
                    removed.append(old.id)
                if reply is not None:
                    dims = _attributed(sends[enrollment_id], reply, enrollments.get(enrollment_id))
                    added.append(_reply_fact(metric, reply, contacted.get(enrollment_id), dims))
        self._replace(removed, added)

    def _rows(self, model: Any, *where: ColumnElement[bool]) -> list[Row[Any]]:
        """Plain rows (no ORM identity map: facts are changed by plain statements here)."""
        table = model.__table__
        return list(self.session.execute(select(*table.c).where(*where).order_by(table.c.id)))

    def _replace(self, removed: list[int], added: list[dict[str, Any]]) -> None:
        for chunk in _chunks(removed):
            _roll_up(self.session, ReportFact.id.in_(chunk), sign=-1)
            self.session.execute(delete(ReportFact).where(ReportFact.id.in_(chunk)))
        if added:
            # SQLite may reuse a just-deleted id: mark after deleting, before inserting.
            mark = _last_fact_id(self.session)
            self.session.execute(insert(ReportFact), added)
            _roll_up(self.session, ReportFact.id > mark)


def _same_reply(fact: Row[Any], event: Row[Any]) -> bool:
    return bool((fact.at, fact.inbound_id) == (event.at, event.inbound_id))


def _reply_fact(
    metric: str, event: Row[Any], contacted_at: datetime | None, dims: Dims
) -> dict[str, Any]:
    return {
        "enrollment_id": event.enrollment_id,
        "metric": metric,
        "step_key": "",
        "at": event.at,
        "day": event.at.date(),
        "value": (event.at - contacted_at).total_seconds() if contacted_at else None,
        "inbound_id": event.inbound_id,
        **{d: getattr(dims, d) for d in _DIMS},
    }


def _first_replies(events: list[Row[Any]]) -> tuple[Row[Any] | None, Row[Any] | None]:
    """The event dating the first human reply, and the first positive one (current classes)."""
    state: dict[int | str, dict[str, Any]] = {}
    for event in events:
        key: int | str = event.inbound_id if event.inbound_id is not None else f"e{event.id}"
        data = event.data or {}
        if event.type == EventType.REPLY_RECEIVED:
            state[key] = {"cls": "human_reply", "intent": data.get("intent"), "event": event}
        elif event.type == EventType.AUTO_REPLY_RECEIVED:
            state[key] = {"cls": "auto_reply", "intent": None, "event": event}
        else:  # reclassified: data.from / data.to (an InboundClass), optional data.intent
            entry = state.setdefault(key, {"cls": None, "intent": None, "event": event})
            entry["cls"] = data.get("to")
            if "intent" in data:
                entry["intent"] = data.get("intent")
    humans = sorted(
        (e for e in state.values() if e["cls"] in _HUMAN),
        key=lambda e: (e["event"].at, e["event"].id),
    )
    first = humans[0]["event"] if humans else None
    positive = next((e["event"] for e in humans if e["intent"] == "positive"), None)
    return first, positive


def _attributed(sends: list[Row[Any]], event: Row[Any], enrollment: Row[Any] | None) -> Dims:
    """The dimensions of the last email sent at or before `event` (or the event's own)."""
    before = [fact for fact in sends if fact.at <= event.at]
    if before:
        last = before[-1]
        return Dims(*(getattr(last, d) for d in _DIMS))
    return Dims(
        sequence_id=event.sequence_id or (enrollment.sequence_id if enrollment else 0) or 0,
        version_id=event.version_id or (enrollment.version_id if enrollment else 0) or 0,
        step_id=event.step_id or "",
        variant=event.variant or "",
        mailbox_id=event.mailbox_id or (enrollment.mailbox_id if enrollment else 0) or 0,
        owner=event.owner or (enrollment.owner if enrollment else "") or "",
    )


def _chunks(values: list[Any], size: int = 1000) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
