"""`kadenz run --once` as a real process against a real SMTP server on localhost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from engine.clock import SystemClock
from engine.store.db import Database
from engine.store.models import OutboundMessage
from tests.integration.sending.factory import BASIC_SPEC, build_world, received
from tests.support.smtp_server import SmtpSink

KADENZ = Path(sys.executable).parent / "kadenz"
ALWAYS_OPEN = {
    **BASIC_SPEC,
    "schedule": {"timezone": "prospect", "window": "Mon-Sun 00:00-24:00"},
}


SEQUENCE = """\
key: e2e-intro
name: End-to-end intro
mailboxes: [anna]
schedule: {timezone: prospect, window: "Mon-Sun 00:00-24:00"}
steps:
  - id: intro
    email:
      subject: "Quick question, {{ first_name }}"
      body: "Hi {{ first_name }},\\n\\nhow does {{ company }} book demos today?"
  - wait: 3 business days
  - id: bump
    email: {thread: previous, body: "Bumping this up."}
"""
PROSPECTS = """\
email,first_name,company,timezone
erik@beta.example,Erik,Beta GmbH,Europe/Berlin
jana@gamma.example,Jana,Gamma Inc,America/New_York
li@delta.example,Li,Delta AG,
"""


def _env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "KADENZ_HOME": str(home),
        "KADENZ_SECRET_KEY": "e2e-secret",
        "KADENZ_PUBLIC_URL": "https://kadenz.acme.example",
        "KADENZ_POSTAL_ADDRESS": "Acme GmbH, Hauptstr. 1, 80331 München",
    }
    env.pop("KADENZ_DATABASE_URL", None)
    return env


def _kadenz(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(KADENZ), *args], env=_env(home), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kadenz {' '.join(args)}: {result.stderr}"
    return result


def test_run_once_delivers_due_first_emails_once(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    (tmp_path / "e2e.yaml").write_text(SEQUENCE)
    (tmp_path / "prospects.csv").write_text(PROSPECTS)
    with SmtpSink() as sink:
        _kadenz(home, "init")
        _kadenz(
            home, "mailbox", "add", "anna", "--address", "anna@acme.example",
            "--smtp", sink.url, "--display-name", "Anna Acme",
        )  # fmt: skip
        _kadenz(home, "sequence", "push", str(tmp_path / "e2e.yaml"))
        _kadenz(home, "enroll", "e2e-intro", "--csv", str(tmp_path / "prospects.csv"))

        first = _kadenz(home, "run", "--once")
        assert "3 emails planned" in first.stdout and "3 sent" in first.stdout
        assert len(sink.messages) == 3
        by_to = {str(m["To"]): m for m in received(sink)}
        for email in ("erik@beta.example", "jana@gamma.example", "li@delta.example"):
            (message,) = [m for to, m in by_to.items() if email in to]
            assert str(message["From"]) == "Anna Acme <anna@acme.example>"
            assert str(message["Subject"]).startswith("Quick question, ")
            assert str(message["Message-ID"]).endswith("@acme.example>")
            unsubscribe = str(message["List-Unsubscribe"])
            assert "<https://kadenz.acme.example/u/u1." in unsubscribe
            assert "mailto:anna@acme.example?subject=unsubscribe" in unsubscribe
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        erik = next(m for to, m in by_to.items() if "erik@" in to)
        assert erik["Subject"] == "Quick question, Erik"
        body = erik.get_body(("plain",))
        assert body is not None and "how does Beta GmbH book demos today?" in body.get_content()

        second = _kadenz(home, "run", "--once")
        assert "0 sent" in second.stdout and "0 emails planned" in second.stdout
        assert sink.data_received == 3
        assert len({m.message_id for m in sink.messages}) == 3
        shown = _kadenz(home, "explain", "erik@beta.example")
        assert "next: wait" in shown.stdout or "bump" in shown.stdout


def test_run_sends_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    emails = [f"p{i}@firm{i}.example" for i in range(4)]
    with SmtpSink() as sink:
        db = Database(f"sqlite:///{home / 'kadenz.db'}")
        db.upgrade()
        with db.session() as s:
            build_world(s, SystemClock().now(), emails, spec=ALWAYS_OPEN, smtp_url=sink.url)
        env = {
            **os.environ,
            "KADENZ_HOME": str(home),
            "KADENZ_SECRET_KEY": "k",
            "KADENZ_TICK_SECONDS": "0.2",
            "KADENZ_PUBLIC_URL": "https://kadenz.acme.example",
        }
        env.pop("KADENZ_DATABASE_URL", None)
        proc = subprocess.Popen(
            [str(KADENZ), "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            sink.wait_for(4, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "SIGTERM" in err and "stopped" in err
        assert sink.data_received == 4
        with db.session() as s:
            states = {m.state for m in s.scalars(select(OutboundMessage))}
        db.dispose()
    assert states == {"sent"}
