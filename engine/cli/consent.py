"""CLI: `kadenz consent validate|push|show|record` — who may be emailed, by jurisdiction."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli import context
from engine.people import consent, consent_records

app = typer.Typer(
    name="consent",
    help="Consent by jurisdiction: the workspace policy and each prospect's recorded consent. "
    "See docs/compliance.md (not legal advice).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.add_typer(app)


PolicyFile = Annotated[
    Path, typer.Argument(help="A YAML file with a `consent:` section, e.g. policies/consent.yaml")
]


def _describe(c: context.Context, policy: consent.Policy) -> None:
    c.out.print(f"default: {policy.default.value}")
    for code, rule in sorted(policy.countries.items()):
        c.out.print(f"{code}: {rule.value}")
    c.out.print(f"without consent: {policy.without_consent.value}")
    postal = "all" if "*" in policy.postal_address else ", ".join(sorted(policy.postal_address))
    c.out.print(f"postal address required for: {postal or 'none'}")


@app.command("validate")
def validate(ctx: typer.Context, path: PolicyFile) -> None:
    """Check a consent policy file without changing anything.

    Example: kadenz consent validate policies/consent.yaml
    """
    c = context.get(ctx)
    policy, _ = consent_records.read_file(path)
    c.out.print(f"{path}: valid")
    _describe(c, policy)


@app.command("push")
def push(ctx: typer.Context, path: PolicyFile) -> None:
    """Make a consent policy the workspace's (the sender checks it before every email).

    Example: kadenz consent push policies/consent.yaml
    """
    c = context.get(ctx)
    with c.db.session() as session:
        policy = consent_records.push(session, path, c.clock.now())
    c.out.print(f"consent policy pushed from {path}")
    _describe(c, policy)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the workspace's consent policy. Example: kadenz consent show"""
    c = context.get(ctx)
    with c.db.session() as session:
        policy = consent_records.load(session)
    if policy is None:
        c.out.print("no consent policy pushed: no email is held for consent")
        c.out.print("(push one: kadenz consent push policies/consent.yaml)")
        return
    _describe(c, policy)


@app.command("record")
def record(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The prospect's email.")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="Where consent was given, e.g. webinar-2026-03, form:demo"),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="When it was given, YYYY-MM-DD (default: today).")
    ] = None,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Remove the recorded consent.")
    ] = False,
) -> None:
    """Record a prospect's consent to be emailed (or --withdraw it).

    Emails held for missing consent go at the next send round.

    Example: kadenz consent record erik@acme.example --source webinar-2026-03 --date 2026-03-12
    """
    c = context.get(ctx)
    now = c.clock.now()
    given = None if withdraw else consent.parse_date(date, "--date") if date else now.date()
    with c.db.session() as session:
        prospect = consent_records.record(
            session, email, source=None if withdraw else source, given=given, at=now
        )
        shown = prospect.email
    if given is None:
        c.out.print(f"consent of {shown} withdrawn")
    else:
        c.out.print(f"consent of {shown} recorded: {given} ({source})")
