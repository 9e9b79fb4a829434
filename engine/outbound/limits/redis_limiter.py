"""Sending caps shared by every worker: the RateLimiter port on Redis, one Lua script per call.

Same semantics as `caps.MemoryRateLimiter` (and the same contract suite proves it): per
mailbox a sorted set of send instants (score = microseconds since the epoch) and one per
(mailbox, recipient domain). One `acquire_many` — a whole claim's asks — is one `EVALSHA`:
for each ask in order, trim what left the 24-hour window, count, and either refuse (with
when capacity frees) or record the send — atomically, so two workers on two machines can
never both take the last slot.

The minimum-gap jitter is derived from the previous send exactly as in memory
(`caps.gap_with_jitter`): the jitter byte is computed in Python when a send is recorded and
kept in the set member, and the script stretches the gap with it.

One difference from memory, on purpose: a window counts *every* recorded send after its
start, also those stamped a little later than `at`. In one process `now` only grows; across
processes it does not (a claim that read the clock at 10:00:00 may acquire after another
stamped 10:00:02), and ignoring the later stamps would let both take the last slots.

Redis is a cache of the database here, not the truth: after Redis loses its data (restart
without persistence) the first `acquire` finds the `seeded` marker missing and the limiter
re-learns the last 24 hours of sends from the database (`database_seeder`, which counts
what `caps.seed_from_database` counts). Seeded entries
are named after their message id, so two workers seeding at once add each send only once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.clock import require_aware
from engine.outbound.limits.caps import COUNTED_STATES, DAY, HOUR, Ask, Decision, Limits, _fmt
from engine.store.db import Database
from engine.store.models import OutboundMessage

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = int(DAY.total_seconds()) * 1_000_000
HOUR_US = int(HOUR.total_seconds()) * 1_000_000
KEY_TTL_MS = int((DAY + HOUR).total_seconds() * 1000)  # a quiet mailbox's keys go away

# One call decides a whole claim's asks, in order, atomically.
# KEYS: seeded marker, nonce counter, then for each ask: its sends, its domain sends
# ARGV: check_seeded, ttl_ms, day_us, hour_us, then for each ask eight values: at, day_floor,
#       hour_floor_exclusive, daily, hourly|-1, per_domain|-1, min_gap_s, member_prefix
# Reply: {-1} not seeded yet, else one reply per ask: {1} allowed, or
#        {0, kind, free_us, kind, free_us, …} refused.
_SCRIPT = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1}
end
local ttl = ARGV[2]
local day = tonumber(ARGV[3])
local hour = tonumber(ARGV[4])

local function nth(key, lo, hi, index)
  local e = redis.call('ZRANGEBYSCORE', key, lo, hi, 'WITHSCORES', 'LIMIT', index, 1)
  return tonumber(e[2])
end

local function decide(sends, domain, a)
  local at = tonumber(ARGV[a + 1])
  redis.call('ZREMRANGEBYSCORE', sends, '-inf', ARGV[a + 2])
  redis.call('ZREMRANGEBYSCORE', domain, '-inf', ARGV[a + 2])
  local hour_floor = ARGV[a + 3]
  local daily = tonumber(ARGV[a + 4])
  local hourly = tonumber(ARGV[a + 5])
  local per_domain = tonumber(ARGV[a + 6])
  local min_gap = tonumber(ARGV[a + 7])
  local out = {0}
  local n = redis.call('ZCARD', sends)
  if n >= daily then
    local free = at + day
    if daily > 0 then free = nth(sends, '-inf', '+inf', n - daily) + day end
    table.insert(out, 1); table.insert(out, free)
  end
  if hourly >= 0 then
    local h = redis.call('ZCOUNT', sends, hour_floor, '+inf')
    if h >= hourly then
      local free = at + hour
      if hourly > 0 then free = nth(sends, hour_floor, '+inf', h - hourly) + hour end
      table.insert(out, 2); table.insert(out, free)
    end
  end
  if per_domain >= 0 then
    local d = redis.call('ZCARD', domain)
    if d >= per_domain then
      local free = at + day
      if per_domain > 0 then free = nth(domain, '-inf', '+inf', d - per_domain) + day end
      table.insert(out, 3); table.insert(out, free)
    end
  end
  if n > 0 and min_gap > 0 then
    local e = redis.call('ZREVRANGEBYSCORE', sends, '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    local byte = tonumber(string.match(e[1], '^[^:]+:(%d+):'))
    local last = tonumber(e[2])
    local free = last + math.floor(min_gap * 1000000 * (1 + (byte / 255) * 0.5) + 0.5)
    if free > at then
      table.insert(out, 4); table.insert(out, free)
    end
  end
  if #out > 1 then
    return out
  end
  local member = ARGV[a + 8] .. redis.call('INCR', KEYS[2])
  redis.call('ZADD', sends, ARGV[a + 1], member)
  redis.call('ZADD', domain, ARGV[a + 1], member)
  redis.call('PEXPIRE', sends, ttl)
  redis.call('PEXPIRE', domain, ttl)
  return {1}
end

local replies = {}
for i = 0, (#ARGV - 4) / 8 - 1 do
  replies[i + 1] = decide(KEYS[3 + 2 * i], KEYS[4 + 2 * i], 4 + 8 * i)
end
return replies
"""


def to_us(instant: datetime) -> int:
    delta = require_aware(instant) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(micros))


def jitter_byte(mailbox_id: int, at: datetime) -> int:
    """The byte `caps.gap_with_jitter` derives from a send at `at` (same hash, same input)."""
    return hashlib.sha256(f"{mailbox_id}:{require_aware(at).isoformat()}".encode()).digest()[0]


@dataclass(frozen=True, slots=True)
class PastSend:
    """One send the database knows of, for re-seeding Redis."""

    message_id: int
    mailbox_id: int
    domain: str
    at: datetime


Seeder = Callable[[], Iterable[PastSend]]


class RedisRateLimiter:
    """The RateLimiter port on Redis: exact across any number of worker processes."""

    def __init__(self, client: Any, prefix: str = "kadenz:", seeder: Seeder | None = None) -> None:
        self.client = client
        self.prefix = prefix
        self.seeder = seeder
        self._script = client.register_script(_SCRIPT)

    def acquire(self, mailbox_id: int, domain: str, at: datetime, limits: Limits) -> Decision:
        return self.acquire_many([Ask(mailbox_id, domain, at, limits)])[0]

    def acquire_many(self, asks: Sequence[Ask]) -> list[Decision]:
        """All `asks` in one EVALSHA, decided in order inside the script: one round trip
        for a whole claim, each ask seeing the sends the earlier ones recorded. If Redis
        is not seeded yet, it is seeded from the database and asked again."""
        if not asks:
            return []
        replies = self._run(asks)
        if replies == [-1]:
            self.seed()
            replies = self._run(asks)
        return [_decision(reply, ask) for reply, ask in zip(replies, asks, strict=True)]

    def _run(self, asks: Sequence[Ask]) -> list[Any]:
        keys = [f"{self.prefix}caps:seeded", f"{self.prefix}caps:nonce"]
        args: list[Any] = ["1" if self.seeder is not None else "0", KEY_TTL_MS, DAY_US, HOUR_US]
        for ask in asks:
            keys.extend(self._keys(ask.mailbox_id, ask.domain))
            args.extend(self._args(ask))
        return list(self._script(keys=keys, args=args))

    def _keys(self, mailbox_id: int, domain: str) -> list[str]:
        base = f"{self.prefix}caps:{mailbox_id}"
        return [f"{base}:sends", f"{base}:domain:{domain.lower()}"]

    def _args(self, ask: Ask) -> list[Any]:
        at = require_aware(ask.at)
        us = to_us(at)
        limits = ask.limits
        return [
            us,
            us - DAY_US,
            f"({us - HOUR_US}",
            limits.daily,
            -1 if limits.hourly is None else limits.hourly,
            -1 if limits.per_domain_daily is None else limits.per_domain_daily,
            limits.min_gap_seconds,
            f"{us}:{jitter_byte(ask.mailbox_id, at)}:",
        ]

    def seed(self) -> int:
        """Re-learn recent sends from the database, then mark Redis as seeded."""
        if self.seeder is None:
            return 0
        count = 0
        pipe = self.client.pipeline(transaction=False)
        for send in self.seeder():
            keys = self._keys(send.mailbox_id, send.domain)
            us = to_us(send.at)
            member = f"{us}:{jitter_byte(send.mailbox_id, send.at)}:db{send.message_id}"
            for key in keys[:2]:
                pipe.zadd(key, {member: us})
                pipe.pexpire(key, KEY_TTL_MS)
            count += 1
        pipe.set(f"{self.prefix}caps:seeded", "1")
        pipe.execute()
        return count


def _decision(reply: Any, ask: Ask) -> Decision:
    if reply[0] == 1:
        return Decision(True)
    refusals: list[tuple[datetime, str]] = []
    for kind, free_us in zip(reply[1::2], reply[2::2], strict=True):
        refusals.append((from_us(free_us), _reason(int(kind), ask.limits, ask.domain)))
    retry_at, reason = max(refusals)
    return Decision(False, retry_at, f"{reason}; next capacity {_fmt(retry_at)}")


def _reason(kind: int, limits: Limits, domain: str) -> str:
    if kind == 1:
        return f"daily cap {limits.daily} reached for mailbox {limits.label}"
    if kind == 2:
        return f"hourly cap {limits.hourly} reached for mailbox {limits.label}"
    if kind == 3:
        cap = limits.per_domain_daily
        return f"per-domain cap {cap}/day reached for {domain} on mailbox {limits.label}"
    return f"minimum gap {limits.min_gap_seconds}s between sends"


def database_seeder(db: Database, now: Callable[[], datetime]) -> Seeder:
    """Sends of the last 24 hours, counted as `caps.seed_from_database` counts them."""

    def rows() -> list[PastSend]:
        at = now()
        when = func.coalesce(OutboundMessage.sent_at, OutboundMessage.updated_at)
        with db.session() as session:
            found = session.execute(
                select(
                    OutboundMessage.id, OutboundMessage.mailbox_id, OutboundMessage.to_address, when
                )
                .where(OutboundMessage.state.in_(COUNTED_STATES), when > at - DAY)
                .order_by(when)
            ).all()
        return [
            PastSend(mid, mailbox_id, address.rsplit("@", 1)[-1].lower(), instant)
            for mid, mailbox_id, address, instant in found
        ]

    return rows
