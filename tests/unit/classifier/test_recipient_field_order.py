"""Postfix writes Final-Recipient before Original-Recipient; RFC 3464 the other way round.
Either way it is one recipient: a success report stays a success, never a bounce."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.core.classification import InboundClass
from engine.inbound.classifier.classify import classify
from tests.support.inbound_world import Person, dsn

ERIK = Person(1, 1, 1, "abc@kadenz.example", "erik@acme.example")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("2.0.0", InboundClass.DELIVERED),
        ("5.1.1", InboundClass.HARD_BOUNCE),
        ("4.2.2", InboundClass.SOFT_BOUNCE),
    ],
)
def test_final_then_original_recipient_is_one_group(status: str, kind: InboundClass) -> None:
    c = classify(dsn(ERIK, status=status, at=datetime(2026, 3, 3, tzinfo=UTC)))
    assert c.kind is kind
    assert c.recipients == ("erik@acme.example",)
    assert c.status == status
