"""Pure rules of sending: warm-up ramp, rejection classes, backoff, variant rotation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from engine.outbound.limits.caps import effective_daily_cap, gap_with_jitter
from engine.outbound.outcomes import backoff, classify_rejection
from engine.outbound.tick import choose_variant
from engine.sequence_language.model import EmailStep, EmailVariant
from engine.store.models import Mailbox


def _mailbox(**fields: object) -> Mailbox:
    return Mailbox(name="anna", daily_cap=50, **fields)


@pytest.mark.parametrize(
    ("day", "cap"),
    [
        ("2026-02-27", 10),
        ("2026-03-01", 10),
        ("2026-03-02", 15),
        ("2026-03-09", 50),
        ("2027-01-01", 50),
    ],
)
def test_warmup_ramps_linearly_to_the_daily_cap(day: str, cap: int) -> None:
    mailbox = _mailbox(warmup={"start": "2026-03-01", "from": 10, "step": 5})
    at = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    assert effective_daily_cap(mailbox, at) == cap


def test_no_warmup_means_the_daily_cap() -> None:
    assert effective_daily_cap(_mailbox(warmup={}), datetime(2026, 3, 1, tzinfo=UTC)) == 50


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (550, "5.1.1", "hard"),
        (550, "5.0.0", "hard"),
        (550, None, "hard"),
        (552, "5.2.2", "soft"),
        (552, None, "soft"),
        (550, "5.7.1", "blocked"),
        (554, "5.6.0", "failed"),
        (554, None, "failed"),
    ],
)
def test_rejections_are_classified_by_enhanced_status(
    code: int, status: str | None, kind: str
) -> None:
    assert classify_rejection(code, status) == kind


def test_backoff_doubles() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]


def test_gap_jitter_stays_within_half_the_gap_and_is_reproducible() -> None:
    last = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    gaps = {gap_with_jitter(1, last + timedelta(seconds=i), 100) for i in range(200)}
    assert all(timedelta(seconds=100) <= g <= timedelta(seconds=150) for g in gaps)
    assert len(gaps) > 20  # it does vary
    assert gap_with_jitter(1, last, 100) == gap_with_jitter(1, last, 100)


def test_variants_rotate_deterministically_and_in_balance() -> None:
    step = EmailStep(
        id="intro",
        subject="Hi",
        body="Hello",
        variants={"a": EmailVariant(body="A"), "b": EmailVariant(body="B")},
    )
    picks = [choose_variant(i, step) for i in range(1, 101)]
    assert Counter(picks) == {"a": 50, "b": 50}
    assert picks == [choose_variant(i, step) for i in range(1, 101)]
    assert choose_variant(7, EmailStep(id="x", subject="Hi", body="Hello")) == "default"
    weighted = EmailStep(
        id="w",
        subject="Hi",
        variants={"a": EmailVariant(body="A", weight=3), "b": EmailVariant(body="B", weight=1)},
    )
    assert Counter(choose_variant(i, weighted) for i in range(100)) == {"a": 75, "b": 25}
