"""CLI: `kadenz suppress add|list|remove` — who must never be emailed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.people import suppression

app = typer.Typer(
    name="suppress",
    help="Do-not-contact list: addresses and whole domains that are never emailed.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.add_typer(app)


Target = Annotated[str, typer.Argument(help="An address, or @domain for a whole domain.")]


@app.command("add")
def add(
    ctx: typer.Context,
    target: Target,
    reason: Annotated[
        str, typer.Option("--reason", help="Why, e.g. do-not-contact, customer, competitor.")
    ] = "manual",
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
) -> None:
    """Suppress an address or a domain; their live enrollments stop at once.

    Examples:

      kadenz suppress add erik@acme.example --reason "asked by phone"

      kadenz suppress add @competitor.example --reason competitor
    """
    c = context.get(ctx)
    with c.db.session() as session:
        row, stopped = suppression.suppress(
            session, target, reason=reason, at=c.clock.now(), source="cli", note=note
        )
        shown = row.value if row.kind == "email" else f"@{row.value}"
    c.out.print(
        f"suppressed {shown} ({row.reason}); {stopped} live enrollment(s) stopped",
        markup=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", help="How many to show.")] = None,
) -> None:
    """List suppressions (erased people show as a hash only)."""
    c = context.get(ctx)
    with c.db.session() as session:
        rows = suppression.list_all(session, limit=limit)
        if not rows:
            c.out.print("no suppressions")
            return
        table = Table("address or domain", "reason", "source", "since", "note")
        for s in rows:
            shown = (
                (s.value if s.kind == "email" else f"@{s.value}")
                if s.value
                else f"(erased, sha256 {s.value_hash[:12]}…)"
            )
            table.add_row(
                shown, s.reason, s.source or "", f"{s.created_at:%Y-%m-%d %H:%M}", s.note or ""
            )
        c.print_table(table)


@app.command("remove")
def remove(ctx: typer.Context, target: Target) -> None:
    """Lift a suppression (stopped enrollments stay stopped; enroll again if you mean it).

    Example: kadenz suppress remove erik@acme.example
    """
    c = context.get(ctx)
    with c.db.session() as session:
        suppression.remove(session, target, at=c.clock.now())
    c.out.print(f"{target.strip()} is no longer suppressed", markup=False)
