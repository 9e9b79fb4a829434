"""A score threshold with `notify: owner` adds no second task for the owner of one reply."""

from __future__ import annotations

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core import rules
from engine.core.rules import ActionKind
from engine.inbound.ingest import ingest
from engine.sequence_language.model import RuleSpec, ScoringSpec
from engine.store.db import Database
from engine.store.models import Task
from tests.support.inbound_world import enroll_and_send, make_world, reply, standin_classify


def _spec(threshold_then: dict[str, object]) -> dict[str, object]:
    rule = {
        "when": {"reply": "positive"},
        "then": {"stop": True, "task": "Book a meeting with {{ first_name }}"},
    }
    return {  # as SequenceVersion.spec stores it
        "stop_on": ["bounce", "unsubscribe"],
        "rules": [RuleSpec.model_validate(rule).model_dump(mode="json")],
        "scoring": ScoringSpec.model_validate(
            {"points": {"reply.positive": 90}, "thresholds": [{"at": 80, "then": threshold_then}]}
        ).model_dump(mode="json"),
    }


def _tasks_after_a_positive_reply(db: Database, clock: VirtualClock, then: dict[str, object]):  # type: ignore[no-untyped-def]
    world = make_world(db, clock.now(), spec=_spec(then))
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    raw = reply(erik, "Interested, let's talk next week", at=clock.now())
    ingest(db, clock, raw, source="file", classifier=standin_classify)  # type: ignore[arg-type]
    with db.session() as s:
        return [(t.owner, t.title) for t in s.scalars(select(Task).order_by(Task.id))]


def test_notify_owner_beside_the_reply_task_is_one_task(db: Database, clock: VirtualClock) -> None:
    tasks = _tasks_after_a_positive_reply(db, clock, {"notify": "owner"})
    assert tasks == [("sdr-anna", "Book a meeting with Erik")]


def test_notify_someone_else_still_tells_them(db: Database, clock: VirtualClock) -> None:
    tasks = _tasks_after_a_positive_reply(db, clock, {"notify": "lead-sam"})
    assert len(tasks) == 2 and tasks[0][0] == "sdr-anna" and tasks[1][0] == "lead-sam"


def test_a_then_with_task_and_notify_owner_is_one_task() -> None:
    actions = rules.then_actions({"notify": "owner", "task": "Call {{ first_name }}"}, "score")
    assert [a.kind for a in actions] == [ActionKind.TASK]
    alone = rules.then_actions({"notify": "owner"}, "score")
    assert [a.kind for a in alone] == [ActionKind.NOTIFY]
