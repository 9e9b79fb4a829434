"""Issue 19 item 17: `kadenz inbound ingest -` refuses a message over 50 MiB with a clear
error and a non-zero exit, instead of storing it silently cut short (a file path already was)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import func, select

from engine.inbound import mailsources
from engine.store.db import Database
from engine.store.models import InboundMessage
from tests.e2e.test_run_once import KADENZ, _env


def test_item17_ingest_stdin_over_the_limit_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    subprocess.run([str(KADENZ), "init"], env=_env(home), check=True, capture_output=True)
    head = (
        b"From: erik@acme.example\r\nTo: anna@acme.example\r\nSubject: big\r\n"
        b"Message-ID: <big@acme.example>\r\n\r\n"
    )
    body = b"x" * 76 + b"\r\n"
    raw = head + body * (mailsources.MAX_MESSAGE_BYTES // len(body) + 1)
    assert len(raw) > mailsources.MAX_MESSAGE_BYTES
    result = subprocess.run(
        [str(KADENZ), "inbound", "ingest", "-"], env=_env(home), input=raw, capture_output=True
    )
    assert result.returncode != 0
    assert result.stderr.decode().splitlines() == [
        "error: stdin: larger than 50 MiB, not one message (nothing was stored)"
    ]
    db = Database(f"sqlite:///{home / 'kadenz.db'}")
    try:
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(InboundMessage)) == 0
    finally:
        db.dispose()
