from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from engine.schedule.types import CronWindow, Duration, DurationUnit, WeeklyWindow
from engine.sequence_language.loader import spec_from_json
from engine.sequence_language.model import CallStep, EmailStep, SequenceSpec, StopOn, WaitStep


def minimal(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": "demo",
        "name": "Demo",
        "steps": [
            {"id": "intro", "email": {"subject": "Hi {{ first_name }}", "body": "Hello"}},
            {"wait": "3 business days"},
            {"id": "bump", "email": {"thread": "previous", "body": "Bump"}},
            {"wait": "2 days"},
            {"id": "call-1", "call": {"title": "Call {{ first_name }}", "due": "1 business day"}},
        ],
    }
    data.update(extra)
    return data


def test_authoring_form_is_flattened_with_type_tags_and_defaults() -> None:
    spec = SequenceSpec.model_validate(minimal())
    intro, wait1, bump, wait2, call = spec.steps
    assert isinstance(intro, EmailStep) and intro.thread == "new"
    assert isinstance(wait1, WaitStep) and wait1.id == "wait-1"
    assert wait1.duration == Duration(3, DurationUnit.BUSINESS_DAYS)
    assert isinstance(bump, EmailStep) and bump.thread == "previous" and bump.subject is None
    assert wait2.id == "wait-2"
    assert isinstance(call, CallStep) and call.blocking is True
    assert call.due == Duration(1, DurationUnit.BUSINESS_DAYS)
    assert spec.stop_on == [StopOn.REPLY, StopOn.BOUNCE, StopOn.UNSUBSCRIBE]
    assert spec.schedule.timezone == "prospect"
    assert spec.schedule.window == "Mon-Fri 09:00-17:00"
    assert [s.id for s in spec.action_steps] == ["intro", "bump", "call-1"]
    assert spec.step_index("bump") == 2
    assert spec.previous_email("bump") is intro
    assert spec.previous_email("intro") is None


def test_json_round_trip_is_exact() -> None:
    spec = SequenceSpec.model_validate(
        minimal(
            schedule={"holidays": "DE-BY", "extra_holidays": ["2026-12-24"], "cron": "0 9 * * 1"},
            rules=[{"when": {"reply": "positive"}, "then": {"score": 50, "stop": True}}],
            scoring={
                "points": {"reply.positive": 50},
                "thresholds": [{"at": 80, "then": {"notify": "owner"}}],
            },
        )
    )
    data = spec.model_dump(mode="json")
    assert data["steps"][1] == {"type": "wait", "id": "wait-1", "duration": "3 business days"}
    assert spec_from_json(data) == spec


def test_step_ids_stay_when_a_wait_has_its_own() -> None:
    data = minimal()
    data["steps"][1] = {"id": "pause", "wait": "1 week"}
    spec = SequenceSpec.model_validate(data)
    assert [s.id for s in spec.steps] == ["intro", "pause", "bump", "wait-2", "call-1"]
    assert spec.steps[1].duration == Duration(7, DurationUnit.DAYS)  # type: ignore[union-attr]


def test_variants_inherit_the_steps_fields() -> None:
    step = EmailStep.model_validate(
        {
            "id": "intro",
            "email": {
                "subject": "Shared subject",
                "template": "intro.md.j2",
                "variants": {
                    "a": {},
                    "b": {"subject": "Other"},
                    "c": {"body": "Inline", "weight": 2},
                },
            },
        }
    )
    assert step.variant_names() == ["a", "b", "c"]
    assert step.parts("a") == ("Shared subject", "intro.md.j2", None)
    assert step.parts("b") == ("Other", "intro.md.j2", None)
    assert step.parts("c") == ("Shared subject", None, "Inline")
    assert step.weights() == {"a": 1, "b": 1, "c": 2}
    plain = EmailStep.model_validate({"id": "x", "subject": "s", "body": "b"})
    assert plain.variant_names() == ["default"] and plain.parts("default") == ("s", None, "b")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ({"subject": "s"}, "has no content"),
        ({"subject": "s", "body": "b", "template": "t.md.j2"}, "both `template` and `body`"),
        ({"body": "b"}, "has no `subject`"),
        ({"subject": "s", "body": "b", "variants": {}}, "`variants` is empty"),
        ({"subject": "s", "body": "b", "variants": {"a": {"weight": 0}}}, "weight 0"),
        ({"subject": "s", "body": "b", "variants": {"A B": {}}}, "not a valid id"),
    ],
)
def test_email_content_rules(email: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EmailStep.model_validate({"id": "intro", "email": email})


def test_structure_problems_raise_outside_the_loader() -> None:
    data = minimal()
    data["steps"][0]["email"]["thread"] = "previous"
    data["steps"].append({"id": "intro", "task": "Research {{ company }}"})
    with pytest.raises(ValidationError) as exc:
        SequenceSpec.model_validate(data)
    text = str(exc.value)
    assert "duplicate step id 'intro'" in text
    assert "no email step comes before" in text
    spec = SequenceSpec.model_validate(data, context={"defer_structure": True})
    assert [loc for loc, _ in spec.structure_problems()] == [
        ("steps", 0, "email", "thread"),
        ("steps", 5, "id"),
    ]


def test_a_sequence_of_waits_only_is_refused() -> None:
    with pytest.raises(ValidationError, match="no email, call or task step"):
        SequenceSpec.model_validate({"key": "w", "name": "W", "steps": [{"wait": "1 day"}]})


def test_schedule_policy_parts() -> None:
    spec = SequenceSpec.model_validate(
        minimal(
            schedule={
                "window": "Mon-Thu 09:00-12:00; Fri 09:00-12:00",
                "holidays": "DE-BY",
                "extra_holidays": [date(2026, 12, 24)],
            }
        )
    )
    window, region, extra = spec.schedule.policy_parts()
    assert isinstance(window, WeeklyWindow) and not window.days[5]
    assert region == "DE-BY" and extra == (date(2026, 12, 24),)
    cron = SequenceSpec.model_validate(
        minimal(
            schedule={"cron": "*/10 9-16 * * mon-fri", "skip_holidays": False, "holidays": "US"}
        )
    )
    window, region, _ = cron.schedule.policy_parts()
    assert isinstance(window, CronWindow) and region is None


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"timezone": "Europe/Berln"}, "did you mean 'Europe/Berlin'"),
        ({"fallback_timezone": "europe/berlin"}, "did you mean 'Europe/Berlin'"),
        ({"window": "Mon-Fry 09:00-17:00"}, "is not a day"),
        ({"cron": "every day"}, "not a 5-field cron"),
        ({"window": "Mon 09:00-17:00", "cron": "0 9 * * *"}, "either `window` or `cron`"),
        ({"holidays": "XX"}, "unknown country .XX."),
        ({"holidays": "DE-XY"}, "unknown subdivision .XY. of DE .use one of .*BY"),
    ],
)
def test_schedule_errors_say_how_to_fix(schedule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SequenceSpec.model_validate(minimal(schedule=schedule))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"when": {}, "then": {"stop": True}}, "`when` is empty"),
        ({"when": {"reply": "positive"}, "then": {}}, "`then` is empty"),
        ({"when": {"reply": "great"}, "then": {"stop": True}}, "'positive'"),
        ({"when": {"event": "meeting.held"}, "then": {"stop": True}}, "meeting.booked"),
        (
            {"when": {"auto_reply": "out_of_office"}, "then": {"otherwise_pause": "7 days"}},
            "needs `pause_until",
        ),
        (
            {"when": {"bounce": "hard"}, "then": {"stop": True, "pause_until": "return_date"}},
            "both `stop` and",
        ),
        ({"when": {"reply": "any"}, "then": {"move_to": "Other Seq"}}, "not a valid id"),
    ],
)
def test_rule_errors(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SequenceSpec.model_validate(minimal(rules=[rule]))


def test_scoring_keys_are_checked() -> None:
    with pytest.raises(ValidationError, match=r"did you mean 'reply\.positive'"):
        SequenceSpec.model_validate(minimal(scoring={"points": {"reply.positve": 5}}))


def test_models_are_frozen() -> None:
    spec = SequenceSpec.model_validate(minimal())
    with pytest.raises(ValidationError):
        spec.name = "other"  # type: ignore[misc]


def test_send_policy_for_the_scheduler() -> None:
    spec = SequenceSpec.model_validate(
        minimal(schedule={"holidays": "de-by", "extra_holidays": ["2026-12-24"]})
    )
    policy = spec.schedule.send_policy()
    assert policy.skip_holidays is True
    assert policy.calendar.region == "DE-BY"
    assert not policy.calendar.is_business_day(date(2026, 4, 6))  # Easter Monday
    assert not policy.calendar.is_business_day(date(2026, 12, 24))  # extra day off
    assert policy.calendar.is_business_day(date(2026, 4, 7))
