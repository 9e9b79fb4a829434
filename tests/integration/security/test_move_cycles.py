"""Issue 19 item 7: `move_to` cycles. A sequence moving to itself (or A → B → A) is refused
by `validate` and `push`; and a person who left a sequence by a reply is never re-enrolled
into it by a rule (a version stored before this check still cannot loop)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.clock import VirtualClock
from engine.inbound.ingest import ingest
from engine.store.db import Database
from engine.store.models import Enrollment, OutboundMessage
from tests.support.inbound_world import enroll_and_send, make_world, reply, standin_classify


def sequence(key: str, moves_to: str) -> str:
    return (
        f"key: {key}\nname: {key}\nsteps:\n"
        '  - id: intro\n    email: {subject: "Hi", body: "Hello"}\n'
        "rules:\n"
        "  - when: {reply: negative}\n"
        f"    then: {{move_to: {moves_to}}}\n"
    )


def test_item07_validate_refuses_a_move_to_itself_and_a_cycle(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "a.yaml").write_text(sequence("alpha", "alpha"))
    result = cli("sequence", "validate", str(tmp_path / "self"))
    assert result.exit_code == 1
    assert "a.yaml:8:12: move_to 'alpha' moves the sequence to itself" in result.stderr
    (tmp_path / "pair").mkdir()
    (tmp_path / "pair" / "a.yaml").write_text(sequence("alpha", "beta"))
    (tmp_path / "pair" / "b.yaml").write_text(sequence("beta", "alpha"))
    result = cli("sequence", "validate", str(tmp_path / "pair"))
    assert result.exit_code == 1
    assert "a.yaml:8:12: move_to makes a cycle: alpha → beta → alpha" in result.stderr
    assert "b.yaml:8:12: move_to makes a cycle: beta → alpha → beta" in result.stderr
    assert "Traceback" not in result.output


def test_item07_push_refuses_a_cycle_through_a_stored_sequence(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    (tmp_path / "b.yaml").write_text(sequence("beta", "gamma"))
    (tmp_path / "a.yaml").write_text(sequence("alpha", "beta"))
    (tmp_path / "g.yaml").write_text(sequence("gamma", "delta"))
    (tmp_path / "d.yaml").write_text(
        "key: delta\nname: delta\nsteps:\n  - id: intro\n    email: {subject: Hi, body: Hi}\n"
    )
    pushed = cli("sequence", "push", *(str(tmp_path / f) for f in ("b.yaml", "g.yaml", "d.yaml")))
    assert pushed.exit_code == 0, pushed.output
    (tmp_path / "g.yaml").write_text(sequence("gamma", "beta"))  # gamma now closes the loop
    result = cli("sequence", "push", str(tmp_path / "g.yaml"))
    assert result.exit_code == 1
    assert "move_to makes a cycle: gamma → beta → gamma" in result.stderr
    assert cli("sequence", "push", str(tmp_path / "a.yaml")).exit_code == 0  # no cycle


def test_item07_a_reply_never_re_enrolls_into_the_sequence_just_left(
    db: Database, clock: VirtualClock
) -> None:
    """A version stored before the check: negative reply → move_to its own sequence."""
    rules = [{"when": {"reply": "negative"}, "then": {"move_to": "saas-founders"}}]
    world = make_world(db, clock.now(), spec={"rules": rules, "stop_on": []})
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    result = ingest(
        db,
        clock,
        reply(erik, "Not interested, please stop.", at=clock.now()),
        source="file",
        classifier=standin_classify,
    )
    assert any("not re-enrolled" in a for a in result.actions), result.actions
    with db.session() as s:
        rows = s.scalars(select(Enrollment)).all()
        assert [(r.id, r.state) for r in rows] == [(erik.enrollment_id, "stopped")]
        assert s.scalars(select(OutboundMessage.state)).all() == ["sent"]  # nothing re-planned
