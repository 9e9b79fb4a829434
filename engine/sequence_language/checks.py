"""Validate-time template checks: files exist, Jinja parses, variables are known.

Template files report at their own line (`templates/intro.md.j2:3:1: …`); inline texts
(subjects, bodies, call titles) report at their place in the YAML.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import TemplateSyntaxError

from engine.errors import Diagnostic
from engine.sequence_language import variables, yamldoc
from engine.sequence_language.model import CallStep, EmailStep, TaskStep
from engine.sequence_language.render import environment
from engine.sequence_language.yamldoc import Loc


class TemplateChecker:
    def __init__(
        self, *, file: str, tree: Any, templates_dir: Path, display: Callable[[Path], str]
    ) -> None:
        self.file = file
        self.tree = tree
        self.templates_dir = templates_dir
        self.display = display
        self.env = environment()
        self.diagnostics: list[Diagnostic] = []
        self.used: dict[str, str] = {}  # template name -> source, for the version snapshot
        self._checked: set[str] = set()

    # --- steps --------------------------------------------------------------------------

    def check_step(self, loc: Loc, step: Any) -> None:
        if isinstance(step, EmailStep):
            self._email(loc, step)
        elif isinstance(step, CallStep | TaskStep):
            self.check_inline((*loc, "title"), step.title, "title", one_line=True)
            if step.notes is not None:
                self.check_inline((*loc, "notes"), step.notes, "notes")

    def _email(self, loc: Loc, step: EmailStep) -> None:
        sources: list[tuple[Loc, str, str]] = []  # (loc, kind, value)
        if step.subject is not None:
            sources.append(((*loc, "subject"), "subject", step.subject))
        if step.template is not None:
            sources.append(((*loc, "template"), "template", step.template))
        if step.body is not None:
            sources.append(((*loc, "body"), "body", step.body))
        for name, variant in (step.variants or {}).items():
            vloc = (*loc, "variants", name)
            for kind in ("subject", "template", "body"):
                value = getattr(variant, kind)
                if value is not None:
                    sources.append(((*vloc, kind), kind, value))
        for where, kind, value in sources:
            if kind == "template":
                self.check_file(where, value)
            else:
                self.check_inline(where, value, kind, one_line=kind == "subject")

    # --- inline texts -------------------------------------------------------------------

    def check_inline(
        self,
        loc: Loc,
        source: str,
        what: str,
        *,
        one_line: bool = False,
        also: tuple[str, ...] = (),
    ) -> None:
        base = yamldoc.position(self.tree, loc)
        block = yamldoc.scalar_style(self.tree, loc) in ("|", ">")

        def at(line: int) -> tuple[int, int]:
            if line <= 1 and not block:
                return base.line, base.column
            return base.line + line - (0 if block else 1), base.column

        if one_line and any(c in source.strip() for c in "\r\n\0"):
            self._add(self.file, *at(1), f"the {what} must be one line", "remove the line break")
        try:
            analysis = variables.analyse(self.env, source)
        except TemplateSyntaxError as exc:
            self._add(self.file, *at(exc.lineno), f"template syntax in {what}: {exc.message}")
            return
        for use in analysis.required():
            message = variables.unknown_variable_message(use, also)
            if message:
                self._add(self.file, *at(use.line), message)
        for name in sorted(analysis.includes):
            self.check_file(loc, name)

    # --- template files -----------------------------------------------------------------

    def check_file(self, loc: Loc, name: str) -> None:
        """A template named in the YAML at `loc` (or included by another template)."""
        pos = yamldoc.position(self.tree, loc)
        posix = PurePosixPath(name)
        if posix.is_absolute() or ".." in posix.parts or "\\" in name or not name.strip():
            self._add(
                self.file,
                pos.line,
                pos.column,
                f"template name {name!r} must be a file name inside templates/",
                "write e.g. `template: intro.md.j2`",
            )
            return
        if name in self._checked:
            return
        path = self.templates_dir / name
        if not path.is_file():
            existing = (
                sorted(
                    str(p.relative_to(self.templates_dir))
                    for p in self.templates_dir.rglob("*")
                    if p.is_file()
                )
                if self.templates_dir.is_dir()
                else []
            )
            stems = {e.split(".")[0]: e for e in existing}
            close = [
                stems[c]
                for c in difflib.get_close_matches(name.split(".")[0], stems, n=1, cutoff=0.7)
            ]
            fix = (
                f"did you mean {close[0]!r}?"
                if close
                else f"create {self.display(path)}"
                + ("" if self.templates_dir.is_dir() else " (the folder does not exist)")
            )
            self._add(
                self.file,
                pos.line,
                pos.column,
                f"template {name!r} not found in {self.display(self.templates_dir)}/",
                fix,
            )
            return
        self._checked.add(name)
        shown = self.display(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._add(shown, 1, 1, f"cannot read template: {exc}", "save it as UTF-8")
            return
        self.used[name] = source
        try:
            analysis = variables.analyse(self.env, source)
        except TemplateSyntaxError as exc:
            self._add(shown, exc.lineno or 1, 1, f"template syntax: {exc.message}")
            return
        for use in analysis.required():
            message = variables.unknown_variable_message(use)
            if message:
                self._add(shown, use.line, 1, message)
        for include in sorted(analysis.includes):
            self.check_file(loc, include)

    def _add(self, file: str, line: int, column: int, message: str, fix: str = "") -> None:
        self.diagnostics.append(Diagnostic(file, line, column, message, fix))
