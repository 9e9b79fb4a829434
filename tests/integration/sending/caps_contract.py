"""The RateLimiter contract: every implementation (in-process, Redis, …) must pass these.

Reuse: in your test module, `from tests.integration.sending.caps_contract import *` and
define a fixture `make_limiter` returning a factory of fresh, empty limiters (each call must
give a limiter that shares no state with earlier ones). See test_caps_memory.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from engine.outbound.limits.caps import Ask, Limits, RateLimiter

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MakeLimiter = Callable[[], RateLimiter]

__all__ = [
    "test_contract_acquire_many_decides_as_one_after_another",
    "test_contract_caps_are_per_mailbox",
    "test_contract_daily_cap_is_a_rolling_24_hours",
    "test_contract_hourly_cap",
    "test_contract_min_gap_with_jitter",
    "test_contract_per_domain_daily_cap",
    "test_contract_refusals_consume_nothing",
    "test_contract_zero_cap_refuses",
]


def test_contract_daily_cap_is_a_rolling_24_hours(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limits = Limits(label="anna", daily=3)
    times = [T0, T0 + timedelta(hours=2), T0 + timedelta(hours=5)]
    for at in times:
        assert limiter.acquire(1, "beta.example", at, limits).allowed
    refused = limiter.acquire(1, "beta.example", T0 + timedelta(hours=6), limits)
    assert not refused.allowed
    assert refused.retry_at == T0 + timedelta(hours=24)
    assert refused.reason is not None
    assert "daily cap 3 reached for mailbox anna" in refused.reason
    assert "2026-03-03 08:00 UTC" in refused.reason
    assert not limiter.acquire(
        1, "beta.example", T0 + timedelta(hours=23, minutes=59), limits
    ).allowed
    assert limiter.acquire(1, "beta.example", T0 + timedelta(hours=24, seconds=1), limits).allowed


def test_contract_hourly_cap(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limits = Limits(label="anna", daily=100, hourly=2)
    assert limiter.acquire(1, "a.example", T0, limits).allowed
    assert limiter.acquire(1, "a.example", T0 + timedelta(minutes=10), limits).allowed
    refused = limiter.acquire(1, "a.example", T0 + timedelta(minutes=20), limits)
    assert not refused.allowed and refused.retry_at == T0 + timedelta(hours=1)
    assert refused.reason and "hourly cap 2" in refused.reason
    assert limiter.acquire(1, "a.example", T0 + timedelta(hours=1, seconds=1), limits).allowed


def test_contract_min_gap_with_jitter(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limits = Limits(label="anna", daily=100, min_gap_seconds=60)
    assert limiter.acquire(1, "a.example", T0, limits).allowed
    refused = limiter.acquire(1, "a.example", T0 + timedelta(seconds=30), limits)
    assert not refused.allowed and refused.retry_at is not None
    assert T0 + timedelta(seconds=60) <= refused.retry_at <= T0 + timedelta(seconds=90)
    assert refused.reason and "minimum gap 60s" in refused.reason
    assert limiter.acquire(1, "a.example", refused.retry_at, limits).allowed


def test_contract_per_domain_daily_cap(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limits = Limits(label="anna", daily=100, per_domain_daily=2)
    assert limiter.acquire(1, "beta.example", T0, limits).allowed
    assert limiter.acquire(1, "BETA.example", T0 + timedelta(minutes=1), limits).allowed
    refused = limiter.acquire(1, "beta.example", T0 + timedelta(minutes=2), limits)
    assert not refused.allowed and refused.retry_at == T0 + timedelta(hours=24)
    assert refused.reason and "beta.example" in refused.reason
    assert limiter.acquire(1, "gamma.example", T0 + timedelta(minutes=3), limits).allowed


def test_contract_caps_are_per_mailbox(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limits = Limits(label="x", daily=1)
    assert limiter.acquire(1, "a.example", T0, limits).allowed
    assert not limiter.acquire(1, "a.example", T0 + timedelta(minutes=1), limits).allowed
    assert limiter.acquire(2, "a.example", T0 + timedelta(minutes=1), limits).allowed


def test_contract_refusals_consume_nothing(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    limits = Limits(label="anna", daily=2)
    assert limiter.acquire(1, "a.example", T0, limits).allowed
    assert limiter.acquire(1, "a.example", T0 + timedelta(hours=1), limits).allowed
    for minutes in range(5):
        assert not limiter.acquire(
            1, "a.example", T0 + timedelta(hours=2, minutes=minutes), limits
        ).allowed
    # capacity frees exactly when the first send leaves the 24-hour window, not later
    assert limiter.acquire(1, "a.example", T0 + timedelta(hours=24, seconds=1), limits).allowed


def test_contract_zero_cap_refuses(make_limiter: MakeLimiter) -> None:
    decision = make_limiter().acquire(1, "a.example", T0, Limits(label="anna", daily=0))
    assert not decision.allowed and decision.retry_at is not None and decision.retry_at > T0


def test_contract_acquire_many_decides_as_one_after_another(make_limiter: MakeLimiter) -> None:
    """A claim's batch: each ask sees the sends the earlier ones recorded, in order."""
    asks = [
        Ask(1, "a.example", T0, Limits(label="anna", daily=2)),
        Ask(2, "a.example", T0, Limits(label="ben", daily=5, per_domain_daily=1)),
        Ask(1, "b.example", T0, Limits(label="anna", daily=2)),
        Ask(2, "a.example", T0, Limits(label="ben", daily=5, per_domain_daily=1)),
        Ask(1, "c.example", T0, Limits(label="anna", daily=2)),
        Ask(3, "a.example", T0, Limits(label="cleo", daily=5, min_gap_seconds=60)),
        Ask(3, "b.example", T0, Limits(label="cleo", daily=5, min_gap_seconds=60)),
    ]
    batch = make_limiter().acquire_many(asks)
    one_by_one_limiter = make_limiter()
    one_by_one = [one_by_one_limiter.acquire(a.mailbox_id, a.domain, a.at, a.limits) for a in asks]
    assert [d.allowed for d in batch] == [True, True, True, False, False, True, False]
    assert batch == one_by_one
    assert batch[4].reason and "daily cap 2 reached for mailbox anna" in batch[4].reason
    assert batch[3].reason and "per-domain cap 1/day" in batch[3].reason
    assert make_limiter().acquire_many([]) == []
