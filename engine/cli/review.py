"""CLI: `kadenz review list|show|edit|approve|skip`: manual emails waiting for a person."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.errors import InvalidInput
from engine.outbound import review

app = typer.Typer(
    name="review",
    help="Manual email steps: read, edit, approve or skip the emails waiting for you.",
    no_args_is_help=True,
)
MessageId = Annotated[int, typer.Argument(help="The email's id (see: kadenz review list).")]
By = Annotated[str | None, typer.Option("--by", help="Who (kept in the event log).")]


@app.command("list")
def list_(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this SDR's.")] = None,
) -> None:
    """Emails waiting for review, oldest first."""
    c = context.get(ctx)
    with c.db.session() as session:
        items = review.pending(session, owner=owner)
    if not items:
        c.out.print("nothing to review")
        return
    table = Table("id", "owner", "sequence", "step", "to", "subject", "planned (UTC)", box=None)
    for r in items:
        table.add_row(str(r.id), r.owner or "-", r.sequence, r.step, r.to, r.subject,
                      r.not_before.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    c.out.print(table)


@app.command()
def show(ctx: typer.Context, message_id: MessageId) -> None:
    """Print one email as it would be sent."""
    c = context.get(ctx)
    with c.db.session() as session:
        r = review.get(session, message_id)
    c.out.print(f"#{r.id} {r.sequence}/{r.step} to {r.to} (owner {r.owner or '-'})", markup=False)
    c.out.print(f"Subject: {r.subject}", markup=False)
    c.out.print()
    c.out.print(r.body.rstrip("\n"), markup=False)


@app.command()
def edit(
    ctx: typer.Context,
    message_id: MessageId,
    subject: Annotated[str | None, typer.Option("--subject", help="A new subject line.")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="A file with the new body (UTF-8 text).")
    ] = None,
    by: By = None,
) -> None:
    """Change the subject and/or the body before approving.

    Example: kadenz review edit 12 --subject "Quick idea for Acme" --body-file reply.md
    """
    c = context.get(ctx)
    if subject is None and body_file is None:
        raise InvalidInput("give --subject and/or --body-file")
    body = None
    if body_file is not None:
        try:
            body = body_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"--body-file {body_file}: cannot read it ({exc})") from None
    with c.db.session() as session:
        r = review.edit(session, message_id, at=c.clock.now(), by=by or "cli", subject=subject,
                        body=body)  # fmt: skip
    c.out.print(f"#{r.id} saved: {r.subject}", markup=False)


@app.command()
def approve(ctx: typer.Context, message_id: MessageId, by: By = None) -> None:
    """Send it: it goes through the normal send path (window, caps, contact limits)."""
    c = context.get(ctx)
    with c.db.session() as session:
        r = review.approve(session, message_id, at=c.clock.now(), by=by or "cli")
    c.out.print(f"#{r.id} approved; it goes at {r.not_before:%Y-%m-%d %H:%M} UTC or later")


@app.command()
def skip(ctx: typer.Context, message_id: MessageId, by: By = None) -> None:
    """Do not send it; the prospect goes on with the sequence's next step."""
    c = context.get(ctx)
    with c.db.session() as session:
        r = review.skip(session, message_id, at=c.clock.now(), by=by or "cli")
    c.out.print(f"#{r.id} skipped", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app)
