"""The REST API under /api/v1: reports, tasks, sequences, suppressions, prospects, inbound."""

from __future__ import annotations

import importlib
import tempfile
from datetime import date
from pathlib import Path as FsPath
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.problems import problem
from engine.api.state import AppState
from engine.core import addresses
from engine.errors import NotFound, SpecError
from engine.people import suppression, task_queue
from engine.reporting import activity, reports, rollups
from engine.reporting import health as health_figures
from engine.store.models import Prospect, Sequence, SequenceVersion, Suppression, Task
from engine.workspace.tokens import Principal

router = APIRouter(prefix="/api/v1")

MAX_LIMIT = 500
MAX_OFFSET = 10**9
MAX_ID = 2**31 - 1  # ids are 32-bit on every database


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kadenz
    return state


class Page(BaseModel):
    items: list[dict[str, Any]]
    next: str | None = Field(None, description="URL of the next page, absent on the last one")


def _page(
    request: Request, items: list[dict[str, Any]], limit: int, offset: int, more: bool
) -> Page:
    nxt = (
        str(request.url.include_query_params(limit=limit, offset=offset + limit)) if more else None
    )
    return Page(items=items, next=nxt)


# --- reports -------------------------------------------------------------------------------


@router.get(
    "/reports",
    tags=["reports"],
    summary="Report (same as `kadenz report`), as JSON or CSV",
    response_model=None,
)
def get_report(
    request: Request,
    by: Literal["sequence", "version", "step", "variant", "mailbox", "owner", "week"] = "sequence",
    sequence: str | None = Query(None, description="Only this sequence (its key)"),
    since: date | None = Query(None, description="From this day (UTC), included"),
    until: date | None = Query(None, description="To this day (UTC), included"),
    dates: Literal["event", "send"] = Query(
        "event",
        description="event: facts that happened in the range; send: everything about the "
        "prospects first emailed in the range (a cohort)",
    ),
    owner: str | None = Query(None, description="Only this owner (SDR)"),
    mailbox: str | None = Query(None, description="Only this mailbox (name)"),
    step: str | None = Query(None, description="Only this step id"),
    variant: str | None = Query(None, description="Only this variant"),
    format: Literal["json", "csv"] = Query("json", description="json or csv"),
    _: Principal = Depends(require("manager")),
) -> dict[str, Any] | Response:
    st = _state(request)
    filters = reports.ReportFilter(
        since=since,
        until=until,
        dates=dates,
        sequence=sequence,
        owner=owner,
        mailbox=mailbox,
        step=step,
        variant=variant,
    )
    rollups.refresh_rollups(st.db)
    with st.db.session() as s:
        result = reports.build_report(s, by=by, filters=filters)
    if format == "csv":
        return Response(
            result.as_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="kadenz-report-{by}.csv"'},
        )
    return result.as_dict()


@router.get(
    "/reports/activity",
    tags=["reports"],
    summary="Calls and tasks per owner, sequence or step (same as `kadenz activity`)",
    response_model=None,
)
def get_activity(
    request: Request,
    by: Literal["owner", "sequence", "step"] = "owner",
    since: date | None = Query(None, description="From this day (UTC), included"),
    until: date | None = Query(None, description="To this day (UTC), included"),
    owner: str | None = Query(None, description="Only this owner (SDR)"),
    sequence: str | None = Query(None, description="Only this sequence (its key)"),
    format: Literal["json", "csv"] = Query("json", description="json or csv"),
    _: Principal = Depends(require("manager")),
) -> dict[str, Any] | Response:
    st = _state(request)
    filters = reports.ReportFilter(since=since, until=until, owner=owner, sequence=sequence)
    with st.db.session() as s:
        result = activity.build_activity(s, by=by, filters=filters, now=st.clock.now())
    if format == "csv":
        return Response(
            result.as_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="kadenz-activity-{by}.csv"'},
        )
    return result.as_dict()


# --- tasks ---------------------------------------------------------------------------------


def _task_json(t: Task, p: Prospect | None = None) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind,
        "title": t.title,
        "notes": t.notes,
        "owner": t.owner,
        "state": t.state,
        "outcome": t.outcome,
        "due_at": t.due_at.isoformat(),
        "prospect_id": t.prospect_id,
        "enrollment_id": t.enrollment_id,
        "step_id": t.step_id,
        "prospect": None
        if p is None
        else {
            "name": f"{p.first_name or ''} {p.last_name or ''}".strip(),
            "company": p.company,
            "phone": p.phone,
            "email": p.email,
        },
    }


@router.get("/tasks", tags=["tasks"], response_model=Page, summary="Open tasks in a queue")
def list_tasks(
    request: Request,
    owner: str | None = Query(None, description="Whose queue (SDR tokens: always their own)"),
    all_due: bool = Query(False, alias="all", description="Include tasks due after today"),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(require("sdr", "manager")),
) -> Page:
    st = _state(request)
    if who.role == "sdr":
        owner = who.owner
    with st.db.session() as s:
        items = task_queue.queue(
            s, st.clock.now(), owner=owner, include_later=all_due, tz=st.settings.zone
        )
    window = items[offset : offset + limit]
    return _page(
        request,
        [_task_json(i.task, i.prospect) for i in window],
        limit,
        offset,
        len(items) > offset + limit,
    )


class TaskDone(BaseModel):
    outcome: Literal["connected", "voicemail", "no_answer", "meeting_booked", "done", "skip"]


@router.post("/tasks/{task_id}/complete", tags=["tasks"], summary="Mark a task done or skipped")
def complete_task(
    request: Request,
    body: TaskDone,
    task_id: int = Path(..., ge=1, le=MAX_ID),
    who: Principal = Depends(require("sdr")),
) -> dict[str, Any]:
    st = _state(request)
    owner = who.owner if who.role == "sdr" else None
    with st.db.session() as s:
        task = task_queue.complete(
            s,
            task_id,
            outcome=body.outcome,
            at=st.clock.now(),
            by=who.owner or who.name,
            owner=owner,
        )
        return _task_json(task)


# --- sequences -----------------------------------------------------------------------------


@router.get("/sequences", tags=["sequences"], response_model=Page, summary="Sequences")
def list_sequences(
    request: Request,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    _: Principal = Depends(require("growth", "manager", "sdr")),
) -> Page:
    with _state(request).db.session() as s:
        rows = list(
            s.scalars(select(Sequence).order_by(Sequence.key).offset(offset).limit(limit + 1))
        )
        items = [
            {
                "key": q.key,
                "name": q.name,
                "archived": q.archived,
                "current_version_id": q.current_version_id,
            }
            for q in rows[:limit]
        ]
    return _page(request, items, limit, offset, len(rows) > limit)


@router.get("/sequences/{key}/versions", tags=["sequences"], summary="A sequence's versions")
def list_versions(
    request: Request, key: str, _: Principal = Depends(require("growth", "manager"))
) -> list[dict[str, Any]]:
    with _state(request).db.session() as s:
        seq = s.scalars(select(Sequence).where(Sequence.key == key)).first()
        if seq is None:
            raise NotFound(f"sequence {key!r} does not exist")
        versions = s.scalars(
            select(SequenceVersion)
            .where(SequenceVersion.sequence_id == seq.id)
            .order_by(SequenceVersion.version)
        )
        return [
            {
                "version": v.version,
                "content_hash": v.content_hash,
                "created_at": v.created_at.isoformat(),
                "current": v.id == seq.current_version_id,
                "steps": [st.get("id") for st in v.spec.get("steps", []) if st.get("id")],
            }
            for v in versions
        ]


@router.post(
    "/sequences/validate",
    tags=["sequences"],
    summary="Validate a posted sequence YAML",
    openapi_extra={
        "requestBody": {
            "content": {"application/yaml": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
async def validate_sequence(request: Request, _: Principal = Depends(require("growth"))) -> Any:
    """Templates named by the file are looked up in the server's `templates/` folder."""
    text = (await request.body()).decode("utf-8", "replace")
    try:
        loader = importlib.import_module("engine.sequence_language.loader")
    except ImportError:
        return problem(
            501,
            "sequence validation is not available in this build yet "
            "(engine.sequence_language.loader has not landed)",
        )
    return await run_in_threadpool(_validate_text, loader, text)


def _validate_text(loader: Any, text: str) -> Any:
    with tempfile.TemporaryDirectory(prefix="kadenz-validate-") as folder:
        path = FsPath(folder) / "posted.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = loader.load_sequence(path, templates_dir=FsPath.cwd() / "templates")
        except SpecError as exc:
            diags = [
                f"posted.yaml:{d.line}:{d.column}: {d.message}" + (f" ({d.fix})" if d.fix else "")
                if d.file.endswith("posted.yaml")
                else str(d)
                for d in exc.diagnostics
            ]
            return problem(422, diags[0], field="body", diagnostics=diags)
    return {"valid": True, "key": loaded.spec.key, "content_hash": loaded.content_hash}


# --- suppressions --------------------------------------------------------------------------


class SuppressionIn(BaseModel):
    target: str = Field(
        ..., description="an address, or @domain for a whole domain", min_length=3, max_length=320
    )
    reason: str = Field("manual", max_length=64)
    note: str | None = Field(None, max_length=2000)


def _supp_json(r: Suppression) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "value": r.value,
        "reason": r.reason,
        "source": r.source,
        "note": r.note,
        "created_at": r.created_at.isoformat(),
    }


@router.get("/suppressions", tags=["suppressions"], response_model=Page, summary="Suppressions")
def list_suppressions(
    request: Request,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    _: Principal = Depends(require()),
) -> Page:
    with _state(request).db.session() as s:
        rows = list(
            s.scalars(select(Suppression).order_by(Suppression.id).offset(offset).limit(limit + 1))
        )
        items = [_supp_json(r) for r in rows[:limit]]
    return _page(request, items, limit, offset, len(rows) > limit)


@router.post("/suppressions", tags=["suppressions"], status_code=201, summary="Suppress")
def add_suppression(
    request: Request, body: SuppressionIn, who: Principal = Depends(require())
) -> dict[str, Any]:
    st = _state(request)
    target = body.target.strip()
    try:
        target = (
            "@" + addresses.normalise("x" + target).domain
            if target.startswith("@")
            else addresses.normalise(target).email
        )
    except addresses.InvalidAddress as exc:
        return problem(422, f"target: {exc}", field="target")  # type: ignore[return-value]
    with st.db.session() as s:
        row = suppression.add(
            s,
            body.target,
            reason=body.reason,
            at=st.clock.now(),
            source=f"api:{who.name}",
            note=body.note,
        )
        return _supp_json(row)


@router.delete(
    "/suppressions/{suppression_id}",
    tags=["suppressions"],
    status_code=204,
    summary="Remove a suppression",
)
def remove_suppression(
    request: Request,
    suppression_id: int = Path(..., ge=1, le=MAX_ID),
    _: Principal = Depends(require()),
) -> None:
    from engine.core.events import EventType
    from engine.store import event_log as events

    st = _state(request)
    with st.db.session() as s:
        row = s.get(Suppression, suppression_id)
        if row is None:
            raise NotFound(f"suppression {suppression_id} does not exist")
        events.record(
            s, EventType.UNSUPPRESSED, st.clock.now(), data={"kind": row.kind, "reason": row.reason}
        )
        s.delete(row)


# --- prospects (read side; writes come from engine.people.prospects) ----------------------


def _prospect_json(p: Prospect) -> dict[str, Any]:
    return {
        "id": p.id,
        "email": p.email,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "company": p.company,
        "title": p.title,
        "owner": p.owner,
        "timezone": p.timezone,
        "score": p.score,
        "erased": p.erased_at is not None,
    }


@router.get("/prospects", tags=["prospects"], response_model=Page, summary="Prospects")
def list_prospects(
    request: Request,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    who: Principal = Depends(require("sdr", "manager")),
) -> Page:
    with _state(request).db.session() as s:
        stmt = select(Prospect).order_by(Prospect.id)
        if who.role == "sdr":
            stmt = stmt.where(Prospect.owner == who.owner)
        rows = list(s.scalars(stmt.offset(offset).limit(limit + 1)))
        items = [_prospect_json(p) for p in rows[:limit]]
    return _page(request, items, limit, offset, len(rows) > limit)


@router.get("/prospects/{prospect_id}", tags=["prospects"], summary="One prospect")
def get_prospect(
    request: Request,
    prospect_id: int = Path(..., ge=1, le=MAX_ID),
    who: Principal = Depends(require("sdr", "manager")),
) -> dict[str, Any]:
    with _state(request).db.session() as s:
        p = s.get(Prospect, prospect_id)
        if p is None or (who.role == "sdr" and p.owner != who.owner):
            raise NotFound(f"prospect {prospect_id} does not exist")
        return _prospect_json(p)


# --- raw inbound mail ----------------------------------------------------------------------

MAX_RAW = 25 * 1024 * 1024


@router.post(
    "/inbound",
    tags=["inbound"],
    status_code=202,
    summary="Ingest one raw message (message/rfc822)",
    openapi_extra={
        "requestBody": {
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def post_inbound(request: Request, _: Principal = Depends(require())) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "message/rfc822":
        return problem(
            415, "send the raw message with Content-Type: message/rfc822", field="Content-Type"
        )
    raw = await request.body()
    if not raw.strip():
        return problem(
            422, "the request body is empty (send the whole RFC 5322 message)", field="body"
        )
    if len(raw) > MAX_RAW:
        return problem(413, f"message larger than {MAX_RAW} bytes", field="body")
    try:
        ingest = importlib.import_module("engine.inbound.ingest")
    except ImportError:
        return problem(
            501,
            "inbound ingestion is not available in this build yet "
            "(engine.inbound.ingest has not landed)",
        )
    st = _state(request)
    result = await run_in_threadpool(ingest.ingest, st.db, st.clock, raw, source="http")
    body = {
        "inbound_id": result.inbound_id,
        "duplicate": result.duplicate,
        "kind": result.kind,
        "intent": result.intent,
        "matched_by": result.matched_by,
        "prospect_id": result.prospect_id,
        "actions": list(result.actions),
    }
    return JSONResponse(body, status_code=202)


@router.get("/health", tags=["meta"], summary="Liveness (no token needed)")
def health(request: Request) -> dict[str, Any]:
    with _state(request).db.session() as s:
        s.scalar(select(func.count()).select_from(Sequence))
    return {"status": "ok"}


# --- metrics -------------------------------------------------------------------------------


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Operating figures in the Prometheus text format",
    response_class=PlainTextResponse,
    description="Queue depth, due backlog, sends per mailbox, failures: the figures of "
    "`kadenz metrics`. Scrape it with a bearer token (Prometheus `authorization` setting).",
)
def get_metrics(request: Request, _: Principal = Depends(require("manager"))) -> str:
    import redis

    st = _state(request)
    client = redis.Redis.from_url(
        st.settings.broker_url or st.settings.redis_url, socket_connect_timeout=1, socket_timeout=2
    )
    try:
        return health_figures.to_prometheus(health_figures.collect(st.db, st.clock, client))
    finally:
        client.close()
