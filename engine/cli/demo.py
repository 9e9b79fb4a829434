"""CLI: `kadenz demo` — a month of outbound in under a minute, on the embedded default."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from engine.clock import VirtualClock
from engine.demo import driver, report
from engine.demo.checks import run_checks
from engine.demo.people import generate
from engine.demo.world import World
from engine.errors import InvalidInput


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for the throwaway demo workspace (deleted first).")
    ] = Path("demo-out"),
    prospects: Annotated[int, typer.Option(min=10, max=5000, help="How many prospects.")] = 300,
    days: Annotated[int, typer.Option(min=1, max=120, help="Virtual days to run.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same month.")] = 7,
    start: Annotated[
        str, typer.Option(help="Virtual start (UTC, ISO date); the default spans DST and Easter.")
    ] = driver.START.date().isoformat(),
) -> None:
    """Run a month of outbound through the real engine on a virtual clock.

    Sets up a throwaway workspace in OUT (SQLite), pushes the example sequences, imports a
    few hundred prospects (several countries and timezones, some bad rows), enrolls them and
    runs the real scheduler, renderer, SMTP client and inbound pipeline against a local SMTP
    server that plays the world: bounces, full mailboxes, replies in English and German,
    out-of-office notes. Prints the report, the SDR queue and what the run proved.

    Example: kadenz demo --prospects 100 --days 14
    """
    try:
        begin = datetime.fromisoformat(start).replace(hour=6, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"--start {start!r} is not a date (write e.g. 2026-03-16)") from None
    options = driver.DemoOptions(out=out, seed=seed, prospects=prospects, days=days, start=begin)
    wall = time.monotonic()
    settings, db = driver.prepare(options)
    people = generate(prospects, seed)
    clock = VirtualClock(begin)
    with World(people, seed) as world:
        run = driver.DemoRun(options, settings, db, clock, world, people)
        driver.setup(run)
        typer.echo(run.import_summary)
        for line in run.enroll_summary:
            typer.echo(line)
        with Progress(
            TextColumn("[bold]{task.fields[date]}[/]"),
            BarColumn(),
            TextColumn("{task.fields[counters]}"),
            TimeElapsedColumn(),
            transient=False,
        ) as progress:
            total = float(days * 86400)
            bar = progress.add_task("month", total=total, date="", counters="")

            def show(r: driver.DemoRun) -> None:
                c = r.counters
                progress.update(
                    bar,
                    completed=(r.clock.now() - begin).total_seconds(),
                    date=r.clock.now().strftime("%a %Y-%m-%d %H:%M UTC"),
                    counters=f"sent {c.sent} · inbound {c.inbound} · tasks done {c.tasks_done}",
                )

            driver.simulate(run, show)
            show(run)
        checks = run_checks(run)
        html = report.write(run, checks)
        report.print_summary(run, checks, html, time.monotonic() - wall)
    db.dispose()
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
