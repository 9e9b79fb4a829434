"""YAML with positions: parse with ruamel's round-trip loader, keep every key's line/column,
and map a validation error's location (a path of keys and indexes) back to the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from engine.errors import Diagnostic, SpecError
from engine.sequence_language import yamllimits

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


class YamlSyntaxError(Exception):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def read_document(path: Path, file: str) -> tuple[str, Any, Any]:
    """(source, data, tree) of the YAML file at `path`; a file that cannot be read or
    parsed is a SpecError with one Diagnostic named `file` at the line and column."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Diagnostic(file, 1, 1, "no such file", "check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(
            [Diagnostic(file, 1, 1, f"cannot read: {exc}", "save it as UTF-8")]
        ) from None
    try:
        data, tree = parse(source)
    except YamlSyntaxError as exc:
        raise SpecError(
            [Diagnostic(file, exc.position.line, exc.position.column, exc.message)]
        ) from None
    return source, data, tree


def parse(source: str, limits: yamllimits.Limits = yamllimits.DEFAULT) -> tuple[Any, Any]:
    """(plain Python data, the round-trip tree used for positions). The document's size,
    depth and alias expansion are checked before anything is built (see yamllimits)."""
    try:
        yamllimits.check(source, limits)
    except yamllimits.YamlLimitError as exc:
        raise YamlSyntaxError(exc.message, Position(exc.line, exc.column)) from None
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(source)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSyntaxError(_explain(exc, source, mark), position) from None
    except ReaderError as exc:  # a character YAML does not allow (control characters)
        before = source[: max(0, exc.position)]
        where = Position(before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        raise YamlSyntaxError(
            f"character {exc.character!r} is not allowed in YAML (remove it, or quote and "
            "escape it)",
            where,
        ) from None
    except YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise YamlSyntaxError(f"not valid YAML: {detail}", Position(1, 1)) from None
    except TypeError:  # `? [a, b]: x` or `? {a: b}: x`: a complex key cannot be a dict key
        raise YamlSyntaxError(
            "a mapping key must be plain text or a number, not a list or mapping "
            "(remove the `? ` complex key)",
            _complex_key(source),
        ) from None
    except (ValueError, OverflowError):
        # ruamel builds dates while loading: 2026-13-01 fails there, without a position.
        raise _bad_date(source) from None
    return plain(tree), tree


def _complex_key(source: str) -> Position:
    for number, line in enumerate(source.splitlines(), 1):
        if line.lstrip().startswith("? "):
            return Position(number, len(line) - len(line.lstrip()) + 1)
    return Position(1, 1)


_DATE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.:-])")


def _bad_date(source: str) -> YamlSyntaxError:
    for number, line in enumerate(source.splitlines(), 1):
        for match in _DATE.finditer(line):
            try:
                dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                return YamlSyntaxError(
                    f"{match.group(0)!r} is not a valid date (write YYYY-MM-DD)",
                    Position(number, match.start() + 1),
                )
    return YamlSyntaxError("a value could not be read (check dates and numbers)", Position(1, 1))


def _explain(exc: MarkedYAMLError, source: str, mark: Any) -> str:
    problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
    line = source.splitlines()[mark.line] if mark and mark.line < len(source.splitlines()) else ""
    if "\t" in problem or "'\\t'" in problem or (mark and "\t" in line[: mark.column + 1]):
        return "tab character in YAML (indent with spaces, never tabs)"
    if "found duplicate key" in problem:
        return f"{problem} (each key may appear once in a mapping; remove or rename one)"
    if "mapping values are not allowed" in problem:
        return (
            f"YAML syntax: {problem} (check the indentation of this line, or quote a value "
            'that contains ": ")'
        )
    if "expected <block end>" in problem or "could not find expected ':'" in problem:
        return f"YAML syntax: {problem} (check the indentation of this line and the one above)"
    return f"YAML syntax: {problem} (check quotes, colons and indentation here)"


def plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses to plain Python values."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, dt.datetime):
        return dt.datetime.fromisoformat(node.isoformat())
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    return node


def position(tree: Any, loc: Loc, *, key: bool = False) -> Position:
    """Where `loc` points in the file. Parts of `loc` absent from the YAML (a step's type tag,
    keys the models add) are skipped, and the deepest match wins. `key`: the key's position
    rather than its value's (for unknown keys)."""
    best = _resolve(tree, loc, key, Position(1, 1), 0)
    return best[1]


def _resolve(node: Any, loc: Loc, key: bool, here: Position, depth: int) -> tuple[int, Position]:
    if not loc:
        return depth, here
    head, rest = loc[0], loc[1:]
    options = [_resolve(node, rest, key, here, depth)]  # skip this part
    child = _child(node, head, key=key and not rest)
    if child is not None:
        value, where = child
        options.append(_resolve(value, rest, key, where, depth + 1))
    return max(options, key=lambda o: o[0])


def _child(node: Any, part: str | int, *, key: bool) -> tuple[Any, Position] | None:
    if isinstance(node, CommentedMap) and part in node:
        line, col = node.lc.key(part) if key else node.lc.value(part)
        return node[part], Position(line + 1, col + 1)
    if isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
        line, col = node.lc.item(part)
        return node[part], Position(line + 1, col + 1)
    return None


def scalar_style(tree: Any, loc: Loc) -> str | None:
    """'|' or '>' when the value at `loc` is a block scalar (its text starts on the next line)."""
    node: Any = tree
    for part in loc:
        child = _child(node, part, key=False)
        if child is None:
            return None
        node = child[0]
    style = getattr(node, "style", None)
    if style is None and type(node).__name__ in ("LiteralScalarString", "FoldedScalarString"):
        return "|" if type(node).__name__ == "LiteralScalarString" else ">"
    return style if isinstance(style, str) else None
