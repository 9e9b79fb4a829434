"""The SDR queue offers the right buttons per task kind, and the timeline shows no None."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.people.tasks import complete_task
from engine.store.models import Enrollment, Task
from tests.support.seed import Seeder, day
from tests.support.web import SeededApp, TestClient


def _signed_in(client: TestClient, token: str) -> None:
    r = client.post("/login", data={"token": token, "next": "/queue"}, follow_redirects=False)
    assert r.status_code == 303


def _buttons(page: str, task_id: int) -> list[str]:
    article = page.split(f'id="task-{task_id}"', 1)[1].split("</article>", 1)[0]
    return re.findall(r'name="outcome" value="([a-z_]+)"', article)


def test_a_plain_task_has_a_done_button_and_a_call_has_call_outcomes(web: SeededApp) -> None:
    with web.db.session() as s:
        enrollment = s.get(Enrollment, web.scenario.enrollments["p6"])
        assert enrollment is not None
        plain = (
            Seeder(s).task(enrollment, None, day(7, 9), title="Connect on LinkedIn", kind="task").id
        )
    call = web.scenario.tasks["p6.call"]
    with TestClient(web.app) as client:
        _signed_in(client, web.tokens["admin"])
        page = client.get("/queue").text
        assert _buttons(page, plain) == ["done", "meeting_booked", "skip"]
        assert _buttons(page, call) == [
            "connected",
            "voicemail",
            "no_answer",
            "meeting_booked",
            "skip",
        ]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        done = client.post(
            f"/queue/{plain}",
            data={"outcome": "done", "csrf": csrf.group(1)},
            follow_redirects=False,
        )
    assert done.status_code == 303
    with web.db.session() as s:
        task = s.get(Task, plain)
        assert task is not None and (task.state, task.outcome) == ("done", "done")


def test_a_meeting_booked_from_the_cli_shows_no_by_none(web: SeededApp) -> None:
    task_id = web.scenario.tasks["p7.call"]
    with web.db.session() as s:
        complete_task(s, task_id, "meeting_booked", web.clock.now())  # the CLI knows no `by`
        prospect_id = s.scalars(select(Task.prospect_id).where(Task.id == task_id)).one()
    with TestClient(web.app) as client:
        _signed_in(client, web.tokens["admin"])
        page = client.get(f"/prospects/{prospect_id}").text
    assert "meeting.booked" in page
    assert "None" not in page
