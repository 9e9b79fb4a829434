"""Entry point of `kadenz`. User mistakes end in one line on stderr, never a traceback."""

from __future__ import annotations

import sys

import typer

from engine.cli import (
    context,
    deliverability,
    demo,
    enrollments,
    inbound,
    inbox,
    mailboxes,
    policy,
    prospects,
    reports,
    review,
    running,
    sequences,
    tasks,
    users,
    web,
    workers,
)
from engine.errors import ConfigError, KadenzError

app = typer.Typer(
    name="kadenz",
    help="Kadenz: outbound sequences as code, sent from your own mailboxes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """Kadenz: outbound sequences as code, sent from your own mailboxes.

    Settings come from KADENZ_* environment variables (see docs/configuration.md):
    KADENZ_HOME (default ./.kadenz) holds the embedded SQLite database.
    """
    if version:
        from engine import __version__

        print(f"kadenz {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit()


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the workspace database, or upgrade it to the newest schema. Safe to run twice."""
    c = context.get(ctx)
    c.settings.home.mkdir(parents=True, exist_ok=True)
    db = c.db  # migrates on first use
    c.settings.resolved_secret_key()
    c.out.print(f"workspace ready: {c.settings.home} (database: {db.dialect})")


for module in (
    users,
    sequences,
    mailboxes,
    policy,
    deliverability,
    prospects,
    enrollments,
    running,
    inbound,
    inbox,
    tasks,
    review,
    reports,
    web,
    workers,
    demo,
):
    module.register(app)
reports.register_bi(app)
reports.register_activity(app)


def run() -> None:
    try:
        app()
    except KadenzError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"error: {line}", file=sys.stderr)
        sys.exit(1)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
