"""CLI: `kadenz mailbox add|list|update|pause|resume` — the team's sending addresses."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.errors import InvalidInput
from engine.people import users
from engine.workspace import mailboxes
from engine.workspace.mailboxes import MailboxSettings

app = typer.Typer(
    name="mailbox",
    help="Sending mailboxes: the team's own addresses, their SMTP/IMAP servers and caps.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.add_typer(app)


Address = Annotated[str | None, typer.Option("--address", help="The From address.")]
Smtp = Annotated[
    str | None,
    typer.Option(
        "--smtp",
        help="smtp://host:25, smtp+starttls://host:587 or smtps://host:465 "
        "(optionally user@host; never a password).",
    ),
]
Imap = Annotated[
    str | None,
    typer.Option("--imap", help="imap://, imap+starttls:// or imaps://host:993 for replies."),
]
Username = Annotated[str | None, typer.Option("--username", help="Login name (default: address).")]
PasswordEnv = Annotated[
    str | None,
    typer.Option(
        "--password-env",
        help="NAME of the environment variable holding the password (the password itself is "
        "never stored).",
    ),
]
DisplayName = Annotated[
    str | None, typer.Option("--display-name", help='Shown in From, e.g. "Anna Berg".')
]
DailyCap = Annotated[
    int | None, typer.Option("--daily-cap", help="Max emails per rolling 24 h (default 50).")
]
HourlyCap = Annotated[int | None, typer.Option("--hourly-cap", help="Max emails per hour.")]
MinGap = Annotated[
    int | None, typer.Option("--min-gap", help="Min seconds between two sends (default 0).")
]
Timezone = Annotated[
    str | None, typer.Option("--timezone", help="IANA zone, e.g. Europe/Berlin (fallback).")
]
Signature = Annotated[
    str | None,
    typer.Option(
        "--signature",
        help="Signature text, for templates as {{ sender.signature }} (the example templates "
        "end with it; Kadenz does not append it on its own, so it is never there twice).",
    ),
]
Owner = Annotated[
    str | None,
    typer.Option(
        "--owner",
        help="The user who sends from it (kadenz user list); sequences with `mailboxes: owner` "
        "send a prospect's email from their owner's mailbox. \"\" clears it.",
    ),
]


def _owner(c: context.Context, text: str | None) -> str | None:
    """`--owner` as a user's handle (any spelling that finds them), or "" to clear."""
    if not text:
        return text
    with c.db.session() as session:
        found = users.Directory.load(session).match(text)
    if found is None:
        raise InvalidInput(f"--owner {text!r} is not a user (see: kadenz user list)")
    return found.name


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Short name used in sequences, e.g. anna.")],
    address: Address = None,
    smtp: Smtp = None,
    imap: Imap = None,
    username: Username = None,
    password_env: PasswordEnv = None,
    display_name: DisplayName = None,
    daily_cap: DailyCap = None,
    hourly_cap: HourlyCap = None,
    min_gap: MinGap = None,
    timezone: Timezone = None,
    signature: Signature = None,
    owner: Owner = None,
) -> None:
    """Add a mailbox.

    Example:

        export ANNA_SMTP_PASSWORD='…'
        kadenz mailbox add anna --address anna@acme.example \\
          --smtp smtp+starttls://mail.acme.example:587 --imap imaps://mail.acme.example:993 \\
          --username anna@acme.example --password-env ANNA_SMTP_PASSWORD \\
          --display-name "Anna Berg" --daily-cap 40 --timezone Europe/Berlin
    """
    c = context.get(ctx)
    settings = MailboxSettings(
        address, smtp, imap, username, password_env, display_name,
        daily_cap, hourly_cap, min_gap, timezone, signature, _owner(c, owner),
    )  # fmt: skip
    with c.db.session() as session:
        mailbox = mailboxes.add(session, name, settings, at=c.clock.now())
        c.out.print(f"mailbox {mailbox.name} added: {mailbox.address} via {mailbox.smtp_url}")
    if password_env is None:
        c.err.print("note: no --password-env given; the SMTP server must accept us without login")


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The mailbox to change.")],
    address: Address = None,
    smtp: Smtp = None,
    imap: Imap = None,
    username: Username = None,
    password_env: PasswordEnv = None,
    display_name: DisplayName = None,
    daily_cap: DailyCap = None,
    hourly_cap: HourlyCap = None,
    min_gap: MinGap = None,
    timezone: Timezone = None,
    signature: Signature = None,
    owner: Owner = None,
) -> None:
    """Change some settings of a mailbox; options not given stay as they are.

    Example: kadenz mailbox update anna --daily-cap 60 --min-gap 90
    """
    c = context.get(ctx)
    settings = MailboxSettings(
        address, smtp, imap, username, password_env, display_name,
        daily_cap, hourly_cap, min_gap, timezone, signature, _owner(c, owner),
    )  # fmt: skip
    with c.db.session() as session:
        mailbox = mailboxes.update(session, name, settings)
        c.out.print(f"mailbox {mailbox.name} updated")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List mailboxes with their servers, caps and state (passwords are never shown)."""
    c = context.get(ctx)
    with c.db.session() as session:
        rows = mailboxes.list_all(session)
        if not rows:
            c.out.print("no mailboxes yet (add one: kadenz mailbox add NAME --address … --smtp …)")
            return
        table = Table(
            "name", "address", "smtp", "imap", "password from", "caps", "timezone", "state"
        )
        for m in rows:
            caps = f"{m.daily_cap}/day"
            if m.hourly_cap:
                caps += f", {m.hourly_cap}/h"
            if m.min_gap_seconds:
                caps += f", gap {m.min_gap_seconds}s"
            state = f"paused: {m.paused_reason}" if m.paused else "active"
            sender = f"{m.display_name} <{m.address}>" if m.display_name else m.address
            table.add_row(
                m.name,
                sender,
                m.smtp_url,
                m.imap_url or "-",
                f"${m.password_env}" if m.password_env else "-",
                caps,
                m.timezone or "-",
                state,
            )
        c.print_table(table)


@app.command("pause")
def pause(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The mailbox to pause.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (shown in list).")] = None,
) -> None:
    """Stop sending from a mailbox (its messages wait) until `resume`.

    Example: kadenz mailbox pause anna --reason "warming up a new domain"
    """
    c = context.get(ctx)
    with c.db.session() as session:
        mailboxes.pause(session, name, at=c.clock.now(), reason=reason)
    c.out.print(f"mailbox {name} paused")


@app.command("resume")
def resume(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The mailbox to resume.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in events).")] = None,
) -> None:
    """Send from a paused mailbox again. Example: kadenz mailbox resume anna"""
    c = context.get(ctx)
    with c.db.session() as session:
        mailboxes.resume(session, name, at=c.clock.now(), reason=reason)
    c.out.print(f"mailbox {name} resumed")
