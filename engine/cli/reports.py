"""CLI: `kadenz report` — reply rates and friends, with their definitions — and `kadenz
forecast`, what the live set will send in the coming days."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import inspect, text

from engine.cli import context
from engine.core import metrics
from engine.errors import InvalidInput
from engine.reporting import activity, reports, rollups, table
from engine.store import bi_views


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


def forecast_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=90, help="How far ahead.")] = 14,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """What the live enrollments will send per mailbox and local day, against each cap.

    Planned emails, first touches vs follow-ups, the day's cap (warm-up included) and the
    overflow carried to later days; computed with the tick's own planner.

    Examples:
      kadenz forecast
      kadenz forecast --days 30 --format json
    """
    from rich.table import Table

    from engine.outbound.forecast import forecast

    c = context.get(ctx)
    if fmt not in ("table", "json"):
        raise InvalidInput(f"--format {fmt!r} is not supported (use table or json)")
    with c.db.session() as session:
        result = forecast(session, c.clock.now(), days)
    if fmt == "json":
        print(json.dumps(result.as_json(), indent=2))
        return
    if not result.rows:
        c.out.print(f"nothing to send in the next {days} days")
        return
    grid = Table("mailbox", "day", "planned", "first", "follow-up", "cap", "carried in",
                 "sendable", "overflow", box=None)  # fmt: skip
    for r in result.rows:
        grid.add_row(r.mailbox, r.day.strftime("%a %Y-%m-%d"), str(r.planned),
                     str(r.first_touches), str(r.follow_ups), str(r.cap), str(r.carried_in),
                     str(r.sendable), str(r.overflow))  # fmt: skip
    c.out.print(grid)
    total = sum(r.planned for r in result.rows)
    late = max((r.overflow for r in result.rows), default=0)
    c.out.print(f"{total} emails over {days} days; largest overflow on one day: {late}")


def register(app: typer.Typer) -> None:
    """Add `kadenz report` and `kadenz forecast` to the root app."""
    app.command("forecast")(forecast_command)

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
        if any(result.held.values()):
            held = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.held.items())
            c.out.print(f"not sent now: {held} (see kadenz outbox, docs/compliance.md)")
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


# --- kadenz bi: the SQL views for BI tools (docs/bi.md) -----------------------------

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def register_bi(app: typer.Typer) -> None:
    bi = typer.Typer(
        help="SQL views for BI tools (Power BI, Tableau, Metabase): docs/bi.md.",
        no_args_is_help=True,
    )
    bi.command("views")(views)
    bi.command("reader")(reader)
    app.add_typer(bi, name="bi")


def views(ctx: typer.Context) -> None:
    """List the BI views with their columns and row counts (their meaning: docs/bi.md).

    Example: kadenz bi views
    """
    c = context.get(ctx)
    db = c.db
    dialect = db.dialect
    table = Table("view", "rows", "columns")
    with db.engine.connect() as conn:
        schema = bi_views.SCHEMA if dialect == "postgresql" else None
        columns = inspect(conn)
        for view in bi_views.views(dialect):
            name = view.qualified(dialect)
            count = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar()
            local = view.name if schema else name
            cols = [col["name"] for col in columns.get_columns(local, schema=schema)]
            table.add_row(name, str(count), ", ".join(cols))
    c.out.print(f"BI views, version {bi_views.VERSION} ({dialect}):")
    c.out.print(table)


def reader(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Role name, e.g. kadenz_bi_reader.")],
    password_env: Annotated[
        str,
        typer.Option("--password-env", help="Environment variable that holds its password."),
    ],
) -> None:
    """Create or update a PostgreSQL login role that can read the BI views and nothing else.

    It gets USAGE on the kadenz_bi schema, SELECT on its views (kept across upgrades by
    default privileges), no access to the tables, and read-only sessions.

    Example: BI_PASSWORD=… kadenz bi reader kadenz_bi_reader --password-env BI_PASSWORD
    """
    c = context.get(ctx)
    if not _ROLE.match(name):
        raise InvalidInput(
            f"{name!r} is not a role name we create (lower-case letters, digits and _, "
            "starting with a letter; e.g. kadenz_bi_reader)"
        )
    password = os.environ.get(password_env)
    if not password:
        raise InvalidInput(f"--password-env: ${password_env} is not set (export it first)")
    db = c.db
    if db.dialect != "postgresql":
        raise InvalidInput(
            "roles exist on PostgreSQL only; with SQLite, give the BI tool the database file "
            f"read-only: {db.url}?mode=ro"
        )
    with db.engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
        quoted = conn.dialect.identifier_preparer.quote(name)
        secret = conn.exec_driver_sql("SELECT quote_literal(%(p)s)", {"p": password}).scalar()
        verb = "ALTER" if exists.first() else "CREATE"
        conn.exec_driver_sql(f"{verb} ROLE {quoted} LOGIN PASSWORD {secret}")
        database = conn.dialect.identifier_preparer.quote(str(conn.engine.url.database))
        schema = bi_views.SCHEMA
        for statement in (
            f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
            f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {quoted}",
            f"ALTER ROLE {quoted} SET default_transaction_read_only = on",
        ):
            conn.exec_driver_sql(statement)
    c.out.print(
        f"role {name} can read the {schema} views (read-only); "
        f"connect your BI tool as {name} to database {db.engine.url.database}"
    )
