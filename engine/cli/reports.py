"""CLI: `kadenz report` — reply rates and friends, with their definitions."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from engine.cli import context
from engine.core import metrics
from engine.errors import InvalidInput
from engine.reporting import reports, rollups, table


class By(StrEnum):
    sequence = "sequence"
    version = "version"
    step = "step"
    variant = "variant"
    mailbox = "mailbox"
    owner = "owner"
    week = "week"


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
            None, "--since", help="Only facts on or after this day (YYYY-MM-DD, UTC)."
        ),
        fmt: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    ) -> None:
        """Reply, bounce and opt-out rates per sequence, step, variant, mailbox, owner or week.

        Replies are human replies only: out-of-office and other auto-replies never count, and
        a reply reclassified as automatic stops counting. Rates divide by delivered prospects.
        """
        c = context.get(ctx)
        day = _parse_day(since)
        rollups.refresh_rollups(c.db)
        with c.db.session() as s:
            result = reports.build_report(s, by=by.value, sequence=sequence, since=day)
        if fmt == Format.json:
            print(json.dumps(result.as_dict(), indent=2))
            return
        if fmt == Format.csv:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(reports.COLUMNS), lineterminator="\n")
            writer.writeheader()
            for row in [*result.rows, *([result.total] if result.total else [])]:
                writer.writerow(row.as_dict())
            print(buffer.getvalue(), end="")
            return
        c.print_table(table.report_table(result), csv_hint=True)
        c.out.print(
            "[dim]reply rate = prospects with a human reply / delivered (auto-replies and "
            "out-of-office excluded); bounce rate = hard-bounced / contacted; opt-out rate = "
            "unsubscribed or complained / delivered. Full definitions: kadenz report --help, "
            "docs/reports.md.[/]"
        )


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--since {text!r} is not a date (use YYYY-MM-DD)") from None
