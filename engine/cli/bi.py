"""CLI: `kadenz bi` — the SQL views for BI tools, and a read-only role to read them."""

from __future__ import annotations

import os
import re
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import inspect, text

from engine.cli import context
from engine.errors import InvalidInput
from engine.store import bi_views

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def register(app: typer.Typer) -> None:
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
