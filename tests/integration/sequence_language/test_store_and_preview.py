"""Pushing sequences as versions and previewing them, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.errors import InvalidInput, NotFound
from engine.sequence_language.loader import load_sequence
from engine.settings import Settings
from engine.store.db import Database
from engine.store.models import Mailbox, Prospect, Sequence, SequenceVersion
from engine.workspace import sequences as service

ROOT = Path(__file__).resolve().parents[3]
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def add_prospect(db: Database, email: str, **fields: object) -> None:
    with db.session() as session:
        session.add(
            Prospect(email=email, email_key=email.lower(), created_at=AT, updated_at=AT, **fields)
        )


def add_mailbox(db: Database, name: str = "anna") -> None:
    with db.session() as session:
        session.add(
            Mailbox(
                name=name,
                address=f"{name}@kadenz.example",
                display_name="Anna Schmidt",
                smtp_url="smtp://127.0.0.1:2525",
                signature="Anna Schmidt\nKadenz GmbH",
                created_at=AT,
            )
        )


def test_push_is_idempotent_and_versions_only_on_change(db: Database, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    path = tmp_path / "saas.yaml"
    path.write_text((ROOT / "sequences" / "saas-founders.yaml").read_text())
    loaded = load_sequence(path)
    with db.session() as session:
        v1, created = service.push(session, loaded, AT)
        assert (v1.version, created) == (1, True)
    with db.session() as session:
        again, created = service.push(session, load_sequence(path), AT + timedelta(minutes=1))
        assert (again.version, created, again.id) == (1, False, v1.id)
    # A template edit alone is a new version: the snapshot holds templates too.
    (tmp_path / "templates" / "saas-founders" / "bump.md.j2").write_text("Hi {{ sender.name }}")
    with db.session() as session:
        v2, created = service.push(session, load_sequence(path), AT + timedelta(hours=1))
        assert (v2.version, created) == (2, True)
    with db.session() as session:
        current = service.get_version(session, "saas-founders")
        assert current.version == 2
        assert current.templates["saas-founders/bump.md.j2"] == "Hi {{ sender.name }}"
        first = service.get_version(session, "saas-founders", 1)
        assert first.content_hash == loaded.content_hash and first.source == loaded.source
        assert service.version_spec(first) == loaded.spec
        [summary] = service.list_sequences(session)
        assert (summary.key, summary.current_version, summary.versions) == ("saas-founders", 2, 2)
        assert summary.updated_at == AT + timedelta(hours=1)
        # Pushing the old content again makes v1 current, without a v3.
        (tmp_path / "templates" / "saas-founders" / "bump.md.j2").write_text(
            loaded.templates["saas-founders/bump.md.j2"]
        )
    with db.session() as session:
        back, created = service.push(session, load_sequence(path), AT + timedelta(hours=2))
        assert (back.version, created) == (1, False)
        assert service.get_version(session, "saas-founders").version == 1
        assert session.query(SequenceVersion).count() == 2
        assert session.query(Sequence).one().current_version_id == back.id
        with pytest.raises(NotFound, match=r"versions: v1, v2"):
            service.get_version(session, "saas-founders", 7)
        with pytest.raises(NotFound, match="known: saas-founders"):
            service.get_version(session, "nope")


@pytest.mark.parametrize("key", ["saas-founders", "mittelstand-de"])
def test_preview_renders_every_step_for_a_prospect(db: Database, key: str) -> None:
    with db.session() as session:
        service.push(session, load_sequence(ROOT / "sequences" / f"{key}.yaml"), AT)
    add_mailbox(db)
    add_prospect(
        db,
        "erik@acme.example",
        first_name="Erik",
        last_name="Berg",
        company="Acme GmbH",
        custom={"anrede": "Herr"},
    )
    with db.session() as session:
        result = service.preview(session, key, "Erik@Acme.example")
    assert result.mailbox == "anna" and result.missing == []
    emails = [i for i in result.items if isinstance(i, service.PreviewEmail)]
    tasks = [i for i in result.items if isinstance(i, service.PreviewTask)]
    assert emails and tasks
    for item in emails:
        assert item.sender == "Anna Schmidt <anna@kadenz.example>"
        assert item.recipient == "Erik Berg <erik@acme.example>"
        assert item.subject and "\n" not in item.subject
        assert item.text and ("Erik" in item.text or "Herr Berg" in item.text)
        assert item.html and item.html.startswith("<p>")
    threaded = [e for e in emails if e.thread == "previous"]
    assert threaded and all(e.subject and e.subject.startswith("Re: ") for e in threaded)
    assert all(t.title and "Erik Berg" in t.title for t in tasks)


def test_preview_names_missing_data_and_uses_a_placeholder_sender(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "seq.yaml"
    path.write_text(
        "key: strict\nname: Strict\nsteps:\n"
        "  - id: intro\n    email: {subject: 'Hi {{ first_name }}', body: 'Hello'}\n"
        "  - id: call-1\n    call: {title: 'Call {{ phone }}'}\n"
    )
    with db.session() as session:
        service.push(session, load_sequence(path, tmp_path), AT)
    add_prospect(db, "nameless@acme.example")
    with db.session() as session:
        result = service.preview(session, "strict", "nameless@acme.example")
        assert result.mailbox is None
        assert result.missing == ["first_name", "phone"]
        email, _call = result.items
        assert isinstance(email, service.PreviewEmail) and email.text is None
        assert email.missing == ["first_name"]
        with pytest.raises(NotFound, match="kadenz prospects import"):
            service.preview(session, "strict", "nobody@acme.example")
        with pytest.raises(InvalidInput, match="no email step of strict has it"):
            service.preview(session, "strict", "nameless@acme.example", variant="b")


def test_cli_push_list_show_preview(db: Database, tmp_path: Path) -> None:
    ctx = Context(settings=Settings(home=tmp_path), clock=VirtualClock(AT))
    ctx.__dict__["db"] = db  # the test's database instead of the workspace's
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), obj=ctx)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("sequence", "push", str(ROOT / "sequences"))
    assert (code, out) == (0, "pushed mittelstand-de v1\npushed saas-founders v1\n")
    code, out, _ = run("sequence", "push", str(ROOT / "sequences" / "saas-founders.yaml"))
    assert out == "unchanged saas-founders v1\n"
    code, out, _ = run("sequence", "list")
    assert code == 0 and "saas-founders" in out and "mittelstand-de" in out
    code, out, _ = run("sequence", "show", "saas-founders")
    assert code == 0 and "v1 (current)" in out and "email intro" in out and "variants a, b" in out
    add_prospect(db, "erik@acme.example", first_name="Erik", company="Acme")
    code, out, _ = run(
        "sequence", "preview", "saas-founders", "--prospect", "erik@acme.example", "--variant", "b"
    )
    assert code == 0, out
    assert "placeholder sender" in out
    assert "From: Your Name <you@example.com>" in out
    assert "Subject: Quick question, Erik" in out
    assert "Subject: Re: Quick question, Erik" in out
    assert "variant a" not in out
    assert "── call call-1 (due 1 business day, blocking)" in out


def test_cli_validate_reports_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: bad\nname: Bad\nsteps:\n  - id: intro\n    email: {subjet: Hi, body: x}\n")
    runner = CliRunner()
    result = runner.invoke(app, ["sequence", "validate", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}:5:13: unknown key 'subjet' in steps[0].email (did you mean 'subject'?)",
        "1 problem(s) in 1 file(s)",
    ]
    result = runner.invoke(app, ["sequence", "validate", str(ROOT / "sequences")])
    assert (result.exit_code, result.stdout) == (0, "ok: 2 sequences valid\n")


def test_cli_schema_describes_the_authoring_form() -> None:
    import json

    result = CliRunner().invoke(app, ["sequence", "schema"])
    schema = json.loads(result.stdout)
    steps = schema["properties"]["steps"]["items"]["oneOf"]
    assert [sorted(s["properties"]) for s in steps] == [
        ["email", "id", "renamed_from", "review"],
        ["call", "id", "renamed_from"],
        ["id", "renamed_from", "task"],
        ["id", "renamed_from", "wait"],
    ]
    assert (
        "yaml-language-server" in CliRunner().invoke(app, ["sequence", "schema", "--help"]).stdout
    )


def test_push_refuses_rules_moving_to_unknown_sequences(db: Database, tmp_path: Path) -> None:
    def seq(key: str, target: str) -> Path:
        path = tmp_path / f"{key}.yaml"
        path.write_text(
            f"key: {key}\nname: {key}\nsteps:\n  - id: t\n    task: Do it\n"
            f"rules:\n  - when: {{reply: negative}}\n    then: {{move_to: {target}}}\n"
        )
        return path

    a, b = load_sequence(seq("a", "b")), load_sequence(seq("b", "nurture"))
    with db.session() as session:
        assert service.unknown_move_targets(session, [a]) == [
            f"{a.path}: move_to 'b' is not a known sequence "
            "(push that sequence first, or in the same command)"
        ]
        problems = service.unknown_move_targets(session, [a, b])
        assert len(problems) == 1 and "'nurture'" in problems[0]


def test_committed_schema_matches_the_models() -> None:
    import json

    from engine.sequence_language.schema import sequence_schema

    committed = json.loads((ROOT / "sequences" / "sequence.schema.json").read_text())
    assert committed == sequence_schema(), (
        "run: kadenz sequence schema > sequences/sequence.schema.json"
    )
