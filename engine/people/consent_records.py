"""Where consent lives: the pushed policy (workspace_policies) and each prospect's record.

The policy file may hold other sections (a joined workspace policy): only `consent:` is read
here, and pushing it replaces only the stored `consent` document.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.core.events import EventType
from engine.core.states import MessageState
from engine.errors import InvalidInput
from engine.people import consent
from engine.people.consent import Facts, Policy
from engine.people.prospects import get as get_prospect
from engine.sequence_language import yamldoc
from engine.store import event_log as events
from engine.store.models import OutboundMessage, Prospect, WorkspacePolicy

HELD_PREFIX = "consent:"  # how a held_reason set by the consent check starts


def read_file(path: Path) -> tuple[Policy, str]:
    """Parse a policy file's `consent:` section; errors name FILE:LINE or FILE: key."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text; save it as UTF-8") from None
    try:
        data, _tree = yamldoc.parse(source)
    except yamldoc.YamlSyntaxError as exc:
        raise InvalidInput(
            f"{path}:{exc.position.line}:{exc.position.column}: {exc.message}"
        ) from None
    if not isinstance(data, dict) or consent.POLICY_NAME not in data:
        raise InvalidInput(
            f"{path}: no `consent:` section (start the file with `consent:` and put default, "
            "countries, without_consent and postal_address under it)"
        )
    return consent.parse(data[consent.POLICY_NAME], f"{path}: consent"), source


def push(session: Session, path: Path, at: datetime) -> Policy:
    policy, source = read_file(path)
    return store(session, policy, source, at)


def push_section(
    session: Session, section: object, source: str, where: str, at: datetime
) -> Policy:
    """Store the `consent:` section of a document another command already parsed (a joined
    workspace policy file): `where` names it in errors, e.g. "policy.yaml: consent"."""
    return store(session, consent.parse(section, where), source, at)


def store(session: Session, policy: Policy, source: str, at: datetime) -> Policy:
    row = session.get(WorkspacePolicy, consent.POLICY_NAME)
    if row is None:
        row = WorkspacePolicy(name=consent.POLICY_NAME, source=source, updated_at=at)
        session.add(row)
    row.document = consent.to_document(policy)
    row.source = source
    row.updated_at = at
    session.flush()
    return policy


def load(session: Session) -> Policy | None:
    """The pushed policy, or None when none was pushed (nothing is held for consent)."""
    row = session.get(WorkspacePolicy, consent.POLICY_NAME)
    return consent.parse(row.document) if row is not None else None


def facts(session: Session, prospect_ids: set[int]) -> dict[int, Facts]:
    rows = session.execute(
        select(
            Prospect.id,
            Prospect.email,
            Prospect.country,
            Prospect.consent_source,
            Prospect.consent_date,
        ).where(Prospect.id.in_(prospect_ids))
    )
    return {r[0]: Facts(r[1] or "", r[2], r[3], r[4]) for r in rows}


def record(
    session: Session,
    email: str,
    *,
    source: str | None,
    given: date | None,
    at: datetime,
) -> Prospect:
    """Record (or, with `given=None`, withdraw) a prospect's consent to be emailed."""
    prospect = get_prospect(session, email)
    if source is not None and any(c in source for c in "\r\n\x00"):
        raise InvalidInput("--source: must be one line")
    if given is not None and source is None:
        raise InvalidInput("--source: say where the consent came from (e.g. webinar-2026-03)")
    prospect.consent_source = source.strip()[:200] if source else None
    prospect.consent_date = given
    prospect.updated_at = at
    events.record(
        session,
        EventType.PROSPECT_UPDATED,
        at,
        prospect_id=prospect.id,
        owner=prospect.owner,
        data={"consent": {"source": prospect.consent_source, "date": str(given or "")}},
    )
    if given is not None:
        # Messages held only for missing consent go at the next send round.
        session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.prospect_id == prospect.id,
                OutboundMessage.state == MessageState.PLANNED,
                OutboundMessage.held_reason.startswith(HELD_PREFIX),
            )
            .values(not_before=at, updated_at=at)
        )
    session.flush()
    return prospect
