"""CLI: `kadenz enroll KEY …` and `kadenz enrollment pause|resume|stop` (one or a filter)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from engine.cli import context
from engine.errors import InvalidInput
from engine.people import controls, enrollment, prospects

app = typer.Typer(
    name="enrollment",
    help="Pause, resume or stop one prospect in one sequence, or many by a filter.",
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


Email = Annotated[
    str | None,
    typer.Argument(help="The prospect's address (leave out to act on a filter, see below)."),
]
SequenceKey = Annotated[
    str | None, typer.Option("--sequence", "-s", help="The sequence key (or a filter).")
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the event log).")]
Owner = Annotated[str | None, typer.Option("--owner", help="Filter: enrollments of this SDR.")]
Domain = Annotated[
    str | None, typer.Option("--domain", help="Filter: prospects at this company domain.")
]
Csv = Annotated[
    Path | None, typer.Option("--csv", help="Filter: the addresses of this CSV's email column.")
]
Yes = Annotated[bool, typer.Option("--yes", help="Stop them (without it: only count them).")]


def _filter(sequence: str | None, owner: str | None, domain: str | None, csv: Path | None) -> Any:
    emails = controls.emails_from_csv(csv) if csv is not None else None
    return controls.Filter(sequence=sequence, owner=owner, domain=domain, emails=emails)


def _one(email: str | None, sequence: str | None, filtered: bool) -> str | None:
    """The sequence key for a single-prospect action, None for a bulk one."""
    if email is None:
        return None
    if filtered:
        raise InvalidInput("give either an EMAIL with --sequence, or filters (not both)")
    if sequence is None:
        raise InvalidInput(
            f"which sequence? add --sequence KEY (e.g. kadenz enrollment ... {email} -s KEY)"
        )
    return sequence


def _summary(c: context.Context, verb: str, result: controls.BulkResult) -> None:
    c.out.print(f"{verb} {result.changed} of {result.matched} live enrollment(s)", markup=False)
    for line in result.unchanged:
        c.out.print(f"unchanged: {line}", markup=False)


@app.command("pause")
def pause(
    ctx: typer.Context,
    email: Email = None,
    sequence: SequenceKey = None,
    reason: Reason = None,
    owner: Owner = None,
    domain: Domain = None,
    csv: Csv = None,
) -> None:
    """Hold a prospect's enrollment (or every live one a filter matches) until resumed.

    Filters combine: --sequence, --owner, --domain, --csv (addresses in its email column).

    Examples:

      kadenz enrollment pause erik@acme.example --sequence saas-founders --reason "OOO"

      kadenz enrollment pause --domain acme.example --reason "customer now"

      kadenz enrollment pause --owner anna --sequence saas-founders --reason "anna on leave"
    """
    c = context.get(ctx)
    filtered = any(x is not None for x in (owner, domain, csv))
    key = _one(email, sequence, filtered)
    with c.db.session() as session:
        if email is not None and key is not None:
            enrollment.pause(session, email, key, at=c.clock.now(), reason=reason)
            c.out.print(f"{email}: paused in {key}", markup=False)
            return
        rows = controls.select_live(session, _filter(sequence, owner, domain, csv))
        result = controls.pause(
            session, rows, at=c.clock.now(), reason=reason or "paused by a person (bulk)"
        )
    _summary(c, "paused", result)


@app.command("resume")
def resume(
    ctx: typer.Context,
    email: Email = None,
    sequence: SequenceKey = None,
    owner: Owner = None,
    domain: Domain = None,
    csv: Csv = None,
) -> None:
    """Resume a paused enrollment (or every paused one a filter matches); a step that fell
    due meanwhile runs at the next tick.

    Example: kadenz enrollment resume erik@acme.example --sequence saas-founders
    """
    c = context.get(ctx)
    filtered = any(x is not None for x in (owner, domain, csv))
    key = _one(email, sequence, filtered)
    with c.db.session() as session:
        if email is not None and key is not None:
            enrollment.resume(session, email, key, at=c.clock.now())
            c.out.print(f"{email}: resumed in {key}", markup=False)
            return
        rows = controls.select_live(session, _filter(sequence, owner, domain, csv))
        held = [r for r in rows if controls.held_by_sequence(session, r)]
        rows = [r for r in rows if r not in held]
        result = controls.resume(session, rows, at=c.clock.now())
    _summary(c, "resumed", result)
    if held:
        c.out.print(
            f"unchanged: {len(held)} in a paused sequence (resume it: kadenz sequence resume KEY)",
            markup=False,
        )


@app.command("stop")
def stop(
    ctx: typer.Context,
    email: Email = None,
    sequence: SequenceKey = None,
    reason: Reason = None,
    owner: Owner = None,
    domain: Domain = None,
    csv: Csv = None,
    yes: Yes = False,
) -> None:
    """Stop an enrollment (or every live one a filter matches) for good: planned emails are
    cancelled, open tasks closed. With a filter, nothing is stopped without --yes.

    Examples:

      kadenz enrollment stop erik@acme.example --sequence saas-founders --reason booked

      kadenz enrollment stop --csv do-not-email.csv --reason "legal asked" --yes
    """
    c = context.get(ctx)
    filtered = any(x is not None for x in (owner, domain, csv))
    key = _one(email, sequence, filtered)
    with c.db.session() as session:
        if email is not None and key is not None:
            enrollment.stop(session, email, key, at=c.clock.now(), reason=reason)
            c.out.print(f"{email}: stopped in {key}", markup=False)
            return
        rows = controls.select_live(session, _filter(sequence, owner, domain, csv))
        if not yes:
            c.out.print(
                f"would stop {len(rows)} live enrollment(s); add --yes to stop them", markup=False
            )
            return
        result = controls.stop(
            session, rows, at=c.clock.now(), reason=reason or "stopped by a person (bulk)"
        )
    _summary(c, "stopped", result)
