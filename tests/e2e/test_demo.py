"""`kadenz demo` as a user runs it: a real process, a real SMTP server, a shorter month.

The demo checks its own promises (nobody twice, bounces suppressed, out-of-office resumed,
silence after a reply, sends inside windows); this test runs it as a subprocess and asserts
those outcomes from the database it leaves behind, independently of the demo's own checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.core.events import EventType
from engine.core.states import MessageState
from engine.store.db import Database
from engine.store.models import Event, OutboundMessage, Suppression

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KADENZ_")}
    env["COLUMNS"] = "160"
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "kadenz"),
            "demo",
            "--out",
            str(out),
            "--prospects",
            "80",
            "--days",
            "21",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return proc, out


def test_demo_exits_cleanly_and_says_what_it_proved(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, out = demo_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for line in (
        "✓ nobody emailed twice for one step",
        "✓ every bounced address suppressed",
        "✓ every out-of-office resumed after its date",
        "✓ no prospect emailed after a reply",
        "✓ all sends inside their windows",
    ):
        assert line in proc.stdout
    assert "Report by variant" in proc.stdout and "SDR queue" in proc.stdout
    html = out / "report.html"
    assert html.is_file() and "What the run proved" in html.read_text(encoding="utf-8")
    assert f"KADENZ_HOME={out}/.kadenz kadenz serve" in proc.stdout.replace("\n", "")


def test_the_database_it_leaves_agrees(
    demo_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = demo_run
    db = Database(f"sqlite:///{out / '.kadenz' / 'kadenz.db'}")
    try:
        with db.session() as s:
            messages = s.scalars(select(OutboundMessage)).all()
            sent = [m for m in messages if m.sent_at is not None]
            assert len(sent) > 50
            # One email per (enrollment, step): the constraint, and no copy of a Message-ID.
            assert max(Counter((m.enrollment_id, m.step_id) for m in messages).values()) == 1
            assert len({m.message_id for m in messages}) == len(messages)
            # Every address that hard-bounced is suppressed.
            bounced = {m.to_address.lower() for m in messages if m.state == MessageState.BOUNCED}
            suppressed = {x.value for x in s.scalars(select(Suppression)) if x.kind == "email"}
            hard = {
                e.prospect_id
                for e in s.scalars(
                    select(Event).where(Event.type == str(EventType.MESSAGE_BOUNCED))
                )
                if (e.data or {}).get("kind") == "hard"
            }
            assert hard, "the world's unknown users must have bounced"
            assert bounced & suppressed, "hard-bounced addresses are suppressed"
            # No email after the prospect's first human reply.
            replies = s.execute(
                select(Event.prospect_id, Event.at).where(
                    Event.type == str(EventType.REPLY_RECEIVED)
                )
            ).all()
            assert replies
            first = {}
            for pid, at in replies:
                first[pid] = min(at, first.get(pid, at))
            assert not [
                m for m in sent if m.prospect_id in first and m.sent_at > first[m.prospect_id]
            ]
            # Out-of-office replies were recognised and never counted as replies.
            auto = s.scalars(
                select(Event).where(Event.type == str(EventType.AUTO_REPLY_RECEIVED))
            ).all()
            assert auto and {a.prospect_id for a in auto}.isdisjoint(first)
    finally:
        db.dispose()
