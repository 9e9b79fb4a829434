"""CLI: `kadenz task list | done | skip` — the SDR's queue of calls and tasks."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from engine.cli import context
from engine.core.states import TaskState
from engine.people.task_queue import end_of_day
from engine.people.tasks import complete_task
from engine.store.models import Prospect, Task

task_app = typer.Typer(help="Calls and tasks in the SDRs' queues.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(task_app, name="task")


@task_app.command("list")
def list_tasks(
    ctx: typer.Context,
    owner: str | None = typer.Option(None, "--owner", help="Only this owner's tasks."),
    all_states: bool = typer.Option(False, "--all", help="Include done and skipped tasks."),
    today: bool = typer.Option(
        False, "--today", help="Only tasks due by the end of today in KADENZ_TIMEZONE (the queue)."
    ),
) -> None:
    """Open tasks, oldest due first."""
    c = context.get(ctx)
    with c.db.session() as session:
        stmt = select(Task, Prospect).join(Prospect, Prospect.id == Task.prospect_id, isouter=True)
        if not all_states:
            stmt = stmt.where(Task.state == TaskState.OPEN)
        if owner:
            stmt = stmt.where(Task.owner == owner)
        if today:
            stmt = stmt.where(Task.due_at < end_of_day(c.clock.now(), c.settings.zone))
        rows = session.execute(stmt.order_by(Task.due_at, Task.id)).all()
    if not rows:
        c.out.print("no tasks")
        return
    table = Table("id", "due (UTC)", "kind", "owner", "prospect", "title", "state", "blocking")
    for task, prospect in rows:
        table.add_row(
            str(task.id),
            f"{task.due_at:%Y-%m-%d %H:%M}",
            task.kind,
            task.owner or "-",
            (prospect.email or "-") if prospect else "-",
            task.title,
            task.state + (f" ({task.outcome})" if task.outcome else ""),
            "yes" if task.blocking else "no",
        )
    c.print_table(table)


@task_app.command("done")
def done(
    ctx: typer.Context,
    task_id: int = typer.Argument(..., metavar="ID"),
    outcome: str = typer.Option(
        "done", "--outcome", help="e.g. connected, voicemail, no_answer, meeting_booked."
    ),
) -> None:
    """Mark a task done; a sequence waiting for it continues."""
    c = context.get(ctx)
    with c.db.session() as session:
        complete_task(session, task_id, outcome, c.clock.now())
    c.out.print(f"task {task_id} done ({outcome})")


@task_app.command("skip")
def skip(ctx: typer.Context, task_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Skip a task; a sequence waiting for it continues."""
    c = context.get(ctx)
    with c.db.session() as session:
        complete_task(session, task_id, None, c.clock.now(), skipped=True)
    c.out.print(f"task {task_id} skipped")
