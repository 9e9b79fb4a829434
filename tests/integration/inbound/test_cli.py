"""`kadenz inbound ingest | list | show | reclassify | poll` against a real workspace database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from engine.cli import context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.errors import KadenzError
from engine.settings import load_settings
from engine.store.db import Database
from engine.store.models import Enrollment
from tests.support.inbound_world import dsn, enroll_and_send, make_world, out_of_office, reply


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: VirtualClock):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KADENZ_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KADENZ_DATABASE_URL", raising=False)
    settings = load_settings()
    db = Database(settings.database_url)
    db.upgrade()
    obj = context.Context(settings=settings, clock=clock, out=Console(width=200, highlight=False))
    obj.__dict__["db"] = db  # the cached_property, pre-filled with our database
    yield db, obj
    db.dispose()


def run(obj: context.Context, *args: str, stdin: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=obj, input=stdin)
    if isinstance(result.exception, KadenzError):  # main.run prints these as `error: …`
        return 1, f"error: {result.exception}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_ingest_list_show_reclassify(workspace, clock: VirtualClock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, obj = workspace
    world = make_world(db, clock.now())
    erik = enroll_and_send(db, world, clock.now(), "erik@acme.example")
    kai = enroll_and_send(db, world, clock.now(), "kai@beta.example")
    (tmp_path / "ooo.eml").write_bytes(out_of_office(erik, date(2026, 3, 13), at=clock.now()))
    (tmp_path / "bounce.eml").write_bytes(dsn(kai, at=clock.now()))

    code, out = run(
        obj, "inbound", "ingest", str(tmp_path / "ooo.eml"), str(tmp_path / "bounce.eml")
    )
    assert code == 0, out
    assert "2 messages: 2 new" in out
    code, out = run(obj, "inbound", "ingest", "-", stdin=reply(kai, "hello", at=clock.now()))
    assert code == 0 and "stdin: #3" in out
    code, out = run(obj, "inbound", "ingest", str(tmp_path / "ooo.eml"))
    assert "already ingested as #1" in out and "1 already ingested" in out

    code, out = run(obj, "inbound", "list")
    assert code == 0 and "erik@acme.example" in out
    code, out = run(obj, "inbound", "show", "1")
    assert code == 0 and "evidence:" in out and "Subject: Automatic reply" in out
    code, out = run(obj, "inbound", "list", "--class", "nonsense")
    assert code == 1 and "use one of hard_bounce" in out

    code, out = run(obj, "inbound", "show", "1")
    first_class = next(ln for ln in out.splitlines() if ln.startswith("class:"))
    code, out = run(obj, "inbound", "reclassify", "1", "human_reply", "--intent", "negative")
    assert code == 0, out
    assert "→ human_reply/negative" in out
    with db.session() as s:
        assert s.get(Enrollment, erik.enrollment_id).state == "stopped"  # type: ignore[union-attr]
    code, out = run(obj, "inbound", "show", "1")
    assert "corrected by cli" in out and first_class not in out


def test_poll_without_imap_mailboxes(workspace) -> None:  # type: ignore[no-untyped-def]
    _, obj = workspace
    code, out = run(obj, "inbound", "poll")
    assert code == 0 and "no mailbox has an imap_url" in out
