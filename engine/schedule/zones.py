"""Which timezone a prospect's local send time is read in, and checking timezone names."""

from __future__ import annotations

import difflib
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC_ZONE = ZoneInfo("UTC")
# Files in the tz database that are not places: accepting them would make a prospect's
# time depend on the server's configuration.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _known_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=1024)
def _load(name: str) -> ZoneInfo | None:
    if not name or name in _NOT_PLACES:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def validate_timezone(name: str) -> str | None:
    """None if `name` is an IANA timezone (Europe/Berlin), else the error with its fix."""
    if _load(name.strip()) is not None:
        return None
    close = difflib.get_close_matches(name.strip(), _known_names(), n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in _known_names()}
        close = [lowered[name.strip().lower()]] if name.strip().lower() in lowered else []
    hint = f"did you mean {close[0]}? " if close else ""
    return (
        f"unknown timezone {name!r} ({hint}use an IANA name such as Europe/Berlin, "
        "America/New_York or UTC)"
    )


def resolve_timezone(
    prospect_tz: str | None, sequence_tz: str | None, mailbox_tz: str | None
) -> tuple[ZoneInfo, str]:
    """The first valid of prospect, sequence fallback, mailbox; else UTC. Also says which.

    An invalid name (a typo in a CSV import) is skipped rather than fatal: the prospect is
    still reachable in the next source's timezone; validation reports the typo separately.
    """
    for source, name in (
        ("prospect", prospect_tz),
        ("sequence", sequence_tz),
        ("mailbox", mailbox_tz),
    ):
        zone = _load(name.strip()) if name else None
        if zone is not None:
            return zone, source
    return UTC_ZONE, "default"


_ZONES: dict[str, str] = {}


def timezone_name(value: str) -> str | None:
    """The IANA zone name if `value` is one (case-insensitive), else None."""
    text = value.strip()
    try:
        ZoneInfo(text)
        return text
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    if not _ZONES:
        _ZONES.update({z.lower(): z for z in available_timezones()})
    return _ZONES.get(text.lower().replace(" ", "_"))
