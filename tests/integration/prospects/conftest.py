"""Fixtures for prospect/enrollment tests: a sequence version stored directly, CSV writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.sequence_language.model import SequenceSpec
from engine.settings import load_settings
from engine.store.db import Database
from engine.store.models import Mailbox, Sequence, SequenceVersion


def add_sequence(
    db: Database,
    key: str = "saas-founders",
    *,
    mailboxes: list[str] | None = None,
    steps: list[dict[str, Any]] | None = None,
    at: Any,
) -> int:
    """Store a sequence with one version, as `sequence push` would; returns the version id."""
    spec = SequenceSpec.model_validate(
        {
            "key": key,
            "name": key,
            "mailboxes": mailboxes or [],
            "steps": steps
            or [
                {"id": "intro", "email": {"subject": "Hi", "template": "intro.md.j2"}},
                {"wait": "2 days"},
                {"id": "call-1", "call": {"title": "Call {{ company }}", "due": "1 day"}},
            ],
        }
    ).model_dump(mode="json")
    with db.session() as session:
        seq = Sequence(key=key, name=key, created_at=at)
        session.add(seq)
        session.flush()
        version = SequenceVersion(
            sequence_id=seq.id,
            version=1,
            content_hash=key.ljust(64, "0")[:64],
            source=f"key: {key}\n",
            spec=spec,
            templates={"intro.md.j2": "Hi {{ first_name }},\n\n{{ pain | default('') }}"},
            created_at=at,
        )
        session.add(version)
        session.flush()
        seq.current_version_id = version.id
        return version.id


def add_mailbox(db: Database, name: str, *, at: Any, paused: bool = False) -> int:
    with db.session() as session:
        box = Mailbox(
            name=name,
            address=f"{name}@acme.example",
            smtp_url="smtp://127.0.0.1:2525",
            imap_folders=[],
            warmup={},
            paused=paused,
            created_at=at,
        )
        session.add(box)
        session.flush()
        return box.id


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a CSV exactly as given (text or bytes) and return its path."""

    def write(content: str | bytes, name: str = "prospects.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        data = content if isinstance(content, bytes) else content.encode(encoding)
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def cli(db: Database, clock: VirtualClock, tmp_path: Path) -> Callable[..., Any]:
    """Run `kadenz …` in-process against the test database and clock."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Any:
        ctx = Context(settings=load_settings(home=tmp_path / "home"), clock=clock)
        ctx.__dict__["db"] = db  # the cached_property: use the test database
        return runner.invoke(app, list(args), obj=ctx, input=input)

    return run
