"""GDPR erasure: data gone, enrollments stopped, address still suppressed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.errors import Conflict, NotFound
from engine.people import enrollment, erasure, prospects, suppression
from engine.store.db import Database
from engine.store.models import Enrollment, Event, InboundMessage, OutboundMessage, Prospect
from tests.integration.prospects.conftest import add_mailbox, add_sequence
from tests.integration.prospects.test_enroll import add_planned_message_and_task, no_missing


def test_erasure_forgets_the_person_but_keeps_them_suppressed(
    db: Database, clock: VirtualClock, write_csv: Callable[..., Path]
) -> None:
    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    path = write_csv("email,first name,phone,notes\nErik@Acme.example,Erik,+46 1,likes tea\n")
    prospects.import_csv(db, path, clock=clock)
    with db.session() as s:
        enrollment.enroll(
            s, "saas-founders", ["erik@acme.example"], at=clock.now(), check_variables=no_missing
        )
    with db.session() as s:
        row = s.scalars(select(Enrollment)).one()
        add_planned_message_and_task(s, row, clock)
        s.add(
            InboundMessage(
                dedupe_key="<r1@acme.example>",
                source="file",
                raw=b"From: Erik <erik@acme.example>\r\n\r\nHi, tea?",
                from_address="erik@acme.example",
                subject="Re: Hi Erik",
                received_at=clock.now(),
                classification="reply",
                prospect_id=row.prospect_id,
                created_at=clock.now(),
            )
        )

    with db.session() as s:  # a refusal whose reason names the address, logged as an event
        suppression.add(s, "erik@acme.example", reason="asked by phone", at=clock.now())
        refused = enrollment.enroll(
            s, "saas-founders", ["erik@acme.example"], at=clock.now(), check_variables=no_missing
        )
        assert "erik@acme.example" in refused.refused[0].reason

    with db.session() as s:
        result = erasure.erase(s, "erik@ACME.example", at=clock.now())
    assert (result.enrollments_stopped, result.outbound_blanked, result.inbound_blanked) == (
        1,
        1,
        1,
    )

    with db.session() as s:
        p = s.scalars(select(Prospect)).one()
        assert (p.email, p.first_name, p.phone, p.custom) == (None, None, None, {})
        assert p.email_key.startswith("erased:") and "erik" not in p.email_key
        assert p.erased_at == clock.now()
        assert s.scalars(select(Enrollment.state_reason)).one() == "erased"
        msg = s.scalars(select(OutboundMessage)).one()
        assert (msg.state, msg.body_text, msg.subject) == ("cancelled", "", "")
        inbound = s.scalars(select(InboundMessage)).one()
        assert (inbound.raw, inbound.from_address) == (b"", None)
        # Still suppressed, by hash only.
        kept = suppression.find(s, "erik@acme.example")
        assert kept is not None and (kept.reason, kept.value) == ("erased", None)
        for event in s.scalars(select(Event)):
            assert "erik" not in str(event.data).lower()
        with pytest.raises(NotFound):
            erasure.erase(s, "erik@acme.example", at=clock.now())
        with pytest.raises(Conflict, match="cannot be lifted"):
            suppression.remove(s, "erik@acme.example", at=clock.now())
        again = enrollment.enroll(
            s, "saas-founders", ["erik@acme.example"], at=clock.now(), check_variables=no_missing
        )
        assert [r.reason for r in again.refused] == ["this person's data was erased (GDPR)"]

    # A CRM re-export does not bring the data back.
    report = prospects.import_csv(db, path, clock=clock)
    assert report.created == 0 and "erased" in report.refused[0].message
    with db.session() as s:
        assert s.scalars(select(Prospect.email)).all() == [None]
