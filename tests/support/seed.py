"""Seed a database with a realistic outbound scenario by writing rows and events directly.

Other engineers can reuse `Seeder` for their own scenarios. `seed_scenario` builds the one
that tests/unit/reports and the dashboard tests check by hand (see EXPECTED).

Rows and events are written the way the engine writes them (engine.store.event_log.record
with the enrollment and the message), so reports see exactly what production would produce.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.events import EventType
from engine.store import event_log as events
from engine.store.db import Database
from engine.store.models import (
    Enrollment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Prospect,
    Sequence,
    SequenceVersion,
    Task,
)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday


def _spec(key: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "name": key.replace("-", " ").title(), "steps": steps}


SAAS_STEPS: list[dict[str, Any]] = [
    {
        "id": "intro",
        "email": {
            "variants": {
                "a": {"subject": "Quick question, {{ first_name }}", "template": "intro_a.md.j2"},
                "b": {"subject": "{{ company }} + Acme", "template": "intro_b.md.j2"},
            }
        },
    },
    {"wait": "3 business days"},
    {"id": "bump", "email": {"thread": "previous", "template": "bump.md.j2"}},
    {"wait": "2 business days"},
    {"id": "call-1", "call": {"title": "Call {{ first_name }} at {{ company }}"}},
    {"wait": "4 business days"},
    {"id": "breakup", "email": {"subject": "Closing the loop", "template": "breakup.md.j2"}},
]


class Seeder:
    """Small builders that write model rows plus the events the engine would append."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def mailbox(
        self, name: str, *, daily_cap: int = 50, paused_reason: str | None = None
    ) -> Mailbox:
        box = Mailbox(
            name=name,
            address=f"{name}@kadenz-demo.example",
            display_name=name.title(),
            smtp_url="smtp://127.0.0.1:2525",
            daily_cap=daily_cap,
            paused=paused_reason is not None,
            paused_reason=paused_reason,
            created_at=START - timedelta(days=30),
            imap_folders=[],
            warmup={},
        )
        self.s.add(box)
        self.s.flush()
        return box

    def sequence(
        self, key: str, steps: list[dict[str, Any]], *, version: int = 1
    ) -> tuple[Sequence, SequenceVersion]:
        seq = Sequence(
            key=key, name=key.replace("-", " ").title(), created_at=START - timedelta(days=7)
        )
        self.s.add(seq)
        self.s.flush()
        ver = SequenceVersion(
            sequence_id=seq.id,
            version=version,
            content_hash=hashlib.sha256(f"{key}:{version}".encode()).hexdigest(),
            source=f"key: {key}\n",
            spec=_spec(key, steps),
            templates={},
            created_at=seq.created_at,
        )
        self.s.add(ver)
        self.s.flush()
        seq.current_version_id = ver.id
        return seq, ver

    def prospect(
        self, email: str, first_name: str, *, company: str = "Acme", owner: str | None = None
    ) -> Prospect:
        key = addresses.key_of(email)
        p = Prospect(
            email=key,
            email_key=key,
            first_name=first_name,
            last_name="Example",
            company=company,
            title="Founder",
            phone="+49 30 1234567",
            timezone="Europe/Berlin",
            country="DE",
            owner=owner,
            custom={},
            created_at=START - timedelta(days=1),
            updated_at=START - timedelta(days=1),
        )
        self.s.add(p)
        self.s.flush()
        events.record(self.s, EventType.PROSPECT_CREATED, p.created_at, prospect_id=p.id)
        return p

    def enroll(
        self,
        prospect: Prospect,
        version: SequenceVersion,
        mailbox: Mailbox,
        at: datetime,
        *,
        owner: str | None = None,
    ) -> Enrollment:
        e = Enrollment(
            prospect_id=prospect.id,
            sequence_id=version.sequence_id,
            version_id=version.id,
            mailbox_id=mailbox.id,
            state="active",
            step_index=0,
            step_id=version.spec["steps"][0]["id"],
            next_run_at=at,
            step_started_at=at,
            variants={},
            owner=owner or prospect.owner,
            enrolled_by=owner or prospect.owner,
            created_at=at,
            updated_at=at,
        )
        self.s.add(e)
        self.s.flush()
        events.record(self.s, EventType.ENROLLED, at, enrollment=e, data={"mailbox": mailbox.name})
        return e

    def send(
        self, e: Enrollment, step_id: str, at: datetime, *, variant: str | None = None
    ) -> OutboundMessage:
        p = self.s.get(Prospect, e.prospect_id)
        box = self.s.get(Mailbox, e.mailbox_id)
        assert p is not None and box is not None
        n = self._next()
        m = OutboundMessage(
            enrollment_id=e.id,
            step_id=step_id,
            prospect_id=p.id,
            mailbox_id=box.id,
            sequence_id=e.sequence_id,
            version_id=e.version_id,
            variant=variant,
            state="sent",
            to_address=p.email or "",
            from_address=box.address,
            subject=f"Quick question, {p.first_name}"
            if step_id == "intro"
            else "Re: quick question",
            body_text=f"Hi {p.first_name},\n\nshort question about {p.company}.\n",
            message_id=f"seed-{n}.{e.id}@kadenz-demo.example",
            references=[],
            headers={},
            not_before=at,
            attempts=1,
            sent_at=at,
            smtp_code=250,
            created_at=at - timedelta(minutes=5),
            updated_at=at,
        )
        self.s.add(m)
        self.s.flush()
        e.step_id = step_id
        e.next_run_at = at + timedelta(days=3)  # the next step's wait, roughly
        e.step_started_at = at
        if variant:
            e.variants = {**e.variants, step_id: variant}
        events.record(self.s, EventType.MESSAGE_SENT, at, enrollment=e, message=m)
        return m

    def bounce(self, m: OutboundMessage, at: datetime, *, kind: str = "hard") -> None:
        e = self.s.get(Enrollment, m.enrollment_id)
        assert e is not None
        m.state = "bounced"
        m.smtp_status = "5.1.1"
        events.record(
            self.s,
            EventType.MESSAGE_BOUNCED,
            at,
            enrollment=e,
            message=m,
            data={"kind": kind, "status": "5.1.1", "source": "dsn"},
        )
        e.state, e.state_reason = "stopped", "bounce"
        events.record(self.s, EventType.STOPPED, at, enrollment=e, data={"reason": "bounce"})

    def reply(
        self,
        m: OutboundMessage,
        at: datetime,
        *,
        intent: str = "neutral",
        auto: bool = False,
        text: str = "Thanks, tell me more.",
    ) -> InboundMessage:
        e = self.s.get(Enrollment, m.enrollment_id)
        assert e is not None
        n = self._next()
        cls = "auto_reply" if auto else "human_reply"
        evidence = (
            ["header Auto-Submitted: auto-replied", "phrase 'out of office'"]
            if auto
            else ["no auto-reply headers", f"intent phrase for {intent}"]
        )
        inbound = InboundMessage(
            dedupe_key=f"reply-{n}@prospect.example",
            mailbox_id=m.mailbox_id,
            source="demo",
            raw=f"Subject: Re: {m.subject}\r\n\r\n{text}\r\n".encode(),
            header_message_id=f"reply-{n}@prospect.example",
            from_address=m.to_address,
            subject=f"Re: {m.subject}",
            received_at=at,
            classification=cls,
            intent=None if auto else intent,
            confidence=0.9,
            evidence=evidence,
            recipients=[],
            outbound_id=m.id,
            enrollment_id=e.id,
            prospect_id=m.prospect_id,
            matched_by="in-reply-to",
            data={"auto_reply_kind": "out_of_office"} if auto else {},
            created_at=at,
        )
        self.s.add(inbound)
        self.s.flush()
        if auto:
            events.record(
                self.s,
                EventType.AUTO_REPLY_RECEIVED,
                at,
                enrollment=e,
                message=m,
                inbound_id=inbound.id,
                data={"kind": "out_of_office"},
            )
        else:
            events.record(
                self.s,
                EventType.REPLY_RECEIVED,
                at,
                enrollment=e,
                message=m,
                inbound_id=inbound.id,
                data={"intent": intent},
            )
            e.state, e.state_reason = "stopped", "reply"
            events.record(self.s, EventType.STOPPED, at, enrollment=e, data={"reason": "reply"})
        return inbound

    def reclassify(
        self, inbound: InboundMessage, at: datetime, *, to: str, by: str = "anna"
    ) -> None:
        e = self.s.get(Enrollment, inbound.enrollment_id)
        assert e is not None
        before = inbound.classification
        inbound.classification = to
        inbound.overridden_by = by
        if to != "human_reply":
            inbound.intent = None
        events.record(
            self.s,
            EventType.INBOUND_RECLASSIFIED,
            at,
            enrollment=e,
            inbound_id=inbound.id,
            data={"from": before, "to": to, "by": by},
        )
        if to != "human_reply" and e.state == "stopped":
            e.state, e.state_reason = "active", None
            events.record(self.s, EventType.RESUMED, at, enrollment=e)

    def unsubscribe(self, m: OutboundMessage, at: datetime, *, via: str = "link") -> None:
        e = self.s.get(Enrollment, m.enrollment_id)
        assert e is not None
        events.record(
            self.s, EventType.UNSUBSCRIBED, at, enrollment=e, message=m, data={"via": via}
        )
        e.state, e.state_reason = "stopped", "unsubscribe"
        events.record(self.s, EventType.STOPPED, at, enrollment=e, data={"reason": "unsubscribe"})

    def task(
        self,
        e: Enrollment,
        step_id: str | None,
        due_at: datetime,
        *,
        title: str,
        notes: str | None = None,
        kind: str = "call",
    ) -> Task:
        t = Task(
            kind=kind,
            prospect_id=e.prospect_id,
            enrollment_id=e.id,
            step_id=step_id,
            owner=e.owner,
            title=title,
            notes=notes,
            state="open",
            blocking=True,
            due_at=due_at,
            created_at=due_at - timedelta(hours=1),
        )
        self.s.add(t)
        self.s.flush()
        events.record(self.s, EventType.TASK_CREATED, t.created_at, enrollment=e, task_id=t.id)
        if step_id:
            e.state, e.state_reason = "waiting", f"task #{t.id}: {title}"
        return t

    def complete(self, t: Task, at: datetime, *, outcome: str) -> None:
        e = self.s.get(Enrollment, t.enrollment_id) if t.enrollment_id else None
        t.state, t.outcome, t.completed_at = "done", outcome, at
        events.record(
            self.s,
            EventType.TASK_COMPLETED,
            at,
            enrollment=e,
            task_id=t.id,
            data={"outcome": outcome},
        )

    def meeting(self, e: Enrollment, at: datetime) -> None:
        events.record(self.s, EventType.MEETING_BOOKED, at, enrollment=e)


@dataclass
class Scenario:
    """What seed_scenario wrote, for tests that need ids."""

    sequences: dict[str, int] = field(default_factory=dict)
    mailboxes: dict[str, int] = field(default_factory=dict)
    prospects: dict[str, int] = field(default_factory=dict)
    enrollments: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    outbound: dict[str, int] = field(default_factory=dict)


def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hour - 8, minutes=minute)


# Hand-computed expectations for seed_scenario (see the comments in seed_scenario).
EXPECTED = {
    "saas-founders": {
        "enrolled": 11,
        "contacted": 10,
        "bounced": 1,
        "delivered": 9,
        "replied": 4,
        "positive": 2,
        "opted_out": 1,
        "meetings": 2,
    },
    "agencies": {
        "enrolled": 3,
        "contacted": 3,
        "bounced": 0,
        "delivered": 3,
        "replied": 1,
        "positive": 1,
        "opted_out": 0,
        "meetings": 0,
    },
}


def seed_scenario(db: Database) -> Scenario:
    """Two sequences, two mailboxes, two SDRs, fifteen prospects, two weeks of activity.

    saas-founders (p0..p9 enrolled Monday; p0-p4 anna's, p5-p9 ben's; intro variant a for
    even, b for odd; p10 enrolled later, never contacted):
      p0 intro/a → positive reply after 24 h → meeting booked      (replied, positive, meeting)
      p1 intro/b → out-of-office; bump; human reply on day 4       (replied, on bump)
      p2 intro/a → "reply" later reclassified as auto-reply; bump  (NOT replied)
      p3 intro/b → unsubscribed via the link                       (opted out)
      p4 intro/a → bump → call task done "meeting_booked"          (meeting, on bump)
      p5 intro/b → negative reply day 2                            (replied)
      p6 intro/a → bump, silence; open call task due today         (queue)
      p7 intro/b → bump, silence; open call task due today         (queue)
      p8 intro/a → bump → positive reply day 4                     (replied, positive)
      p9 intro/b → hard bounce                                     (bounced)
    agencies (q0..q2, anna's, week 2): intro sent to all, q0 replies positive.
    """
    sc = Scenario()
    with db.session() as s:
        sd = Seeder(s)
        anna = sd.mailbox("anna")
        ben = sd.mailbox("ben", paused_reason="bounce rate 4.1 % over 24 h exceeds 3 %")
        sc.mailboxes = {"anna": anna.id, "ben": ben.id}
        saas, saas_v = sd.sequence("saas-founders", SAAS_STEPS)
        agencies, agencies_v = sd.sequence(
            "agencies",
            [
                {
                    "id": "intro",
                    "email": {"subject": "Hi {{ first_name }}", "template": "agency_intro.md.j2"},
                },
                {"wait": "2 business days"},
                {"id": "bump", "email": {"thread": "previous", "template": "bump.md.j2"}},
            ],
        )
        sc.sequences = {"saas-founders": saas.id, "agencies": agencies.id}
        names = [
            "Erik",
            "Mara",
            "Jonas",
            "Lena",
            "Paul",
            "Sofia",
            "Tim",
            "Nora",
            "Felix",
            "Ida",
            "Ole",
        ]
        enr: dict[str, Enrollment] = {}
        intro: dict[str, OutboundMessage] = {}
        bump: dict[str, OutboundMessage] = {}
        for i, name in enumerate(names):
            owner = "anna" if i < 5 or i == 10 else "ben"
            box = anna if owner == "anna" else ben
            p = sd.prospect(
                f"{name.lower()}@company{i}.example", name, company=f"Company {i}", owner=owner
            )
            sc.prospects[f"p{i}"] = p.id
            at = day(0, 8) if i < 10 else day(4, 8)
            enr[f"p{i}"] = sd.enroll(p, saas_v, box, at)
            sc.enrollments[f"p{i}"] = enr[f"p{i}"].id
        for i in range(10):
            k = f"p{i}"
            intro[k] = sd.send(enr[k], "intro", day(0, 9, i), variant="a" if i % 2 == 0 else "b")
            sc.outbound[f"{k}.intro"] = intro[k].id
        sd.bounce(intro["p9"], day(0, 10))
        r0 = sd.reply(intro["p0"], day(1, 9, 0), intent="positive", text="Sounds great, Tuesday?")
        assert r0.id
        sd.meeting(enr["p0"], day(2, 11))
        sd.reply(intro["p1"], day(0, 12), auto=True, text="I am out of office until Thursday.")
        r2 = sd.reply(
            intro["p2"], day(1, 10), intent="neutral", text="Automatic: ticket #123 opened"
        )
        sd.reclassify(r2, day(2, 9), to="auto_reply")
        sd.unsubscribe(intro["p3"], day(1, 14))
        sd.reply(intro["p5"], day(2, 9, 5), intent="negative", text="Not interested, thanks.")
        for k in ("p1", "p2", "p4", "p6", "p7", "p8"):
            bump[k] = sd.send(enr[k], "bump", day(3, 9, int(k[1:])))
            sc.outbound[f"{k}.bump"] = bump[k].id
        sd.reply(bump["p1"], day(4, 9, 1), intent="question", text="Back now. What does it cost?")
        sd.reply(bump["p8"], day(4, 15), intent="positive", text="Yes, let's talk next week.")
        t4 = sd.task(
            enr["p4"],
            "call-1",
            day(5, 10),
            title="Call Paul at Company 4",
            notes="Mention the bump email; ask who owns outbound.",
        )
        sd.complete(t4, day(5, 11), outcome="meeting_booked")
        sc.tasks["p4.call"] = t4.id
        for k, first in (("p6", "Tim"), ("p7", "Nora")):
            t = sd.task(
                enr[k],
                "call-1",
                day(7, 10),
                title=f"Call {first} at Company {k[1:]}",
                notes=f"Talk track: {first} got two emails; ask about their Q2 outbound plans.",
            )
            sc.tasks[f"{k}.call"] = t.id
        for i, name in enumerate(["Agnes", "Bruno", "Clara"]):
            p = sd.prospect(
                f"{name.lower()}@agency{i}.example", name, company=f"Agency {i}", owner="anna"
            )
            sc.prospects[f"q{i}"] = p.id
            e = sd.enroll(p, agencies_v, anna, day(7, 8))
            sc.enrollments[f"q{i}"] = e.id
            m = sd.send(e, "intro", day(7, 9, i))
            sc.outbound[f"q{i}.intro"] = m.id
            if i == 0:
                sd.reply(m, day(8, 13), intent="positive", text="Interesting - send me a deck.")
    return sc


def main() -> None:
    """`python -m tests.support.seed [HOME]`: seed a workspace to look at (dashboard, reports)."""
    import sys

    from engine.settings import load_settings

    settings = load_settings(home=sys.argv[1]) if len(sys.argv) > 1 else load_settings()
    db = Database(settings.database_url)
    db.upgrade()
    seed_scenario(db)
    print(f"seeded {settings.database_url}")


if __name__ == "__main__":
    main()
