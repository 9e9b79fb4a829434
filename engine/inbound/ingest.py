"""Ingest one inbound message: store it, classify it, match it, act on it. Idempotent.

Every source (IMAP poll, .eml/Maildir/mbox files, an MTA pipe on stdin) calls `ingest`.
The same message twice (by Message-ID, else by a hash of its bytes) is processed once.
Nothing is ever dropped: whatever fails after the raw bytes are in hand, the message is
stored (as `unclassified` when classification itself failed) with the error in `data`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.core.classification import BOUNCE_CLASSES, Classification, InboundClass
from engine.inbound import actions as inbound_actions
from engine.inbound import matching as inbound_match
from engine.inbound.classifier import match, parse
from engine.store.db import Database
from engine.store.models import InboundMessage, Mailbox

log = logging.getLogger(__name__)

Classifier = Callable[[bytes], Classification]


@dataclass(frozen=True)
class IngestResult:
    inbound_id: int
    duplicate: bool
    kind: str  # InboundClass value
    actions: list[str] = field(default_factory=list)  # what was done, one line each
    matched_by: str | None = None
    prospect_id: int | None = None
    intent: str | None = None
    error: str | None = None  # a stage failed; the message is stored anyway


def default_classifier() -> Classifier:
    """The classifier (engine.inbound.classifier), or a header-only stand-in when it is absent."""
    try:
        from engine.inbound.classifier.classify import classify  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return headers_only
    return classify  # type: ignore[no-any-return,unused-ignore]


def ingest(
    db: Database,
    clock: Clock,
    raw: bytes,
    *,
    source: str,
    mailbox_id: int | None = None,
    classifier: Classifier | None = None,
) -> IngestResult:
    """Store, classify, match and act on one raw RFC 5322 message, in one transaction."""
    classify = classifier or default_classifier()
    c, classify_error = _classify(classify, raw)
    key = match.dedupe_key(c.message_id or header_message_id(raw), raw)
    with db.session() as session:
        existing = _existing(session, key)
    if existing is not None:
        return existing
    try:
        return _store_and_act(db, clock, raw, c, key, source, mailbox_id, classify_error)
    except IntegrityError:
        # Another worker stored the same message between our check and our insert.
        with db.session() as session:
            existing = _existing(session, key)
        if existing is not None:
            return existing
        raise
    except (DataError, StatementError) as exc:
        # The database refused a value the classifier extracted: keep the raw bytes anyway.
        log.error("inbound.store_failed error=%s", type(exc).__name__)
        error = f"stored raw only: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        bare = Classification(InboundClass.UNCLASSIFIED, 0.0, ("the database refused a field",))
        return _store_and_act(db, clock, raw, bare, key, source, mailbox_id, error)


def _classify(classify: Classifier, raw: bytes) -> tuple[Classification, str | None]:
    try:
        result = classify(raw)
        if isinstance(result, Classification):
            return _success_is_no_bounce(_no_nul(result)), None
        raise TypeError(f"classifier returned {type(result).__name__}")
    except Exception as exc:
        log.warning("inbound.classify_failed error=%s", type(exc).__name__)
        fallback = headers_only(raw)
        return fallback, f"classifier failed: {type(exc).__name__}: {exc}"[:1000]


def _no_nul(c: Classification) -> Classification:
    """PostgreSQL text and JSONB refuse NUL characters; mail may contain them."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(c):
        value = getattr(c, f.name)
        if isinstance(value, str) and "\x00" in value:
            changes[f.name] = value.replace("\x00", "")
        elif isinstance(value, tuple) and any(isinstance(v, str) and "\x00" in v for v in value):
            changes[f.name] = tuple(
                v.replace("\x00", "") if isinstance(v, str) else v for v in value
            )
        elif isinstance(value, dict) and any("\x00" in str(k) + str(v) for k, v in value.items()):
            changes[f.name] = {
                str(k).replace("\x00", ""): str(v).replace("\x00", "") for k, v in value.items()
            }
    return dataclasses.replace(c, **changes) if changes else c


def _success_is_no_bounce(c: Classification) -> Classification:
    """Safety net: a report whose status is 2.x.x says "delivered"; never act on it as a bounce."""
    if c.kind in BOUNCE_CLASSES and (c.status or "").startswith("2."):
        return dataclasses.replace(
            c,
            kind=InboundClass.DELIVERED,
            evidence=(*c.evidence, f"status {c.status} is a success: delivered, not a bounce"),
        )
    return c


def _existing(session: Session, key: str) -> IngestResult | None:
    row = session.scalars(select(InboundMessage).where(InboundMessage.dedupe_key == key)).first()
    if row is None:
        return None
    return IngestResult(
        inbound_id=row.id,
        duplicate=True,
        kind=row.classification,
        actions=[],
        matched_by=row.matched_by,
        prospect_id=row.prospect_id,
        intent=row.intent,
    )


def _store_and_act(
    db: Database,
    clock: Clock,
    raw: bytes,
    c: Classification,
    key: str,
    source: str,
    mailbox_id: int | None,
    classify_error: str | None,
) -> IngestResult:
    now = clock.now()
    with db.session() as session:
        if mailbox_id is not None and session.get(Mailbox, mailbox_id) is None:
            mailbox_id = None  # never lose a message over a stale mailbox id
        row = new_row(c, key=key, raw=raw, source=source, mailbox_id=mailbox_id, now=now)
        if classify_error:
            row.data = {**row.data, "error": classify_error}
        session.add(row)
        session.flush()
        notes: list[str] = []
        error = classify_error
        try:
            with session.begin_nested():  # a bug below rolls back to here, keeping the row
                notes = act(session, now, row, c)
        except Exception as exc:
            error = f"processing failed: {type(exc).__name__}: {exc}"[:1000]
            log.error("inbound.process_failed inbound_id=%s error=%s", row.id, type(exc).__name__)
            row.data = {
                **row.data,
                "error": error,
                "traceback": traceback.format_exc(limit=8)[-4000:],
            }
            row.matched_by = None
            row.outbound_id = row.enrollment_id = row.prospect_id = None
        error = error or row.data.get("error")
        return IngestResult(
            inbound_id=row.id,
            duplicate=False,
            kind=row.classification,
            actions=notes,
            matched_by=row.matched_by,
            prospect_id=row.prospect_id,
            intent=row.intent,
            error=error,
        )


def act(session: Session, now: datetime, row: InboundMessage, c: Classification) -> list[str]:
    """Match the stored row and apply its actions; records what was done for reclassify."""
    found = inbound_match.find(session, c)
    row.matched_by = found.matched_by
    row.outbound_id = found.outbound.id if found.outbound else None
    row.prospect_id = found.prospect.id if found.prospect else None
    row.enrollment_id = found.enrollments[0].id if found.enrollments else None
    applied = inbound_actions.process(session, now, row, c, found)
    extra: dict[str, Any] = {"actions": applied.notes, "applied": applied.undo}
    if applied.errors:
        extra["error"] = "; ".join(applied.errors)[:2000]
    if found.account is not None:
        extra["account_id"] = found.account.id
    if len(found.enrollments) > 1:
        extra["enrollment_ids"] = [e.id for e in found.enrollments]
    row.data = {**row.data, **extra}
    session.flush()
    return applied.notes


def new_row(
    c: Classification, *, key: str, raw: bytes, source: str, mailbox_id: int | None, now: datetime
) -> InboundMessage:
    return InboundMessage(
        dedupe_key=key,
        mailbox_id=mailbox_id,
        source=source[:32],
        raw=raw,
        header_message_id=(c.message_id or None) and c.message_id[:500],
        from_address=(c.from_address or None) and c.from_address[:320],
        subject=c.subject,
        received_at=now,
        classification=str(c.kind),
        intent=str(c.intent)[:32] if c.intent else None,
        confidence=float(c.confidence or 0.0),
        evidence=[str(e) for e in c.evidence],
        recipients=[str(r) for r in c.recipients],
        status_code=(c.status or None) and c.status[:16],
        return_date=c.return_date,
        data={"classification": to_json(c)},
        created_at=now,
    )


# --- the classification as JSON (kept for reclassify and `inbound show`) ------------------


def to_json(c: Classification) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(c):
        value = getattr(c, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        if f.name == "reply_text" and isinstance(value, str):
            value = value[:4000]
        out[f.name] = value
    return out


def from_json(data: dict[str, Any]) -> Classification:
    from engine.core.classification import AutoReplyKind, ReplyIntent

    def opt(enum: Any, value: Any) -> Any:
        try:
            return enum(value) if value else None
        except ValueError:
            return None

    return Classification(
        kind=opt(InboundClass, data.get("kind")) or InboundClass.UNCLASSIFIED,
        confidence=float(data.get("confidence") or 0.0),
        evidence=tuple(data.get("evidence") or ()),
        intent=opt(ReplyIntent, data.get("intent")),
        auto_reply_kind=opt(AutoReplyKind, data.get("auto_reply_kind")),
        recipients=tuple(data.get("recipients") or ()),
        status=data.get("status"),
        diagnostic=data.get("diagnostic"),
        return_date=date.fromisoformat(data["return_date"]) if data.get("return_date") else None,
        referral=data.get("referral"),
        message_id=data.get("message_id"),
        in_reply_to=tuple(data.get("in_reply_to") or ()),
        original_message_id=data.get("original_message_id"),
        from_address=data.get("from_address"),
        subject=data.get("subject"),
        reply_text=data.get("reply_text"),
        extra=dict(data.get("extra") or {}),
    )


# --- header-only fallback ----------------------------------------------------------------

_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def headers_only(raw: bytes) -> Classification:
    """Threading tokens and sender from the headers, class `unclassified`. Never raises."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(parse.bounded(raw))
        refs = dict.fromkeys(match.id_tokens(str(headers.get("In-Reply-To") or "")))
        for token in reversed(match.id_tokens(str(headers.get("References") or ""))):
            refs.setdefault(token, None)
        sender = _ADDR.search(str(headers.get("From") or ""))
        return Classification(
            kind=InboundClass.UNCLASSIFIED,
            confidence=0.0,
            evidence=("no classifier decision: headers only",),
            message_id=match.normalise_message_id(str(headers.get("Message-ID") or "")),
            in_reply_to=tuple(refs)[: parse.MAX_TOKENS],
            from_address=sender.group(0).lower() if sender else None,
            subject=str(headers.get("Subject") or "") or None,
        )
    except Exception:
        return Classification(
            kind=InboundClass.UNCLASSIFIED, confidence=0.0, evidence=("unparseable message",)
        )


def header_message_id(raw: bytes) -> str | None:
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(parse.bounded(raw)).get("Message-ID")
        return match.normalise_message_id(str(value)) if value else None
    except Exception:
        return None
