"""CLI: `run`, `simulate`, `explain`, `outbox` and `message resolve`."""

from __future__ import annotations

import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from engine.cli import context
from engine.core.states import MessageState
from engine.embedded import lock
from engine.embedded.runner import Runner
from engine.errors import InvalidInput, NotFound
from engine.outbound import resolve, sent_proof
from engine.outbound.explain import explain_prospect
from engine.outbound.limits import warmup
from engine.outbound.outbox import outbox
from engine.outbound.resolve import resolve_ambiguous
from engine.outbound.simulate import SequenceInput, iter_table, read_prospects, simulate
from engine.people import consent, consent_records, users
from engine.store.models import Mailbox, OutboundMessage, Sequence, SequenceVersion

message_app = typer.Typer(help="Outbound messages: resolve ambiguous sends.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("run")(run)
    app.command("simulate")(simulate_command)
    app.command("explain")(explain_command)
    app.command("outbox")(outbox_command)
    app.add_typer(message_app, name="message")


def run(
    ctx: typer.Context,
    once: bool = typer.Option(
        False, "--once", help="One round (resolve stuck sends, tick, send what is due), then exit."
    ),
) -> None:
    """Run the embedded engine: tick, send and poll in one process.

    Every KADENZ_TICK_SECONDS it executes due steps and sends due emails within each
    mailbox's window and caps; every KADENZ_POLL_SECONDS it polls mailboxes for replies.
    Ctrl-C (or SIGTERM) finishes the SMTP transaction in flight, then exits cleanly.
    One runner per KADENZ_HOME: a second `kadenz run` on the same home is refused.
    """
    c = context.get(ctx)
    with lock.one_runner(c.settings.home, c.clock.now()):
        _run(c, once)


def _run(c: Any, once: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    runner = Runner(c.db, c.clock, c.settings)
    if once:
        report = runner.round(poll=True)
        c.out.print(report.summary())
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        c.err.print(f"{signal.Signals(signum).name}: finishing the send in flight, then exiting")
        runner.stop.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    c.err.print(
        f"kadenz run: ticking every {c.settings.tick_seconds:g}s on {c.db.dialect} (Ctrl-C to stop)"
    )
    runner.run_forever()
    c.err.print("stopped")


def simulate_command(
    ctx: typer.Context,
    sequence: Annotated[
        str,
        typer.Argument(
            metavar="KEY_OR_FILE", help="A pushed sequence's key, or a sequence YAML file."
        ),
    ],
    prospects: Annotated[
        Path,
        typer.Option("--prospects", help="CSV with an email column (and any template variables)."),
    ],
    start: Annotated[
        str, typer.Option("--start", help="ISO date or date-time (UTC unless it has an offset).")
    ],
    days: int = typer.Option(30, "--days", min=1, max=3660, help="How many days to simulate."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    mailboxes: int | None = typer.Option(
        None, "--mailboxes", min=1, help="Spread prospects over N mailboxes (default: the pool)."
    ),
    also: Annotated[
        list[str] | None,
        typer.Option("--also", help="Another sequence (key or file) the prospects are in at once."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="A workspace policy file (contact limits) to apply."),
    ] = None,
    consent_file: Annotated[
        Path | None,
        typer.Option(
            "--consent-policy",
            help="Simulate under this consent policy file (default: the workspace's pushed one).",
        ),
    ] = None,
) -> None:
    """Dry-run a sequence on a virtual clock: every email, call and task, when, in local time.

    Runs the real scheduler, windows, holidays and caps against a throwaway database: sends
    nothing and writes nothing to the workspace. Nobody replies; tasks are done when due.
    """
    c = context.get(ctx)
    if fmt not in ("table", "json"):
        raise InvalidInput(f"--format {fmt!r} is not supported (use table or json)")
    begin = _parse_start(start)
    seq_input, caps = _sequence_input(c, sequence)
    rows, issues = read_prospects(prospects)
    for issue in issues:
        c.err.print(f"skipped: {issue}")
    others = [_sequence_input(c, one)[0] for one in also or []]
    rules = None
    if policy is not None:
        from engine.sequence_language.policy import load_policy

        rules = load_policy(policy)
    consent_policy = _consent_document(c, consent_file)
    held: list[str] = []
    actions = simulate(
        seq_input, rows, begin, days, mailbox_settings=caps, mailboxes=mailboxes,
        also=others, policy=rules, consent_policy=consent_policy,
        postal_address=c.settings.postal_address, held=held, booking_links=_booking_links(c),
    )  # fmt: skip
    if fmt == "json":
        print(json.dumps([a.as_json() for a in actions], indent=2))
        for line in held:
            c.err.print(f"not sent: {line}", markup=False)
        return
    extra = ["sequence"] if others else []
    extra += ["held by"] if any(a.held for a in actions) else []
    table = Table("UTC", "local", "timezone", "prospect", "step", "type", "mailbox", *extra)
    for action, row in zip(actions, iter_table(actions), strict=True):
        more = [action.sequence] if others else []
        more += [action.held.split(";")[0]] if "held by" in extra else []
        table.add_row(*row, *more)
    c.print_table(table)
    c.out.print(f"{len(actions)} actions for {len(rows)} prospects over {days} days")
    for line in held:
        c.out.print(f"not sent: {line}", markup=False)


def _booking_links(c: context.Context) -> dict[str, str | None]:
    """The workspace's users and their booking links (`sender.booking_link` in templates)."""
    if not _workspace_exists(c):
        return {}
    with c.db.session() as session:
        return {u.name: u.booking_link for u in users.list_all(session)}


def _consent_document(c: context.Context, path: Path | None) -> dict[str, Any] | None:
    """The consent policy to simulate with: the file given, else the workspace's."""
    if path is not None:
        policy, _ = consent_records.read_file(path)
        return consent.to_document(policy)
    if not _workspace_exists(c):
        return None
    with c.db.session() as session:
        found = consent_records.load(session)
    return consent.to_document(found) if found is not None else None


def _parse_start(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"--start {text!r} is not an ISO date (write e.g. 2026-03-02 or 2026-03-02T08:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _workspace_exists(c: context.Context) -> bool:
    url = c.settings.database_url
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    return True


def _sequence_input(
    c: context.Context, key_or_file: str
) -> tuple[SequenceInput, dict[str, dict[str, Any]]]:
    path = Path(key_or_file)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        from engine.sequence_language.loader import load_sequence

        loaded = load_sequence(path)
        spec = loaded.spec.model_dump(mode="json")
        seq = SequenceInput(
            loaded.spec.key, loaded.spec.name, spec, loaded.templates, list(loaded.spec.mailboxes)
        )
    else:
        if not _workspace_exists(c):
            raise NotFound(f"no sequence {key_or_file!r}: the workspace is empty (pass a file)")
        with c.db.session() as session:
            row = session.scalars(select(Sequence).where(Sequence.key == key_or_file)).first()
            version = session.get(SequenceVersion, row.current_version_id) if row else None
            if row is None or version is None:
                raise NotFound(
                    f"no sequence {key_or_file!r} (see `kadenz sequence list`, or pass a file)"
                )
            seq = SequenceInput(
                row.key,
                row.name,
                dict(version.spec),
                dict(version.templates or {}),
                list(version.spec.get("mailboxes", [])),
            )
    caps: dict[str, dict[str, Any]] = {}
    if _workspace_exists(c):
        with c.db.session() as session:
            boxes = list(session.scalars(select(Mailbox).order_by(Mailbox.name)))
            if not seq.pool:  # as enrollment does: an empty pool means every unpaused mailbox
                seq.pool = [box.name for box in boxes if not box.paused]
            for box in boxes:
                caps[box.name] = {
                    "daily_cap": box.daily_cap,
                    "hourly_cap": box.hourly_cap,
                    "min_gap_seconds": box.min_gap_seconds,
                    "per_domain_daily_cap": box.per_domain_daily_cap,
                    "warmup": box.warmup,
                    "timezone": box.timezone,
                    "address": box.address,
                    "display_name": box.display_name,
                    "signature": box.signature,
                    "owner": box.owner,
                }
    return seq, caps


def explain_command(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The prospect's email address."),
) -> None:
    """Why a prospect is where it is: each enrollment's state, next action, and what holds it."""
    c = context.get(ctx)
    with c.db.session() as session:
        report = explain_prospect(session, email, c.clock.now())
    c.out.print(f"[bold]{report.email}[/bold]")
    if report.suppressed:
        c.out.print(f"  suppressed: {report.suppressed} — nothing will be sent")
    if report.consent:
        c.out.print(f"  consent: {report.consent}", markup=False)
    if not report.enrollments:
        c.out.print("  not enrolled in any sequence")
    for e in report.enrollments:
        c.out.print(
            f"\n  enrollment #{e.id} in {e.sequence} v{e.version}: [bold]{e.state}[/bold]"
            + (f" ({e.reason})" if e.reason else "")
        )
        c.out.print(f"    current step: {e.step or '-'}   mailbox: {e.mailbox or '-'}")
        c.out.print(f"    timezone: {e.timezone}")
        c.out.print(f"    holidays: {e.holidays}")
        c.out.print(f"    next: {e.next_action}")
        for hold in e.holds:
            c.out.print(f"    held by: {hold}")
        for task in e.tasks:
            c.out.print(f"    also to do (holds nothing): {task}")
        for m in e.messages:
            at = f"{m.at:%Y-%m-%d %H:%M} UTC" if m.at else "-"
            detail = f" — {m.detail}" if m.detail else ""
            c.out.print(f"    message #{m.id} {m.step}: {m.state} {at} {m.subject!r}{detail}")


def outbox_command(
    ctx: typer.Context,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="planned, sending, ambiguous, sent, failed, bounced, cancelled."
        ),
    ] = None,
    mailbox: str | None = typer.Option(None, "--mailbox", help="Only this mailbox (its name)."),
    limit: int = typer.Option(200, "--limit", min=1),
) -> None:
    """Messages waiting to go out (and why), and ambiguous ones waiting for a person."""
    c = context.get(ctx)
    with c.db.session() as session:
        lines = outbox(session, states=state or None, mailbox=mailbox, limit=limit)
        capacity = warmup.capacity_lines(session, c.clock.now(), mailbox)
    for text in capacity:  # what each mailbox may send today: the warm-up ramp, day by day
        c.out.print(text, markup=False)
    if not lines:
        c.out.print("the outbox is empty")
        return
    # The reasons are sentences: they go under the table, one per message, never squeezed
    # into a column.
    table = Table("id", "state", "mailbox", "to", "step", "not before (UTC)", "tries")
    for line in lines:
        table.add_row(
            str(line.id),
            line.state,
            line.mailbox,
            line.to,
            line.step,
            f"{line.not_before:%Y-%m-%d %H:%M}",
            str(line.attempts),
        )
    c.print_table(table)
    for line in lines:
        c.out.print(f"#{line.id} {line.to}: {line.why}")


@message_app.command("resolve")
def resolve_command(
    ctx: typer.Context,
    message_id: int = typer.Argument(..., metavar="ID", help="The ambiguous message's id."),
    sent: bool = typer.Option(False, "--sent", help="It was delivered: continue the sequence."),
    failed: bool = typer.Option(False, "--failed", help="It was not delivered: pause instead."),
) -> None:
    """Decide an ambiguous send (its SMTP transaction may have begun; never retried blindly).

    Without --sent/--failed: search the mailbox's Sent folder over IMAP for the message's
    Message-ID now, apply what that proves, and show the evidence. A copy there makes it
    sent; no copy, on a provider that files every submission, after the grace period
    (KADENZ_SENT_PROOF_GRACE_SECONDS), plans it again; otherwise a person decides.

    Examples:

        kadenz message resolve 5            # look for the proof, show the evidence
        kadenz message resolve 5 --sent     # a person checked: it was delivered
        kadenz message resolve 5 --failed   # a person checked: it was not
    """
    c = context.get(ctx)
    if sent and failed:
        raise InvalidInput("pass one of --sent or --failed, not both")
    if sent or failed:
        with c.db.session() as session:
            message = resolve_ambiguous(session, message_id, delivered=sent, at=c.clock.now())
            state = message.state
        c.out.print(f"message {message_id} is now {state}")
        return
    with c.db.session() as session:
        row = session.get(OutboundMessage, message_id)
        if row is None:
            raise NotFound(
                f"message {message_id} does not exist (see `kadenz outbox --state ambiguous`)"
            )
        state = row.state
    if state == MessageState.AMBIGUOUS:
        verdicts = sent_proof.resolve_by_proof(c.db, c.clock, c.settings, message_ids=[message_id])
        verdict = verdicts[0] if verdicts else None
        if verdict is not None and not verdict.by_proof:
            c.out.print(f"message {message_id} is still ambiguous: {verdict.evidence}")
            c.out.print(f"decide it: kadenz message resolve {message_id} --sent  (or --failed)")
            raise typer.Exit(1)  # nothing decided: scripts can tell
    with c.db.session() as session:
        row = session.get(OutboundMessage, message_id)
        assert row is not None
        state = row.state
        history = resolve.resolution(session, message_id)
    c.out.print(f"message {message_id} is {state}")
    for at, data in history:
        c.out.print(
            f"  {at:%Y-%m-%d %H:%M} UTC: {data.get('verdict')} by {data.get('by')}: "
            f"{data.get('evidence')}"
        )
