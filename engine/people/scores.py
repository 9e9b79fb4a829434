"""Changing a prospect's lead score: decay since the last change, then the delta, one event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core import scoring
from engine.core.events import EventType
from engine.store import event_log as events
from engine.store.models import Enrollment, Event, Prospect


def change_score(
    session: Session,
    now: datetime,
    prospect: Prospect,
    delta: int,
    *,
    reason: str,
    config: scoring.ScoringConfig | None = None,
    enrollment: Enrollment | None = None,
    inbound_id: int | None = None,
) -> scoring.ScoreChange:
    """Decay the prospect's score since its last change, add `delta`, append SCORE_CHANGED."""
    config = config or scoring.ScoringConfig(points={})
    last = session.scalar(
        select(func.max(Event.at)).where(
            Event.prospect_id == prospect.id, Event.type == str(EventType.SCORE_CHANGED)
        )
    )
    result = scoring.change(
        config, prospect.score or 0, delta, reason=reason, last_change_at=last, now=now
    )
    prospect.score = result.new
    prospect.updated_at = now
    dims: dict[str, Any] = {"inbound_id": inbound_id}
    if enrollment is None:
        dims["prospect_id"] = prospect.id
    events.record(
        session,
        EventType.SCORE_CHANGED,
        now,
        enrollment=enrollment,
        data={
            "delta": delta,
            "score": result.new,
            "reason": reason,
            **({"decayed_from": result.old} if result.decayed != result.old else {}),
        },
        **dims,
    )
    return result
