"""A rule's task title renders like a step's title: sandboxed Jinja with filters."""

from __future__ import annotations

from engine.core.classification import Classification, InboundClass
from engine.inbound.actions import render_title
from engine.store.models import Prospect

REPLY = Classification(
    kind=InboundClass.HUMAN_REPLY,
    confidence=0.8,
    evidence=(),
    from_address="erik@acme.example",
    subject="Re: Quick question",
    referral="jana@acme.example",
)


def _prospect(**fields: object) -> Prospect:
    return Prospect(email="erik@acme.example", email_key="erik@acme.example", custom={}, **fields)


def test_filters_render_as_in_emails() -> None:
    title = "Book a meeting with {{ first_name | default(email) }} at {{ company | upper }}"
    assert render_title(title, _prospect(first_name="Erik", company="Acme"), REPLY) == (
        "Book a meeting with Erik at ACME"
    )
    assert render_title(title, _prospect(company="Acme"), REPLY) == (
        "Book a meeting with erik@acme.example at ACME"
    )


def test_reply_fields_and_a_missing_name_still_make_a_title() -> None:
    assert render_title("Call {{ referral }} ({{ subject }})", _prospect(), REPLY) == (
        "Call jana@acme.example (Re: Quick question)"
    )
    # no first name and no default: the task is still made, named by the address
    assert render_title("Call {{ first_name }}", _prospect(), REPLY) == "Call erik@acme.example"
    assert render_title("Call {{ first_name ", _prospect(), REPLY) == "Call {{ first_name"


def test_a_title_cannot_reach_outside_the_sandbox() -> None:
    evil = "x {{ ''.__class__.__mro__[1].__subclasses__() }}"
    # the sandbox refuses; the title keeps the text as written, and lists no classes
    assert render_title(evil, _prospect(first_name="E"), REPLY) == evil
