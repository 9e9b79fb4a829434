"""CLI: `kadenz init` — create or upgrade the workspace."""

from __future__ import annotations

import typer

from engine.cli import context


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(ctx: typer.Context) -> None:
    """Create the workspace database, or upgrade it to the newest schema. Safe to run twice."""
    c = context.get(ctx)
    c.settings.home.mkdir(parents=True, exist_ok=True)
    db = c.db  # migrates on first use
    c.settings.resolved_secret_key()
    c.out.print(f"workspace ready: {c.settings.home} (database: {db.dialect})")
