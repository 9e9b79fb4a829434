"""One definition of each metric: the CLI, the API, the dashboard and the BI views show the
same figures for the same data, and the figures keep their arithmetic (issue 15, item 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.reporting import rollups
from engine.settings import load_settings
from engine.store import bi_views
from engine.store.db import Database
from tests.support.web import TestClient, seeded_app

FIGURES = ("contacted", "delivered", "bounced", "replied", "positive", "opted_out", "meetings")


def test_cli_api_dashboard_and_views_agree(db: Database, tmp_path: Path) -> None:
    web = seeded_app(db, tmp_path)
    rollups.refresh_rollups(db)
    ctx = Context(settings=load_settings(home=tmp_path, database_url=db.url), clock=web.clock)
    ctx.__dict__["db"] = db
    out = CliRunner().invoke(app, ["report", "--format", "json"], obj=ctx)
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)["total"]
    with TestClient(web.app) as client:
        auth = {"Authorization": f"Bearer {web.tokens['manager']}"}
        api = client.get("/api/v1/reports", headers=auth).json()["total"]
        client.post("/login", data={"token": web.tokens["manager"], "next": "/"})
        page = client.get("/").text
    view = bi_views.views(db.dialect)[-1].qualified(db.dialect)
    with db.engine.connect() as conn:
        c, b, r, p, o, m = conn.execute(
            text(
                "SELECT SUM(contacted), SUM(bounced), SUM(replied), SUM(positive_replies), "
                f"SUM(opted_out), SUM(meetings) FROM {view}"
            )
        ).one()
    views = {
        "contacted": c, "delivered": c - b, "bounced": b, "replied": r,
        "positive": p, "opted_out": o, "meetings": m,
    }  # fmt: skip
    assert {k: cli[k] for k in FIGURES} == {k: api[k] for k in FIGURES} == views
    cards = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert f"{api['contacted']} contacted" in cards
    assert f"reply rate ({api['replied']} of {api['delivered']})" in cards
    assert f"bounce rate ({api['bounced']})" in cards
    # The arithmetic every place relies on.
    assert api["contacted"] == api["delivered"] + api["bounced"]
    for rate in ("reply_rate", "bounce_rate", "positive_rate", "opt_out_rate"):
        assert api[rate] is None or 0.0 <= api[rate] <= 1.0
