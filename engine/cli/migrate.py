"""CLI: `kadenz sequence migrate KEY`: move live enrollments to another version."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from engine.cli import context
from engine.outbound import migration


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
    show(ctx, report, fmt)


def show(ctx: context.Context, report: migration.MigrationReport, fmt: str) -> None:
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
    """Add `migrate` to the `kadenz sequence` group."""
    app.command("migrate")(migrate)
