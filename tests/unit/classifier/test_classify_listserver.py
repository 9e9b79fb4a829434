"""A mailing-list manager's notice is not a person's reply; a person writing via a list is."""

from __future__ import annotations

import pytest

from engine.core.classification import InboundClass
from engine.inbound.classifier.classify import classify
from tests.support import mailbuilder as mb


@pytest.mark.parametrize(
    ("sender", "subject", "headers", "body", "kind"),
    [
        (
            "sales-admin@lists.acme.example",
            "You anna@kadenz.example are not member (sales ML)",
            {"X-MLServer": "fml [fml 4.0.3 release]"},
            "You are not a member of this mailing list <sales@lists.acme.example>.\n",
            InboundClass.BLOCKED,
        ),
        (
            "team-owner@lists.acme.example",
            "Your message to Team awaits moderator approval",
            {"X-Mailman-Version": "2.1.39", "List-Id": "Team <team.lists.acme.example>"},
            "Your mail to 'Team' with the subject Quick question is being held until the list "
            "moderator can review it for approval. The reason it is being held: Post by "
            "non-member to a members-only list.\n",
            InboundClass.BLOCKED,
        ),
        (
            "sales-admin@lists.acme.example",
            "Loop Alert: Duplicated Message-ID (sales ML)",
            {"X-MLServer": "fml [fml 4.0.3 release]"},
            "Duplicated Message-ID in <sales@lists.acme.example>.\n",
            InboundClass.SOFT_BOUNCE,
        ),
    ],
)
def test_list_manager_notices_are_refusals_not_replies(
    sender: str, subject: str, headers: dict[str, str], body: str, kind: InboundClass
) -> None:
    c = classify(mb.reply(body, sender=sender, subject=subject, headers=headers))
    assert c.kind is kind, c.evidence
    assert any(e.startswith("from list address") for e in c.evidence)
    assert c.intent is None  # never read as a person's intent


def test_the_list_address_is_the_recipient_not_the_admin() -> None:
    c = classify(
        mb.reply(
            "You are not a member of this mailing list <sales@lists.acme.example>.\n",
            sender="sales-admin@lists.acme.example",
            subject="You are not member (sales ML)",
            headers={"X-MLServer": "fml [fml 4.0.3 release]"},
        )
    )
    assert c.recipients == ("sales@lists.acme.example",)


def test_a_person_replying_through_a_list_is_a_human_reply() -> None:
    c = classify(
        mb.reply(
            "Sounds interesting, not a member of the buying team though - ask Jana.\n",
            sender="Erik Lund <erik@acme.example>",
            headers={"List-Id": "Sales <sales.lists.acme.example>", "X-Mailman-Version": "2.1"},
        )
    )
    assert c.kind is InboundClass.HUMAN_REPLY


def test_other_mail_from_a_list_address_is_left_to_the_other_checks() -> None:
    c = classify(
        mb.reply(
            "Welcome to the sales list! Here is how to post.\n",
            sender="sales-request@lists.acme.example",
            subject="Welcome to sales",
            headers={"List-Id": "Sales <sales.lists.acme.example>"},
        )
    )
    assert c.kind is not InboundClass.BLOCKED and c.kind is not InboundClass.SOFT_BOUNCE
