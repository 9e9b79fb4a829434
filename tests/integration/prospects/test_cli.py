"""The commands as a user types them, against the test database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.store.db import Database
from engine.store.models import Enrollment, Mailbox
from tests.integration.prospects.conftest import add_sequence

Cli = Callable[..., Any]


def test_import_enroll_suppress_erase_from_the_command_line(
    db: Database, cli: Cli, clock: Any, write_csv: Callable[..., Path]
) -> None:
    add_sequence(db, at=clock.now())
    smtp = "smtp+starttls://mail.acme.example:587"
    out = cli("mailbox", "add", "anna", "--address", "anna@acme.example",
              "--smtp", smtp, "--password-env", "ANNA_PW")  # fmt: skip
    assert out.exit_code == 0, out.output
    listed = cli("mailbox", "list")
    assert "anna" in listed.output and "$ANNA_PW" in listed.output

    bad = cli("mailbox", "add", "ben", "--address", "ben@acme.example",
              "--smtp", "smtps://ben:hunter2@mail.acme.example")  # fmt: skip
    assert bad.exit_code == 1 and "--password-env" in str(bad.exception)

    path = write_csv(
        "E-Mail;Vorname;Firma\nerik@acme.example;Erik;Acme\nkaputt;K;X\n", name="de.csv"
    )
    imported = cli("prospects", "import", str(path), "--owner", "anna")
    assert imported.exit_code == 0, imported.output
    assert "refused: row 3, column 'E-Mail'" in imported.output
    assert "imported: 1 new, 0 updated, 0 unchanged; refused 1 row(s)" in imported.output

    enrolled = cli("enroll", "saas-founders", "--email", "erik@acme.example",
                   "--email", "nobody@acme.example")  # fmt: skip
    assert "enrolled: erik@acme.example (mailbox anna)" in enrolled.output
    assert "refused: nobody@acme.example: unknown prospect" in enrolled.output

    assert cli("enrollment", "pause", "erik@acme.example", "-s", "saas-founders").exit_code == 0
    assert cli("enrollment", "resume", "erik@acme.example", "-s", "saas-founders").exit_code == 0

    suppressed = cli("suppress", "add", "@acme.example", "--reason", "customer")
    assert "1 live enrollment(s) stopped" in suppressed.output
    assert "@acme.example" in cli("suppress", "list").output
    assert cli("suppress", "remove", "@acme.example").exit_code == 0

    erased = cli("prospect", "erase", "erik@acme.example", "--yes")
    assert "the address stays suppressed" in erased.output
    shown = cli("prospect", "show", "erik@acme.example")
    assert shown.exit_code == 1 and "no prospect" in str(shown.exception)
    with db.session() as s:
        assert s.scalars(select(Enrollment.state)).all() == ["stopped"]
        assert s.scalars(select(Mailbox.name)).all() == ["anna"]
