"""Jinja2 for our own pages: autoescaped, strict about undefined names, no request state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine.core import metrics
from engine.reporting import activity

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


_env.filters["pct"] = _pct
_env.filters["hours"] = _hours
_env.globals["DEFINITIONS"] = metrics.DEFINITIONS
_env.globals["ACTIVITY_COLUMNS"] = activity.COLUMNS
_env.globals["ACTIVITY_DEFINITIONS"] = activity.DEFINITIONS


def render_page(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = _env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status)
