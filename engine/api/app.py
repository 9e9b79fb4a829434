"""The FastAPI application: REST API, dashboard pages and the unsubscribe endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from engine import __version__
from engine.api import (
    bookings,
    dashboard,
    inbox,
    inbox_pages,
    problems,
    rest,
    rest_writes,
    unsubscribe,
    users,
)
from engine.api.state import AppState
from engine.clock import Clock, SystemClock
from engine.settings import Settings
from engine.store.db import Database

STATIC = Path(__file__).parent / "static"


def create_app(db: Database, settings: Settings, clock: Clock | None = None) -> FastAPI:
    """Build the app for one database. The default Swagger/ReDoc pages load from a CDN, so
    they are off: /docs is our own offline page listing the endpoints of /openapi.json."""
    app = FastAPI(
        title="Kadenz API",
        version=__version__,
        description="Outbound sequences as code. Authenticate with `Authorization: Bearer "
        "<token>` (create one with `kadenz token create`). Errors are application/problem+json.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.kadenz = AppState(
        db=db,
        settings=settings,
        clock=clock or SystemClock(),
        secret=settings.resolved_secret_key(),
    )
    problems.install(app)
    app.include_router(rest.router)
    app.include_router(rest_writes.router)
    app.include_router(unsubscribe.router)
    app.include_router(bookings.router)
    app.include_router(inbox.router)
    app.include_router(users.router)
    app.include_router(inbox_pages.router)
    dashboard.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        spec: dict[str, Any] = app.openapi()
        return dashboard.render(request, "api_docs.html", {"spec": spec}, public=True)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app
