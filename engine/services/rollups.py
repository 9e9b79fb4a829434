"""Report rollups: the event log folded, incrementally, into facts and per-day counts.

`refresh_rollups(db)` reads the events after the last one it processed, turns them into
prospect-level facts (engine.core.metrics: contacted, replied, …; at most one per enrollment)
and keeps `report_rollups` (counts per day × sequence × version × step × variant × mailbox ×
owner × metric) in step. Facts, counts and the cursor move in one transaction, so a crash
redoes a batch instead of counting it twice; a lock (advisory on PostgreSQL, the single
writer on SQLite) makes concurrent refreshes take turns. Running it again is a no-op.

Attribution: an outcome (bounce, reply, opt-out, meeting) belongs to the enrollment's most
recent email sent before it — its step, variant and mailbox.

Reclassification: replies are recomputed from the enrollment's reply.received, reply.auto and
inbound.reclassified events in order; the current class of each inbound message counts. A
reply reclassified as an auto-reply removes the "replied" fact (and its count) again.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from engine.core import metrics
from engine.core.events import EventType
from engine.store.db import Database
from engine.store.models import Enrollment, Event, ReportCursor, ReportFact, ReportRollup

CURSOR = "rollups"
_LOCK_KEY = zlib.crc32(b"kadenz.rollups")
_REPLY_EVENTS = (
    EventType.REPLY_RECEIVED.value,
    EventType.AUTO_REPLY_RECEIVED.value,
    EventType.INBOUND_RECLASSIFIED.value,
)
_HUMAN = {"human_reply", "reply", "human"}  # accepted spellings of the human class
_HARD_BOUNCE = {None, "", "hard", "hard_bounce"}

DimKey = tuple[date, int, int, str, str, int, str, str]


@dataclass(frozen=True, slots=True)
class Dims:
    sequence_id: int = 0
    version_id: int = 0
    step_id: str = ""
    variant: str = ""
    mailbox_id: int = 0
    owner: str = ""


def refresh_rollups(db: Database, batch_size: int = 5000) -> int:
    """Process every new event; returns how many were read. Idempotent, concurrency-safe."""
    total = 0
    while True:
        with db.session() as session:
            done = _refresh_batch(session, batch_size)
        total += done
        if done < batch_size:
            return total


def last_event_id(session: Session) -> int:
    cursor = session.get(ReportCursor, CURSOR)
    return cursor.last_event_id if cursor else 0


def _refresh_batch(session: Session, batch_size: int) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    cursor = session.get(ReportCursor, CURSOR)
    after = cursor.last_event_id if cursor else 0
    batch = list(
        session.scalars(select(Event).where(Event.id > after).order_by(Event.id).limit(batch_size))
    )
    if not batch:
        return 0
    folder = _Folder(session, batch)
    folder.fold()
    if cursor is None:
        cursor = ReportCursor(name=CURSOR, last_event_id=0, updated_at=batch[-1].at)
        session.add(cursor)
    cursor.last_event_id = batch[-1].id
    cursor.updated_at = max(cursor.updated_at, batch[-1].at)
    return len(batch)


class _Folder:
    """Turns one batch of events into fact changes and rollup deltas.

    Everything the batch needs is loaded up front with a few IN queries (facts, enrollments,
    reply events, rollup rows) so the cost is per batch, not per event.
    """

    def __init__(self, session: Session, batch: list[Event]) -> None:
        self.session = session
        self.batch = batch
        self.max_id = batch[-1].id
        self.deltas: dict[DimKey, int] = defaultdict(int)
        ids = sorted({e.enrollment_id for e in batch if e.enrollment_id is not None})
        self.enrollments: dict[int, Enrollment] = {}
        self.facts: dict[tuple[int, str, str], ReportFact] = {}  # new ones: not yet in a session
        self.new: set[tuple[int, str, str]] = set()
        for chunk in _chunks(ids):
            for enrollment in session.scalars(select(Enrollment).where(Enrollment.id.in_(chunk))):
                self.enrollments[enrollment.id] = enrollment
            for fact in session.scalars(
                select(ReportFact).where(ReportFact.enrollment_id.in_(chunk))
            ):
                self.facts[(fact.enrollment_id, fact.metric, fact.step_key)] = fact
        self._sends: dict[int, list[tuple[datetime, Dims]]] = defaultdict(list)
        for (enrollment_id, metric, _), fact in self.facts.items():
            if metric == metrics.STEP_SENT:
                self._sends[enrollment_id].append((fact.at, _dims_of(fact)))
        for sends in self._sends.values():
            sends.sort(key=lambda pair: pair[0])

    def fold(self) -> None:
        reply_touched: set[int] = set()
        for event in self.batch:
            enrollment_id = event.enrollment_id
            if enrollment_id is None:
                continue  # reports count enrollments; prospect-only events carry no dimension
            kind = event.type
            if kind == EventType.ENROLLED:
                self._add(enrollment_id, metrics.ENROLLED, "", event.at, self._own_dims(event))
            elif kind == EventType.MESSAGE_SENT:
                dims = self._own_dims(event)
                self._add(enrollment_id, metrics.STEP_SENT, dims.step_id, event.at, dims)
                self._add(enrollment_id, metrics.CONTACTED, "", event.at, dims)
                self._sends[enrollment_id].append((event.at, dims))
            elif kind in (EventType.MESSAGE_BOUNCED, EventType.BOUNCE_RECEIVED):
                if (event.data or {}).get("kind") in _HARD_BOUNCE:
                    self._add_attributed(enrollment_id, metrics.BOUNCED, event)
            elif kind in (EventType.UNSUBSCRIBED, EventType.COMPLAINT_RECEIVED):
                self._add_attributed(enrollment_id, metrics.OPTED_OUT, event)
            elif kind == EventType.MEETING_BOOKED or (
                kind == EventType.TASK_COMPLETED
                and (event.data or {}).get("outcome") == "meeting_booked"
            ):
                self._add_attributed(enrollment_id, metrics.MEETING, event)
            elif kind in _REPLY_EVENTS:
                reply_touched.add(enrollment_id)
        if reply_touched:
            self._recompute_replies(sorted(reply_touched))
        self.session.flush()
        self._insert_new_facts()
        self._apply_deltas()

    def _insert_new_facts(self) -> None:
        """One executemany for the batch's new facts (the ORM would insert them one by one)."""
        rows = [_fact_row(self.facts[key]) for key in sorted(self.new)]
        if rows:
            self.session.execute(insert(ReportFact), rows)

    # --- dimensions ----------------------------------------------------------------------

    def _own_dims(self, event: Event) -> Dims:
        enrollment = self.enrollments.get(event.enrollment_id or 0)
        owner = event.owner or (enrollment.owner if enrollment else None)
        mailbox = event.mailbox_id or (enrollment.mailbox_id if enrollment else None)
        version = event.version_id or (enrollment.version_id if enrollment else None)
        sequence = event.sequence_id or (enrollment.sequence_id if enrollment else None)
        return Dims(
            sequence_id=sequence or 0,
            version_id=version or 0,
            step_id=event.step_id or "",
            variant=event.variant or "",
            mailbox_id=mailbox or 0,
            owner=owner or "",
        )

    def _attributed_dims(self, enrollment_id: int, event: Event) -> Dims:
        """The dimensions of the last email sent before `event` (or the event's own)."""
        before = [dims for at, dims in self._sends.get(enrollment_id, []) if at <= event.at]
        return before[-1] if before else self._own_dims(event)

    # --- facts -----------------------------------------------------------------------------

    def _add_attributed(self, enrollment_id: int, metric: str, event: Event) -> None:
        dims = self._attributed_dims(enrollment_id, event)
        self._add(enrollment_id, metric, "", event.at, dims)

    def _add(
        self,
        enrollment_id: int,
        metric: str,
        step_key: str,
        at: datetime,
        dims: Dims,
        value: float | None = None,
        inbound_id: int | None = None,
    ) -> None:
        key = (enrollment_id, metric, step_key)
        if key in self.facts:
            return
        fact = ReportFact(
            enrollment_id=enrollment_id,
            metric=metric,
            step_key=step_key,
            at=at,
            day=at.date(),
            value=value,
            inbound_id=inbound_id,
            **_dims_fields(dims),
        )
        self.facts[key] = fact
        self.new.add(key)
        self.deltas[_key(fact.day, dims, metric)] += 1

    def _remove(self, fact: ReportFact) -> None:
        self.deltas[_key(fact.day, _dims_of(fact), fact.metric)] -= 1
        key = (fact.enrollment_id, fact.metric, fact.step_key)
        del self.facts[key]
        if key in self.new:
            self.new.discard(key)
        else:
            # Flushed now: the unit of work inserts before it deletes, and a replacement fact
            # with the same unique key may follow in this batch.
            self.session.delete(fact)
            self.session.flush()

    def _recompute_replies(self, enrollment_ids: list[int]) -> None:
        per_enrollment: dict[int, list[Event]] = defaultdict(list)
        for chunk in _chunks(enrollment_ids):
            for event in self.session.scalars(
                select(Event)
                .where(
                    Event.enrollment_id.in_(chunk),
                    Event.type.in_(_REPLY_EVENTS),
                    Event.id <= self.max_id,
                )
                .order_by(Event.id)
            ):
                per_enrollment[event.enrollment_id or 0].append(event)
        for enrollment_id in enrollment_ids:
            self._recompute_one(enrollment_id, per_enrollment.get(enrollment_id, []))

    def _recompute_one(self, enrollment_id: int, events: list[Event]) -> None:
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
        first = humans[0] if humans else None
        positive = next((e for e in humans if e["intent"] == "positive"), None)
        self._set_reply_fact(enrollment_id, metrics.REPLIED, first)
        self._set_reply_fact(enrollment_id, metrics.POSITIVE, positive)

    def _set_reply_fact(
        self, enrollment_id: int, metric: str, entry: dict[str, Any] | None
    ) -> None:
        existing = self.facts.get((enrollment_id, metric, ""))
        event: Event | None = entry["event"] if entry else None
        if (
            existing is not None
            and event is not None
            and (existing.at, existing.inbound_id) == (event.at, event.inbound_id)
        ):
            return
        if existing is not None:
            self._remove(existing)
        if event is None:
            return
        contacted = self.facts.get((enrollment_id, metrics.CONTACTED, ""))
        seconds = (event.at - contacted.at).total_seconds() if contacted else None
        self._add(
            enrollment_id,
            metric,
            "",
            event.at,
            self._attributed_dims(enrollment_id, event),
            value=seconds,
            inbound_id=event.inbound_id,
        )

    # --- rollup rows -------------------------------------------------------------------

    def _apply_deltas(self) -> None:
        changes = {key: delta for key, delta in self.deltas.items() if delta != 0}
        if not changes:
            return
        days = sorted({key[0] for key in changes})
        rows: dict[DimKey, ReportRollup] = {}
        for chunk in _chunks(days):
            for row in self.session.scalars(
                select(ReportRollup).where(ReportRollup.day.in_(chunk))
            ):
                rows[
                    (
                        row.day,
                        row.sequence_id,
                        row.version_id,
                        row.step_id,
                        row.variant,
                        row.mailbox_id,
                        row.owner,
                        row.metric,
                    )
                ] = row
        for key, delta in sorted(changes.items()):
            existing = rows.get(key)
            if existing is not None:
                existing.count += delta
                continue
            day, seq, ver, step, variant, mailbox, owner, metric = key
            self.session.add(
                ReportRollup(
                    day=day,
                    sequence_id=seq,
                    version_id=ver,
                    step_id=step,
                    variant=variant,
                    mailbox_id=mailbox,
                    owner=owner,
                    metric=metric,
                    count=delta,
                )
            )


def _fact_row(fact: ReportFact) -> dict[str, Any]:
    return {
        "enrollment_id": fact.enrollment_id,
        "metric": fact.metric,
        "step_key": fact.step_key,
        "at": fact.at,
        "day": fact.day,
        "value": fact.value,
        "inbound_id": fact.inbound_id,
        **_dims_fields(_dims_of(fact)),
    }


def _chunks(values: list[Any], size: int = 1000) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _dims_of(fact: ReportFact) -> Dims:
    return Dims(
        fact.sequence_id, fact.version_id, fact.step_id, fact.variant, fact.mailbox_id, fact.owner
    )


def _dims_fields(dims: Dims) -> dict[str, Any]:
    return {
        "sequence_id": dims.sequence_id,
        "version_id": dims.version_id,
        "step_id": dims.step_id,
        "variant": dims.variant,
        "mailbox_id": dims.mailbox_id,
        "owner": dims.owner,
    }


def _key(day: date, dims: Dims, metric: str) -> DimKey:
    return (
        day,
        dims.sequence_id,
        dims.version_id,
        dims.step_id,
        dims.variant,
        dims.mailbox_id,
        dims.owner,
        metric,
    )
