"""The sequence file, as typed models. Pure: no I/O beyond zoneinfo/holidays data.

Authors write steps as `{id: intro, email: {...}}`, `{wait: 3 business days}`; the models
store them flattened with a `type` tag (`{type: email, id: intro, ...}`), which is also the
JSON kept in `SequenceVersion.spec`. Both forms validate. Reference: docs/sequences.md.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.core.classification import ReplyIntent
from engine.core.events import EventType
from engine.schedule.calendar import BusinessCalendar
from engine.schedule.planner import SendPolicy
from engine.schedule.types import CronWindow, Duration, WeeklyWindow, Window
from engine.sequence_language import types as t

STEP_TYPES = ("email", "wait", "call", "task")


def _unset(value: object) -> bool:
    """Optional keys added later stay out of stored specs when not used (stable JSON)."""
    return value is None


THREAD_WITHOUT_EMAIL = (
    "`thread: previous` but no email step comes before this one "
    "(use `thread: new` and give a subject)"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --- schedule ----------------------------------------------------------------------------


PROSPECT_HOLIDAYS = "prospect"  # `holidays: prospect`: each prospect's own calendar


class ScheduleSpec(_Model):
    """When steps may run, in local time."""

    timezone: str = Field(default="prospect", examples=["prospect", "Europe/Berlin"])
    """`prospect` (each prospect's own IANA zone) or a fixed IANA zone name."""
    fallback_timezone: str | None = Field(default=None, examples=["Europe/Berlin"])
    """Zone for prospects without one (when timezone is `prospect`); else the mailbox's."""
    window: str | None = Field(default=None, examples=["Mon-Fri 09:00-17:00"])
    """Weekly send window, local time. Default `Mon-Fri 09:00-17:00` unless `cron` is given."""
    cron: str | None = Field(default=None, examples=["*/10 9-16 * * mon-fri"])
    """Alternative to `window`: a 5-field cron expression of allowed minutes, local time."""
    holidays: str | None = Field(default=None, examples=["DE-BY", "US", "GB-ENG", "prospect"])
    """Public holidays to skip: country, optionally with region (`holidays` package codes),
    or `prospect`: each prospect's own country and region (see `fallback_holidays`)."""
    fallback_holidays: str | None = Field(default=None, examples=["DE", "GB-ENG"])
    """With `holidays: prospect`: the calendar of prospects whose country is unknown."""
    extra_holidays: list[date] = Field(default_factory=list, examples=[["2026-12-24"]])
    """Additional dates to skip (company days off)."""
    skip_holidays: bool = True
    """Set false to send on public holidays anyway (they still are not business days)."""

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return value if value == "prospect" else t.check_timezone(value)

    @field_validator("fallback_timezone")
    @classmethod
    def _fallback(cls, value: str | None) -> str | None:
        return None if value is None else t.check_timezone(value)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None:
            WeeklyWindow.parse(value)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            CronWindow.parse(value)
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str | None) -> str | None:
        if value is None or value == PROSPECT_HOLIDAYS:
            return value
        return t.check_holiday_region(value)

    @field_validator("fallback_holidays")
    @classmethod
    def _fallback_holidays(cls, value: str | None) -> str | None:
        return None if value is None else t.check_holiday_region(value)

    @model_validator(mode="after")
    def _one_window(self) -> ScheduleSpec:
        if self.window is not None and self.cron is not None:
            raise ValueError("give either `window` or `cron`, not both")
        if self.window is None and self.cron is None:
            object.__setattr__(self, "window", "Mon-Fri 09:00-17:00")
        return self

    def send_policy(self) -> SendPolicy:
        """The scheduler's policy: window, business calendar (holidays + extra days)."""
        window, _, extra = self.policy_parts()
        calendar = BusinessCalendar.from_region(self.fixed_holidays, extra)
        return SendPolicy(window=window, calendar=calendar, skip_holidays=self.skip_holidays)

    @property
    def per_prospect_holidays(self) -> bool:
        return self.holidays == PROSPECT_HOLIDAYS

    @property
    def fixed_holidays(self) -> str | None:
        """The one calendar of the sequence (the fallback one with `holidays: prospect`)."""
        return self.fallback_holidays if self.per_prospect_holidays else self.holidays

    def policy_parts(self) -> tuple[Window, str | None, tuple[date, ...]]:
        """(parsed window, holiday region or None when skipping is off, extra days off)."""
        window: Window = (
            CronWindow.parse(self.cron) if self.cron else WeeklyWindow.parse(self.window or "")
        )
        holidays = self.fixed_holidays if self.skip_holidays else None
        return window, holidays, tuple(self.extra_holidays)


# --- steps -------------------------------------------------------------------------------


def _unwrap(data: Any, tag: str, scalar_key: str | None = None) -> Any:
    """`{id: x, email: {...}}` -> `{id: x, ...}` (the authoring form to the stored form)."""
    if not isinstance(data, dict) or tag not in data:
        return data
    inner = data[tag]
    rest = {k: v for k, v in data.items() if k != tag}
    if scalar_key is not None and not isinstance(inner, dict):
        inner = {scalar_key: inner}
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ValueError(
            f"`{tag}:` needs its settings as a mapping (e.g. `{tag}: {{subject: …, "
            "template: …}`), not a single value"
            if tag == "email"
            else f"`{tag}:` needs a title or a mapping of its settings"
        )
    merged = {**inner, **rest}
    merged.setdefault("type", tag)
    return merged


class EmailVariant(_Model):
    """One arm of an A/B/n test. Unset fields fall back to the step's own."""

    subject: str | None = None
    template: str | None = None
    body: str | None = None
    weight: int = Field(default=1, ge=0)
    """Relative share of new enrollments (0 turns the variant off)."""


class EmailStep(_Model):
    """Send one email."""

    type: Literal["email"] = "email"
    id: str = Field(examples=["intro"])
    """Stable id: keep it when editing, so enrolled prospects can be migrated."""
    renamed_from: str | None = Field(default=None, examples=["bump"], exclude_if=_unset)
    """The id this step had in the previous version (migration maps prospects by it)."""
    subject: str | None = Field(default=None, examples=["Quick question, {{ first_name }}"])
    """Jinja, one line. Optional with `thread: previous` (then `Re: <previous subject>`)."""
    template: str | None = Field(default=None, examples=["intro.md.j2"])
    """A file in templates/ (Jinja + Markdown-ish). Give `template` or `body`."""
    body: str | None = None
    """The email body inline (Jinja + Markdown-ish)."""
    variants: dict[str, EmailVariant] | None = None
    """A/B/n variants by name; each may override subject/template/body and set a weight."""
    thread: Literal["new", "previous"] = "new"
    """`previous`: reply in the thread of the previous email step."""
    review: bool = Field(default=False, exclude_if=lambda value: value is False)
    """A manual email: rendered into the owner's queue, sent only once a person approves it
    (after editing it, if they like), or skipped."""

    @model_validator(mode="before")
    @classmethod
    def _authoring(cls, data: Any) -> Any:
        return _unwrap(data, "email")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return t.check_slug(value, "step id")

    @field_validator("renamed_from")
    @classmethod
    def _renamed_from(cls, value: str | None) -> str | None:
        return None if value is None else t.check_slug(value, "renamed_from step id")

    @field_validator("variants")
    @classmethod
    def _variants(cls, value: dict[str, EmailVariant] | None) -> dict[str, EmailVariant] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("`variants` is empty (remove it or name at least one variant)")
        for name in value:
            t.check_slug(name, "variant name")
        if all(v.weight == 0 for v in value.values()):
            raise ValueError("every variant has weight 0 (give at least one a weight above 0)")
        return value

    @model_validator(mode="after")
    def _content(self) -> EmailStep:
        for name in self.variant_names():
            subject, template, body = self.parts(name)
            where = f"variant {name!r}" if self.variants else "the email"
            if template is not None and body is not None:
                raise ValueError(f"{where} has both `template` and `body` (keep one)")
            if template is None and body is None:
                raise ValueError(f"{where} has no content (add `template: name.md.j2` or `body`)")
            if subject is None and self.thread == "new":
                raise ValueError(
                    f"{where} has no `subject` (add one, or reply in the same thread "
                    "with `thread: previous`)"
                )
        return self

    def variant_names(self) -> list[str]:
        """The variant names, or ["default"] for a step without variants."""
        return list(self.variants) if self.variants else ["default"]

    def parts(self, variant: str) -> tuple[str | None, str | None, str | None]:
        """(subject, template, body) of a variant, with the step's values as fallback.

        A variant that sets `template` drops the step's `body` and vice versa.
        """
        if not self.variants or (variant == "default" and variant not in self.variants):
            return self.subject, self.template, self.body
        v = self.variants[variant]
        subject = v.subject if v.subject is not None else self.subject
        if v.template is not None or v.body is not None:
            return subject, v.template, v.body
        return subject, self.template, self.body

    def weights(self) -> dict[str, int]:
        return {n: v.weight for n, v in (self.variants or {}).items()} or {"default": 1}


class WaitStep(_Model):
    """Wait before the next step (counted from when the previous step ran)."""

    type: Literal["wait"] = "wait"
    id: str = Field(default="", examples=["wait-1"])
    """Optional; waits without one get `wait-<n>` (n counts the waits from 1)."""
    renamed_from: str | None = Field(default=None, exclude_if=_unset)
    """The id this wait had in the previous version (migration maps prospects by it)."""
    duration: t.DurationField

    @model_validator(mode="before")
    @classmethod
    def _authoring(cls, data: Any) -> Any:
        return _unwrap(data, "wait", scalar_key="duration")

    @field_validator("renamed_from")
    @classmethod
    def _renamed_from(cls, value: str | None) -> str | None:
        return None if value is None else t.check_slug(value, "renamed_from step id")


class _HumanStep(_Model):
    id: str = Field(examples=["call-1"])
    """Stable id: keep it when editing, so enrolled prospects can be migrated."""
    renamed_from: str | None = Field(default=None, examples=["call-1"], exclude_if=_unset)
    """The id this step had in the previous version (migration maps prospects by it)."""
    title: str = Field(examples=["Call {{ first_name }} at {{ company }}"])
    """Jinja: what the SDR sees in the queue."""
    notes: str | None = None
    """Jinja: talk track or instructions."""
    due: t.DurationField = Field(default=Duration.parse("0 minutes"), examples=["1 business day"])
    """How long the SDR has, counted from when the step is reached."""
    blocking: bool = True
    """True: the sequence waits until the task is done or skipped."""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return t.check_slug(value, "step id")

    @field_validator("renamed_from")
    @classmethod
    def _renamed_from(cls, value: str | None) -> str | None:
        return None if value is None else t.check_slug(value, "renamed_from step id")


class CallStep(_HumanStep):
    """Create a call task for the prospect's owner."""

    type: Literal["call"] = "call"

    @model_validator(mode="before")
    @classmethod
    def _authoring(cls, data: Any) -> Any:
        return _unwrap(data, "call", scalar_key="title")


class TaskStep(_HumanStep):
    """Create a to-do (LinkedIn touch, research…) for the prospect's owner."""

    type: Literal["task"] = "task"

    @model_validator(mode="before")
    @classmethod
    def _authoring(cls, data: Any) -> Any:
        return _unwrap(data, "task", scalar_key="title")


def step_tag(data: Any) -> str | None:
    """Which step type a raw step is: its `type`, or the one step key it has."""
    if isinstance(data, BaseModel):
        return getattr(data, "type", None)
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("type"), str):
        return str(data["type"])
    present = [k for k in STEP_TYPES if k in data]
    return present[0] if len(present) == 1 else None


Step = Annotated[
    Annotated[EmailStep, Tag("email")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[CallStep, Tag("call")]
    | Annotated[TaskStep, Tag("task")],
    Discriminator(step_tag),
]
ActionStep = EmailStep | CallStep | TaskStep


# --- rules and scoring -------------------------------------------------------------------


class StopOn(StrEnum):
    REPLY = "reply"  # any human reply from the prospect
    BOUNCE = "bounce"  # a hard bounce of the prospect's address
    UNSUBSCRIBE = "unsubscribe"  # opt-out link, unsubscribe reply, complaint
    COMPANY_REPLY = "company_reply"  # someone else at the same account replied
    MEETING_BOOKED = "meeting_booked"  # a meeting was recorded for the prospect
    AUTO_REPLY = "auto_reply"  # any auto-reply (rarely wanted; out-of-office is usually paused)


ReplyMatch = Literal[
    "any", "positive", "negative", "neutral", "question", "referral", "unsubscribe_request"
]
assert {m for m in ReplyMatch.__args__ if m != "any"} == {i.value for i in ReplyIntent}  # type: ignore[attr-defined]

EVENT_NAMES = tuple(e.value for e in EventType)
EventName = Literal[EVENT_NAMES]  # type: ignore[valid-type]

# Keys of `scoring.points`: a reply intent, an auto-reply/bounce kind, or an event name.
SCORING_KEYS = (
    "reply",
    *(f"reply.{i.value}" for i in ReplyIntent),
    "auto_reply",
    "auto_reply.out_of_office",
    "bounce.hard",
    "bounce.soft",
    *EVENT_NAMES,
)


class RuleWhen(_Model):
    """What triggers a rule. Every condition given must hold."""

    reply: ReplyMatch | None = None
    """A human reply with this intent (`any` for every reply)."""
    auto_reply: Literal["any", "out_of_office", "other"] | None = None
    bounce: Literal["any", "hard", "soft"] | None = None
    event: EventName | None = Field(default=None, examples=["meeting.booked", "task.completed"])
    """Any event of the log by its type name."""
    score_at_least: int | None = None
    """The prospect's score reached this value."""

    @model_validator(mode="after")
    def _some(self) -> RuleWhen:
        if not self.model_fields_set:
            raise ValueError(
                "`when` is empty (add reply, auto_reply, bounce, event or score_at_least)"
            )
        return self


class RuleThen(_Model):
    """What a rule does. Actions run in this order: score, task, notify, pause/stop/move."""

    score: int | None = None
    """Add (or with a negative number, subtract) points."""
    stop: bool = False
    """Stop the enrollment."""
    pause_until: Literal["return_date"] | None = None
    """Pause until the date an out-of-office reply gave."""
    otherwise_pause: t.DurationField | None = None
    """With pause_until: how long to pause when no date was found."""
    task: str | None = Field(default=None, examples=["Book a meeting with {{ first_name }}"])
    """Create a task (Jinja title) for the prospect's owner."""
    move_to: str | None = None
    """Stop here and enroll the prospect in this sequence (by key)."""
    notify: str | None = Field(default=None, examples=["owner"])
    """Who to tell: `owner` or an email address."""

    @field_validator("move_to")
    @classmethod
    def _move_to(cls, value: str | None) -> str | None:
        return None if value is None else t.check_slug(value, "sequence key")

    @model_validator(mode="after")
    def _consistent(self) -> RuleThen:
        if not self.model_fields_set:
            raise ValueError(
                "`then` is empty (add score, stop, pause_until, task, move_to or notify)"
            )
        if self.otherwise_pause is not None and self.pause_until is None:
            raise ValueError("`otherwise_pause` needs `pause_until: return_date`")
        if self.stop and self.pause_until is not None:
            raise ValueError("a rule cannot both `stop` and `pause_until` (keep one)")
        return self


class RuleSpec(_Model):
    when: RuleWhen
    then: RuleThen


class ScoringThreshold(_Model):
    at: int
    """Score at which `then` runs (once per enrollment)."""
    then: RuleThen


class ScoringSpec(_Model):
    points: dict[str, int] = Field(
        default_factory=dict, examples=[{"reply.positive": 50, "reply.negative": -20}]
    )
    """Points per event: `reply`, `reply.<intent>`, `auto_reply[.out_of_office]`,
    `bounce.hard|soft`, or any event type name."""
    decay_per_week: int | None = Field(default=None, ge=0)
    """Points lost per week without activity (never below 0)."""
    thresholds: list[ScoringThreshold] = Field(default_factory=list)

    @field_validator("points")
    @classmethod
    def _points(cls, value: dict[str, int]) -> dict[str, int]:
        import difflib

        for key in value:
            if key not in SCORING_KEYS:
                close = difflib.get_close_matches(key, SCORING_KEYS, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(
                    f"unknown scoring event {key!r} ({hint}use reply, reply.positive, "
                    "reply.negative, auto_reply, bounce.hard, meeting.booked, …)"
                )
        return value


# --- the sequence ------------------------------------------------------------------------


class SequenceSpec(_Model):
    """A sequence file."""

    key: str = Field(examples=["saas-founders"])
    """Stable id. Pushing an edited file with the same key creates a new version."""
    name: str = Field(examples=["SaaS founders — Q1"])
    description: str | None = None
    mailboxes: list[str] = Field(default_factory=list, examples=[["anna", "ben"]])
    """Sender pool by mailbox name (a prospect sticks to one). Empty: any mailbox.
    `mailboxes: owner` sends each prospect's emails from their owner's mailbox."""
    sender: Literal["pool", "owner"] = "pool"
    """`owner`: from a mailbox of the prospect's owner (set by `mailboxes: owner`)."""

    @model_validator(mode="before")
    @classmethod
    def _owner_sender(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mailboxes") == "owner":
            return {**data, "mailboxes": [], "sender": "owner"}
        return data

    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    stop_on: list[StopOn] = Field(
        default_factory=lambda: [StopOn.REPLY, StopOn.BOUNCE, StopOn.UNSUBSCRIBE]
    )
    """What ends the sequence for a prospect."""
    soft_bounce_limit: int = Field(default=3, ge=1, le=50, examples=[3])
    """With `bounce` in stop_on: the soft bounce (mailbox full, deferral) that stops a prospect."""
    steps: list[Step]
    """The steps in order: email, wait, call, task."""
    rules: list[RuleSpec] = Field(default_factory=list)
    scoring: ScoringSpec | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return t.check_slug(value, "sequence key")

    @field_validator("steps", mode="before")
    @classmethod
    def _wait_ids(cls, steps: Any) -> Any:
        """Give id-less waits `wait-<n>`; they have no content to migrate by."""
        if not isinstance(steps, list):
            return steps
        out, waits = [], 0
        for raw in steps:
            if step_tag(raw) == "wait":
                waits += 1
                if isinstance(raw, dict) and not raw.get("id"):
                    raw = {**raw, "id": f"wait-{waits}"}
            out.append(raw)
        return out

    @model_validator(mode="after")
    def _structure(self, info: ValidationInfo) -> SequenceSpec:
        # The loader reports these itself, each at its own line (context defer_structure).
        if not (info.context or {}).get("defer_structure"):
            problems = self.structure_problems()
            if problems:
                raise ValueError("; ".join(message for _, message in problems))
        return self

    def structure_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Problems across steps, each with the location of the offending value."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, int] = {}
        emails_before = 0
        for i, step in enumerate(self.steps):
            if step.id in seen:
                problems.append(
                    (
                        ("steps", i, "id"),
                        f"duplicate step id {step.id!r}, already used by step "
                        f"{seen[step.id] + 1} (step ids must be unique)",
                    )
                )
            seen.setdefault(step.id, i)
            if isinstance(step, EmailStep):
                if step.thread == "previous" and emails_before == 0:
                    problems.append((("steps", i, "email", "thread"), THREAD_WITHOUT_EMAIL))
                emails_before += 1
        problems += self._rename_problems()
        if not self.action_steps:
            problems.append((("steps",), "the sequence has no email, call or task step (add one)"))
        return problems

    def _rename_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """`renamed_from` must name a step that no longer exists, and only once."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        ids = {step.id for step in self.steps}
        claimed: dict[str, str] = {}
        for i, step in enumerate(self.steps):
            old = step.renamed_from
            if old is None:
                continue
            where = ("steps", i, "renamed_from")
            if old == step.id:
                problems.append((where, f"step {step.id!r} is renamed from itself (remove it)"))
            elif old in ids:
                problems.append(
                    (
                        where,
                        f"step {step.id!r} says renamed_from {old!r}, but a step {old!r} is "
                        "still in this file: a renamed step's old id must be gone (remove "
                        "`renamed_from`, or give the other step a new id)",
                    )
                )
            elif old in claimed:
                problems.append(
                    (
                        where,
                        f"steps {claimed[old]!r} and {step.id!r} both say renamed_from "
                        f"{old!r}: prospects on {old!r} can only go to one (keep it on one)",
                    )
                )
            claimed.setdefault(old, step.id)
        return problems

    def step_index(self, step_id: str) -> int:
        """Position of a step by id; KeyError when absent."""
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        raise KeyError(step_id)

    @property
    def action_steps(self) -> list[ActionStep]:
        """The steps that do something (everything but waits)."""
        return [s for s in self.steps if not isinstance(s, WaitStep)]

    @property
    def email_steps(self) -> list[EmailStep]:
        return [s for s in self.steps if isinstance(s, EmailStep)]

    def previous_email(self, step_id: str) -> EmailStep | None:
        """The email step before `step_id` (what `thread: previous` replies to)."""
        before = self.steps[: self.step_index(step_id)]
        emails = [s for s in before if isinstance(s, EmailStep)]
        return emails[-1] if emails else None
