"""CLI: `kadenz sequence pause|resume|archive|migrate KEY`: changing a live sequence."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from engine.cli import context
from engine.outbound import migration
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


def migrate(
    typer_ctx: typer.Context,
    key: str = typer.Argument(..., help="Sequence key."),
    to: int | None = typer.Option(None, "--to", help="Target version (default: the current)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only show, per group of enrollments, what would change."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Migrate live enrollments of KEY to another version, by step id.

    Each enrollment goes to the step with the same id (or the step that declares
    `renamed_from:` its old id); on a removed step, to the next step that is kept. Planned,
    unsent emails of changed steps are re-rendered; those of removed steps are cancelled.
    Atomic per enrollment, safe to run twice. Refuses (changing nothing) when steps changed
    type or order.

    Examples:
      kadenz sequence migrate saas-founders --dry-run
      kadenz sequence migrate saas-founders --to 3 --format json
    """
    ctx = context.get(typer_ctx)
    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    run = migration.plan if dry_run else migration.migrate
    report = run(ctx.db, key, to, ctx.clock.now())
    show_migration(ctx, report, fmt)


def show_migration(ctx: context.Context, report: migration.MigrationReport, fmt: str) -> None:
    """Print a migration report as a table of groups or as JSON."""
    if fmt == "json":
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        return
    verb = "would move" if report.dry_run else "moved"
    ctx.out.print(f"{report.key} → v{report.to_version}" + (" (dry run)" if report.dry_run else ""))
    if report.groups:
        table = Table(
            "from", "at step", "to step", "state", "enrollments", "what changes", box=None
        )
        for g in report.groups:
            table.add_row(
                f"v{g.from_version}",
                g.from_step or "(end)",
                g.to_step or "(end)",
                g.state,
                str(g.count),
                escape("; ".join(g.changes) or "nothing else changes"),
            )
        ctx.out.print(table)
    total = sum(g.count for g in report.groups)
    ctx.out.print(
        f"{verb} {total} enrollment(s); {report.already} already on v{report.to_version}; "
        f"{len(report.skipped)} skipped"
    )
    for who, reason in report.skipped:
        ctx.out.print(escape(f"skipped {who}: {reason}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add pause, resume, archive and migrate to the `kadenz sequence` group."""
    app.command("migrate")(migrate)
    app.command("pause")(pause)
    app.command("resume")(resume)
    app.command("archive")(archive)
