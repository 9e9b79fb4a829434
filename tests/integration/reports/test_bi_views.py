"""The BI views: exactly the columns docs/bi.md lists, the report's figures, a read-only role."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.reporting import reports, rollups
from engine.settings import load_settings
from engine.store import bi_views
from engine.store.db import Database
from tests.support.seed import seed_scenario

DOC = Path(__file__).resolve().parents[3] / "docs" / "bi.md"


def documented() -> dict[str, list[str]]:
    """{view: [column, …]} from the '### view — …' sections' tables of docs/bi.md."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^### (\w+) — ", line)
        if heading:
            current = heading.group(1)
            out[current] = []
            continue
        cell = re.match(r"^\| (\w+) \| ", line)
        if current and cell and cell.group(1) != "column":
            out[current].append(cell.group(1))
        if line.startswith("## ") and current:
            current = None
    return out


def actual(db: Database) -> dict[str, list[str]]:
    found = inspect(db.engine)
    schema = bi_views.SCHEMA if db.dialect == "postgresql" else None
    names = (
        found.get_view_names(schema=schema)
        if schema
        else [n for n in found.get_view_names() if n.startswith(f"{bi_views.SCHEMA}_")]
    )
    return {
        name.removeprefix(f"{bi_views.SCHEMA}_"): [
            c["name"] for c in found.get_columns(name, schema=schema)
        ]
        for name in names
    }


def test_the_views_have_exactly_the_documented_columns(db: Database) -> None:
    doc = documented()
    assert len(doc) >= 10 and all(doc.values())
    assert actual(db) == doc


def test_daily_facts_add_up_to_the_report(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.session() as s:
        report = reports.build_report(s, by="sequence")
    name = bi_views.views(db.dialect)[-1].qualified(db.dialect)
    assert name.endswith("daily_facts")
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT sequence_key, SUM(enrolled), SUM(contacted), SUM(bounced), "
                f"SUM(replied), SUM(positive_replies), SUM(opted_out), SUM(meetings) "
                f"FROM {name} GROUP BY sequence_key"
            )
        ).all()
    from_views = {r[0]: tuple(int(v) for v in r[1:]) for r in rows}
    from_report = {
        r.group: (
            r.enrolled,
            r.contacted,
            r.bounced,
            r.replied,
            r.positive,
            r.opted_out,
            r.meetings,
        )
        for r in report.rows
    }
    assert from_views == from_report
    assert from_report["saas-founders"][1] > 0  # the scenario has something to count


def test_upgrading_again_keeps_the_views_and_recreates_them_only_when_changed(
    db: Database,
) -> None:
    with db.engine.connect() as conn:
        assert bi_views.up_to_date(conn)
    db.upgrade()
    with db.engine.begin() as conn:
        bi_views.drop(conn)
        assert not bi_views.up_to_date(conn)
    db.upgrade()  # nothing to migrate, but the views are missing: they come back
    assert actual(db) == documented()


@pytest.fixture
def reader(postgres_db: Database) -> Iterator[tuple[str, Database]]:
    name = f"kadenz_bi_t{uuid.uuid4().hex[:8]}"
    yield name, postgres_db
    with postgres_db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {name}")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")


@pytest.mark.postgres
def test_a_read_only_role_reads_the_views_and_nothing_else(
    reader: tuple[str, Database], clock: VirtualClock, tmp_path: Path
) -> None:
    name, db = reader
    seed_scenario(db)
    rollups.refresh_rollups(db)
    ctx = Context(settings=load_settings(home=tmp_path, database_url=db.url), clock=clock)
    ctx.__dict__["db"] = db
    env = {**os.environ, "BI_TEST_PASSWORD": "s3cret-'quoted\"-password"}
    result = CliRunner().invoke(
        app, ["bi", "reader", name, "--password-env", "BI_TEST_PASSWORD"], obj=ctx, env=env
    )
    assert result.exit_code == 0, result.output
    assert f"role {name} can read the kadenz_bi views" in result.output
    as_reader = create_engine(
        make_url(db.url).set(username=name, password="s3cret-'quoted\"-password")
    )
    try:
        with as_reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM kadenz_bi.prospects")).scalar() > 0
            assert conn.execute(text("SELECT count(*) FROM kadenz_bi.daily_facts")).scalar() > 0
        for statement in (
            "SELECT count(*) FROM prospects",
            "UPDATE prospects SET score = 0",
            "DELETE FROM events",
            "CREATE TABLE kadenz_bi.mine (x int)",
            "CREATE VIEW kadenz_bi.mine AS SELECT 1",
        ):
            with as_reader.connect() as conn, pytest.raises(DBAPIError):
                conn.execute(text(statement))
        # The views are recreated by an upgrade that changes them; the role still reads them.
        with db.engine.begin() as conn:
            bi_views.drop(conn)
        db.upgrade()
        with as_reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM kadenz_bi.events")).scalar() > 0
    finally:
        as_reader.dispose()


def test_the_reader_command_refuses_bad_names_and_sqlite(
    sqlite_db: Database, clock: VirtualClock, tmp_path: Path
) -> None:
    ctx = Context(settings=load_settings(home=tmp_path), clock=clock)
    ctx.__dict__["db"] = sqlite_db
    env = {**os.environ, "BI_TEST_PASSWORD": "x"}
    bad = CliRunner().invoke(
        app,
        ["bi", "reader", "Robert'); DROP", "--password-env", "BI_TEST_PASSWORD"],
        obj=ctx,
        env=env,
    )
    assert bad.exit_code != 0 and "is not a role name" in str(bad.exception)
    lite = CliRunner().invoke(
        app, ["bi", "reader", "bi_reader", "--password-env", "BI_TEST_PASSWORD"], obj=ctx, env=env
    )
    assert lite.exit_code != 0 and "?mode=ro" in str(lite.exception)
