"""`kadenz inbound ingest` as a real process (file arguments and an MTA-style stdin pipe).

A reply to a sent email stops the sequence, an out-of-office pauses and later resumes, a
bounce suppresses the address. The classifier is the real one; the database is the
workspace's SQLite file, as in the embedded mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.clock import VirtualClock
from engine.inbound.ingest import default_classifier, headers_only
from engine.people import suppression
from engine.people.resume import resume_due
from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox
from tests.conftest import missing
from tests.support.imap_server import Dovecot, dovecot_available
from tests.support.inbound_world import dsn, enroll_and_send, make_world, out_of_office, reply

ROOT = Path(__file__).resolve().parents[2]


def kadenz(
    home: Path, *args: str, stdin: bytes | None = None, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "KADENZ_HOME": str(home), "COLUMNS": "200", **(env_extra or {})}
    env.pop("KADENZ_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "from engine.cli.main import run; run()", *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_ingest_process_stops_pauses_resumes_and_suppresses(tmp_path: Path) -> None:
    assert default_classifier() is not headers_only  # the real classifier, not the fallback
    home = tmp_path / "home"
    db = Database(f"sqlite:///{home / 'kadenz.db'}")
    db.upgrade()
    now = datetime.now(UTC)  # the process uses the system clock
    world = make_world(db, now)
    erik = enroll_and_send(db, world, now, "erik@acme.example")
    jana = enroll_and_send(db, world, now, "jana@beta.example", first_name="Jana")
    kai = enroll_and_send(db, world, now, "kai@gamma.example", first_name="Kai")
    back = (now + timedelta(days=10)).date()
    (tmp_path / "ooo.eml").write_bytes(out_of_office(jana, back, at=now))
    (tmp_path / "bounce.eml").write_bytes(dsn(kai, at=now))

    piped = kadenz(
        home, "inbound", "ingest", "-", stdin=reply(erik, "Yes, interested - call me.", at=now)
    )
    files = kadenz(
        home, "inbound", "ingest", str(tmp_path / "ooo.eml"), str(tmp_path / "bounce.eml")
    )
    again = kadenz(home, "inbound", "ingest", str(tmp_path / "ooo.eml"))

    assert piped.returncode == 0, piped.stderr.decode()
    assert b"human_reply" in piped.stdout and b"stopped enrollment" in piped.stdout
    assert files.returncode == 0, files.stderr.decode()
    assert b"2 messages: 2 new" in files.stdout
    assert b"already ingested as #2" in again.stdout
    with db.session() as s:
        states = {e.id: (e.state, e.paused_until) for e in s.query(Enrollment)}
        assert suppression.find(s, kai.email) is not None
    assert states[erik.enrollment_id][0] == "stopped"
    assert states[kai.enrollment_id][0] == "stopped"
    assert states[jana.enrollment_id][0] == "paused"
    until = states[jana.enrollment_id][1]
    assert until is not None and until.date() > back

    later = VirtualClock(until - timedelta(minutes=1))
    assert resume_due(db, later) == 0
    later.advance(timedelta(minutes=1))
    assert resume_due(db, later) == 1
    with db.session() as s:
        assert s.get(Enrollment, jana.enrollment_id).state == "active"  # type: ignore[union-attr]
    db.dispose()


def test_poll_process_against_a_real_imap_server(tmp_path: Path) -> None:
    """`kadenz inbound poll` as a process, reading a real Dovecot on localhost."""
    assert default_classifier() is not headers_only  # the real classifier, not the fallback
    if not dovecot_available():
        missing("Dovecot (apt-get install dovecot-imapd)")
    home = tmp_path / "home"
    db = Database(f"sqlite:///{home / 'kadenz.db'}")
    db.upgrade()
    now = datetime.now(UTC)
    world = make_world(db, now)
    erik = enroll_and_send(db, world, now, "erik@acme.example")
    kai = enroll_and_send(db, world, now, "kai@gamma.example", first_name="Kai")
    with Dovecot(tmp_path / "dovecot") as server:
        with db.session() as s:
            mailbox = s.get(Mailbox, world.mailbox_id)
            assert mailbox is not None
            mailbox.imap_url, mailbox.password_env = server.url, "KADENZ_E2E_IMAP_PASSWORD"
        server.append("INBOX", reply(erik, "Yes, interested - call me.", at=now))
        server.append("INBOX", dsn(kai, at=now))
        password = {"KADENZ_E2E_IMAP_PASSWORD": server.password}
        first = kadenz(home, "inbound", "poll", env_extra=password)
        second = kadenz(home, "inbound", "poll", "--mailbox", "anna", env_extra=password)
    assert first.returncode == 0, first.stderr.decode() + first.stdout.decode()
    assert b"anna: 2 fetched, 2 new" in first.stdout
    assert b"anna: 0 fetched" in second.stdout
    with db.session() as s:
        assert s.get(Enrollment, erik.enrollment_id).state == "stopped"  # type: ignore[union-attr]
        assert s.get(Enrollment, kai.enrollment_id).state == "stopped"  # type: ignore[union-attr]
        assert suppression.find(s, kai.email) is not None
    db.dispose()
