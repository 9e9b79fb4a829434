"""CLI: `kadenz domain …` (DKIM keys, DNS checks) and `kadenz consent …` (consent by
jurisdiction) — what decides whether an email may leave, docs/deliverability.md and
docs/compliance.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine.cli import context
from engine.mail import dkim
from engine.people import consent, consent_records
from engine.workspace import domain_checks, domains
from engine.workspace.domains import Added, KeySource

domain_app = typer.Typer(
    name="domain",
    help="Sending domains: DKIM keys (with rotation) and DNS checks (SPF, DKIM, DMARC, MX).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.add_typer(domain_app)
    root.add_typer(consent_app)


Domain = Annotated[str, typer.Argument(help="The domain of your From addresses, e.g. acme.example")]
KeyFile = Annotated[
    str | None,
    typer.Option(
        "--key-file",
        help="Use this RSA private key (PEM, mode 0600) instead of generating one; the file "
        "stays where it is.",
    ),
]
KeyEnv = Annotated[
    str | None,
    typer.Option(
        "--key-env",
        help="NAME of an environment variable holding the PEM key (for clusters: set it on "
        "every sending process).",
    ),
]


def _print_record(c: context.Context, added: Added) -> None:
    c.out.print(f"DKIM key {added.selector} for {added.domain} ({added.state}), kept in "
                f"{added.stored_at}")  # fmt: skip
    c.out.print("publish this DNS TXT record:")
    c.out.print(f"  name:  {added.record_name}")
    c.out.print(f"  value: {added.record_value}")
    c.out.print("zone-file form:")
    c.out.print(f"  {added.zone_line}")


@domain_app.command("add")
def add(
    ctx: typer.Context,
    domain: Domain,
    selector: Annotated[
        str | None, typer.Option("--selector", help="DKIM selector (default: kYYYYMM).")
    ] = None,
    key_file: KeyFile = None,
    key_env: KeyEnv = None,
) -> None:
    """Register a sending domain; generate its DKIM key and print the DNS record to publish.

    Every email from this domain (or a subdomain) is signed from now on. The generated key is
    written to KADENZ_HOME/dkim/DOMAIN/SELECTOR.pem with mode 0600; it never enters the
    database or a log.

    Example:

        kadenz domain add acme.example --selector k2026
        kadenz domain check acme.example          # after publishing the record
    """
    c = context.get(ctx)
    with c.db.session() as session:
        added = domains.add(
            session, c.settings, domain, at=c.clock.now(), selector=selector,
            source=KeySource(key_file, key_env),
        )  # fmt: skip
    _print_record(c, added)


@domain_app.command("rotate")
def rotate(
    ctx: typer.Context,
    domain: Domain,
    selector: Annotated[str, typer.Option("--selector", help="The NEW selector, e.g. k2027.")],
    key_file: KeyFile = None,
    key_env: KeyEnv = None,
) -> None:
    """Start a key rotation: a second, pending key under a new selector.

    Publish the printed record, wait for DNS, then `kadenz domain activate`. The old key signs
    until then; keep its record published a few days after, for mail in transit.

    Example: kadenz domain rotate acme.example --selector k2027
    """
    c = context.get(ctx)
    with c.db.session() as session:
        added = domains.rotate(
            session, c.settings, domain, at=c.clock.now(), selector=selector,
            source=KeySource(key_file, key_env),
        )  # fmt: skip
    _print_record(c, added)


@domain_app.command("activate")
def activate(
    ctx: typer.Context,
    domain: Domain,
    selector: Annotated[str, typer.Argument(help="The pending selector that should sign now.")],
    force: Annotated[
        bool, typer.Option("--force", help="Activate even if DNS does not serve the key yet.")
    ] = False,
) -> None:
    """Finish a rotation: the pending key signs from now on, the old one retires.

    Refused while DNS does not serve the new key (receivers would fail every signature),
    unless --force. Example: kadenz domain activate acme.example k2027
    """
    c = context.get(ctx)
    with c.db.session() as session:
        row = domains.get(session, domain)
        if not force:
            resolver = domain_checks.resolver_for(c.settings)
            key = next((k for k in domains.keys_of(session, row) if k.selector == selector), None)
            pending = key is not None and key.state == domains.PENDING
            if (
                key is not None
                and pending
                and not domain_checks.serves_key(resolver, row.domain, selector, key.public_key)
            ):
                c.err.print(
                    f"error: DNS does not serve the key of {selector}._domainkey.{row.domain} "
                    "yet; publish it (see `kadenz domain list`) and wait, or pass --force"
                )
                raise typer.Exit(1)
        domains.activate(session, domain, selector, at=c.clock.now())
    c.out.print(f"{selector} now signs for {row.domain}; keep the old record published a few days")


@domain_app.command("check")
def check(
    ctx: typer.Context,
    domain: Domain,
) -> None:
    """Check the domain's DNS: SPF covers our SMTP hosts, DKIM serves our key, DMARC, MX,
    From alignment. Exit code 1 when a hard check fails (sending from it is then refused).

    Example: kadenz domain check acme.example
    """
    c = context.get(ctx)
    resolver = domain_checks.resolver_for(c.settings)
    with c.db.session() as session:
        row, findings = domain_checks.check_and_store(session, resolver, domain, c.clock.now())
        status, override = row.check_status, row.override_reason
    for f in findings:
        fix = f"\n      fix: {f.fix}" if f.fix and f.level != domain_checks.OK else ""
        c.out.print(f"{f.level:8} {f.check:10} {f.message}{fix}")
    c.out.print(f"{row.domain}: {status}")
    if status == domain_checks.FAIL:
        if override:
            c.out.print(f"sending goes on anyway (overridden: {override})")
        else:
            c.out.print(
                f"sending from {row.domain} is refused until this passes "
                f"(or: kadenz domain override {row.domain} --reason …)"
            )
        raise typer.Exit(1)


@domain_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Sending domains, their keys (selector, state, where kept) and the last check."""
    c = context.get(ctx)
    with c.db.session() as session:
        rows = domains.list_all(session)
        if not rows:
            c.out.print("no sending domains yet (kadenz domain add DOMAIN)")
            return
        table = Table("domain", "selector", "state", "key kept in", "last check", "override")
        records: list[str] = []
        for row in rows:
            checked = (
                f"{row.check_status} {row.checked_at:%Y-%m-%d %H:%M}"
                if row.checked_at
                else row.check_status
            )
            for key in domains.keys_of(session, row):
                where = f"${key.key_env}" if key.key_env else (key.key_file or "-")
                table.add_row(
                    row.domain, key.selector, key.state, where, checked, row.override_reason or "-"
                )
                if key.state != domains.RETIRED:
                    records.append(dkim.zone_line(row.domain, key.selector, key.public_key))
        c.out.print(table)
        c.out.print("DNS records to publish (zone-file form):")
        for line in records:
            c.out.print(f"  {line}", markup=False)


@domain_app.command("override")
def override(
    ctx: typer.Context,
    domain: Domain,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why sending should go on despite failures.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Take the override back.")] = False,
) -> None:
    """Send from a domain although a hard DNS check fails (kept with its reason), or --clear.

    Example: kadenz domain override acme.example --reason "DMARC published, TTL pending"
    """
    c = context.get(ctx)
    if not clear and reason is None:
        c.err.print("error: give --reason (why sending should go on) or --clear")
        raise typer.Exit(1)
    with c.db.session() as session:
        row = domains.override(session, domain, None if clear else reason)
    if row.override_reason:
        c.out.print(f"{row.domain}: sending allowed despite failed checks ({row.override_reason})")
    else:
        c.out.print(f"{row.domain}: override removed; failed hard checks refuse sending again")


# --- consent ---------------------------------------------------------------------------------

consent_app = typer.Typer(
    name="consent",
    help="Consent by jurisdiction: the workspace policy and each prospect's recorded consent. "
    "See docs/compliance.md (not legal advice).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


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


@consent_app.command("validate")
def validate(ctx: typer.Context, path: PolicyFile) -> None:
    """Check a consent policy file without changing anything.

    Example: kadenz consent validate policies/consent.yaml
    """
    c = context.get(ctx)
    policy, _ = consent_records.read_file(path)
    c.out.print(f"{path}: valid")
    _describe(c, policy)


@consent_app.command("push")
def push(ctx: typer.Context, path: PolicyFile) -> None:
    """Make a consent policy the workspace's (the sender checks it before every email).

    Example: kadenz consent push policies/consent.yaml
    """
    c = context.get(ctx)
    with c.db.session() as session:
        policy = consent_records.push(session, path, c.clock.now())
    c.out.print(f"consent policy pushed from {path}")
    _describe(c, policy)


@consent_app.command("show")
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


@consent_app.command("record")
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
