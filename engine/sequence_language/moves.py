"""`move_to` between sequences: a rule may move a prospect on, never round in a circle.

A sequence that moves to itself (or A → B → A) would re-email from the first step someone
who just answered "not interested". Cycles are refused when files are validated (among the
files given) and when they are pushed (against every stored sequence as well).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from engine.errors import Diagnostic
from engine.sequence_language.model import SequenceSpec


def targets(spec: SequenceSpec) -> set[str]:
    """Every sequence key this spec's rules (and scoring thresholds) move prospects to."""
    thens = [r.then for r in spec.rules]
    if spec.scoring is not None:
        thens += [t.then for t in spec.scoring.thresholds]
    return {then.move_to for then in thens if then.move_to is not None}


def cycle_from(start: str, edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """The shortest chain of moves from `start` back to itself, e.g. [a, b, a]; or None."""
    paths = [[start]]
    seen: set[str] = set()
    while paths:  # breadth first: the shortest cycle reads best in an error
        following = []
        for path in paths:
            for nxt in sorted(edges.get(path[-1], ())):
                if nxt == start:
                    return [*path, start]
                if nxt not in seen:
                    seen.add(nxt)
                    following.append([*path, nxt])
        paths = following
    return None


def describe(cycle: list[str]) -> str:
    if len(cycle) == 2:
        return f"move_to {cycle[0]!r} moves the sequence to itself"
    return "move_to makes a cycle: " + " → ".join(cycle)


FIX = "move to a sequence outside the cycle, or stop instead"


def cycle_diagnostics(
    batch: Iterable[tuple[str, str, SequenceSpec]],
    stored: Mapping[str, Iterable[str]] | None = None,
) -> list[Diagnostic]:
    """One diagnostic per file (display name, source, spec) whose moves lead back to it.

    `stored`: the moves of sequences already pushed (the batch's own files win)."""
    files = list(batch)
    edges: dict[str, set[str]] = {k: set(v) for k, v in (stored or {}).items()}
    edges.update({spec.key: targets(spec) for _, _, spec in files})
    out = []
    for name, source, spec in files:
        cycle = cycle_from(spec.key, edges)
        if cycle is not None:
            line, column = _where(source, cycle[1])
            out.append(Diagnostic(name, line, column, describe(cycle), FIX))
    return out


def _where(source: str, target: str) -> tuple[int, int]:
    pattern = re.compile(r"move_to\s*:\s*[\"']?" + re.escape(target) + r"\b")
    for number, line in enumerate(source.splitlines(), 1):
        match = pattern.search(line)
        if match:
            return number, match.start() + 1
    return 1, 1
