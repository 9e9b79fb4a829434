"""CLI: `kadenz prospects import|list` and `kadenz prospect show|erase`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from engine.cli import context
from engine.people import erasure, prospects, suppression
from engine.people.prospects import ImportReport
from engine.store.models import Enrollment, Sequence

many = typer.Typer(
    name="prospects",
    help="Import and list prospects.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
one = typer.Typer(
    name="prospect",
    help="Show or erase one prospect.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.add_typer(many)
    root.add_typer(one)
    root.add_typer(suppress_app)


MapOption = Annotated[
    str | None,
    typer.Option(
        "--map",
        help='Column mapping overrides: "Email Address=email,Firma=company,Notes=-" '
        "(FIELD is email, first_name, last_name, company, title, phone, timezone, country, "
        "region, owner, custom.NAME, or - to ignore).",
    ),
]


@many.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV export (HubSpot, Salesforce, Pipedrive, …).")],
    map_: MapOption = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="The SDR who works these prospects.")
    ] = None,
    check_dns: Annotated[
        bool, typer.Option("--check-dns", help="Also check that each domain accepts mail (slow).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count, write nothing.")
    ] = False,
    create_owners: Annotated[
        bool,
        typer.Option(
            "--create-owners",
            help="Add an owner the column names but no user matches as a new user (role sdr).",
        ),
    ] = False,
) -> None:
    """Import prospects from a CSV file; re-importing the same file changes nothing.

    Owners are matched to users (kadenz user list) by handle, email, full name or alias,
    without case or accents: "María López" finds the user maria. An unknown owner is a row
    warning (or a new user with --create-owners).

    Headers of common CRM exports are recognised (Email, First Name, Company Name, Vorname,
    Person - Email…); other columns become custom fields. Comma, semicolon and tab files
    are detected. Bad rows are listed with their row number; good rows are imported.

    Examples:

      kadenz prospects import hubspot-export.csv --owner anna

      kadenz prospects import leads.csv --map "Mail=email,Firma=company" --dry-run
    """
    c = context.get(ctx)
    db = c.db
    if c.out.is_terminal:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=c.err,
            transient=True,
        ) as bar:
            task = bar.add_task("importing", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = prospects.import_csv(
                db, file, clock=c.clock, mapping=map_, owner=owner,
                check_dns=check_dns, dry_run=dry_run, progress=progress,
                create_owners=create_owners,
            )  # fmt: skip
    else:
        report = prospects.import_csv(
            db, file, clock=c.clock, mapping=map_, owner=owner,
            check_dns=check_dns, dry_run=dry_run, create_owners=create_owners,
        )  # fmt: skip
    print_report(c, report)
    if report.rows and len(report.refused) == report.rows:
        raise typer.Exit(1)


def print_report(c: context.Context, report: ImportReport) -> None:
    delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[report.delimiter]
    c.out.print(f"{report.path}: {report.encoding}, {delimiter}-separated, {report.rows} rows")
    c.out.print(
        "columns: " + ", ".join(f"{h} -> {t}" for h, t in report.mapping),
        markup=False,
    )
    for notice in report.notices:
        c.out.print(f"note: {notice}", markup=False)
    for issue in report.warnings:
        c.out.print(f"warning: {issue}", markup=False)
    for issue in report.refused:
        c.out.print(f"refused: {issue}", markup=False)
    verb = "would import" if report.dry_run else "imported"
    c.out.print(
        f"{verb}: {report.created} new, {report.updated} updated, {report.unchanged} unchanged; "
        f"refused {len(report.refused)} row(s)"
    )


@many.command("list")
def list_(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this SDR's.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many to show.")] = 50,
) -> None:
    """List prospects. Example: kadenz prospects list --owner anna --limit 20"""
    c = context.get(ctx)
    with c.db.session() as session:
        rows = prospects.list_prospects(session, owner=owner, limit=limit)
        if not rows:
            c.out.print("no prospects (import some: kadenz prospects import FILE.csv)")
            return
        table = Table("email", "name", "company", "title", "country", "timezone", "owner")
        for p in rows:
            name = " ".join(x for x in (p.first_name, p.last_name) if x)
            table.add_row(
                p.email or "",
                name,
                p.company or "",
                p.title or "",
                p.country or "",
                p.timezone or "",
                p.owner or "",
            )
        c.print_table(table)


@one.command("show")
def show(ctx: typer.Context, email: Annotated[str, typer.Argument(help="Any spelling.")]) -> None:
    """Show one prospect: fields (the timezone with where it came from, the region as ISO
    3166-2), custom fields and enrollments.

    Example: kadenz prospect show erik@acme.example
    """
    c = context.get(ctx)
    with c.db.session() as session:
        p = prospects.get(session, email)
        fields = {
            "email": p.email,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "company": p.company,
            "title": p.title,
            "phone": p.phone,
            "timezone": _zone(p.timezone, p.timezone_source),
            "country": p.country,
            "region": f"{p.country}-{p.region}" if p.country and p.region else p.region,
            "owner": p.owner,
            "score": p.score,
        }
        table = Table("field", "value", show_header=False)
        for k, v in fields.items():
            table.add_row(k, "" if v is None else str(v))
        for k, v in sorted((p.custom or {}).items()):
            table.add_row(f"custom.{k}", json.dumps(v) if not isinstance(v, str) else v)
        c.print_table(table)
        rows = session.execute(
            select(Enrollment, Sequence.key)
            .join(Sequence, Sequence.id == Enrollment.sequence_id)
            .where(Enrollment.prospect_id == p.id)
            .order_by(Enrollment.created_at)
        ).all()
        for e, key in rows:
            why = f" ({e.state_reason})" if e.state_reason else ""
            c.out.print(f"{key}: {e.state}{why}, step {e.step_id}", markup=False)


@one.command("erase")
def erase(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person's data (GDPR): names, email, phone, custom fields, message bodies.

    Live enrollments stop; the address stays suppressed (by hash) so they are never emailed
    again; events keep only ids. This cannot be undone.

    Example: kadenz prospect erase erik@acme.example --yes
    """
    c = context.get(ctx)
    if not yes and not typer.confirm(f"Erase all data of {email}? This cannot be undone"):
        raise typer.Exit(1)
    with c.db.session() as session:
        result = erasure.erase(session, email, at=c.clock.now())
    c.out.print(
        f"erased prospect #{result.prospect_id}: {result.enrollments_stopped} enrollment(s) "
        f"stopped, {result.outbound_blanked} outbound and {result.inbound_blanked} inbound "
        "message(s) blanked; the address stays suppressed"
    )


def _zone(zone: str | None, source: str | None) -> str | None:
    """ "Europe/Berlin (inferred from country DE)"; a zone without a source was given."""
    if zone is None:
        return "— (none: the sequence's fallback_timezone, then the mailbox's, applies)"
    return f"{zone} ({source})" if source else zone


# --- kadenz suppress: the do-not-contact list -------------------------------------------

suppress_app = typer.Typer(
    name="suppress",
    help="Do-not-contact list: addresses and whole domains that are never emailed.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


Target = Annotated[str, typer.Argument(help="An address, or @domain for a whole domain.")]


@suppress_app.command("add")
def suppress_add(
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


@suppress_app.command("list")
def suppress_list(
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


@suppress_app.command("remove")
def suppress_remove(ctx: typer.Context, target: Target) -> None:
    """Lift a suppression (stopped enrollments stay stopped; enroll again if you mean it).

    Example: kadenz suppress remove erik@acme.example
    """
    c = context.get(ctx)
    with c.db.session() as session:
        suppression.remove(session, target, at=c.clock.now())
    c.out.print(f"{target.strip()} is no longer suppressed", markup=False)
