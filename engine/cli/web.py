"""CLI: `kadenz serve` (API + dashboard), `kadenz token …` and `kadenz webhook …`."""

from __future__ import annotations

import typer
from rich.table import Table

from engine.cli import context
from engine.errors import InvalidInput
from engine.people import users
from engine.workspace import tokens, webhooks

token_app = typer.Typer(
    help="API tokens (for the REST API and the dashboard login).", no_args_is_help=True
)
webhook_app = typer.Typer(
    help="Outgoing webhooks (signed HTTP POSTs on replies, bounces, …).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add `serve`, `token` and `webhook` to the root app."""
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
    app.add_typer(webhook_app, name="webhook")


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to bind (default: local only)."
    ),
    port: int = typer.Option(8025, "--port", help="TCP port."),
) -> None:
    """Run the REST API, the dashboard and the unsubscribe pages with uvicorn.

    Open http://127.0.0.1:8025/ and log in with a token from `kadenz token create`.
    The OpenAPI description is at /openapi.json, a readable list at /docs.
    """
    import uvicorn

    from engine.api import access_log
    from engine.api.app import create_app

    c = context.get(ctx)
    app = create_app(c.db, c.settings, c.clock)
    c.err.print(f"Kadenz on http://{host}:{port}/ (API docs: /docs, OpenAPI: /openapi.json)")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
        log_config=access_log.log_config(),  # unsubscribe tokens never reach the log
    )


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. hubspot-sync."),
    role: str | None = typer.Option(
        None, "--role", help="sdr | growth | manager | admin (docs/api.md); default: the user's."
    ),
    user: str | None = typer.Option(
        None, "--user", help="The user it belongs to (kadenz user list): an SDR sees their own."
    ),
    owner: str | None = typer.Option(None, "--owner", help="Same as --user (older name)."),
) -> None:
    """Create a token and print it ONCE (only its sha256 hash is stored).

    Example: kadenz token create --name maria-laptop --user maria
    """
    c = context.get(ctx)
    who = user or owner
    with c.db.session() as s:
        directory = users.Directory.load(s)
        if who and directory:
            found = directory.match(who)
            if found is None:
                raise InvalidInput(f"--user {who!r} is not a user (see: kadenz user list)")
            who, role = found.name, role or found.role
        if role is None:
            raise InvalidInput("--role is required (sdr, growth, manager or admin)")
        row, secret = tokens.create(s, name=name, role=role, owner=who, at=c.clock.now())
        token_id = row.id
    c.err.print(f"created token #{token_id} {name!r} (role {role}); it is shown only now:")
    print(secret)


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List tokens (their prefix, never the token)."""
    c = context.get(ctx)
    table = Table("id", "name", "role", "owner", "prefix", "created", "last used", "revoked")
    with c.db.session() as s:
        for t in tokens.list_tokens(s):
            table.add_row(
                str(t.id),
                t.name,
                t.role,
                t.owner or "",
                t.prefix + "…",
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "",
                f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
            )
    c.print_table(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context, token: str = typer.Argument(..., help="The token's name or id.")
) -> None:
    """Revoke a token: the API and dashboard refuse it from now on."""
    c = context.get(ctx)
    with c.db.session() as s:
        row = tokens.revoke(s, token, c.clock.now())
        c.out.print(f"revoked token #{row.id} {row.name!r}")


@webhook_app.command("add")
def webhook_add(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="https:// URL that receives the POSTs."),
    events: str = typer.Option(
        ",".join(webhooks.KINDS),
        "--events",
        help=f"Comma-separated kinds: {', '.join(webhooks.KINDS)}.",
    ),
) -> None:
    """Add a webhook; prints the signing secret once (X-Kadenz-Signature: t=…,v1=…)."""
    c = context.get(ctx)
    kinds = [k.strip() for k in events.split(",") if k.strip()]
    with c.db.session() as s:
        hook = webhooks.add(s, url, kinds, at=c.clock.now())
        c.err.print(f"webhook #{hook.id} → {hook.url} for {', '.join(hook.events)}; secret:")
        print(hook.secret)


@webhook_app.command("list")
def webhook_list(ctx: typer.Context) -> None:
    """List webhooks and their delivery counts."""
    c = context.get(ctx)
    table = Table("id", "url", "events", "active", "delivered", "pending", "failed")
    with c.db.session() as s:
        for hook, counts in webhooks.list_hooks(s):
            table.add_row(
                str(hook.id),
                hook.url,
                ",".join(hook.events),
                "yes" if hook.active else "no",
                str(counts.get("delivered", 0)),
                str(counts.get("pending", 0)),
                str(counts.get("failed", 0)),
            )
    c.print_table(table)


@webhook_app.command("remove")
def webhook_remove(ctx: typer.Context, webhook_id: int = typer.Argument(...)) -> None:
    """Deactivate a webhook (its delivery log is kept)."""
    c = context.get(ctx)
    with c.db.session() as s:
        webhooks.deactivate(s, webhook_id)
    c.out.print(f"webhook #{webhook_id} deactivated")
