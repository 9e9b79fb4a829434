"""`sender.booking_link`: the sending mailbox's owner's link in the template context, known
to validate, and a sender without one reported missing (never rendered empty)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import InvalidInput
from engine.outbound.runtime import sender_mapping, sending_user
from engine.outbound.tick import sender_fix
from engine.people.users import booking_link_of
from engine.sequence_language import variables
from engine.sequence_language.render import MissingVariable, Renderer, prospect_context
from engine.store.models import Mailbox, User

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
LINK = "https://cal.example/maria/30min"


def _mailbox(owner: str | None = "maria") -> Mailbox:
    return Mailbox(name="maria-box", address="maria@acme.example", display_name="Maria Lopez",
                   owner=owner, signature=None)  # fmt: skip


def _user(name: str = "maria", link: str | None = LINK) -> User:
    return User(name=name, role="sdr", booking_link=link, aliases=[], created_at=AT)


def test_the_mapping_takes_the_link_of_the_user_who_owns_the_mailbox() -> None:
    mapping = sender_mapping(_mailbox(), _user())
    assert mapping["booking_link"] == LINK
    context = prospect_context({"first_name": "Erik"}, mapping)
    assert context["sender"]["booking_link"] == LINK
    assert context["sender"]["first_name"] == "Maria"


@pytest.mark.parametrize(
    ("mailbox", "user"),
    [
        (_mailbox(), _user(link=None)),  # the owner has no link
        (_mailbox(), _user(link="   ")),  # blank is none
        (_mailbox(owner=None), _user()),  # the mailbox belongs to nobody
        (_mailbox(), _user(name="tom")),  # a user who does not own this mailbox
        (_mailbox(), None),
    ],
)
def test_no_link_is_left_out_so_a_template_reading_it_is_missing_data(
    mailbox: Mailbox, user: User | None
) -> None:
    context = prospect_context({"first_name": "Erik"}, sender_mapping(mailbox, user))
    assert "booking_link" not in context["sender"]
    renderer = Renderer({})
    assert renderer.missing_variables("Book: {{ sender.booking_link }}", context) == [
        "sender.booking_link"
    ]
    with pytest.raises(MissingVariable) as caught:
        renderer.render_text("Book: {{ sender.booking_link }}", context)
    assert caught.value.names == ["sender.booking_link"]
    fallback = '{{ sender.booking_link | default("reply with a time") }}'
    assert renderer.render_text(fallback, context) == "reply with a time"


def test_sending_user_reads_from_the_prefetched_users() -> None:
    maria = _user()
    assert sending_user({"maria": maria}, _mailbox()) is maria
    assert sending_user({"maria": maria}, _mailbox(owner=None)) is None
    assert sending_user({}, None) is None


def test_validate_knows_sender_booking_link_and_suggests_it() -> None:
    known = variables.Use(("sender", "booking_link"), 1, guarded=False)
    assert variables.unknown_variable_message(known) is None
    typo = variables.Use(("sender", "booking_url"), 1, guarded=False)
    message = variables.unknown_variable_message(typo)
    assert message is not None and "sender.booking_link" in message


def test_the_fix_names_the_user_or_the_ownerless_mailbox() -> None:
    assert sender_fix(["first_name"], _mailbox()) is None
    fix = sender_fix(["sender.booking_link"], _mailbox())
    assert fix is not None and "kadenz user update maria --booking-link URL" in fix
    orphan = sender_fix(["sender.booking_link"], _mailbox(owner=None))
    assert orphan is not None and "kadenz mailbox update maria-box --owner USER" in orphan


@pytest.mark.parametrize(
    "text", ["cal.example/maria", "javascript:alert(1)", "https://", "https://a b"]
)
def test_a_booking_link_must_be_a_web_address(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a web address"):
        booking_link_of(text)


def test_a_booking_link_is_trimmed_and_empty_means_none() -> None:
    assert booking_link_of(f"  {LINK} ") == LINK
    assert booking_link_of("") is None and booking_link_of(None) is None
