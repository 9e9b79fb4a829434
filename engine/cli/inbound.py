"""CLI: `kadenz inbound …` — inbound mail. `classify` is stateless: files in, verdicts out."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.tracking.classify import classify
from engine.tracking.types import Classification, InboundClass

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
