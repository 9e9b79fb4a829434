"""Entry point of `kadenz`. User mistakes end in one line on stderr, never a traceback."""

from __future__ import annotations

import sys

import typer

from engine.cli import (
    bi,
    demo,
    enrollments,
    inbound,
    inbox,
    mailboxes,
    prospects,
    reports,
    running,
    sequences,
    suppressions,
    tasks,
    users,
    web,
    workers,
    workspace,
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


for module in (
    workspace,
    users,
    sequences,
    mailboxes,
    prospects,
    enrollments,
    suppressions,
    running,
    inbound,
    inbox,
    tasks,
    reports,
    bi,
    web,
    workers,
    demo,
):
    module.register(app)
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
