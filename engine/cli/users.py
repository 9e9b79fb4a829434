"""CLI: `kadenz user …` — the team: who owns prospects, mailboxes and tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.people import users

user_app = typer.Typer(
    help="The team: users own prospects, mailboxes and API tokens (docs/users.md).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


@user_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The handle, e.g. maria (lower-case).")],
    email: str | None = typer.Option(None, "--email", help="Their work email."),
    full_name: str | None = typer.Option(None, "--name", help='Full name, e.g. "Maria Lopez".'),
    alias: list[str] = typer.Option(  # noqa: B008
        [], "--alias", help="Another spelling a CRM export uses (repeatable)."
    ),
    role: str = typer.Option("sdr", "--role", help="sdr | growth | manager | admin."),
    booking_link: str | None = typer.Option(
        None,
        "--booking-link",
        help="Their meeting link (Calendly, Cal.com …): {{ sender.booking_link }} in templates "
        "of emails sent from their mailbox.",
    ),
) -> None:
    """Add a user.

    Example: kadenz user add maria --email maria@acme.example --name "Maria Lopez"
    """
    c = context.get(ctx)
    with c.db.session() as s:
        user = users.add(
            s,
            name,
            at=c.clock.now(),
            email=email,
            full_name=full_name,
            aliases=alias,
            role=role,
            booking_link=booking_link,
        )
        moved = users.adopted_line(user, users.adopt(s, user))
        c.out.print(f"user {user.name} ({user.role}) added")
        if moved:
            c.out.print(moved, markup=False)


@user_app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user (handle, email or full name).")],
    email: str | None = typer.Option(None, "--email", help="Their work email."),
    full_name: str | None = typer.Option(None, "--name", help='Full name, e.g. "Maria Lopez".'),
    alias: list[str] = typer.Option([], "--alias", help="Add a spelling (repeatable)."),  # noqa: B008
    role: str | None = typer.Option(None, "--role", help="sdr | growth | manager | admin."),
    booking_link: str | None = typer.Option(
        None,
        "--booking-link",
        help='Their meeting link ({{ sender.booking_link }} in templates); "" removes it.',
    ),
) -> None:
    """Change a user. Example: kadenz user update maria --booking-link https://cal.com/maria"""
    c = context.get(ctx)
    with c.db.session() as s:
        user = users.update(
            s,
            name,
            email=email,
            full_name=full_name,
            add_aliases=alias,
            role=role,
            booking_link=booking_link,
        )
        moved = users.adopted_line(user, users.adopt(s, user))
        c.out.print(f"user {user.name} updated")
        if moved:
            c.out.print(moved, markup=False)


@user_app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users with their role, email and the spellings that find them."""
    c = context.get(ctx)
    table = Table("name", "full name", "email", "role", "aliases", "booking link")
    with c.db.session() as s:
        for u in users.list_all(s):
            table.add_row(
                u.name,
                u.full_name or "",
                u.email or "",
                u.role,
                ", ".join(u.aliases),
                u.booking_link or "",
            )
    c.out.print(table)
