"""What a template needs: which variables it reads, and which reads are guarded.

A read is guarded when it has a default (`{{ x | default("there") }}`) or the template asks
`x is defined` somewhere. Unguarded reads must be in the prospect's context, or the render
fails (StrictUndefined) and the enrollment pauses instead of sending "Hi ,".
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

# The documented template context (docs/templates.md). `custom` holds custom fields.
PROSPECT_VARIABLES = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "company",
    "title",
    "phone",
    "timezone",
    "country",
    "region",
    "owner",
    "custom",
    "sender",
)
SENDER_VARIABLES = ("name", "first_name", "email", "signature", "booking_link")
# What a rule's task title sees besides the prospect: from the reply that triggered it.
REPLY_VARIABLES = ("referral", "subject")
_GUARD_FILTERS = frozenset({"default", "d"})
_GUARD_TESTS = frozenset({"defined", "undefined", "none"})

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Use:
    path: Path  # ("first_name",) or ("custom", "plan")
    line: int  # within the template source, 1-based
    guarded: bool

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(slots=True)
class Analysis:
    uses: list[Use] = field(default_factory=list)
    defined_checks: set[Path] = field(default_factory=set)
    includes: set[str] = field(default_factory=set)

    def required(self) -> list[Use]:
        """Reads without a default or an `is defined` guard."""
        return [
            u
            for u in self.uses
            if not u.guarded and not any(u.path[: len(p)] == p for p in self.defined_checks)
        ]


def analyse(env: SandboxedEnvironment, source: str) -> Analysis:
    """Parse and analyse; raises jinja2.TemplateSyntaxError on bad syntax."""
    ast = env.parse(source)
    free = meta.find_undeclared_variables(ast) - set(env.globals)
    analysis = Analysis()
    analysis.includes = {n for n in meta.find_referenced_templates(ast) if n is not None}
    _walk(ast, free, analysis, guarded=False)
    return analysis


def _path(node: nodes.Node) -> Path | None:
    if isinstance(node, nodes.Name):
        return (node.name,)
    if isinstance(node, nodes.Getattr):
        inner = _path(node.node)
        return None if inner is None else (*inner, node.attr)
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        inner = _path(node.node)
        return None if inner is None else (*inner, node.arg.value)
    return None


def _walk(node: nodes.Node, free: set[str], out: Analysis, *, guarded: bool) -> None:
    if isinstance(node, nodes.Filter) and node.name in _GUARD_FILTERS and node.node is not None:
        _walk(node.node, free, out, guarded=True)
        for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
            _walk(arg, free, out, guarded=guarded)
        return
    if isinstance(node, nodes.Test) and node.name in _GUARD_TESTS:
        path = _path(node.node)
        if path is not None:
            out.defined_checks.add(path)
            return
    path = _path(node)
    if path is not None and isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        if path[0] in free and getattr(node, "ctx", "load") == "load":
            out.uses.append(Use(path[:2], node.lineno, guarded))
        return
    for child in node.iter_child_nodes():
        _walk(child, free, out, guarded=guarded)


def unknown_variable_message(use: Use, also: tuple[str, ...] = ()) -> str | None:
    """Why an unguarded read is not in the documented context (plus `also`), or None."""
    root = use.path[0]
    if root == "sender":
        if len(use.path) > 1 and use.path[1] not in SENDER_VARIABLES:
            known = [f"sender.{n}" for n in SENDER_VARIABLES]
            close = difflib.get_close_matches(use.name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return f"unknown template variable {use.name!r} ({hint}known: {', '.join(known)})"
        return None
    if root in PROSPECT_VARIABLES or root in also:
        return None
    return _unknown(use.name, [*PROSPECT_VARIABLES, *also])


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"unknown template variable {name!r} ({hint}for a custom field write "
        f"{{{{ custom.{name.split('.')[-1]} }}}}, or give a default: "
        f'{{{{ {name} | default("…") }}}})'
    )


def missing(analysis: Analysis, context: Mapping[str, Any]) -> list[str]:
    """Names the template reads without a guard that `context` does not provide."""
    names: list[str] = []
    for use in analysis.required():
        value: Any = context
        for part in use.path:
            if isinstance(value, Mapping) and part in value and value[part] is not None:
                value = value[part]
            else:
                if use.name not in names:
                    names.append(use.name)
                break
    return names
