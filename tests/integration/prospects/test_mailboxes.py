"""Mailbox settings: validation, update, pause/resume with events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.outbound.sent_proof import files_submissions
from engine.store.db import Database
from engine.store.models import Event
from engine.workspace import mailboxes
from engine.workspace.mailboxes import MailboxSettings

ANNA = MailboxSettings(
    address="Anna@ACME.example",
    smtp_url="smtp+starttls://mail.acme.example:587",
    imap_url="imaps://mail.acme.example",
    password_env="ANNA_PASSWORD",
    display_name="Anna Berg",
    timezone="europe/berlin",
)


def test_add_update_pause_resume(db: Database, clock: VirtualClock) -> None:
    with db.session() as s:
        box = mailboxes.add(s, "anna", ANNA, at=clock.now())
        assert (box.address, box.timezone, box.daily_cap) == (
            "Anna@acme.example",
            "Europe/Berlin",
            50,
        )
        with pytest.raises(Conflict, match="already exists"):
            mailboxes.add(s, "anna", ANNA, at=clock.now())
    with db.session() as s:
        box = mailboxes.update(s, "anna", MailboxSettings(daily_cap=30, min_gap_seconds=90))
        assert (box.daily_cap, box.min_gap_seconds, box.display_name) == (30, 90, "Anna Berg")
        mailboxes.pause(s, "anna", at=clock.now(), reason="warm-up")
        mailboxes.resume(s, "anna", at=clock.now())
        with pytest.raises(NotFound, match="known: anna"):
            mailboxes.get(s, "ben")
    with db.session() as s:
        assert s.scalars(select(Event.type).order_by(Event.id)).all() == [
            "mailbox.paused",
            "mailbox.resumed",
        ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (MailboxSettings("a@acme.example", "smtps://a:secret@mail.acme.example"), "--password-env"),
        (MailboxSettings("a@acme.example", "https://mail.acme.example"), "unknown scheme"),
        (MailboxSettings("a@acme.example", "smtp://mail.acme.example:99999"), "port"),
        (MailboxSettings("nope", "smtp://mail.acme.example"), "not a valid email"),
        (
            MailboxSettings("a@acme.example", "smtp://m.example", password_env="hunter2!"),
            "environment variable name",
        ),
        (
            MailboxSettings("a@acme.example", "smtp://m.example", display_name="A\r\nBcc: x"),
            "one line",
        ),
        (MailboxSettings("a@acme.example", "smtp://m.example", daily_cap=0), "at least 1"),
        (MailboxSettings("a@acme.example", "smtp://m.example", timezone="CET+1"), "IANA"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(
    sqlite_db: Database, clock: VirtualClock, settings: MailboxSettings, message: str
) -> None:
    with sqlite_db.session() as s, pytest.raises(InvalidInput, match=message):
        mailboxes.add(s, "anna", settings, at=clock.now())


def test_sent_folder_settings_are_set_cleared_and_refused_on_a_line_break(
    db: Database, clock: VirtualClock
) -> None:
    with db.session() as s:
        box = mailboxes.add(
            s,
            "gina",
            MailboxSettings(
                address="gina@acme.example",
                smtp_url="smtp+starttls://smtp.gmail.com:587",
                imap_url="imaps://imap.gmail.com:993",
            ),
            at=clock.now(),
        )
        assert files_submissions(box)[0]  # Gmail files every submission in Sent
        mailboxes.update(
            s,
            "gina",
            MailboxSettings(sent_folder="[Gmail]/Sent Mail", sent_files_submissions=False),
        )
        assert (box.sent_folder, files_submissions(box)[0]) == ("[Gmail]/Sent Mail", False)
        assert "mailbox setting" in files_submissions(box)[1]
        mailboxes.update(s, "gina", MailboxSettings(sent_folder=""))
        assert box.sent_folder is None
        with pytest.raises(InvalidInput, match="--sent-folder: must be one line"):
            mailboxes.update(s, "gina", MailboxSettings(sent_folder="Sent\r\nX"))
