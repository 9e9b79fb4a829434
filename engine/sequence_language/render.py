"""Rendering emails, call and task texts from a sequence version (docs/templates.md).

Jinja2 runs sandboxed with StrictUndefined: a variable the prospect lacks (and that has no
default) raises `MissingVariable`, so nobody is emailed "Hi ,". One render gives both parts:
every `{{ … }}` value is captured (via `finalize`) as a placeholder; the plain-text part reads
the Markdown as plain text and puts the raw values back, the HTML part converts it and escapes
each value.
Templates are compiled once per Renderer (one per sequence version) and cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import DictLoader, StrictUndefined, Template, TemplateNotFound, pass_context
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import KadenzError
from engine.sequence_language import markdown, template_limits, variables
from engine.sequence_language.model import EmailStep

_values: ContextVar[list[str] | None] = ContextVar("kadenz_render_values", default=None)
_HEADER_UNSAFE = re.compile(r"[\r\n\0\t]+")
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


class MissingVariable(KadenzError):
    """The prospect lacks data a template needs (and the template gives no default)."""

    def __init__(self, names: list[str], where: str = "") -> None:
        self.names = names
        self.where = where
        listed = ", ".join(names) or "a variable"
        super().__init__(
            f"missing {listed}{' in ' + where if where else ''} (fill it in on the prospect, "
            'or give the template a default: {{ first_name | default("there") }})'
        )


class RenderError(KadenzError):
    """A template failed for another reason than a missing variable (e.g. sandbox refusal)."""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str  # one line: no CR, LF or NUL (DESIGN invariant 6)
    text: str  # text/plain, as written
    html: str  # text/html fragment (paragraphs, lists, links); values escaped


@pass_context
def _capture(_ctx: Context, value: Any) -> str:
    sink = _values.get()
    text = "" if value is None else str(value)
    if sink is None:  # rendering outside `_render` (not expected): no placeholders
        return text
    sink.append(text)
    return markdown.slot(len(sink) - 1)


def environment(templates: Mapping[str, str] | None = None) -> SandboxedEnvironment:
    """The sandboxed environment every template is compiled in (also used to validate);
    with resource limits (template_limits): loops, repetition, filter widths, time."""
    return template_limits.LimitedSandbox(
        loader=DictLoader(dict(templates or {})),
        undefined=StrictUndefined,
        autoescape=False,  # values are escaped by the HTML conversion instead
        finalize=_capture,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Renderer:
    """Renders one sequence version's emails and texts. Not thread-safe to build, safe to use."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self.templates = dict(templates)
        self._env = environment(self.templates)
        self._compiled: dict[tuple[str, str], Template] = {}
        self._analyses: dict[tuple[str, str], variables.Analysis] = {}

    # --- public ---------------------------------------------------------------------------

    def render_email(
        self,
        step: EmailStep,
        variant: str,
        context: Mapping[str, Any],
        *,
        previous_subject: str | None = None,
    ) -> RenderedEmail:
        """Render one email. `previous_subject` (the subject actually sent by the previous
        email step) is needed for `thread: previous` steps without their own subject."""
        if variant not in step.variant_names():
            raise ValueError(f"step {step.id!r} has no variant {variant!r}: {step.variant_names()}")
        subject_src, template, body = step.parts(variant)
        if subject_src is not None:
            subject = self._render_line(subject_src, context, f"the subject of {step.id}")
        elif previous_subject is not None:
            subject = reply_subject(previous_subject)
        else:
            raise ValueError(f"step {step.id!r} threads on the previous email: pass its subject")
        key = ("file", template) if template is not None else ("inline", body or "")
        raw, values = self._render(key, context, where=f"step {step.id}")
        raw = _BLANK_RUNS.sub("\n\n", raw)  # conditionals leave blank lines: keep one
        text = markdown.to_text(raw, values).strip("\n") + "\n"
        html = markdown.to_html(raw, values)
        return RenderedEmail(subject=subject, text=text, html=html)

    def render_text(self, source: str, context: Mapping[str, Any]) -> str:
        """Render an inline text (call/task title and notes, rule task titles)."""
        raw, values = self._render(("inline", source), context, where="text")
        return markdown.strip_slots(raw, values).strip()

    def render_subject(self, source: str, context: Mapping[str, Any]) -> str:
        return self._render_line(source, context, "the subject")

    def missing_variables(
        self, source: EmailStep | str, context: Mapping[str, Any], variant: str | None = None
    ) -> list[str]:
        """Variables the step (every variant, or just `variant`) or text reads without a
        default that `context` lacks. Empty: it will render."""
        names: list[str] = []
        for key in self._keys(source, variant):
            for name in variables.missing(self._analysis(key), context):
                if name not in names:
                    names.append(name)
        return names

    # --- internals ------------------------------------------------------------------------

    def _keys(self, source: EmailStep | str, variant: str | None) -> list[tuple[str, str]]:
        if isinstance(source, str):
            return [("inline", source)]
        keys: list[tuple[str, str]] = []
        for name in [variant] if variant else source.variant_names():
            subject, template, body = source.parts(name)
            if subject is not None:
                keys.append(("inline", subject))
            if template is not None:
                keys.append(("file", template))
                keys.extend(("file", n) for n in self._analysis(("file", template)).includes)
            elif body is not None:
                keys.append(("inline", body))
        return keys

    def _template(self, key: tuple[str, str]) -> Template:
        compiled = self._compiled.get(key)
        if compiled is None:
            try:
                if key[0] == "file":
                    compiled = self._env.get_template(key[1])
                else:
                    compiled = self._env.from_string(key[1])
            except TemplateNotFound as exc:
                raise RenderError(
                    f"template {exc.name!r} is not in this sequence version"
                ) from None
            except TemplateSyntaxError as exc:
                raise RenderError(
                    f"template syntax error: {exc.message} (line {exc.lineno})"
                ) from None
            self._compiled[key] = compiled
        return compiled

    def _analysis(self, key: tuple[str, str]) -> variables.Analysis:
        found = self._analyses.get(key)
        if found is None:
            source = self.templates.get(key[1], "") if key[0] == "file" else key[1]
            found = variables.analyse(self._env, source)
            self._analyses[key] = found
        return found

    def _render(
        self, key: tuple[str, str], context: Mapping[str, Any], *, where: str
    ) -> tuple[str, list[str]]:
        template = self._template(key)
        sink: list[str] = []
        token = _values.set(sink)
        budget = template_limits.start()
        try:
            out = template.render(context)
            if len(out) + sum(map(len, sink)) > template_limits.MAX_OUTPUT:
                raise template_limits.TemplateLimit(
                    f"the output is longer than {template_limits.MAX_OUTPUT:,} characters"
                )
            return out, sink
        except UndefinedError as exc:
            names: list[str] = []
            for part in [key, *(("file", n) for n in self._analysis(key).includes)]:
                names += [
                    n for n in variables.missing(self._analysis(part), context) if n not in names
                ]
            raise MissingVariable(names or [_undefined_name(exc)], where) from None
        except SecurityError as exc:
            raise RenderError(f"the template tried something unsafe in {where}: {exc}") from None
        except template_limits.TemplateLimit as exc:
            raise RenderError(f"{_at(where, exc)}: {exc}") from None
        except RecursionError as exc:
            raise RenderError(
                f"{_at(where, exc)}: calls itself too deeply (a macro that never stops recursing?)"
            ) from None
        except (TypeError, AttributeError, ValueError, OverflowError, MemoryError) as exc:
            # A filter or operator given the wrong kind of value (`5 | wordwrap`), a range
            # the sandbox refuses: the author's mistake, said in a line.
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise RenderError(
                f"{_at(where, exc)}: {detail} (check the filter or operator on that line)"
            ) from None
        finally:
            template_limits.finish(budget)
            _values.reset(token)

    def _render_line(self, source: str, context: Mapping[str, Any], where: str) -> str:
        raw, values = self._render(("inline", source), context, where=where)
        return one_line(markdown.strip_slots(raw, values))


def _at(where: str, exc: BaseException) -> str:
    line = template_limits.template_line(exc)
    return f"{where}, template line {line}" if line else where


def one_line(value: str) -> str:
    """A header value: CR, LF, TAB and NUL become single spaces (DESIGN invariant 6)."""
    return " ".join(_HEADER_UNSAFE.sub(" ", value).split())


def reply_subject(previous: str) -> str:
    """'Re: <subject>', without stacking 'Re: Re:'."""
    clean = one_line(previous)
    return clean if re.match(r"(?i)^re:\s", clean) else f"Re: {clean}"


def prospect_context(prospect: Mapping[str, Any], sender: Mapping[str, Any]) -> dict[str, Any]:
    """The variables templates see (docs/templates.md). Empty values are left out, so that
    `default` applies and an unguarded read is reported missing instead of printing "".

    `prospect`: first_name, last_name, email, company, title, phone, timezone, country,
    region, owner, custom (dict). `sender`: name, email, signature, booking_link (the
    meeting link of the user who owns the sending mailbox).
    """
    context: dict[str, Any] = {}
    for key in variables.PROSPECT_VARIABLES:
        if key in ("custom", "sender", "full_name"):
            continue
        value = _clean(prospect.get(key))
        if value is not None:
            context[key] = value
    full = " ".join(
        p for p in (_clean(prospect.get("first_name")), _clean(prospect.get("last_name"))) if p
    )
    if full:
        context["full_name"] = full
    custom = {
        str(k): v for k, v in dict(prospect.get("custom") or {}).items() if _clean(v) is not None
    }
    for key, value in custom.items():
        if key.isidentifier() and key not in variables.PROSPECT_VARIABLES:
            context.setdefault(key, value)
    context["custom"] = custom
    name = _clean(sender.get("name")) or ""
    context["sender"] = {
        k: v
        for k, v in {
            "name": name or None,
            "first_name": (name.split()[0] if name else None),
            "email": _clean(sender.get("email")),
            "signature": _clean(sender.get("signature")),
            "booking_link": _clean(sender.get("booking_link")),
        }.items()
        if v is not None
    }
    return context


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _undefined_name(exc: UndefinedError) -> str:
    match = re.search(r"'([^']+)' (?:is undefined|has no attribute '([^']+)')", str(exc))
    if match is None:
        return "a variable"
    return match.group(2) or match.group(1)
