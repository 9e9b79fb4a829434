"""Resource limits for templates: a template is code from the growth team, run per prospect.

The Jinja sandbox stops attribute tricks but not cost: `range(10**12)`, nested loops,
`'x' * 2_000_000_000`, `2 ** 10 ** 9`, a macro calling itself. `LimitedSandbox` keeps every
render bounded: loops draw from an iteration budget (every `{% for %}`'s iterable is wrapped
at parse time), string/list repetition and powers are checked before they are computed,
the output is capped, and render time is checked as loops run. A breach raises
`TemplateLimit`, which the renderer reports with the template line. Globals that only print
an implementation detail (`lipsum`, `cycler`, `joiner`) are removed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

MAX_ITERATIONS = 100_000  # loop iterations in one render, all loops together
MAX_OUTPUT = 1_000_000  # characters a render may produce (an email is ~2 KB)
MAX_SECONDS = 2.0  # wall time of one render
MAX_EXPONENT = 1_000  # `**`: big enough for any arithmetic an email needs
MAX_WIDTH = 10_000  # a number given to a filter (center, indent, wordwrap, truncate…)
_GUARD = "_kadenz_loop_budget"


class TemplateLimit(Exception):
    """One render went over a limit; the message says which and how to stay under it."""


@dataclass
class _Budget:
    iterations: int
    deadline: float


_budget: ContextVar[_Budget | None] = ContextVar("kadenz_template_budget", default=None)


def start() -> object:
    """Open a budget for one render; pass the result to `finish`."""
    return _budget.set(_Budget(MAX_ITERATIONS, time.monotonic() + MAX_SECONDS))


def finish(token: object) -> None:
    _budget.reset(token)  # type: ignore[arg-type]


def check_time() -> None:
    budget = _budget.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise TemplateLimit(f"the template ran longer than {MAX_SECONDS:g} s (simplify its loops)")


def _guarded(iterable: Iterable[Any]) -> Iterator[Any]:
    for n, item in enumerate(iterable):
        budget = _budget.get()
        if budget is not None:
            budget.iterations -= 1
            if budget.iterations < 0:
                raise TemplateLimit(
                    f"loops ran more than {MAX_ITERATIONS:,} times in one render "
                    "(loop over less, e.g. range(10), or nest fewer loops)"
                )
            if n % 1024 == 0:
                check_time()
        yield item


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class LimitedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self.filters = {name: _bounded(f) for name, f in self.filters.items()}
        self.filters[_GUARD] = _guarded

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_OUTPUT:
                    raise TemplateLimit(
                        f"repeating a value {times:,} times makes more than {MAX_OUTPUT:,} "
                        "characters (repeat less)"
                    )
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise TemplateLimit(f"an exponent above {MAX_EXPONENT} (use a smaller power)")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_time()  # macros and functions: recursion and heavy calls are timed too
        return super().call(__context, __obj, *args, **kwargs)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _GUARD, [], [], None, None, lineno=loop.lineno)
        return tree


def _bounded(f: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose numeric arguments (widths, counts) are checked before it runs."""

    @functools.wraps(f)  # keeps Jinja's pass_context/pass_environment marker
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_WIDTH:
                raise TemplateLimit(
                    f"filter {f.__name__.removeprefix('do_')!r} was given {value:,} "
                    f"(at most {MAX_WIDTH:,})"
                )
        return f(*args, **kwargs)

    return bounded


def template_line(exc: BaseException) -> int | None:
    """The template line an exception was raised at (Jinja rewrites its traceback so)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == "<template>" or filename.endswith((".j2", ".jinja", ".md")):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
