"""CLI: `kadenz inbox` — replies and unclear mail that need a person: read, answer, done."""

from __future__ import annotations

import json
import secrets
import sys
from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.inbound import inbox


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The SDR inbox: human replies, unclear mail and out-of-office notes. "
        "Reclassify with `kadenz inbound reclassify ID CLASS`.",
        no_args_is_help=False,
        invoke_without_command=True,
    )
    group.callback()(list_)
    group.command("done")(done)
    group.command("reopen")(reopen)
    group.command("reply")(reply)
    group.command("note")(note)
    app.add_typer(group, name="inbox")


def list_(
    ctx: typer.Context,
    owner: str | None = typer.Option(None, "--owner", help="Only this SDR's prospects."),
    all_: bool = typer.Option(False, "--all", help="Include messages already handled."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """List what needs a person, newest first: class, intent, evidence, the new text.

    Example: kadenz inbox --owner anna
    """
    if ctx.invoked_subcommand is not None:
        return
    c = context.get(ctx)
    with c.db.session() as s:
        found = inbox.items(s, owner=owner, include_handled=all_, limit=limit)
    if fmt == "json":
        print(json.dumps([i.as_dict() for i in found], indent=2))
        return
    if not found:
        c.out.print(
            "inbox empty: nothing needs a person" + ("" if all_ else " (--all shows handled)")
        )
        return
    table = Table("id", "received", "from", "class", "why", "text")
    for i in found:
        kind = i.classification + (f"/{i.intent}" if i.intent else "")
        if i.return_date:
            kind += f" (back {i.return_date.isoformat()})"
        if i.handled_at:
            kind += f" — done by {i.handled_by}"
        table.add_row(
            str(i.id),
            i.received_at.strftime("%Y-%m-%d %H:%M"),
            i.prospect or i.from_address or "?",
            kind,
            "; ".join(i.evidence[:2]),
            (i.text or i.subject or "")[:160],
        )
    c.out.print(table)


def done(
    ctx: typer.Context,
    inbound_id: Annotated[int, typer.Argument(help="The message's id (see `kadenz inbox`).")],
    by: str = typer.Option("cli", "--by", help="Who handled it."),
) -> None:
    """Take a message out of the inbox (it stays in `kadenz inbound list`)."""
    c = context.get(ctx)
    with c.db.session() as s:
        inbox.mark_done(s, inbound_id, by=by, at=c.clock.now())
    c.out.print(f"inbound #{inbound_id}: done")


def reopen(
    ctx: typer.Context, inbound_id: Annotated[int, typer.Argument(help="The message's id.")]
) -> None:
    """Put a handled message back into the inbox."""
    c = context.get(ctx)
    with c.db.session() as s:
        inbox.reopen(s, inbound_id, at=c.clock.now())
    c.out.print(f"inbound #{inbound_id}: back in the inbox")


def reply(
    ctx: typer.Context,
    inbound_id: Annotated[int, typer.Argument(help="The message to answer.")],
    text: str = typer.Option(
        ..., "--text", help="Your answer (plain text); '-' reads it from standard input."
    ),
    by: str = typer.Option("cli", "--by", help="Who answers (kept on the timeline)."),
    key: str | None = typer.Option(
        None, "--key", help="Idempotency key: the same key never sends a second answer."
    ),
) -> None:
    """Answer in the thread, from the prospect's mailbox, through the normal send path.

    The answer is planned now and sent by `kadenz run` (or the workers) at once: at most
    once, within the mailbox's caps, never to a suppressed address.

    Example: kadenz inbox reply 42 --text "Hi Erik, 20 seats are 400 EUR a month."
    """
    c = context.get(ctx)
    body = sys.stdin.read() if text == "-" else text
    with c.db.session() as s:
        message = inbox.reply(
            s,
            c.settings,
            inbound_id,
            text=body,
            key=key or secrets.token_hex(8),
            by=by,
            at=c.clock.now(),
        )
        c.out.print(
            f"answer planned as message #{message.id} to {message.to_address} "
            f"({message.subject!r}); `kadenz run` sends it"
        )


def note(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The prospect (any spelling).")],
    text: Annotated[str, typer.Argument(help="The note.")],
    by: str = typer.Option("cli", "--by", help="Who writes it."),
) -> None:
    """Add a note to a prospect (shown on the dashboard's prospect page)."""
    c = context.get(ctx)
    with c.db.session() as s:
        inbox.add_note(s, email, text, by=by, at=c.clock.now())
    c.out.print(f"note added to {email}")
