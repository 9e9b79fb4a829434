"""The server's access log without secrets: unsubscribe tokens are in the URL path.

An unsubscribe link's token is a bearer credential for one person's opt-out (and names
their message), so `GET /u/u1.123.MAC` must not land in log files that many people read.
`RedactSecrets` rewrites the path uvicorn logs to `/u/[redacted]`, and any `token=` query
value too; `log_config()` is uvicorn's default logging config with the filter on the
access handler (`kadenz serve` passes it to uvicorn).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_SECRET_PATHS = re.compile(r"^(/u/)[^?#\s]+")
_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:token|csrf)=)[^&#\s]*", re.IGNORECASE)


def redact(path: str) -> str:
    path = _SECRET_PATHS.sub(r"\1[redacted]", path)
    return _SECRET_QUERY.sub(r"\1[redacted]", path)


class RedactSecrets(logging.Filter):
    """For uvicorn.access records: args are (client, method, path, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    config["handlers"]["access"]["filters"] = ["redact_secrets"]
    return config
