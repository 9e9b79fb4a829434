"""Limits a YAML document must keep before it is built: size, depth, alias expansion, merges.

A YAML file is input from anyone with a `growth` token, so the parser must never be the
thing that runs out of memory: nested anchors ("billion laughs") grow exponentially when
aliases are expanded, and 5,000 levels of nesting overflow a recursive builder. `check`
reads the document as a flat stream of parse events (the parser keeps no recursion of its
own), counts what building it would cost, and raises `YamlLimitError` with the line and
column before anything is built. Merge keys (`<<:`) are refused: they are a YAML 1.1 feature
that copies mappings silently, and a sequence file reads better with its keys written out.

Reusable: any loader of YAML from users (sequences, policies) calls `check(text)` first,
with the default `Limits` or its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 1_000_000  # a long sequence file is ~20 KB
    max_depth: int = 64  # a sequence nests ~6 levels
    max_nodes: int = 100_000  # scalars and collections once aliases are expanded
    allow_merge_keys: bool = False


DEFAULT = Limits()


class YamlLimitError(Exception):
    """One line: what limit, where (1-based line and column), and how to fix it."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def check(source: str, limits: Limits = DEFAULT) -> None:
    """Raise YamlLimitError when building `source` would exceed `limits`; else return.

    Syntax errors are left to the real parse, which reports them with their position."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise YamlLimitError(
            f"the file is {size:,} bytes, more than the {limits.max_bytes:,} a YAML file may be "
            "(split it, or move long text into template files)"
        )
    # Each open collection: [anchor, nodes so far]. Anchored sizes are their expanded sizes.
    stack: list[list[object]] = []
    sizes: dict[str, int] = {}
    total = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(source):
            mark = event.start_mark
            if isinstance(event, CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) > limits.max_depth:
                    raise _at(
                        f"nested more than {limits.max_depth} levels deep "
                        "(a sequence file needs a handful; flatten the structure)",
                        mark,
                    )
                continue
            if isinstance(event, CollectionEndEvent):
                anchor, count = stack.pop()
                assert isinstance(count, int)
                if isinstance(anchor, str):
                    sizes[anchor] = count
                if stack:
                    stack[-1][1] = int(stack[-1][1]) + count  # type: ignore[call-overload]
                continue
            if isinstance(event, ScalarEvent):
                if event.value == "<<" and event.style is None and not limits.allow_merge_keys:
                    raise _at(
                        "merge keys (`<<:`) are not supported (write the keys out in full)",
                        mark,
                    )
                count = 1
                if isinstance(event.anchor, str):
                    sizes[event.anchor] = 1
            elif isinstance(event, AliasEvent):
                count = sizes.get(str(event.anchor), 1)
            else:
                continue
            total += count
            if stack:
                stack[-1][1] = int(stack[-1][1]) + count  # type: ignore[call-overload]
            if total > limits.max_nodes:
                raise _at(
                    f"aliases expand this document past {limits.max_nodes:,} values "
                    "(an alias bomb?); write the repeated parts out, or use fewer aliases",
                    mark,
                )
    except YAMLError:
        return  # the real parse reports the syntax error with its position


def _at(message: str, mark: object) -> YamlLimitError:
    line = getattr(mark, "line", 0) + 1
    column = getattr(mark, "column", 0) + 1
    return YamlLimitError(message, line, column)
