"""Lead scoring: points per event, optional weekly decay, thresholds that trigger actions.

Pure. The sequence spec's `scoring` block (a plain dict, read defensively) looks like::

    scoring:
      points: {reply.positive: 50, reply.negative: -20, message.sent: 1}
      decay_per_week: 5       # points lost per week without a change (never below 0)
      thresholds:
        - at: 80
          then: {task: "Call {{ first_name }} today", notify: owner, move_to: hot-leads}

(engine.sequence_language.model.ScoringSpec validates it.) Without a block, or with no points, the
DEFAULT_POINTS below apply; no decay and no thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.core.classification import AutoReplyKind, Classification, InboundClass, ReplyIntent

DEFAULT_POINTS: dict[str, int] = {
    "reply.positive": 50,
    "reply.question": 20,
    "reply.referral": 20,
    "reply.neutral": 10,
    "reply.negative": -20,
    "reply.unsubscribe_request": -50,
    "complaint.received": -100,
    "bounce.hard": -10,
}

_WEEK_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Threshold:
    at_least: int
    then: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    points: dict[str, int]
    decay_per_week: int = 0  # points lost per week without a change
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreChange:
    old: int
    decayed: int  # the old score after decay, before the delta
    delta: int
    new: int
    reason: str
    crossed: tuple[Threshold, ...]  # thresholds crossed upwards by this change


def config_from_spec(block: Any) -> ScoringConfig:
    """Read a spec's `scoring` block; anything unreadable falls back to the defaults."""
    if not isinstance(block, Mapping) or not block:
        return ScoringConfig(points=dict(DEFAULT_POINTS))
    raw_points = block.get("points") if "points" in block else block
    points: dict[str, int] = {}
    if isinstance(raw_points, Mapping):
        for key, value in raw_points.items():
            if key in ("decay_per_week", "thresholds"):
                continue
            parsed = _int(value)
            if parsed is not None:
                points[str(key)] = parsed
    thresholds: list[Threshold] = []
    for item in block.get("thresholds") or ():
        if isinstance(item, Mapping):
            at = _int(item.get("at", item.get("at_least")))
            then = item.get("then")
            if at is not None and isinstance(then, Mapping):
                thresholds.append(Threshold(at, {str(k): v for k, v in then.items()}))
    return ScoringConfig(
        points=points or dict(DEFAULT_POINTS),
        decay_per_week=max(0, _int(block.get("decay_per_week")) or 0),
        thresholds=tuple(sorted(thresholds, key=lambda t: t.at_least)),
    )


def event_key(c: Classification) -> str | None:
    """The scoring key of an inbound message: reply.<intent>, bounce.<kind>, …"""
    if c.kind is InboundClass.HUMAN_REPLY:
        return f"reply.{c.intent or ReplyIntent.NEUTRAL}"
    if c.kind is InboundClass.AUTO_REPLY:
        return f"auto_reply.{c.auto_reply_kind or AutoReplyKind.OTHER}"
    if c.kind is InboundClass.HARD_BOUNCE:
        return "bounce.hard"
    if c.kind is InboundClass.SOFT_BOUNCE:
        return "bounce.soft"
    if c.kind is InboundClass.COMPLAINT:
        return "complaint.received"
    return None


def points_for(config: ScoringConfig, key: str | None) -> int:
    """Points for `key`; `reply` (no intent) is the fallback for any `reply.<intent>`."""
    if key is None:
        return 0
    if key in config.points:
        return config.points[key]
    head = key.split(".", 1)[0]
    return config.points.get(head, 0)


def decay(score: int, since: datetime | None, now: datetime, per_week: int) -> int:
    """The score after losing `per_week` points per whole week since the last change.

    Only positive scores decay, and never below 0: a negative score is a signal to keep.
    """
    if since is None or per_week <= 0 or score <= 0 or now <= since:
        return score
    weeks = int((now - since).total_seconds() // _WEEK_SECONDS)
    return max(0, score - weeks * per_week)


def change(
    config: ScoringConfig,
    score: int,
    delta: int,
    *,
    reason: str,
    last_change_at: datetime | None,
    now: datetime,
) -> ScoreChange:
    """Apply decay since the last change, then `delta`; report thresholds crossed upwards."""
    decayed = decay(score, last_change_at, now, config.decay_per_week)
    new = decayed + delta
    crossed = tuple(t for t in config.thresholds if decayed < t.at_least <= new)
    return ScoreChange(score, decayed, delta, new, reason, crossed)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).replace("+", "").strip())
    except (TypeError, ValueError):
        return None
