"""TEMPORARY stand-ins for the schedule/spec/mail contracts until those branches land.

Only `engine.services.runtime` imports this module; it is deleted when the real modules are
merged. Behaviour follows the promised contracts closely enough for the sending tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import KadenzError
from engine.schedule.types import Duration, DurationUnit

# --- spec ---------------------------------------------------------------------------------


@dataclass
class ScheduleSpec:
    timezone: str = "prospect"
    fallback_timezone: str | None = None
    window: str | None = "Mon-Fri 09:00-17:00"
    cron: str | None = None
    holidays: str | None = None
    extra_holidays: list[str] = field(default_factory=list)
    skip_holidays: bool = True


@dataclass
class Variant:
    subject: str | None = None
    template: str | None = None
    body: str | None = None
    weight: int = 1


@dataclass
class Step:
    id: str
    type: str
    subject: str | None = None
    template: str | None = None
    body: str | None = None
    variants: dict[str, Variant] = field(default_factory=dict)
    thread: str = "new"
    duration: Duration | None = None
    title: str | None = None
    notes: str | None = None
    due: Duration | None = None
    blocking: bool = False

    def variant_names(self) -> list[str]:
        return list(self.variants)


@dataclass
class SequenceSpec:
    key: str
    name: str
    mailboxes: list[str]
    schedule: ScheduleSpec
    stop_on: list[str]
    steps: list[Step]


def _duration(value: Any) -> Duration | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return Duration(int(value["amount"]), DurationUnit(value["unit"]))
    return Duration.parse(str(value))


def spec_from_json(data: Mapping[str, Any]) -> SequenceSpec:
    steps = []
    for raw in data.get("steps", []):
        variants = {
            k: Variant(**{f: v.get(f) for f in ("subject", "template", "body")})
            for k, v in (raw.get("variants") or {}).items()
        }
        steps.append(
            Step(
                id=raw["id"],
                type=raw["type"],
                subject=raw.get("subject"),
                template=raw.get("template"),
                body=raw.get("body"),
                variants=variants,
                thread=raw.get("thread") or "new",
                duration=_duration(raw.get("duration")),
                title=raw.get("title"),
                notes=raw.get("notes"),
                due=_duration(raw.get("due")),
                blocking=bool(raw.get("blocking", False)),
            )
        )
    sched = dict(data.get("schedule") or {})
    return SequenceSpec(
        key=data["key"],
        name=data.get("name", data["key"]),
        mailboxes=list(data.get("mailboxes", [])),
        schedule=ScheduleSpec(**sched),
        stop_on=list(data.get("stop_on", [])),
        steps=steps,
    )


# --- render -------------------------------------------------------------------------------


class MissingVariable(KadenzError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(f"missing variable: {', '.join(names)}")


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str | None = None


class Renderer:
    def __init__(self, templates: Mapping[str, str]) -> None:
        self._env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, loader=jinja2.DictLoader(dict(templates))
        )

    def render_text(self, source: str, context: Mapping[str, Any]) -> str:
        try:
            return self._env.from_string(source).render(dict(context))
        except jinja2.UndefinedError as exc:
            name = str(exc.message or "").split("'")[1] if "'" in str(exc.message) else "?"
            raise MissingVariable([name]) from None

    def render_email(
        self, step: Step, variant: str | None, context: Mapping[str, Any]
    ) -> RenderedEmail:
        chosen = step.variants.get(variant or "") if variant else None
        subject = (chosen.subject if chosen else None) or step.subject or ""
        template = (chosen.template if chosen else None) or step.template
        body = (chosen.body if chosen else None) or step.body or ""
        if template:
            body = self._env.loader.get_source(self._env, template)[0]  # type: ignore[union-attr]
        return RenderedEmail(self.render_text(subject, context), self.render_text(body, context))


def prospect_context(prospect: Mapping[str, Any], sender: Mapping[str, Any]) -> dict[str, Any]:
    ctx = {k: v for k, v in prospect.items() if v not in (None, "")}
    ctx.update(prospect.get("custom") or {})
    ctx["sender"] = dict(sender)
    return ctx
