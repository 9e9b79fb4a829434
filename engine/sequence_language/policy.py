"""The workspace policy file: contact limits that hold across every sequence. Pure.

```yaml
contact_limits:
  per_person: {emails: 1, per: 2 business days}
  per_account: {people: 3, per: 1 week}     # account = company domain, free-mail excluded
concurrent_sequences_per_person: 1
```

Loaded like a sequence file (same YAML reader, FILE:LINE:COL diagnostics, every problem at
once). Reference: docs/policy.md.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from engine.errors import Diagnostic, SpecError
from engine.sequence_language import types as t
from engine.sequence_language import yamldoc


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class PerPerson(_Model):
    emails: int = Field(ge=1, le=1000, examples=[1])
    """At most this many emails to one person, from all sequences together…"""
    per: t.DurationField = Field(examples=["2 business days"])
    """…within this long (counted like a sequence wait, in the prospect's time)."""


class PerAccount(_Model):
    people: int = Field(ge=1, le=10000, examples=[3])
    """At most this many different people at one company (email domain) emailed…"""
    per: t.DurationField = Field(examples=["1 week"])
    """…within this long. Free-mail domains (gmail.com, …) are never one company."""
    free_mail_domains: list[str] = Field(default_factory=list, examples=[["example-mail.com"]])
    """Extra domains to treat as free-mail (besides the built-in list)."""

    @field_validator("free_mail_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        out = []
        for domain in value:
            clean = domain.strip().lstrip("@").lower()
            if "." not in clean or " " in clean:
                raise ValueError(f"{domain!r} is not a domain (write e.g. example-mail.com)")
            out.append(clean)
        return out


class ContactLimits(_Model):
    per_person: PerPerson | None = None
    per_account: PerAccount | None = None


class WorkspacePolicy(_Model):
    """The workspace policy file."""

    contact_limits: ContactLimits = Field(default_factory=ContactLimits)
    concurrent_sequences_per_person: int | None = Field(default=None, ge=1, le=100)
    """A person may be live in at most this many sequences at once (more are refused)."""


@dataclass(frozen=True)
class LoadedPolicy:
    path: Path
    source: str
    policy: WorkspacePolicy
    content_hash: str


def policy_from_json(data: dict[str, Any]) -> WorkspacePolicy:
    return WorkspacePolicy.model_validate(data)


def load_policy(path: Path) -> LoadedPolicy:
    """Load and validate a policy file; SpecError with every problem, FILE:LINE:COL."""
    file = str(path)
    source, data, tree = yamldoc.read_document(Path(path), file)
    if not isinstance(data, dict):
        raise SpecError(
            [Diagnostic(file, 1, 1, "a policy file is a mapping",
                        "start with `contact_limits:` (see docs/policy.md)")]
        )  # fmt: skip
    try:
        policy = WorkspacePolicy.model_validate(data)
    except ValidationError as exc:
        found = [_diagnostic(e, file, tree) for e in exc.errors()]
        raise SpecError(sorted(dict.fromkeys(found), key=lambda d: (d.line, d.column))) from None
    digest = hashlib.sha256(source.encode()).hexdigest()
    return LoadedPolicy(Path(path), source, policy, digest)


def _diagnostic(error: ErrorDetails, file: str, tree: Any) -> Diagnostic:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "the file"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        known = _known(loc[:-1])
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        pos = yamldoc.position(tree, loc, key=True)
        parent = ".".join(str(p) for p in loc[:-1]) or "the file"
        return Diagnostic(file, pos.line, pos.column, f"unknown key {key!r} in {parent}", fix)
    if error["type"] == "missing":
        pos = yamldoc.position(tree, loc[:-1])
        parent = ".".join(str(p) for p in loc[:-1]) or "the file"
        example = {"emails": "emails: 1", "people": "people: 3", "per": "per: 2 business days"}
        fix = f"add e.g. `{example.get(str(loc[-1]), str(loc[-1]) + ': …')}`"
        return Diagnostic(file, pos.line, pos.column, f"{parent} is missing `{loc[-1]}`", fix)
    pos = yamldoc.position(tree, loc)
    got = error.get("input")
    shown = (
        "" if isinstance(got, dict | list) or error["type"] == "value_error" else f" (got {got!r})"
    )
    return Diagnostic(
        file, pos.line, pos.column, f"{where}: {message[0].lower()}{message[1:]}{shown}"
    )


def _known(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = WorkspacePolicy
    for part in loc:
        field = model.model_fields.get(str(part))
        inner = getattr(field, "annotation", None) if field else None
        candidates = [a for a in getattr(inner, "__args__", (inner,)) if isinstance(a, type)]
        found = next((a for a in candidates if issubclass(a, BaseModel)), None)
        if found is None:
            return []
        model = found
    return list(model.model_fields)
