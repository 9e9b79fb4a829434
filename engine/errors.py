"""One exception root, split by layer.

User mistakes (a bad YAML file, a bad CSV row, an unknown prospect) are `KadenzError`s whose
message names where the problem is and how to fix it; the CLI prints them on one line and
exits non-zero, never with a traceback. Configuration errors are separate (`ConfigError`) so a
broad `except KadenzError` can never swallow a broken installation.
"""

from __future__ import annotations

from dataclasses import dataclass


class ConfigError(Exception):
    """The installation or workspace is misconfigured (settings, env vars, database URL)."""


class KadenzError(Exception):
    """Base of every error that is the user's to fix, with a message that says how."""


class NotFound(KadenzError):
    """A named thing (prospect, sequence, mailbox, message) does not exist."""


class InvalidInput(KadenzError):
    """A value given on the command line or through the API is not acceptable."""


class Conflict(KadenzError):
    """The request contradicts the current state (e.g. enrolling an already active prospect)."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one file, compiler style: FILE:LINE:COL: message (fix)."""

    file: str
    line: int
    column: int
    message: str
    fix: str = ""

    def __str__(self) -> str:
        tail = f" ({self.fix})" if self.fix else ""
        return f"{self.file}:{self.line}:{self.column}: {self.message}{tail}"


class SpecError(KadenzError):
    """A sequence file (or its templates) is invalid. Carries every diagnostic, not just one."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))
