"""What every command needs: settings, the database and the clock, built once per process."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property

import typer
from rich.console import Console
from rich.table import Table

from engine.clock import Clock, SystemClock
from engine.settings import Settings, load_settings
from engine.store.db import Database


@dataclass
class Context:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    # Piped output keeps whole rows readable instead of squeezing tables into 80 columns.
    out: Console = field(
        default_factory=lambda: Console(
            highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160
        )
    )
    err: Console = field(
        default_factory=lambda: Console(
            stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160
        )
    )

    def print_table(self, table: Table, *, csv_hint: bool = False) -> None:
        """Every column whole: piped output gets the table's natural width (no "reply ra…");
        a terminal too narrow for it gets a hint instead of silently cut columns."""
        need = Console(width=100_000).measure(table).maximum
        if not self.out.is_terminal:
            Console(highlight=False, soft_wrap=True, width=max(need, 80)).print(table)
            return
        self.out.print(table)
        if need > self.out.width:
            alternative = " or use --format csv" if csv_hint else ""
            self.err.print(
                f"[dim](this table needs {need} columns and the terminal has {self.out.width}: "
                f"some are cut; widen the window{alternative})[/]"
            )

    @cached_property
    def db(self) -> Database:
        """The workspace database, migrated to the newest schema on first use."""
        db = Database(self.settings.database_url)
        db.upgrade()
        return db


def get(ctx: typer.Context) -> Context:
    """The process-wide Context, created lazily so `--help` never touches the database."""
    root = ctx.find_root()
    if not isinstance(root.obj, Context):
        root.obj = Context(settings=load_settings())
    return root.obj
