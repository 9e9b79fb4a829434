"""Contact limits across sequences, checked when a message is claimed for sending.

The workspace policy (docs/policy.md) caps emails per person (from all sequences together)
and different people per company domain within a period. The sender calls `check` for each
due message right after the send-window check; a message over a limit stays planned with a
later `not_before` (the first slot the limit allows, in the prospect's window) and a
`held_reason` that `explain`, `outbox` and `simulate` show.

Across workers: on PostgreSQL the prospect's row is locked for the claim's transaction, so
two workers claiming emails to one person decide one after the other, and the second sees
the first's `sending` row. Within one claim batch, messages already let through are counted
from `session.info` (they become `sending` only at the end of the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core import addresses
from engine.core.states import MessageState
from engine.outbound.runtime import Placement, Slot
from engine.schedule.types import Duration, DurationUnit
from engine.sequence_language.policy import WorkspacePolicy
from engine.store.models import OutboundMessage, Prospect, Sequence
from engine.workspace import policy as stored_policy

COUNTED = (MessageState.SENDING, MessageState.SENT, MessageState.AMBIGUOUS, MessageState.BOUNCED)
_INFO = "kadenz_contact_limits"


@dataclass(frozen=True)
class Held:
    until: datetime
    reason: str  # "contact limit: <which>; <details>": the kind comes before the ";"


@dataclass
class _Batch:
    """The policy and what this claim batch let through so far."""

    policy: WorkspacePolicy | None
    people: dict[int, list[datetime]] = field(default_factory=dict)  # prospect -> claim times
    accounts: dict[str, dict[int, datetime]] = field(default_factory=dict)  # domain -> people


def _batch(session: Session) -> _Batch:
    found = session.info.get(_INFO)
    if not isinstance(found, _Batch):
        found = session.info[_INFO] = _Batch(stored_policy.current(session))
    return found


def check(
    session: Session, message: OutboundMessage, placement: Placement, now: datetime
) -> Held | None:
    """None when the policy lets `message` go now (and it is counted), else when it may."""
    batch = _batch(session)
    limits = batch.policy.contact_limits if batch.policy is not None else None
    if limits is None or (limits.per_person is None and limits.per_account is None):
        return None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Prospect.id).where(Prospect.id == message.prospect_id).with_for_update()
        )
    held = None
    if limits.per_person is not None:
        held = _per_person(session, batch, message, placement, now)
    domain = addresses.domain_of(message.to_address)
    per_account = limits.per_account
    free = per_account is None or addresses.is_free_mail(domain)
    if (
        held is None
        and per_account is not None
        and not free
        and (domain not in per_account.free_mail_domains)
    ):
        held = _per_account(session, batch, message, domain, placement, now)
    if held is None:
        batch.people.setdefault(message.prospect_id, []).append(now)
        batch.accounts.setdefault(domain, {})[message.prospect_id] = now
    return held


def _per_person(
    session: Session, batch: _Batch, message: OutboundMessage, placement: Placement, now: datetime
) -> Held | None:
    assert batch.policy is not None and batch.policy.contact_limits.per_person is not None
    rule = batch.policy.contact_limits.per_person
    when = func.coalesce(OutboundMessage.sent_at, OutboundMessage.updated_at)
    rows = session.execute(
        select(when, OutboundMessage.sequence_id)
        .where(
            OutboundMessage.prospect_id == message.prospect_id,
            OutboundMessage.state.in_(COUNTED),
            OutboundMessage.id != message.id,
        )
        .order_by(when.desc())
        .limit(rule.emails)
    ).all()
    times = sorted(
        [(at, seq) for at, seq in rows]
        + [(at, None) for at in batch.people.get(message.prospect_id, [])],
        key=lambda pair: pair[0],
        reverse=True,
    )
    if len(times) < rule.emails:
        return None
    anchor, sequence_id = times[rule.emails - 1]
    allowed = placement.add_wait(anchor, rule.per)
    if allowed <= now:
        return None
    slot = _slot(placement, allowed, message)
    sequence = session.get(Sequence, sequence_id) if sequence_id is not None else None
    key = sequence.key if sequence is not None else "sent in this batch"
    plural = "email" if rule.emails == 1 else "emails"
    return Held(
        slot.at,
        f"contact limit: {rule.emails} {plural} per {rule.per} per person; "
        f"{_local(anchor, placement)} was the last (sequence {key}), next "
        f"{_local(slot.at, placement)} {placement.tz.key}",
    )


def _per_account(
    session: Session,
    batch: _Batch,
    message: OutboundMessage,
    domain: str,
    placement: Placement,
    now: datetime,
) -> Held | None:
    assert batch.policy is not None and batch.policy.contact_limits.per_account is not None
    rule = batch.policy.contact_limits.per_account
    when = func.max(func.coalesce(OutboundMessage.sent_at, OutboundMessage.updated_at))
    rows = session.execute(
        select(OutboundMessage.prospect_id, when)
        .where(
            OutboundMessage.to_address.like(f"%@{domain}"),
            OutboundMessage.state.in_(COUNTED),
            func.coalesce(OutboundMessage.sent_at, OutboundMessage.updated_at)
            >= now - _upper_bound(rule.per),
        )
        .group_by(OutboundMessage.prospect_id)
    ).all()
    last = {pid: at for pid, at in rows}
    for pid, at in batch.accounts.get(domain, {}).items():
        last[pid] = max(at, last.get(pid, at))
    if message.prospect_id in last:
        return None  # already one of the people contacted: not one more
    leaving = sorted(placement.add_wait(at, rule.per) for at in last.values())
    leaving = [t for t in leaving if t > now]
    if len(leaving) < rule.people:
        return None
    allowed = leaving[len(leaving) - rule.people]
    slot = _slot(placement, allowed, message)
    return Held(
        slot.at,
        f"contact limit: {rule.people} {'person' if rule.people == 1 else 'people'} per "
        f"{rule.per} at one company; {len(leaving)} "
        f"at {domain} already, next {_local(slot.at, placement)} {placement.tz.key}",
    )


def _slot(placement: Placement, allowed: datetime, message: OutboundMessage) -> Slot:
    """As the tick plans a due email: at `allowed` if the window is open, else spread over
    the next open day (engine.outbound.tick.plan_send)."""
    slot = placement.next_slot(allowed)
    if slot.at == allowed:
        return slot
    return placement.next_slot(allowed, spread_key=f"{message.enrollment_id}:{message.step_id}")


def _upper_bound(per: Duration) -> timedelta:
    """A calendar span surely longer than `per` (business days skip weekends and holidays)."""
    if per.unit == DurationUnit.MINUTES:
        return timedelta(minutes=per.amount + 1)
    if per.unit == DurationUnit.HOURS:
        return timedelta(hours=per.amount + 1)
    if per.unit == DurationUnit.DAYS:
        return timedelta(days=per.amount + 1)
    return timedelta(days=per.amount * 2 + 14)


def _local(instant: datetime, placement: Placement) -> str:
    return instant.astimezone(placement.tz).strftime("%Y-%m-%d %H:%M")
