"""Turning pydantic's validation errors into compiler-style diagnostics a person can act on."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from engine.errors import Diagnostic
from engine.sequence_language import model, yamldoc
from engine.sequence_language.yamldoc import Loc

_STEP_MODELS: dict[str, type[BaseModel]] = {
    "email": model.EmailStep,
    "wait": model.WaitStep,
    "call": model.CallStep,
    "task": model.TaskStep,
}


def where(loc: Loc) -> str:
    """A readable path: steps[2].email.subject (the step id sits beside the type key)."""
    parts: list[str] = []
    items = list(loc)
    for i, part in enumerate(items):
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        is_tag = i >= 2 and items[i - 2] == "steps" and part in _STEP_MODELS
        if is_tag and i + 1 < len(items) and items[i + 1] == "id":
            continue
        parts.append(("." if parts else "") + part)
    return "".join(parts) or "the file"


def model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class a location points into (for the keys it accepts)."""
    current: Any = model.SequenceSpec
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, str) and current is _STEP_UNION:
            current = _STEP_MODELS.get(part)
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is list and isinstance(part, int):
            current = args[0]
        elif origin is dict and isinstance(part, str):
            current = args[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_STEP_UNION = object()


def _unwrap(tp: Any) -> Any:
    while True:
        if tp == model.Step:
            return _STEP_UNION
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def known_keys(loc: Loc) -> list[str]:
    found = model_at(loc)
    if found is None:
        return []
    return [name for name in found.model_fields if name != "type"]


def to_diagnostic(error: ErrorDetails, file: str, tree: Any, data: Any) -> Diagnostic:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, ") :]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = known_keys(loc[:-1])
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        pos = yamldoc.position(tree, loc, key=True)
        return Diagnostic(
            file, pos.line, pos.column, f"unknown key {key!r} in {where(loc[:-1])}", fix
        )
    if kind == "missing":
        name = str(loc[-1])
        if name == "id" and len(loc) == 4 and loc[0] == "steps":
            loc = loc[:2] + loc[3:]  # the id sits beside the type key, not under it
        pos = yamldoc.position(tree, loc[:-1], key=False)
        return Diagnostic(
            file, pos.line, pos.column, f"{where(loc[:-1])} is missing `{name}`", _missing_fix(name)
        )
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        pos = yamldoc.position(tree, loc)
        raw = _get(data, loc)
        keys = [str(k) for k in raw] if isinstance(raw, dict) else []
        guesses = [
            g for k in keys if k != "id" for g in difflib.get_close_matches(k, model.STEP_TYPES, 1)
        ]
        present = [k for k in keys if k in model.STEP_TYPES]
        if len(present) > 1:
            message = f"{where(loc)} has several step types ({', '.join(present)})"
            fix = "write one step per list item: `- id: x` then `email:` or `call:` …"
        else:
            shown = f" (it has {', '.join(repr(k) for k in keys)})" if keys else ""
            message = f"{where(loc)} has no step type{shown}"
            fix = (f"did you mean {guesses[0]!r}? " if guesses else "") + (
                "a step is one of `email:`, `wait:`, `call:` or `task:`"
            )
        return Diagnostic(file, pos.line, pos.column, message, fix)
    pos = yamldoc.position(tree, loc)
    if kind not in ("value_error", "assertion_error"):
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        message = re.sub(r" or instance of \w+", "", message)
        message = f"{message[0].lower()}{message[1:]}{shown}"
    return Diagnostic(file, pos.line, pos.column, f"{where(loc)}: {message}")


def _missing_fix(name: str) -> str:
    examples = {
        "key": "add `key: my-sequence`, a stable id",
        "name": "add `name: A readable name`",
        "steps": "add `steps:` with at least one email, call or task",
        "id": "add `id: intro`; steps need stable ids so live sequences can be edited",
        "title": "add `title: Call {{ first_name }}`",
        "when": "add `when: {reply: positive}`",
        "then": "add `then: {stop: true}`",
        "at": "add `at: 100`",
    }
    return examples.get(name, f"add `{name}:`")


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:  # noqa: SIM114 (mypy narrows part to int below)
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        elif isinstance(part, str) and part in _STEP_MODELS:
            continue
        else:
            return None
    return data
