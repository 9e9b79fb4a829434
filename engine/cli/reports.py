"""CLI: `kadenz report` — reply rates and friends, with their definitions."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.core import metrics
from engine.errors import InvalidInput
from engine.reporting import activity, reports, rollups, table


class By(StrEnum):
    sequence = "sequence"
    version = "version"
    step = "step"
    variant = "variant"
    mailbox = "mailbox"
    owner = "owner"
    week = "week"


class Dates(StrEnum):
    event = "event"
    send = "send"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


_EPILOG = "Definitions:\n\n" + "\n\n".join(
    f"[bold]{name}[/]: {text}" for name, text in metrics.DEFINITIONS.items()
)


def register(app: typer.Typer) -> None:
    """Add `kadenz report` to the root app."""

    @app.command("report", epilog=_EPILOG)
    def report(
        ctx: typer.Context,
        sequence: str | None = typer.Option(None, "--sequence", help="Only this sequence (key)."),
        by: Annotated[By, typer.Option("--by", help="Group rows by this dimension.")] = By.sequence,
        since: str | None = typer.Option(
            None, "--since", help="From this day (YYYY-MM-DD, UTC), included."
        ),
        until: str | None = typer.Option(
            None, "--until", help="To this day (YYYY-MM-DD, UTC), included."
        ),
        dates: Annotated[
            Dates,
            typer.Option(
                "--dates",
                help="What --since/--until select: 'event' counts what happened in the range; "
                "'send' counts everything about the prospects first emailed in it (a cohort).",
            ),
        ] = Dates.event,
        owner: str | None = typer.Option(None, "--owner", help="Only this owner (SDR)."),
        mailbox: str | None = typer.Option(None, "--mailbox", help="Only this mailbox (name)."),
        step: str | None = typer.Option(None, "--step", help="Only this step id."),
        variant: str | None = typer.Option(None, "--variant", help="Only this variant."),
        fmt: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    ) -> None:
        """Reply, bounce and opt-out rates per sequence, step, variant, mailbox, owner or week.

        Replies are human replies only: out-of-office and other auto-replies never count, and
        a reply reclassified as automatic stops counting. Rates divide by delivered prospects;
        reply_rate_low/high are its 95 % Wilson interval.

        Examples: kadenz report --by variant --sequence saas-founders;
        kadenz report --by owner --since 2026-03-01 --until 2026-03-31 --dates send --format csv
        """
        c = context.get(ctx)
        filters = reports.ReportFilter(
            since=_parse_day(since, "--since"),
            until=_parse_day(until, "--until"),
            dates=dates.value,
            sequence=sequence,
            owner=owner,
            mailbox=mailbox,
            step=step,
            variant=variant,
        )
        rollups.refresh_rollups(c.db)
        with c.db.session() as s:
            result = reports.build_report(s, by=by.value, filters=filters)
        if fmt == Format.json:
            print(json.dumps(result.as_dict(), indent=2))
            return
        if fmt == Format.csv:
            print(result.as_csv(), end="")
            return
        c.print_table(table.report_table(result), csv_hint=True)
        c.out.print(
            "[dim]reply rate = prospects with a human reply / delivered (auto-replies and "
            "out-of-office excluded); bounce rate = hard-bounced / contacted; opt-out rate = "
            "unsubscribed or complained / delivered. Full definitions: kadenz report --help, "
            "docs/reports.md.[/]"
        )


def _parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a date (use YYYY-MM-DD)") from None


class ActivityBy(StrEnum):
    owner = "owner"
    sequence = "sequence"
    step = "step"


def register_activity(app: typer.Typer) -> None:
    """Add `kadenz activity` (calls and tasks) to the root app."""

    @app.command(
        "activity",
        epilog="Definitions:\n\n"
        + "\n\n".join(f"[bold]{k}[/]: {v}" for k, v in activity.DEFINITIONS.items()),
    )
    def activity_command(
        ctx: typer.Context,
        by: Annotated[
            ActivityBy, typer.Option("--by", help="Group rows by owner, sequence or step.")
        ] = ActivityBy.owner,
        since: str | None = typer.Option(None, "--since", help="From this day (UTC), included."),
        until: str | None = typer.Option(None, "--until", help="To this day (UTC), included."),
        owner: str | None = typer.Option(None, "--owner", help="Only this owner (SDR)."),
        sequence: str | None = typer.Option(None, "--sequence", help="Only this sequence."),
        fmt: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    ) -> None:
        """Calls made and their outcomes, tasks done, skipped, open and overdue, per SDR.

        Dates select when a call or task was done or skipped (and, for open ones, when it is
        due). Example: kadenz activity --by owner --since 2026-03-01 --until 2026-03-31
        """
        c = context.get(ctx)
        filters = reports.ReportFilter(
            since=_parse_day(since, "--since"),
            until=_parse_day(until, "--until"),
            owner=owner,
            sequence=sequence,
        )
        with c.db.session() as s:
            result = activity.build_activity(s, by=by.value, filters=filters, now=c.clock.now())
        if fmt == Format.json:
            print(json.dumps(result.as_dict(), indent=2))
            return
        if fmt == Format.csv:
            print(result.as_csv(), end="")
            return
        grid = Table(title=f"Calls and tasks by {by.value}")
        for name in activity.COLUMNS:
            grid.add_column(name.replace("_", " "), justify="left" if name == "group" else "right")
        for row in [*result.rows, result.total]:
            values = row.as_dict()
            grid.add_row(*(str(values[name]) for name in activity.COLUMNS))
        c.print_table(grid, csv_hint=True)
