"""CLI: `kadenz enroll KEY …` and `kadenz enrollment pause|resume|stop EMAIL --sequence KEY`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli import context
from engine.errors import InvalidInput
from engine.people import enrollment, prospects

app = typer.Typer(
    name="enrollment",
    help="Pause, resume or stop one prospect in one sequence.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.command("enroll")(enroll)
    root.add_typer(app)


def enroll(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The sequence key, e.g. saas-founders.")],
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Import (upsert) this CSV first, then enroll its rows."),
    ] = None,
    email: Annotated[
        list[str] | None, typer.Option("--email", help="A prospect's address (repeatable).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="The SDR who owns these.")] = None,
    mailbox: Annotated[
        str | None, typer.Option("--mailbox", help="Send from this mailbox, not the pool.")
    ] = None,
    map_: Annotated[str | None, typer.Option("--map", help="Column mapping for --csv.")] = None,
) -> None:
    """Enroll prospects into the current version of a sequence.

    Each prospect is checked on its own: unknown, suppressed, already in the sequence or
    erased ones are refused with the reason; the rest are enrolled. A prospect missing a
    template variable is enrolled with a warning: the enrollment pauses at the step that needs
    it, with a task for the owner. A mailbox is picked from the sequence's pool: the one the
    prospect had before, else the least busy.

    Examples:

      kadenz enroll saas-founders --email erik@acme.example --email jo@beta.example

      kadenz enroll saas-founders --csv founders.csv --owner anna
    """
    c = context.get(ctx)
    emails = list(email or [])
    if csv is None and not emails:
        raise InvalidInput("give --csv FILE or --email ADDRESS (see kadenz enroll --help)")
    if csv is not None:
        report = prospects.import_csv(c.db, csv, clock=c.clock, mapping=map_, owner=owner)
        for issue in report.refused:
            c.out.print(f"refused: {issue}", markup=False)
        c.out.print(
            f"imported {csv}: {report.created} new, {report.updated} updated, "
            f"{report.unchanged} unchanged",
            markup=False,
        )
        emails.extend(report.keys)
    with c.db.session() as session:
        result = enrollment.enroll(
            session, key, emails, at=c.clock.now(), owner=owner, mailbox=mailbox,
            enrolled_by=owner,
        )  # fmt: skip
    for address, box in result.enrolled:
        c.out.print(f"enrolled: {address} (mailbox {box})", markup=False)
    for refusal in result.refused:
        c.out.print(f"refused: {refusal}", markup=False)
    for warning in result.warnings:
        c.out.print(f"warning: {warning}", markup=False)
    c.out.print(
        f"{key} v{result.version}: enrolled {len(result.enrolled)}, refused {len(result.refused)}"
    )
    if result.refused and not result.enrolled:
        raise typer.Exit(1)


Email = Annotated[str, typer.Argument(help="The prospect's address.")]
SequenceKey = Annotated[str, typer.Option("--sequence", "-s", help="The sequence key.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the event log).")]


@app.command("pause")
def pause(ctx: typer.Context, email: Email, sequence: SequenceKey, reason: Reason = None) -> None:
    """Hold a prospect's enrollment until resumed.

    Example: kadenz enrollment pause erik@acme.example --sequence saas-founders --reason "OOO"
    """
    c = context.get(ctx)
    with c.db.session() as session:
        enrollment.pause(session, email, sequence, at=c.clock.now(), reason=reason)
    c.out.print(f"{email}: paused in {sequence}", markup=False)


@app.command("resume")
def resume(ctx: typer.Context, email: Email, sequence: SequenceKey) -> None:
    """Resume a paused enrollment; a step that fell due meanwhile runs at the next tick.

    Example: kadenz enrollment resume erik@acme.example --sequence saas-founders
    """
    c = context.get(ctx)
    with c.db.session() as session:
        enrollment.resume(session, email, sequence, at=c.clock.now())
    c.out.print(f"{email}: resumed in {sequence}", markup=False)


@app.command("stop")
def stop(ctx: typer.Context, email: Email, sequence: SequenceKey, reason: Reason = None) -> None:
    """Stop an enrollment for good: planned emails are cancelled, open tasks closed.

    Example: kadenz enrollment stop erik@acme.example --sequence saas-founders --reason booked
    """
    c = context.get(ctx)
    with c.db.session() as session:
        enrollment.stop(session, email, sequence, at=c.clock.now(), reason=reason)
    c.out.print(f"{email}: stopped in {sequence}", markup=False)
