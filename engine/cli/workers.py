"""CLI: the production processes (`kadenz worker`, `kadenz beat`) and `kadenz metrics`.

`kadenz worker` is `celery -A workers.app worker` with Kadenz's queues; `kadenz beat` is
`celery -A workers.app beat`. Either form works (docs/operations.md). Celery is imported
only when a command runs, so `kadenz --help` stays fast.
"""

from __future__ import annotations

import json

import typer

from engine.cli import context
from engine.reporting import health

QUEUES = "kadenz,kadenz.send,kadenz.poll"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("worker", rich_help_panel="Production")(worker)
    app.command("beat", rich_help_panel="Production")(beat)
    app.command("idle", rich_help_panel="Production")(idle)
    app.command("metrics", rich_help_panel="Production")(metrics)


def worker(
    concurrency: int = typer.Option(
        0, "--concurrency", "-c", help="Processes sending in parallel (default: one per CPU)."
    ),
    queues: str = typer.Option(
        QUEUES,
        "--queues",
        "-Q",
        help="Comma-separated queues to consume: kadenz (tick, dispatch, leases, reports), "
        "kadenz.send (SMTP), kadenz.poll (IMAP).",
    ),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="DEBUG, INFO, WARNING…"),
    name: str = typer.Option("", "--name", "-n", help="Worker name (default: kadenz@host)."),
) -> None:
    """Run a Celery worker: sends, polls and ticks for a PostgreSQL + Redis deployment.

    Start as many as you like, on as many machines as you like; each reads KADENZ_DATABASE_URL
    and KADENZ_REDIS_URL (KADENZ_BROKER_URL for the broker if it differs). Same as
    `celery -A workers.app worker -Q kadenz,kadenz.send,kadenz.poll`.
    """
    from workers.app import app as celery_app

    argv = ["worker", "-Q", queues, "--loglevel", loglevel, "-n", name or "kadenz@%h"]
    if concurrency > 0:
        argv += ["--concurrency", str(concurrency)]
    celery_app.worker_main(argv)


def beat(
    schedule_file: str = typer.Option(
        "",
        "--schedule-file",
        "-s",
        help="Where beat keeps its last-run times (default: celerybeat-schedule in KADENZ_HOME).",
    ),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="DEBUG, INFO, WARNING…"),
) -> None:
    """Run Celery beat: the periodic nudges (tick, dispatch sends, leases, polls, rollups).

    Run one. A second one (for availability) only doubles harmless nudges: the database
    decides what is due. Same as `celery -A workers.app beat`.
    """
    from engine.settings import load_settings
    from workers.app import app as celery_app

    settings = load_settings()
    if not schedule_file:
        settings.home.mkdir(parents=True, exist_ok=True)
        schedule_file = str(settings.home / "celerybeat-schedule")
    celery_app.start(["beat", "-s", schedule_file, "--loglevel", loglevel])


def idle(
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="DEBUG, INFO, WARNING…"),
) -> None:
    """Watch every mailbox's inbox with IMAP IDLE and enqueue a poll when mail arrives.

    For a Celery deployment: run one next to beat, so replies are read within seconds
    instead of on the next KADENZ_POLL_SECONDS poll (`kadenz run` does this by itself).
    It needs the mailboxes' password variables, like the workers. Servers without IDLE are
    left to the polls. Ctrl-C (or SIGTERM) stops it.
    """
    import logging
    import signal
    import threading
    from types import FrameType

    from workers import idle as idle_process

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    idle_process.run(stop)


def metrics(
    ctx: typer.Context,
    prometheus: bool = typer.Option(
        False, "--prometheus", help="Print the Prometheus text exposition format."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the operating figures: queue depth, due backlog, sends per mailbox, failures."""
    import redis

    c = context.get(ctx)
    client = redis.Redis.from_url(
        c.settings.broker_url or c.settings.redis_url, socket_connect_timeout=2, socket_timeout=5
    )
    try:
        figures = health.collect(c.db, c.clock, client)
    finally:
        client.close()
        c.db.dispose()  # a one-shot command: leave no pooled connection behind
    if prometheus:
        c.out.print(health.to_prometheus(figures), end="", markup=False)
    elif as_json:
        c.out.print(json.dumps(figures.as_dict(), indent=2), markup=False)
    else:
        _table(c, figures)


def _table(c: context.Context, h: health.Health) -> None:
    from rich.table import Table

    queues = ", ".join(f"{q} {'unreachable' if n is None else n}" for q, n in h.queues.items())
    c.out.print(f"queues:      {queues} (unacked {h.unacked if h.unacked is not None else '?'})")
    c.out.print(
        f"due now:     {h.due_enrollments} enrollment steps, {h.due_messages} messages "
        f"(oldest {h.oldest_due_seconds:.0f}s late)"
    )
    c.out.print(f"in flight:   {h.sending} sending ({h.sending_expired} past their lease)")
    c.out.print(f"need review: {h.ambiguous} ambiguous, {h.failed} failed, {h.bounced} bounced")
    c.out.print(f"sent:        {h.sent_last_hour} last hour, {h.sent_last_24h} last 24 h")
    held = ", ".join(f"{n} {kind}" for kind, n in h.held.items())
    c.out.print(f"held:        {held}")
    for d in h.domains:
        note = f" (overridden: {d.override})" if d.override and d.status == "fail" else ""
        c.out.print(f"domain:      {d.domain} {d.status}{note}")
        for problem in d.problems:
            c.out.print(f"             - {problem}", markup=False)
    table = Table("mailbox", "last hour", "last 24 h", "due now", "paused")
    for b in h.mailboxes:
        table.add_row(
            b.name, str(b.last_hour), str(b.last_24h), str(b.planned_due), "yes" if b.paused else ""
        )
    c.print_table(table)
    for r in h.degraded:
        paused = "; sending paused" if r.sending_paused else ""
        c.out.print(
            f"[bold red]unreachable[/]: {r.name} {r.direction} for {r.failing_seconds:.0f}s "
            f"({r.kind}: {r.error}){paused}; {r.failures_total} failures in all",
            markup=True,
            highlight=False,
        )
        c.out.print(f"  fix: {r.fix}", markup=False, highlight=False)
