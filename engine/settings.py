"""Typed settings, loaded once at the edge (CLI, worker, API) and passed inward.

Sources, in order of precedence: explicit keyword arguments, environment variables
(`KADENZ_…`), a `.env` file in the current directory, then the defaults below.
Nothing reads the environment at import time.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KADENZ_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    home: Path = Field(
        default=Path(".kadenz"), description="Workspace folder (SQLite file, secret key)."
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in `home`.")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Broker and rate limiter."
    )
    broker_url: str = Field(
        default="", description="Celery broker (a Redis database of its own); default: redis_url."
    )
    redis_prefix: str = Field(
        default="kadenz:", description="Prefix of every Redis key Kadenz writes (caps, locks)."
    )
    secret_key: str = Field(default="", description="HMAC key for unsubscribe tokens and webhooks.")
    public_url: str = Field(
        default="http://127.0.0.1:8025",
        description="Base URL that recipients' unsubscribe links use.",
    )
    postal_address: str = Field(
        default="", description="Sender postal address for the email footer."
    )
    message_id_domain: str = Field(
        default="", description="Domain for Message-IDs; default: each mailbox's own domain."
    )
    tick_seconds: float = Field(default=5.0, gt=0, description="How often `kadenz run` ticks.")
    poll_seconds: float = Field(default=60.0, gt=0, description="How often mailboxes are polled.")
    inbound_dark_minutes: float = Field(
        default=30.0,
        ge=0,
        description="Pause a mailbox's sending when its IMAP inbox could not be read for this "
        "long (replies unseen must not keep sequences going); lifted by the next good poll. "
        "0: never pause.",
    )
    idle: bool = Field(
        default=True,
        description="Watch each inbox with IMAP IDLE where the server offers it, so replies "
        "are read within seconds; polling stays the fallback.",
    )
    idle_seconds: float = Field(
        default=1500.0,
        gt=0,
        le=1740,
        description="Renew IDLE after this long (RFC 2177: servers may end it after 29 minutes).",
    )
    batch_size: int = Field(default=500, gt=0, description="Enrollments claimed per tick batch.")
    send_batch: int = Field(
        default=50,
        gt=0,
        description="Messages claimed at a time, by a worker's send task and by `kadenz run`.",
    )
    send_tasks: int = Field(
        default=2,
        ge=1,
        description="Send tasks the workers' dispatch spreads the due mailboxes over (each "
        "streams its share on one process); about half the worker processes of the cluster.",
    )
    tick_parallel: int = Field(
        default=1,
        ge=1,
        description="Tick tasks that may run at once across all workers; the rest send.",
    )
    send_lease_seconds: int = Field(
        default=300, gt=0, description="A message in `sending` longer than this is resolved."
    )
    sent_proof_grace_seconds: int = Field(
        default=1800,
        ge=300,
        description=(
            "An ambiguous message whose copy is not in the Sent folder of a provider that "
            "files every submission is planned again after this long (docs/sending.md)."
        ),
    )
    dns_nameservers: str = Field(
        default="",
        description="DNS servers for domain checks, comma-separated `host` or `host:port`; "
        "default: the system's resolver.",
    )
    dns_timeout: float = Field(default=5.0, gt=0, description="Seconds a DNS lookup may take.")
    domain_check_hours: float = Field(
        default=6.0,
        gt=0,
        description="How old a sending domain's DNS check may be before the sender re-checks it.",
    )
    dkim_keys_dir: str = Field(
        default="",
        description="Where `kadenz domain add` keeps generated DKIM keys; default: `home`/dkim.",
    )
    timezone: str = Field(
        default="UTC", description='The team\'s IANA timezone: where "today" in the SDR queue ends.'
    )
    calendly_signing_key: str = Field(
        default="", description="Calendly webhook signing key (enables POST /hooks/calendly)."
    )
    calcom_webhook_secret: str = Field(
        default="", description="Cal.com webhook secret (enables POST /hooks/calcom)."
    )
    booking_webhook_secret: str = Field(
        default="", description="Secret of the generic booking webhook (POST /hooks/booking)."
    )

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers(cls, value: str) -> str:
        for item in filter(None, (v.strip() for v in value.split(","))):
            host, port = item, "53"
            if item.startswith("["):
                host, _, rest = item[1:].partition("]")
                port = rest.lstrip(":") or "53"
            elif item.count(":") == 1:
                host, _, port = item.partition(":")
            try:
                ipaddress.ip_address(host)
                if not 0 < int(port) < 65536:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address with an optional port (e.g. 10.0.0.53 or "
                    "127.0.0.1:5353)"
                ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone (e.g. Europe/Berlin)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'kadenz.db').as_posix()}"
        return self

    def resolved_secret_key(self) -> str:
        """The configured secret key, or one generated once and kept in the workspace."""
        if self.secret_key:
            return self.secret_key
        path = self.home / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


def load_settings(**overrides: object) -> Settings:
    """Load settings from the environment; a bad value is a ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "KADENZ_" + "__".join(str(p).upper() for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")  # pydantic's validator prefix
        raise ConfigError(f"{name}: {message}") from None
