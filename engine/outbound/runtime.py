"""What the tick and the sender need from a sequence version, built once per version per run.

A `VersionRuntime` holds the parsed spec, one template Renderer and the send policy of one
immutable `SequenceVersion`; `Runtimes` caches them so a tick over 10 000 enrollments parses
each version once. Time zone and calendar resolution for one prospect lives here too, so the
tick, the sender, `simulate` and `explain` all schedule through exactly the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.schedule.calendar import BusinessCalendar
from engine.schedule.planner import SendPolicy, Slot, add_wait, is_allowed, next_slot
from engine.schedule.types import Duration
from engine.schedule.zones import resolve_timezone
from engine.sequence_language.loader import spec_from_json
from engine.sequence_language.model import SequenceSpec, Step
from engine.sequence_language.render import MissingVariable, Renderer, prospect_context
from engine.store.models import Mailbox, Prospect, SequenceVersion, User
from engine.workspace.sequences import prospect_fields

__all__ = [
    "MissingVariable",
    "Placement",
    "Runtimes",
    "Slot",
    "Step",
    "VersionRuntime",
    "add_wait",
    "is_allowed",
    "next_slot",
]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where in time one prospect lives: their zone (and why that zone) and the policy."""

    tz: ZoneInfo
    tz_source: str
    policy: SendPolicy

    def next_slot(self, earliest: datetime, spread_key: str | None = None) -> Slot:
        return next_slot(earliest, self.policy, self.tz, spread_key=spread_key)

    def plan_send(self, due: datetime, spread_key: str) -> Slot:
        """When an email due at `due` goes out: at once if the window is open, else spread.

        The one decision the tick makes and `explain` predicts. Inside the window the email
        leaves when due (caps and the mailbox's minimum gap pace a batch). A step that becomes
        due while the window is closed (night, weekend, holiday) is spread over the open time
        of the next allowed day instead of piling up at opening.
        """
        slot = self.next_slot(due)
        if slot.at == due:
            return slot
        return self.next_slot(due, spread_key=spread_key)

    def is_allowed(self, instant: datetime) -> bool:
        return is_allowed(instant, self.policy, self.tz)

    def add_wait(self, start: datetime, wait: Duration) -> datetime:
        return add_wait(start, wait, self.tz, self.policy.calendar)


@dataclass
class VersionRuntime:
    version_id: int
    spec: SequenceSpec
    renderer: Renderer
    policy: SendPolicy
    _policies: dict[tuple[str, str | None], SendPolicy] = field(default_factory=dict)

    @property
    def steps(self) -> list[Step]:
        return list(self.spec.steps)

    def step_at(self, index: int) -> Step | None:
        steps = self.spec.steps
        return steps[index] if 0 <= index < len(steps) else None

    def index_of(self, step_id: str) -> int | None:
        for i, step in enumerate(self.spec.steps):
            if step.id == step_id:
                return i
        return None

    def placement(self, prospect: Prospect | None, mailbox: Mailbox | None) -> Placement:
        if prospect is None:
            return self.placement_in(None, mailbox)
        return self.placement_in(
            prospect.timezone,
            mailbox,
            country=prospect.country,
            region=prospect.region,
            zone_source=prospect.timezone_source,
        )

    def placement_in(
        self,
        prospect_tz: str | None,
        mailbox: Mailbox | None,
        *,
        country: str | None = None,
        region: str | None = None,
        zone_source: str | None = None,
    ) -> Placement:
        """`placement` given only what it reads of the prospect: zone, country, region."""
        sched = self.spec.schedule
        mailbox_tz = mailbox.timezone if mailbox is not None else None
        if sched.timezone == "prospect":
            tz, source = resolve_timezone(prospect_tz, sched.fallback_timezone, mailbox_tz)
        else:
            tz, source = resolve_timezone(None, sched.timezone, mailbox_tz)
        why = f"{source} timezone"
        if source == "prospect" and zone_source:
            why += f", {zone_source}"
        return Placement(tz, why, self.policy_for(country, region))

    def policy_for(self, country: str | None, region: str | None) -> SendPolicy:
        """The sequence's policy, with the prospect's own holidays under `holidays: prospect`."""
        if not self.spec.schedule.per_prospect_holidays or not country:
            return self.policy
        key = (country, region)
        policy = self._policies.get(key)
        if policy is None:
            calendar = BusinessCalendar.for_place(country, region, self.policy.calendar)
            policy = replace(self.policy, calendar=calendar)
            self._policies[key] = policy
        return policy

    def context(
        self, prospect: Prospect, mailbox: Mailbox | None, sending_user: User | None = None
    ) -> dict[str, Any]:
        """The template variables; `sending_user` owns `mailbox` (see `sending_users`)."""
        return prospect_context(prospect_fields(prospect), sender_mapping(mailbox, sending_user))


def build_runtime(version: SequenceVersion) -> VersionRuntime:
    spec = spec_from_json(dict(version.spec))
    policy = spec.schedule.send_policy()
    return VersionRuntime(version.id, spec, Renderer(dict(version.templates or {})), policy)


@dataclass
class Runtimes:
    """A per-run cache of VersionRuntime by version id."""

    _cache: dict[int, VersionRuntime] = field(default_factory=dict)

    def get(self, session: Session, version_id: int) -> VersionRuntime:
        runtime = self._cache.get(version_id)
        if runtime is None:
            version = session.get(SequenceVersion, version_id)
            if version is None:
                raise LookupError(f"sequence version {version_id} does not exist")
            runtime = self._cache[version_id] = build_runtime(version)
        return runtime


def sender_mapping(mailbox: Mailbox | None, user: User | None = None) -> dict[str, Any]:
    """`sender.*` of the templates: the mailbox, and the booking link of the user who owns
    it (`mailbox.owner`); a mailbox without an owner, or an owner without a link, has none."""
    if mailbox is None:
        return {}
    owned = user is not None and mailbox.owner is not None and user.name == mailbox.owner
    return {
        "name": mailbox.display_name or mailbox.name,
        "email": mailbox.address,
        "signature": mailbox.signature or "",
        "booking_link": user.booking_link if owned and user is not None else None,
    }


def sending_users(session: Session, mailboxes: Iterable[Mailbox | None]) -> dict[str, User]:
    """The users who own `mailboxes`, by handle, in one query (a batch's senders)."""
    names = {m.owner for m in mailboxes if m is not None and m.owner}
    if not names:
        return {}
    return {u.name: u for u in session.scalars(select(User).where(User.name.in_(names)))}


def sending_user(
    users: dict[str, User], mailbox: Mailbox | None, session: Session | None = None
) -> User | None:
    """The owner of `mailbox` from `users`; with `session`, loaded (and kept) when absent."""
    if mailbox is None or not mailbox.owner:
        return None
    if mailbox.owner not in users and session is not None:
        users.update(sending_users(session, [mailbox]))
    return users.get(mailbox.owner)
