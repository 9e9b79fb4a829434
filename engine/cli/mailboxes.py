"""CLI: `kadenz mailbox add|list|update|pause|resume` — the team's sending addresses."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.errors import InvalidInput
from engine.outbound.limits import warmup
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


SentFolder = Annotated[
    str | None,
    typer.Option(
        "--sent-folder",
        help="IMAP folder where the provider files what we send (default: the one marked "
        "\\Sent). Searched to resolve ambiguous sends by proof.",
    ),
]
SentFiles = Annotated[
    bool | None,
    typer.Option(
        "--sent-files-submissions/--sent-not-filed",
        help="Whether the provider files EVERY SMTP submission in Sent (default: yes for "
        "Gmail and Microsoft 365 hosts, else unknown). Then a copy missing there after the "
        "grace period re-plans an ambiguous send.",
    ),
]


PerDomainCap = Annotated[
    int | None,
    typer.Option(
        "--per-domain-cap",
        help="Max emails to one recipient domain per rolling 24 h (e.g. 5: no company gets 40).",
    ),
]
WarmupFrom = Annotated[
    int | None,
    typer.Option(
        "--warmup-from",
        help="Start a warm-up ramp: this many emails on the first day, then --warmup-step more "
        "each day, up to --daily-cap.",
    ),
]
WarmupStep = Annotated[
    int, typer.Option("--warmup-step", help="Emails added each warm-up day (default 5).")
]
WarmupStart = Annotated[
    str | None,
    typer.Option("--warmup-start", help="First day of the ramp, YYYY-MM-DD (default: today)."),
]
NoWarmup = Annotated[bool, typer.Option("--no-warmup", help="Remove the warm-up ramp.")]
NoPerDomainCap = Annotated[
    bool, typer.Option("--no-per-domain-cap", help="Remove the per-domain cap.")
]


def _warmup(
    c: context.Context, first: int | None, step: int, start: str | None
) -> mailboxes.Warmup | None:
    if first is None:
        if start is not None:
            raise InvalidInput("--warmup-start needs --warmup-from (the first day's emails)")
        return None
    try:
        day = date.fromisoformat(start) if start else c.clock.now().date()
    except ValueError:
        raise InvalidInput(f"--warmup-start: {start!r} is not a date (write 2026-03-01)") from None
    return mailboxes.Warmup(start=day, first=first, step=step)


def _clear(no_warmup: bool, no_per_domain_cap: bool) -> frozenset[str]:
    return frozenset(
        name
        for name, flag in (("warmup", no_warmup), ("per_domain_daily_cap", no_per_domain_cap))
        if flag
    )


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
    sent_folder: SentFolder = None,
    sent_files_submissions: SentFiles = None,
    per_domain_cap: PerDomainCap = None,
    warmup_from: WarmupFrom = None,
    warmup_step: WarmupStep = 5,
    warmup_start: WarmupStart = None,
) -> None:
    """Add a mailbox.

    Example:

        export ANNA_SMTP_PASSWORD='…'
        kadenz mailbox add anna --address anna@acme.example \\
          --smtp smtp+starttls://mail.acme.example:587 --imap imaps://mail.acme.example:993 \\
          --username anna@acme.example --password-env ANNA_SMTP_PASSWORD \\
          --display-name "Anna Berg" --daily-cap 40 --timezone Europe/Berlin \\
          --per-domain-cap 5 --warmup-from 10 --warmup-step 5
    """
    c = context.get(ctx)
    settings = MailboxSettings(
        address, smtp, imap, username, password_env, display_name,
        daily_cap, hourly_cap, min_gap, timezone, signature,
        per_domain_daily_cap=per_domain_cap,
        warmup=_warmup(c, warmup_from, warmup_step, warmup_start),
        sent_folder=sent_folder, sent_files_submissions=sent_files_submissions,
        owner=_owner(c, owner),
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
    sent_folder: SentFolder = None,
    sent_files_submissions: SentFiles = None,
    per_domain_cap: PerDomainCap = None,
    warmup_from: WarmupFrom = None,
    warmup_step: WarmupStep = 5,
    warmup_start: WarmupStart = None,
    no_warmup: NoWarmup = False,
    no_per_domain_cap: NoPerDomainCap = False,
) -> None:
    """Change some settings of a mailbox; options not given stay as they are.

    Example: kadenz mailbox update anna --daily-cap 60 --min-gap 90 --warmup-from 15
    """
    c = context.get(ctx)
    settings = MailboxSettings(
        address, smtp, imap, username, password_env, display_name,
        daily_cap, hourly_cap, min_gap, timezone, signature,
        per_domain_daily_cap=per_domain_cap,
        warmup=_warmup(c, warmup_from, warmup_step, warmup_start),
        clear=_clear(no_warmup, no_per_domain_cap),
        sent_folder=sent_folder, sent_files_submissions=sent_files_submissions,
        owner=_owner(c, owner),
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
            caps = f"{warmup.cap_today(m, c.clock.now())}/day"
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
        for m in rows:  # the caps are sentences: one line each, under the table
            c.out.print(f"{m.name}: {warmup.caps_line(m, c.clock.now())}", markup=False)


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
