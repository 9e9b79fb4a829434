"""The pure parts of inbound handling: matching tokens, the rule engine, lead scoring."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.core import rules, scoring
from engine.core.classification import AutoReplyKind, Classification, InboundClass, ReplyIntent
from engine.core.rules import ActionKind
from engine.inbound.classifier import match
from engine.schedule.calendar import BusinessCalendar
from engine.schedule.types import Duration, DurationUnit
from engine.sequence_language.model import RuleSpec, ScoringSpec


def c(kind: InboundClass, **kw: object) -> Classification:
    return Classification(kind=kind, confidence=0.9, evidence=("test",), **kw)  # type: ignore[arg-type]


REPLY = c(InboundClass.HUMAN_REPLY, intent=ReplyIntent.POSITIVE)
OOO = c(InboundClass.AUTO_REPLY, auto_reply_kind=AutoReplyKind.OUT_OF_OFFICE)


# --- match -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<abc@x.example>", "abc@x.example"),
        ("  abc@x.example ", "abc@x.example"),
        ("junk <a@b> more", "a@b"),
        ("", None),
        ("<has space@x>", None),
        (None, None),
    ],
)
def test_normalise_message_id(raw: str | None, expected: str | None) -> None:
    assert match.normalise_message_id(raw) == expected


def test_tokens_and_dedupe_keys() -> None:
    assert match.id_tokens("<a@x> <b@x>\r\n <c@x>") == ["a@x", "b@x", "c@x"]
    assert match.thread_tokens(
        c(InboundClass.HUMAN_REPLY, in_reply_to=("<a@x>", "a@x", "b@x"))
    ) == [
        "a@x",
        "b@x",
    ]
    assert match.lookup_variants(["Ab@X"]) == ["Ab@X", "ab@x"]
    assert match.dedupe_key("<m@x>", b"raw") == "mid:m@x"
    assert match.dedupe_key(None, b"raw").startswith("sha256:")
    assert match.dedupe_key("x" * 400 + "@x", b"raw").startswith("sha256:")


def test_company_domain_never_for_free_mail() -> None:
    assert match.company_domain("Erik@Acme.example") == "acme.example"
    assert match.company_domain("someone@gmail.com") is None
    assert match.company_domain("not an address") is None


# --- rules -----------------------------------------------------------------------------


def kinds(actions: list[rules.Action]) -> list[ActionKind]:
    return [a.kind for a in actions]


def test_defaults_per_class() -> None:
    assert kinds(rules.decide(c(InboundClass.HARD_BOUNCE))) == [
        ActionKind.MARK_BOUNCED,
        ActionKind.SUPPRESS,
        ActionKind.STOP,
    ]
    soft = rules.decide(c(InboundClass.SOFT_BOUNCE))
    assert kinds(soft) == [ActionKind.COUNT_SOFT_BOUNCE] and soft[0].limit == 3
    assert kinds(rules.decide(c(InboundClass.BLOCKED))) == [ActionKind.MAILBOX_HEALTH]
    assert kinds(rules.decide(c(InboundClass.COMPLAINT))) == [
        ActionKind.SUPPRESS,
        ActionKind.STOP_ADDRESS,
    ]
    assert kinds(rules.decide(c(InboundClass.DELIVERED))) == [ActionKind.RECORD]
    assert kinds(rules.decide(c(InboundClass.UNCLASSIFIED))) == [ActionKind.RECORD]
    assert kinds(rules.decide(c(InboundClass.AUTO_REPLY))) == [ActionKind.RECORD]
    pause = rules.decide(OOO)[0]
    assert pause.kind is ActionKind.PAUSE and pause.until_return_date
    assert kinds(rules.decide(REPLY)) == [ActionKind.STOP, ActionKind.TASK]
    assert kinds(rules.decide(REPLY, stop_on=["reply", "company_reply"]))[:2] == [
        ActionKind.STOP,
        ActionKind.STOP_COMPANY,
    ]
    unsub = c(InboundClass.HUMAN_REPLY, intent=ReplyIntent.UNSUBSCRIBE_REQUEST)
    assert kinds(rules.decide(unsub)) == [ActionKind.SUPPRESS, ActionKind.STOP_ADDRESS]


def test_stop_on_decides_which_stops_apply_but_never_suppression() -> None:
    assert kinds(rules.decide(REPLY, stop_on=[])) == [ActionKind.TASK]
    assert kinds(rules.decide(c(InboundClass.HARD_BOUNCE), stop_on=["reply"])) == [
        ActionKind.MARK_BOUNCED,
        ActionKind.SUPPRESS,
    ]
    assert rules.decide(c(InboundClass.SOFT_BOUNCE), stop_on=[])[0].limit == 0


def as_stored(raw_rules: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rules as SequenceVersion.spec holds them: validated by the spec model, dumped to JSON."""
    return [RuleSpec.model_validate(r).model_dump(mode="json") for r in raw_rules]


def test_rules_from_the_stored_spec() -> None:
    spec_rules = as_stored(
        [
            {
                "when": {"reply": "positive"},
                "then": {"score": 50, "stop": True, "task": "Call {{ first_name }}"},
            },
            {
                "when": {"auto_reply": "out_of_office"},
                "then": {"pause_until": "return_date", "otherwise_pause": "3 business days"},
            },
            {"when": {"reply": "negative"}, "then": {"score": -5}},
            {"when": {"bounce": "soft"}, "then": {"notify": "owner"}},
            {
                "when": {"score_at_least": 100, "event": "reply.received"},
                "then": {"move_to": "hot"},
            },
        ]
    )
    assert spec_rules[2]["then"]["stop"] is False  # the dump carries every default
    positive = rules.decide(REPLY, stop_on=["bounce", "unsubscribe"], rules=spec_rules)
    assert kinds(positive) == [ActionKind.STOP, ActionKind.SCORE, ActionKind.TASK]
    assert positive[1].points == 50 and positive[2].text == "Call {{ first_name }}"
    assert positive[2].source == "rule 1"
    pause = rules.decide(OOO, rules=spec_rules)
    assert kinds(pause) == [ActionKind.PAUSE]
    assert pause[0].duration == Duration(3, DurationUnit.BUSINESS_DAYS)
    negative = c(InboundClass.HUMAN_REPLY, intent=ReplyIntent.NEGATIVE)
    # `stop: false` (a default) takes nothing away; leaving `reply` out of stop_on does
    assert kinds(rules.decide(negative, rules=spec_rules)) == [ActionKind.STOP, ActionKind.SCORE]
    assert kinds(rules.decide(negative, stop_on=["bounce"], rules=spec_rules)) == [
        ActionKind.RECORD,
        ActionKind.SCORE,
    ]
    assert ActionKind.NOTIFY in kinds(rules.decide(c(InboundClass.SOFT_BOUNCE), rules=spec_rules))
    assert ActionKind.MOVE_TO not in kinds(rules.decide(REPLY, rules=spec_rules, score=99))
    assert ActionKind.MOVE_TO in kinds(rules.decide(REPLY, rules=spec_rules, score=100))
    # an unknown `when` key never matches (a typo must not fire)
    assert rules.matches({"typo": "x"}, REPLY) is False
    # `auto_reply` in stop_on ends the sequence instead of pausing it
    assert kinds(rules.decide(OOO, stop_on=["auto_reply"])) == [ActionKind.STOP]


def test_malformed_rules_are_ignored() -> None:
    assert kinds(rules.decide(REPLY, rules=["x", {"when": "y"}, {"then": {}}, None])) == kinds(
        rules.decide(REPLY)
    )
    assert (
        rules.decide(OOO, rules=[{"when": {"auto_reply": True}, "then": {"pause": "nonsense"}}])[
            0
        ].duration
        == rules.DEFAULT_OOO_PAUSE
    )


# --- scoring ---------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def test_default_points_and_keys() -> None:
    config = scoring.config_from_spec(None)
    assert scoring.points_for(config, scoring.event_key(REPLY)) == 50
    negative = c(InboundClass.HUMAN_REPLY, intent=ReplyIntent.NEGATIVE)
    assert scoring.points_for(config, scoring.event_key(negative)) == -20
    assert scoring.points_for(config, scoring.event_key(OOO)) == 0
    assert scoring.points_for(config, None) == 0


def test_configured_points_decay_and_thresholds() -> None:
    stored = ScoringSpec.model_validate(
        {
            "points": {"reply": 10, "bounce.hard": -3},
            "decay_per_week": 5,
            "thresholds": [{"at": 50, "then": {"task": "Call"}}],
        }
    ).model_dump(mode="json")
    config = scoring.config_from_spec(stored)
    assert config.decay_per_week == 5
    assert scoring.points_for(config, "reply.positive") == 10  # falls back to `reply`
    assert scoring.points_for(config, "bounce.hard") == -3
    assert [t.at_least for t in config.thresholds] == [50]
    assert scoring.decay(100, NOW - timedelta(weeks=2, days=3), NOW, 5) == 90  # whole weeks
    assert scoring.decay(3, NOW - timedelta(weeks=2), NOW, 5) == 0  # never below 0
    assert scoring.decay(-30, NOW - timedelta(weeks=2), NOW, 5) == -30
    crossed = scoring.change(config, 45, 10, reason="r", last_change_at=NOW, now=NOW)
    assert (crossed.new, [t.at_least for t in crossed.crossed]) == (55, [50])
    week_ago = NOW - timedelta(weeks=1)
    decayed = scoring.change(config, 52, 0, reason="r", last_change_at=week_ago, now=NOW)
    assert decayed.new == 47 and decayed.crossed == ()
    assert scoring.config_from_spec({"reply.positive": 70}).points == {"reply.positive": 70}
    assert scoring.config_from_spec({"points": {}}).points == scoring.DEFAULT_POINTS


def test_ooo_resume_is_next_business_day_at_nine() -> None:
    from zoneinfo import ZoneInfo

    from engine.people.pause_timing import resume_after_return

    berlin = ZoneInfo("Europe/Berlin")
    assert resume_after_return(date(2026, 3, 13), berlin) == datetime(2026, 3, 16, 8, tzinfo=UTC)
    assert resume_after_return(date(2026, 3, 26), berlin) == datetime(2026, 3, 27, 8, tzinfo=UTC)
    # across the DST switch: 09:00 local stays 09:00 local
    assert resume_after_return(date(2026, 3, 27), berlin) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    # back on Maundy Thursday in Bavaria: Good Friday and Easter Monday are holidays
    bavaria = BusinessCalendar.from_region("DE-BY")
    assert resume_after_return(date(2026, 4, 2), berlin, bavaria) == datetime(
        2026, 4, 7, 7, tzinfo=UTC
    )
