"""Storing the workspace policy: each push of a changed file is a new version; the newest
governs. Reference: docs/policy.md."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.sequence_language.policy import LoadedPolicy, WorkspacePolicy, policy_from_json
from engine.store.models import PolicyVersion


def push(session: Session, loaded: LoadedPolicy, at: datetime) -> tuple[PolicyVersion, bool]:
    """Store `loaded` as the newest policy; (version, created). Unchanged content: no-op."""
    newest = current_row(session)
    if newest is not None and newest.content_hash == loaded.content_hash:
        return newest, False
    number = session.scalar(select(func.max(PolicyVersion.version))) or 0
    row = PolicyVersion(
        version=number + 1,
        content_hash=loaded.content_hash,
        source_path=str(loaded.path),
        source=loaded.source,
        spec=loaded.policy.model_dump(mode="json"),
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row, True


def current_row(session: Session) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1)
    ).first()


def current(session: Session) -> WorkspacePolicy | None:
    """The policy in force, or None when none was ever pushed (no limits)."""
    row = current_row(session)
    return policy_from_json(dict(row.spec)) if row is not None else None
