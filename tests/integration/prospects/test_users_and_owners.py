"""Users own prospects, tokens and mailboxes; a CRM owner column finds them in any spelling;
`mailboxes: owner` sends from the owner's mailbox, one sender per company."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.core.events import EventType
from engine.errors import Conflict, InvalidInput
from engine.people import enrollment, prospects, users
from engine.store.db import Database
from engine.store.models import Enrollment, Event, Mailbox, Prospect
from tests.integration.prospects.conftest import add_mailbox, add_sequence

WriteCsv = Callable[..., Path]
EXPORT = (
    "Email,First Name,Company,Contact Owner\n"
    "lena@alpen.example,Lena,Alpen,María López\n"
    "jo@alpen.example,Jo,Alpen,maria\n"
    "sam@lonestar.example,Sam,Lone Star,TOM@ACME.EXAMPLE\n"
    "kim@nowhere.example,Kim,Nowhere,Pat Unknown\n"
)


def _team(db: Database, clock: VirtualClock) -> None:
    with db.session() as s:
        users.add(
            s,
            "maria",
            at=clock.now(),
            email="maria@acme.example",
            full_name="Maria Lopez",
            aliases=["M. Lopez"],
        )
        users.add(s, "tom", at=clock.now(), email="tom@acme.example", full_name="Tom Berger")


def _owners(db: Database) -> dict[str, str | None]:
    with db.session() as s:
        return {p.email_key: p.owner for p in s.scalars(select(Prospect))}


def test_an_owner_column_finds_users_in_any_spelling(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    _team(db, clock)
    report = prospects.import_csv(db, write_csv(EXPORT), clock=clock)
    assert _owners(db) == {
        "lena@alpen.example": "maria",
        "jo@alpen.example": "maria",
        "sam@lonestar.example": "tom",
        "kim@nowhere.example": None,
    }
    [warning] = report.warnings
    assert warning.row == 5 and "'Pat Unknown' is not a user" in warning.message
    with db.session() as s:
        kim = s.scalars(select(Prospect).where(Prospect.email_key == "kim@nowhere.example")).one()
        assert kim.custom["owner_as_exported"] == "Pat Unknown"  # nothing lost


def test_unknown_owners_can_be_created_on_request(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    _team(db, clock)
    report = prospects.import_csv(db, write_csv(EXPORT), clock=clock, create_owners=True)
    assert report.warnings == []
    assert _owners(db)["kim@nowhere.example"] == "pat-unknown"
    with db.session() as s:
        made = users.get(s, "Pat Unknown")
        assert (made.name, made.full_name, made.role) == ("pat-unknown", "Pat Unknown", "sdr")


def test_the_directory_ignores_case_accents_and_refuses_ambiguity(
    db: Database, clock: VirtualClock
) -> None:
    _team(db, clock)
    with db.session() as s:
        users.update(s, "tom", add_aliases=["M. Lopez"])  # now two users answer to it
        d = users.Directory.load(s)
    assert d.match("  MARÍA   lópez ").name == "maria"  # type: ignore[union-attr]
    assert d.match("maria@ACME.example").name == "maria"  # type: ignore[union-attr]
    assert d.match("M. Lopez") is None
    with db.session() as s, pytest.raises(InvalidInput, match="is not a user name"):
        users.add(s, "Maria Lopez", at=clock.now())
    with db.session() as s, pytest.raises(Conflict, match="exists"):
        users.add(s, "maria", at=clock.now())


def _owner_sequence(db: Database, clock: VirtualClock) -> None:
    add_sequence(db, key="by-owner", at=clock.now())
    with db.session() as s:  # the stored spec says: send from the owner's mailbox
        from engine.store.models import SequenceVersion

        version = s.scalars(select(SequenceVersion)).one()
        version.spec = {**version.spec, "sender": "owner", "mailboxes": []}
    for name in ("maria-1", "maria-2", "tom-1", "shared"):
        add_mailbox(db, name, at=clock.now())
    with db.session() as s:
        for box in s.scalars(select(Mailbox)):
            box.owner = {"maria-1": "maria", "maria-2": "maria", "tom-1": "tom"}.get(box.name)


def test_the_sender_follows_the_owner_and_one_company_shares_it(
    db: Database, clock: VirtualClock, write_csv: WriteCsv
) -> None:
    _team(db, clock)
    prospects.import_csv(db, write_csv(EXPORT), clock=clock)
    _owner_sequence(db, clock)
    emails = [
        "lena@alpen.example",
        "jo@alpen.example",
        "sam@lonestar.example",
        "kim@nowhere.example",
    ]
    with db.session() as s:
        result = enrollment.enroll(s, "by-owner", emails, at=clock.now())
    sent_from = dict(result.enrolled)
    assert sent_from["lena@alpen.example"] in ("maria-1", "maria-2")
    # Jo is at Lena's company: the same sender, not the other of Maria's mailboxes.
    assert sent_from["jo@alpen.example"] == sent_from["lena@alpen.example"]
    assert sent_from["sam@lonestar.example"] == "tom-1"
    [refused] = result.refused
    assert refused.email == "kim@nowhere.example" and "has no unpaused mailbox" in refused.reason
    with db.session() as s:
        why = {
            e.data["mailbox"]: e.data["why"]
            for e in s.scalars(select(Event).where(Event.type == str(EventType.ENROLLED)))
        }
        assert why["tom-1"] == "the mailbox of their owner tom"
        jo = s.scalars(
            select(Enrollment).join(Prospect).where(Prospect.email_key == "jo@alpen.example")
        ).one()
        assert jo.owner == "maria"


def test_mailboxes_owner_in_a_sequence_file_means_the_owner_sender() -> None:
    from engine.sequence_language.model import SequenceSpec

    spec: dict[str, Any] = {
        "key": "k",
        "name": "k",
        "mailboxes": "owner",
        "steps": [{"id": "t", "task": "Say hi"}],
    }
    parsed = SequenceSpec.model_validate(spec)
    assert (parsed.sender, parsed.mailboxes) == ("owner", [])


def test_tokens_belong_to_users_and_reports_group_by_them(
    db: Database, clock: VirtualClock, write_csv: WriteCsv, cli: Callable[..., Any]
) -> None:
    from engine.store.models import ApiToken

    added = cli("user", "add", "maria", "--email", "maria@acme.example", "--name", "Maria Lopez")
    assert added.exit_code == 0, added.output
    made = cli("token", "create", "--name", "maria-laptop", "--user", "María López")
    assert made.exit_code == 0, made.output
    unknown = cli("token", "create", "--name", "x", "--user", "nobody")
    assert unknown.exit_code != 0 and "is not a user" in str(unknown.exception)
    with db.session() as s:
        token = s.scalars(select(ApiToken).where(ApiToken.name == "maria-laptop")).one()
        assert (token.owner, token.role) == ("maria", "sdr")
    listed = cli("user", "list")
    assert "Maria Lopez" in listed.output and "maria@acme.example" in listed.output
    prospects.import_csv(db, write_csv(EXPORT), clock=clock)
    assert {o for o in _owners(db).values() if o} == {"maria"}  # one spelling in reports
