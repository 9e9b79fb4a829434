"""CLI: `kadenz inbound …` — inbound mail.

`classify` is stateless (files in, verdicts out); `ingest`, `poll`, `list`, `show` and
`reclassify` work on the workspace: they store, match and act.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from engine.cli import context
from engine.core.classification import Classification, InboundClass
from engine.errors import InvalidInput, NotFound
from engine.inbound import accuracy
from engine.inbound.classifier.classify import classify

EX_TEMPFAIL = 75  # sysexits.h: an MTA pipe (Postfix, Exim) keeps the message and retries

inbound_app = typer.Typer(
    help="Inbound mail: replies, bounces, auto-replies and complaints.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(inbound_app, name="inbound")


def as_record(file: str, result: Classification) -> dict[str, Any]:
    """One classification as the JSON object `kadenz inbound classify --format json` prints.

    `intent` is the reply intent for human replies and the auto-reply kind
    (out_of_office/other) for auto-replies; null otherwise.
    """
    intent = result.intent or result.auto_reply_kind
    return {
        "file": file,
        "class": result.kind.value,
        "intent": intent.value if intent else None,
        "recipients": list(result.recipients),
        "status": result.status,
        "return_date": result.return_date.isoformat() if result.return_date else None,
        "confidence": result.confidence,
        "evidence": list(result.evidence),
    }


_CLASS_STYLE = {
    InboundClass.HARD_BOUNCE: "red",
    InboundClass.BLOCKED: "magenta",
    InboundClass.SOFT_BOUNCE: "yellow",
    InboundClass.COMPLAINT: "red",
    InboundClass.HUMAN_REPLY: "green",
    InboundClass.AUTO_REPLY: "cyan",
}


@inbound_app.command("classify")
def classify_files(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE", help="Raw email files (.eml, one message each).", show_default=False
        ),
    ],
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table (human) or json (one array).")
    ] = OutputFormat.TABLE,
) -> None:
    """Classify raw emails: bounce (hard/soft/blocked), complaint, delivered, auto-reply or
    human reply with its intent — with the evidence that decided. Reads files only; no
    database. Unreadable files are reported and the exit code is 1."""
    records: list[dict[str, Any]] = []
    failed = False
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            # Plain write: one line, never wrapped, whatever the terminal width.
            sys.stderr.write(f"error: cannot read {path}: {reason}\n")
            failed = True
            continue
        records.append(as_record(str(path), classify(raw)))
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    elif records:
        _print_table(records)
    if failed:
        raise typer.Exit(1)


@inbound_app.command("accuracy")
def accuracy_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH",
            help="A labelled source (a folder with eml/ and labels.csv) or a folder of them.",
            show_default=False,
        ),
    ],
    details: Annotated[
        bool, typer.Option("--details", help="Also list every miss and every disputed label.")
    ] = False,
) -> None:
    """Score the classifier on labelled mail: class agreement, bounce detection, recipients,
    hard vs rest, non-bounces flagged, auto-replies, return dates, intents and a confusion
    matrix per source, printed as Markdown (the tables of docs/inbound.md). No database.

    Example: kadenz inbound accuracy ../shared/corpus/sisimai ../shared/corpus/public
    """
    found = accuracy.sources(paths)
    if not found:
        shown = ", ".join(str(p) for p in paths)
        sys.stderr.write(
            f"error: no labelled source in {shown}: expected a folder with labels.csv and eml/"
            " (or a folder of such folders)\n"
        )
        raise typer.Exit(2)
    try:
        scores = [accuracy.measure(source) for source in found]
    except InvalidInput as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(2) from exc
    sys.stdout.write(accuracy.markdown(scores, details=details) + "\n")


def _print_table(records: list[dict[str, Any]]) -> None:
    table = Table(show_lines=True, expand=True)
    table.add_column("file", overflow="fold", ratio=1)
    for name in ("class", "intent", "recipients", "status", "return date", "conf."):
        table.add_column(name, no_wrap=True)
    table.add_column("evidence", overflow="fold", min_width=30, ratio=3)
    for rec in records:
        style = _CLASS_STYLE.get(InboundClass(rec["class"]), "")
        # Evidence quotes remote servers ("[192.0.2.1]"): escape, never read as markup.
        table.add_row(
            escape(rec["file"]),
            f"[{style}]{rec['class']}[/]" if style else rec["class"],
            rec["intent"] or "",
            escape("\n".join(rec["recipients"])),
            rec["status"] or "",
            rec["return_date"] or "",
            f"{rec['confidence']:.2f}",
            escape("\n".join(rec["evidence"])),
        )
    Console(highlight=False).print(table)


# --- ingest ------------------------------------------------------------------------------


@inbound_app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files (.eml or mbox), Maildir folders (cur/ and new/), folders of .eml "
            "files, or - to read one message from stdin (an MTA pipe).",
        ),
    ],
    mailbox: str | None = typer.Option(
        None, "--mailbox", help="The mailbox these messages arrived in (counts blocks against it)."
    ),
) -> None:
    """Ingest messages: classify, match to what was sent, and act (stop, pause, suppress…).

    The same message fed twice is processed once (deduplicated by Message-ID).
    Example, from Postfix: `kadenz inbound ingest -` as a pipe transport.
    """
    from engine.inbound import mailsources
    from engine.inbound.ingest import ingest

    c = context.get(ctx)
    mailbox_id = _mailbox_id(c, mailbox) if mailbox else None
    counts = {"new": 0, "duplicate": 0, "unclassified": 0, "error": 0}
    for label, raw in mailsources.iter_sources(paths):
        try:
            result = ingest(c.db, c.clock, raw, source="file", mailbox_id=mailbox_id)
        except Exception as exc:  # the database is down: tell the MTA to try again later
            c.err.print(f"error: {label}: not stored ({type(exc).__name__}); try again later")
            raise typer.Exit(EX_TEMPFAIL) from None
        kind = result.kind + (f"/{result.intent}" if result.intent else "")
        if result.duplicate:
            counts["duplicate"] += 1
            c.out.print(f"{label}: already ingested as #{result.inbound_id} ({kind})")
            continue
        counts["new"] += 1
        counts["unclassified"] += result.kind == "unclassified"
        counts["error"] += bool(result.error)
        who = _prospect_label(c, result.prospect_id) or "no prospect matched"
        how = f" by {result.matched_by}" if result.matched_by else ""
        done = "; ".join(result.actions) or "recorded"
        c.out.print(f"{label}: #{result.inbound_id} {kind} → {who}{how}: {done}")
        if result.error:
            c.err.print(
                f"  warning: {result.error} (stored; see `kadenz inbound show {result.inbound_id}`)"
            )
    total = counts["new"] + counts["duplicate"]
    c.out.print(
        f"{total} message{'s' if total != 1 else ''}: {counts['new']} new, "
        f"{counts['duplicate']} already ingested, {counts['unclassified']} unclassified "
        f"(review with `kadenz inbound list --unclassified`), {counts['error']} with errors"
    )


# --- list / show -------------------------------------------------------------------------


@inbound_app.command("list")
def list_command(
    ctx: typer.Context,
    kind: str | None = typer.Option(
        None,
        "--class",
        help="Only this class: hard_bounce, soft_bounce, blocked, complaint, "
        "delivered, auto_reply, human_reply, unclassified.",
    ),
    unclassified: bool = typer.Option(False, "--unclassified", help="Only those left for a human."),
    limit: int = typer.Option(
        50, "--limit", min=1, max=10000, help="Newest first, at most this many."
    ),
) -> None:
    """List received messages, newest first, with their class and what they matched."""
    from engine.core.classification import InboundClass
    from engine.store.models import InboundMessage

    c = context.get(ctx)
    if unclassified:
        kind = str(InboundClass.UNCLASSIFIED)
    if kind is not None and kind not in {k.value for k in InboundClass}:
        raise InvalidInput(
            f"--class {kind!r} is not a class "
            f"(use one of {', '.join(k.value for k in InboundClass)})"
        )
    with c.db.session() as s:
        stmt = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
        if kind:
            stmt = stmt.where(InboundMessage.classification == kind)
        rows = list(s.scalars(stmt))
        table = Table(box=None)
        table.add_column("id", no_wrap=True, min_width=2)
        table.add_column("received", no_wrap=True, min_width=11)
        table.add_column("class", no_wrap=True, min_width=11)
        table.add_column("from", overflow="ellipsis", no_wrap=True, max_width=26)
        table.add_column("subject", overflow="ellipsis", no_wrap=True, max_width=24)
        table.add_column("matched", no_wrap=True, min_width=8)
        for row in rows:
            cls = row.classification + (f"/{row.intent}" if row.intent else "")
            if row.overridden_by:
                cls += " (corrected)"
            matched = (
                f"{row.matched_by} → #{row.prospect_id}"
                if row.prospect_id
                else (row.matched_by or "—")
            )
            table.add_row(
                str(row.id),
                row.received_at.strftime("%m-%d %H:%M"),
                cls,
                row.from_address or "?",
                (row.subject or "")[:60],
                matched,
            )
    if not rows:
        c.out.print("no inbound messages" + (f" of class {kind}" if kind else ""))
        return
    c.out.print(table)


@inbound_app.command("show")
def show_command(
    ctx: typer.Context, inbound_id: int = typer.Argument(..., help="The message's id (see `list`).")
) -> None:
    """Show one message: headers, class, evidence, what it matched and what was done."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    from engine.store.models import InboundMessage, OutboundMessage, Prospect

    c = context.get(ctx)
    with c.db.session() as s:
        row = s.get(InboundMessage, inbound_id)
        if row is None:
            raise NotFound(
                f"inbound message #{inbound_id} does not exist (see `kadenz inbound list`)"
            )
        out = c.out
        out.print(
            f"[bold]inbound #{row.id}[/bold]  "
            f"received {row.received_at.isoformat()} via {row.source}"
        )
        try:
            headers = BytesHeaderParser(policy=compat32).parsebytes(row.raw)
            for name in (
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "In-Reply-To",
                "Auto-Submitted",
            ):
                if headers.get(name):
                    out.print(f"  {name}: {str(headers[name])[:200]}", markup=False)
        except Exception:
            out.print("  (headers unreadable)")
        cls = row.classification + (f" / {row.intent}" if row.intent else "")
        out.print(f"class: {cls}  (confidence {row.confidence:.2f})", markup=False)
        if row.return_date:
            out.print(f"return date: {row.return_date.isoformat()}")
        if row.status_code or row.recipients:
            out.print(f"status: {row.status_code or '?'}  recipients: {', '.join(row.recipients)}")
        out.print("evidence:")
        for line in row.evidence or ["(none)"]:
            out.print(f"  - {line}", markup=False)
        original = row.data.get("original")
        if row.overridden_by and original:
            out.print(
                f"corrected by {row.overridden_by}; the classifier said {original.get('class')}"
                + (f"/{original['intent']}" if original.get("intent") else "")
            )
        if row.outbound_id:
            message = s.get(OutboundMessage, row.outbound_id)
            if message is not None:
                out.print(
                    f"matched outbound #{message.id} (step {message.step_id}, {message.state}, "
                    f"to {message.to_address}) by {row.matched_by}",
                    markup=False,
                )
        prospect = s.get(Prospect, row.prospect_id) if row.prospect_id else None
        who = (prospect.email or f"prospect #{prospect.id}") if prospect else None
        out.print(
            f"prospect: {who} (#{row.prospect_id})"
            if who
            else f"prospect: none ({row.matched_by or 'no match'})"
        )
        if row.enrollment_id:
            out.print(f"enrollment: #{row.enrollment_id}")
        out.print("actions:")
        for line in row.data.get("actions") or ["(none)"]:
            out.print(f"  - {line}", markup=False)
        for step in row.data.get("history") or []:
            out.print(
                f"reclassified {step.get('at')} by {step.get('by')}: "
                f"{step.get('from')} → {step.get('to')}"
                f"; undone: {'; '.join(step.get('undone') or []) or 'nothing'}",
                markup=False,
            )
        if row.data.get("error"):
            out.print(f"[red]error:[/red] {row.data['error']}")


# --- reclassify --------------------------------------------------------------------------


@inbound_app.command("reclassify")
def reclassify_command(
    ctx: typer.Context,
    inbound_id: int = typer.Argument(..., help="The message's id (see `list`)."),
    kind: str = typer.Argument(
        ...,
        metavar="CLASS",
        help="The right class, e.g. human_reply, auto_reply, hard_bounce, delivered.",
    ),
    intent: str | None = typer.Option(
        None,
        "--intent",
        help="For human_reply: positive, negative, unsubscribe_request, referral, question, "
        "neutral.",
    ),
    return_date: str | None = typer.Option(
        None, "--return-date", help="For auto_reply: when they are back (YYYY-MM-DD)."
    ),
    by: str = typer.Option(
        "cli", "--by", help="Who corrects it (kept on the message and the event)."
    ),
) -> None:
    """Correct a classification: undo what the wrong class did, then apply the right one.

    Example: an out-of-office that stopped a sequence as a reply:
    `kadenz inbound reclassify 42 auto_reply --return-date 2026-03-16`.
    """
    from engine.inbound.reclassify import reclassify

    c = context.get(ctx)
    back = None
    if return_date:
        try:
            back = date.fromisoformat(return_date)
        except ValueError:
            raise InvalidInput(
                f"--return-date {return_date!r} is not a date (write YYYY-MM-DD)"
            ) from None
    result = reclassify(c.db, c.clock, inbound_id, kind, intent=intent, return_date=back, by=by)
    before = result.before + (f"/{result.before_intent}" if result.before_intent else "")
    after = result.after + (f"/{result.after_intent}" if result.after_intent else "")
    c.out.print(f"inbound #{result.inbound_id}: {before} → {after}")
    for line in result.undone:
        c.out.print(f"  undone: {line}")
    for line in result.actions:
        c.out.print(f"  done: {line}")


# --- poll --------------------------------------------------------------------------------


@inbound_app.command("poll")
def poll_command(
    ctx: typer.Context,
    mailbox: str | None = typer.Option(None, "--mailbox", help="Only this mailbox (its name)."),
) -> None:
    """Fetch new mail over IMAP from every mailbox with an imap_url, and ingest it.

    The password comes from the environment variable named by the mailbox's password_env.
    Checkpoints (UIDVALIDITY + last UID per folder) make a re-poll fetch only new mail.
    """
    from engine.inbound import poll

    c = context.get(ctx)
    if mailbox:
        reports = [poll.poll_mailbox(c.db, c.clock, _mailbox_id(c, mailbox))]
    else:
        reports = poll.poll_all(c.db, c.clock)
        if not reports:
            c.out.print("no mailbox has an imap_url (set one with `kadenz mailboxes`)")
    for report in reports:
        c.out.print(report.summary(), markup=False)
    if any(r.error for r in reports):
        raise typer.Exit(1)


# --- helpers -----------------------------------------------------------------------------


def _mailbox_id(c: context.Context, name: str) -> int:
    from engine.store.models import Mailbox

    with c.db.session() as s:
        found = s.scalars(select(Mailbox.id).where(Mailbox.name == name)).first()
    if found is None:
        raise NotFound(f"mailbox {name!r} does not exist (see `kadenz mailboxes list`)")
    return found


def _prospect_label(c: context.Context, prospect_id: int | None) -> str | None:
    from engine.store.models import Prospect

    if prospect_id is None:
        return None
    with c.db.session() as s:
        prospect = s.get(Prospect, prospect_id)
        return (prospect.email or f"prospect #{prospect_id}") if prospect else None
