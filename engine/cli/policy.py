"""CLI: `kadenz policy validate|push|show`: the workspace policy file (docs/policy.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from engine.cli import context
from engine.errors import SpecError
from engine.sequence_language.policy import LoadedPolicy, load_policy
from engine.workspace import policy as service

app = typer.Typer(
    name="policy",
    help="The workspace policy: contact limits across every sequence.",
    no_args_is_help=True,
)
FILE = typer.Argument(..., help="The policy YAML file, e.g. policy.yaml.")


def _load(ctx: context.Context, path: Path) -> LoadedPolicy:
    try:
        return load_policy(path)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            ctx.err.print(escape(str(diagnostic)), soft_wrap=True)
        ctx.err.print(f"{len(exc.diagnostics)} problem(s) in {path}")
        raise typer.Exit(1) from None


@app.command()
def validate(typer_ctx: typer.Context, path: Path = FILE) -> None:
    """Check a policy file; every problem as FILE:LINE:COL. Touches no database.

    Example: kadenz policy validate policy.yaml
    """
    ctx = context.get(typer_ctx)
    _load(ctx, path)
    ctx.out.print("ok: policy valid")


@app.command()
def push(typer_ctx: typer.Context, path: Path = FILE) -> None:
    """Validate, then make the file the workspace policy (a changed file: a new version).

    The sender applies it from its next claim; nothing is stored when the file is invalid.

    Example: kadenz policy push policy.yaml
    """
    ctx = context.get(typer_ctx)
    loaded = _load(ctx, path)
    with ctx.db.session() as session:
        row, created = service.push(session, loaded, ctx.clock.now())
    ctx.out.print(f"{'pushed' if created else 'unchanged'} policy v{row.version}")


@app.command()
def show(typer_ctx: typer.Context) -> None:
    """Print the policy in force (the YAML as pushed)."""
    ctx = context.get(typer_ctx)
    with ctx.db.session() as session:
        row = service.current_row(session)
    if row is None:
        ctx.out.print("no policy pushed: no contact limits (push one: kadenz policy push FILE)")
        return
    ctx.out.print(f"policy v{row.version}, pushed {row.created_at:%Y-%m-%d %H:%M} UTC:")
    ctx.out.print(escape(row.source.rstrip("\n")), markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app)
