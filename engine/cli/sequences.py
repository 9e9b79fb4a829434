"""CLI: `kadenz sequence validate|schema|push|list|show|preview` (docs/sequences.md); migrate
and pause|resume|archive live in their own modules."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from engine.cli import context, sequence_controls
from engine.outbound import migration
from engine.sequence_language.loader import LoadedSequence, load_paths
from engine.sequence_language.model import EmailStep, Step, WaitStep
from engine.sequence_language.schema import sequence_schema
from engine.workspace import sequences as service

sequence_app = typer.Typer(
    help="Sequences as code: validate, push and preview YAML sequence files.",
    no_args_is_help=True,
)

PATHS = typer.Argument(..., help="Sequence files or folders (folders: every *.yaml / *.yml).")
TEMPLATES = typer.Option(
    None,
    "--templates",
    help="Templates folder (default: templates/ beside the file or its folder, else ./templates).",
)


def _report(
    ctx: context.Context, paths: list[Path], templates: Path | None
) -> list[LoadedSequence]:
    loaded, diagnostics = load_paths(paths, templates)
    for diagnostic in diagnostics:
        ctx.err.print(escape(str(diagnostic)), soft_wrap=True)
    if diagnostics:
        files = len({d.file for d in diagnostics})
        ctx.err.print(f"{len(diagnostics)} problem(s) in {files} file(s)")
        raise typer.Exit(1)
    return loaded


@sequence_app.command()
def validate(
    typer_ctx: typer.Context, paths: list[Path] = PATHS, templates: Path | None = TEMPLATES
) -> None:
    """Check sequence files and their templates; report every problem as FILE:LINE:COL.

    Exit status 1 when anything is wrong. Touches no database.
    """
    ctx = context.get(typer_ctx)
    loaded = _report(ctx, paths, templates)
    ctx.out.print(f"ok: {len(loaded)} sequence{'s' if len(loaded) != 1 else ''} valid")


@sequence_app.command()
def schema() -> None:
    """Print the JSON Schema of sequence files (for editor autocompletion).

    Save it and point your editor at it, e.g. first line of a sequence file:
    # yaml-language-server: $schema=../sequence.schema.json
    """
    print(json.dumps(sequence_schema(), indent=2, ensure_ascii=False))


@sequence_app.command()
def push(
    typer_ctx: typer.Context,
    paths: list[Path] = PATHS,
    templates: Path | None = TEMPLATES,
    migrate: bool = typer.Option(
        False, "--migrate", help="Then migrate live enrollments to the pushed version."
    ),
) -> None:
    """Validate, then store each sequence as a new version (unchanged content: no new version).

    Enrolled prospects stay on the version they were enrolled in, unless --migrate moves
    them (as `kadenz sequence migrate KEY` would; nothing is pushed when that is refused).
    """
    ctx = context.get(typer_ctx)
    loaded = _report(ctx, paths, templates)
    at = ctx.clock.now()
    with ctx.db.session() as session:
        problems = service.unknown_move_targets(session, loaded)
        problems += service.move_cycles(session, loaded)
        for problem in problems:
            ctx.err.print(escape(problem), soft_wrap=True)
        if problems:
            raise typer.Exit(1)
        if migrate:
            for one in loaded:
                migration.precheck(session, one.spec.key, one.spec, dict(one.templates))
        for one in loaded:
            version, created = service.push(session, one, at)
            word = "pushed" if created else "unchanged"
            ctx.out.print(f"{word} {one.spec.key} v{version.version}")
    if migrate:
        for one in loaded:
            report = migration.migrate(ctx.db, one.spec.key, None, at)
            sequence_controls.show_migration(ctx, report, "table")


@sequence_app.command("list")
def list_(typer_ctx: typer.Context) -> None:
    """List sequences with their current version."""
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        rows = service.list_sequences(session)
    if not rows:
        ctx.out.print("no sequences yet (push one: kadenz sequence push sequences/)")
        return
    table = Table("key", "name", "current", "versions", "updated (UTC)", "state", box=None)
    for row in rows:
        table.add_row(
            row.key,
            escape(row.name),
            f"v{row.current_version}" if row.current_version else "-",
            str(row.versions),
            row.updated_at.strftime("%Y-%m-%d %H:%M") if row.updated_at else "-",
            "archived" if row.archived else "paused" if row.paused else "live",
        )
    ctx.print_table(table)


@sequence_app.command()
def show(typer_ctx: typer.Context, key: str = typer.Argument(..., help="Sequence key.")) -> None:
    """Show a sequence's versions and the steps of the current one."""
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        sequence = service.get_sequence(session, key)
        versions = service.versions(session, key)
        current = service.get_version(session, key)
        spec = service.version_spec(current)
    ctx.out.print(f"{sequence.key}: {escape(sequence.name)}")
    table = Table("version", "pushed (UTC)", "hash", "file", box=None)
    for v in versions:
        mark = " (current)" if v.id == sequence.current_version_id else ""
        table.add_row(
            f"v{v.version}{mark}",
            v.created_at.strftime("%Y-%m-%d %H:%M"),
            v.content_hash[:12],
            escape(v.source_path or "-"),
        )
    ctx.print_table(table)
    ctx.out.print(f"steps of v{current.version}:")
    for i, step in enumerate(spec.steps, 1):
        ctx.out.print(f"  {i}. {step.type:<5} {step.id:<16} {_step_detail(step)}")


@sequence_app.command()
def preview(
    typer_ctx: typer.Context,
    key: str = typer.Argument(..., help="Sequence key."),
    prospect: str = typer.Option(..., "--prospect", help="Email of an imported prospect."),
    version: int | None = typer.Option(
        None, "--version", help="Version number (default: current)."
    ),
    variant: str | None = typer.Option(None, "--variant", help="Only this A/B variant."),
    html: bool = typer.Option(False, "--html", help="Also print the HTML parts."),
) -> None:
    """Render every step for one prospect exactly as it would be sent."""
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        result = service.preview(session, key, prospect, version=version, variant=variant)
    out = ctx.out
    out.print(f"{result.key} v{result.version} for {result.prospect}")
    if result.mailbox is None:
        out.print(
            "note: no mailbox found for this sequence; using a placeholder sender "
            "(add one: kadenz mailbox add …)"
        )
    for item in result.items:
        out.print()
        if isinstance(item, service.PreviewWait):
            out.print(f"── wait {item.duration} ({item.step_id})")
            continue
        if isinstance(item, service.PreviewTask):
            out.print(
                f"── {item.type} {item.step_id} (due {item.due}"
                + (", blocking)" if item.blocking else ")")
            )
            if item.missing:
                out.print(escape(_missing_line(item.missing)))
                continue
            out.print(f"title: {escape(item.title or '')}")
            if item.notes:
                out.print(escape(item.notes))
            continue
        label = f" variant {item.variant}" if item.variant != "default" else ""
        thread = ", same thread" if item.thread == "previous" else ""
        out.print(f"── email {item.step_id}{label}{thread}")
        if item.missing:
            out.print(escape(_missing_line(item.missing)))
            continue
        out.print(f"From: {escape(item.sender)}")
        out.print(f"To: {escape(item.recipient)}")
        out.print(f"Subject: {escape(item.subject or '')}")
        out.print()
        out.print(escape(item.text or "").rstrip("\n"))
        if html:
            out.print("-- text/html --")
            out.print(escape(item.html or ""))
    if result.missing:
        out.print()
        out.print(
            f"warning: missing {', '.join(result.missing)}: enrolling this prospect would pause "
            "at the first step that needs it (fill in the prospect's data or add a default)"
        )


def _step_detail(step: Step) -> str:
    if isinstance(step, WaitStep):
        return str(step.duration)
    if isinstance(step, EmailStep):
        names = step.variant_names()
        parts = ["variants " + ", ".join(names)] if names != ["default"] else []
        if step.thread == "previous":
            parts.append("(same thread)")
        return " ".join(parts)
    return escape(step.title)


def _missing_line(names: list[str]) -> str:
    return f"[missing {', '.join(names)}: an enrollment would pause here with a task for the SDR]"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    sequence_controls.register(sequence_app)
    app.add_typer(sequence_app, name="sequence")
