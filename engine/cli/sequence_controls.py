"""CLI: `kadenz sequence pause|resume|archive KEY`: the controls over a whole sequence."""

from __future__ import annotations

import typer

from engine.cli import context
from engine.people import controls

KEY = typer.Argument(..., help="Sequence key.")


def pause(
    typer_ctx: typer.Context,
    key: str = KEY,
    reason: str | None = typer.Option(None, "--reason", help="Why (shown in explain)."),
) -> None:
    """Hold every enrollment of KEY where it is: no step runs, no email leaves.

    Planned emails stay planned; new enrollments are refused until it is resumed. Prospects
    paused for their own reasons (out-of-office, a person) stay paused after the resume.

    Example: kadenz sequence pause saas-founders --reason "wrong pricing in step 2"
    """
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        result = controls.pause_sequence(session, key, at=ctx.clock.now(), reason=reason)
    ctx.out.print(
        f"{key}: paused; {result.changed} live enrollment(s) held, "
        f"{len(result.unchanged)} were already paused",
        markup=False,
    )


def resume(typer_ctx: typer.Context, key: str = KEY) -> None:
    """Release what `kadenz sequence pause` held; due steps run at the next tick.

    Example: kadenz sequence resume saas-founders
    """
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        result = controls.resume_sequence(session, key, at=ctx.clock.now())
    ctx.out.print(f"{key}: resumed; {result.changed} enrollment(s) released", markup=False)


def archive(
    typer_ctx: typer.Context,
    key: str = KEY,
    stop_all: bool = typer.Option(
        False, "--stop-all", help="Also stop every live enrollment now (else they finish)."
    ),
) -> None:
    """Archive KEY: no new enrollments; live ones run to their end (or stop, with --stop-all).

    Examples:
      kadenz sequence archive webinar-2025
      kadenz sequence archive webinar-2025 --stop-all
    """
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        result = controls.archive_sequence(session, key, at=ctx.clock.now(), stop_all=stop_all)
    what = "stopped" if stop_all else "will finish"
    ctx.out.print(f"{key}: archived; {result.matched} live enrollment(s) {what}", markup=False)


def register(app: typer.Typer) -> None:
    """Add pause, resume and archive to the `kadenz sequence` group."""
    app.command("pause")(pause)
    app.command("resume")(resume)
    app.command("archive")(archive)
