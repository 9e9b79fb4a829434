"""What to do about one inbound message: default actions per class, then the sequence's rules.

Pure: input is the classification plus the sequence's `stop_on` and `rules` (read from the
stored spec as plain dicts, defensively); output is a list of `Action` values that
engine.inbound.actions applies. Safety actions (suppressing an address after a hard
bounce, a complaint or an unsubscribe request) are never removed by a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.core.classification import AutoReplyKind, Classification, InboundClass, ReplyIntent
from engine.schedule.types import Duration, DurationUnit

DEFAULT_STOP_ON = ("reply", "bounce", "unsubscribe")
DEFAULT_OOO_PAUSE = Duration(7, DurationUnit.DAYS)
DEFAULT_SOFT_BOUNCE_LIMIT = 3
DEFAULT_MEETING_TASK = "Book a meeting with {{ first_name }}"
DEFAULT_REFERRAL_TASK = "Follow up with referred contact {{ referral }}"


class ActionKind(StrEnum):
    MARK_BOUNCED = "mark_bounced"  # the matched outbound message: sent -> bounced
    SUPPRESS = "suppress"  # never email this address again (reason)
    STOP = "stop"  # stop the matched enrollment(s)
    STOP_ADDRESS = "stop_address"  # stop every live enrollment of the address
    STOP_COMPANY = "stop_company"  # stop colleagues' live enrollments in the same sequence
    COUNT_SOFT_BOUNCE = "count_soft_bounce"  # stop once the limit is reached
    MAILBOX_HEALTH = "mailbox_health"  # a block counts against the sending mailbox
    PAUSE = "pause"  # until the return date (next business day), else `duration`
    SCORE = "score"  # add `points` to the prospect's score
    TASK = "task"  # a to-do for the owner, `text` is the title template
    MOVE_TO = "move_to"  # stop here and enroll in sequence `target`
    NOTIFY = "notify"  # tell `target` (a person) with a task
    RECORD = "record"  # nothing but events


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    reason: str = ""
    points: int = 0
    text: str | None = None  # task title template / notify text
    target: str | None = None  # sequence key (move_to), person (notify)
    until_return_date: bool = False  # pause until the stated return date when there is one
    duration: Duration | None = None  # pause length when no date (or no date wanted)
    limit: int = 0  # soft-bounce limit
    source: str = "default"  # "default" or "rule N" (1-based), shown in `inbound show`


def decide(
    c: Classification,
    *,
    stop_on: Iterable[str] | None = None,
    rules: Sequence[Any] | None = None,
    score: int = 0,
    soft_bounce_limit: int | None = None,
) -> list[Action]:
    """Default actions for the class, then every matching rule's actions, in rule order.

    `score` is the prospect's current score (for `when: {score_at_least: N}`).
    """
    stops = set(DEFAULT_STOP_ON if stop_on is None else (str(s) for s in stop_on))
    actions = _defaults(c, stops, soft_bounce_limit or DEFAULT_SOFT_BOUNCE_LIMIT)
    for number, rule in enumerate(rules or (), start=1):
        when = _mapping(_get(rule, "when"))
        then = _mapping(_get(rule, "then"))
        if any(v is not None for v in when.values()) and then and matches(when, c, score):
            actions = _apply_rule(actions, then, f"rule {number}")
    return actions


def _defaults(c: Classification, stops: set[str], soft_limit: int) -> list[Action]:
    kind = c.kind
    if kind is InboundClass.HARD_BOUNCE:
        out = [
            Action(ActionKind.MARK_BOUNCED, "hard bounce"),
            Action(ActionKind.SUPPRESS, "hard_bounce"),
        ]
        if "bounce" in stops:
            out.append(Action(ActionKind.STOP, "hard bounce"))
        return out
    if kind is InboundClass.SOFT_BOUNCE:
        limit = soft_limit if "bounce" in stops else 0
        return [Action(ActionKind.COUNT_SOFT_BOUNCE, "soft bounce", limit=limit)]
    if kind is InboundClass.BLOCKED:
        return [Action(ActionKind.MAILBOX_HEALTH, "blocked")]
    if kind is InboundClass.COMPLAINT:
        return _opt_out("complaint", stops)
    if kind is InboundClass.AUTO_REPLY:
        if "auto_reply" in stops:  # rarely wanted: any auto-reply ends the sequence
            return [Action(ActionKind.STOP, "auto-reply")]
        if c.auto_reply_kind is AutoReplyKind.OUT_OF_OFFICE:
            return [
                Action(
                    ActionKind.PAUSE,
                    "out of office",
                    until_return_date=True,
                    duration=DEFAULT_OOO_PAUSE,
                )
            ]
        return [Action(ActionKind.RECORD, "auto-reply")]
    if kind is InboundClass.HUMAN_REPLY:
        return _reply(c, stops)
    return [Action(ActionKind.RECORD, str(kind))]  # delivered, unclassified


def _opt_out(reason: str, stops: set[str]) -> list[Action]:
    out = [Action(ActionKind.SUPPRESS, reason)]
    if "unsubscribe" in stops:
        out.append(Action(ActionKind.STOP_ADDRESS, reason))
    return out


def _reply(c: Classification, stops: set[str]) -> list[Action]:
    if c.intent is ReplyIntent.UNSUBSCRIBE_REQUEST:
        return _opt_out("unsubscribe", stops)
    out: list[Action] = []
    if "reply" in stops:
        out.append(Action(ActionKind.STOP, "reply"))
    if "company_reply" in stops:
        out.append(Action(ActionKind.STOP_COMPANY, "company reply"))
    if c.intent is ReplyIntent.POSITIVE:
        out.append(Action(ActionKind.TASK, "positive reply", text=DEFAULT_MEETING_TASK))
    elif c.intent is ReplyIntent.REFERRAL:
        out.append(Action(ActionKind.TASK, "referral", text=DEFAULT_REFERRAL_TASK))
    return out or [Action(ActionKind.RECORD, "reply")]


# --- rules -----------------------------------------------------------------------------


_BOUNCE_WORDS = {
    "hard": InboundClass.HARD_BOUNCE,
    "soft": InboundClass.SOFT_BOUNCE,
    "blocked": InboundClass.BLOCKED,
}


def event_names(c: Classification) -> set[str]:
    """Names a rule's `when: {event: …}` can use for this message."""
    names = {str(c.kind)}
    if c.kind is InboundClass.HUMAN_REPLY:
        names.add("reply")
        if c.intent is ReplyIntent.UNSUBSCRIBE_REQUEST:
            names.add("unsubscribe")
    if c.kind in _BOUNCE_WORDS.values():
        names.add("bounce")
    if c.kind is InboundClass.AUTO_REPLY:
        names.add("auto_reply")
        if c.auto_reply_kind:
            names.add(str(c.auto_reply_kind))
    # the event types this message appends (engine.core.events), as the spec names them
    names.add("inbound.received")
    names |= {
        InboundClass.HUMAN_REPLY: {"reply.received"},
        InboundClass.AUTO_REPLY: {"reply.auto"},
        InboundClass.HARD_BOUNCE: {"bounce.received"},
        InboundClass.SOFT_BOUNCE: {"bounce.received"},
        InboundClass.BLOCKED: {"bounce.received"},
        InboundClass.COMPLAINT: {"complaint.received"},
    }.get(c.kind, set())
    if c.intent is ReplyIntent.UNSUBSCRIBE_REQUEST:
        names.add("prospect.unsubscribed")
    return names


def matches(when: Mapping[str, Any], c: Classification, score: int = 0) -> bool:
    """Every condition given must hold; unknown keys never match (a typo must not fire)."""
    for key, expected in when.items():
        if expected is None:  # the stored spec carries every field, unset ones as null
            continue
        want = _words(expected)
        if key == "reply":
            if c.kind is not InboundClass.HUMAN_REPLY:
                return False
            intent = str(c.intent or ReplyIntent.NEUTRAL)
            if "any" not in want and intent not in want:
                return False
        elif key == "auto_reply":
            if c.kind is not InboundClass.AUTO_REPLY:
                return False
            kind = str(c.auto_reply_kind or AutoReplyKind.OTHER)
            if "any" not in want and kind not in want:
                return False
        elif key == "bounce":
            kinds = {_BOUNCE_WORDS[w] for w in want if w in _BOUNCE_WORDS}
            if "any" in want:
                kinds = set(_BOUNCE_WORDS.values())
            if c.kind not in kinds:
                return False
        elif key == "event":
            if not want & event_names(c):
                return False
        elif key == "score_at_least":
            try:
                if score < int(expected):
                    return False
            except (TypeError, ValueError):
                return False
        else:
            return False
    return True


def then_actions(then: Mapping[str, Any], source: str) -> list[Action]:
    """The actions a `then:` block asks for on its own (e.g. a scoring threshold's)."""
    return _apply_rule([], then, source)


def _apply_rule(actions: list[Action], then: Mapping[str, Any], source: str) -> list[Action]:
    out = list(actions)
    if _truthy(then.get("stop")):
        # Rules add stops; `stop: false` (the spec's default) changes nothing. To keep going
        # after some replies, leave `reply` out of stop_on and stop by rule on the others.
        stop_kinds = {ActionKind.STOP, ActionKind.STOP_ADDRESS}
        if not any(a.kind in stop_kinds for a in out):
            out.append(Action(ActionKind.STOP, "rule", source=source))
    if then.get("pause_until") or then.get("otherwise_pause"):
        out = [a for a in out if a.kind is not ActionKind.PAUSE]
        duration = _duration(then.get("otherwise_pause"))
        out.append(
            Action(
                ActionKind.PAUSE,
                "rule",
                until_return_date=str(then.get("pause_until", "")) == "return_date",
                duration=duration or DEFAULT_OOO_PAUSE,
                source=source,
            )
        )
    if then.get("score") is not None:
        try:
            points = int(str(then["score"]).replace("+", ""))
        except ValueError:
            points = 0
        if points:
            out.append(Action(ActionKind.SCORE, "rule", points=points, source=source))
    if then.get("task"):
        text = str(then["task"])
        # A rule's task replaces the default task of the same reply, not adds a second one.
        out = [a for a in out if not (a.kind is ActionKind.TASK and a.source == "default")]
        out.append(Action(ActionKind.TASK, "rule", text=text, source=source))
    if then.get("move_to"):
        out.append(Action(ActionKind.MOVE_TO, "rule", target=str(then["move_to"]), source=source))
    if then.get("notify"):
        target = str(then["notify"])
        # `task:` already puts an item in the owner's queue: no second, FYI one beside it.
        if not (target == "owner" and then.get("task")):
            out.append(Action(ActionKind.NOTIFY, "rule", target=target, source=source))
    return out


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    value = getattr(obj, key, None)  # a pydantic RuleSpec works too
    if value is not None and hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    return value


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _words(value: Any) -> set[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v).strip().lower() for v in value}
    if value is True:
        return {"any"}
    return {str(value).strip().lower()}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "on"}
    return bool(value)


def _duration(value: Any) -> Duration | None:
    if value is None:
        return None
    if isinstance(value, Duration):
        return value
    if isinstance(value, Mapping) and "amount" in value and "unit" in value:
        try:
            return Duration(int(value["amount"]), DurationUnit(str(value["unit"])))
        except ValueError:
            return None
    try:
        return Duration.parse(str(value))
    except ValueError:
        return None
