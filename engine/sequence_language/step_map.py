"""Where a prospect on one version of a sequence goes in another: the step-id mapping.

Pure: it reads two (or more) parsed specs and their template snapshots. Steps are matched by
id; a step that changed its id declares the old one with `renamed_from` (a chain of renames
across versions is followed). Waits without an own id (`wait-<n>`, numbered from the top)
are matched by the step they lead up to, so inserting a step elsewhere does not re-pair them.

A mapping that would put a prospect somewhere nobody asked for is refused as ambiguous, with
the reason and how to resolve it: an id that changed step type, or steps that changed order.
Reference: docs/sequences.md, "Migrating live enrollments".
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from engine.sequence_language.model import EmailStep, SequenceSpec, Step, WaitStep

_ANONYMOUS_WAIT = re.compile(r"^wait-\d+$")


class AmbiguousMapping(ValueError):
    """The step mapping between two versions cannot be decided by ids; each line says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Version:
    """One version as the mapping needs it."""

    number: int
    spec: SequenceSpec
    templates: dict[str, str] = field(default_factory=dict)


def _anonymous(step: Step) -> bool:
    return isinstance(step, WaitStep) and bool(_ANONYMOUS_WAIT.match(step.id))


@dataclass(frozen=True)
class StepMap:
    """old step id -> new step id (None: removed), and what else changed between the two."""

    source: Version
    target: Version
    ids: dict[str, str | None]
    renamed: dict[str, str]  # old id -> new id, for steps renamed on purpose (not wait-<n>)
    changed: frozenset[str]  # old ids of mapped steps whose content changed
    added: tuple[str, ...]  # new ids nobody maps to

    def position(self, old_index: int, started: bool = True) -> int:
        """The new index of a prospect whose next step is `old_index` in the source.

        The next step if it survives, else the next one after it that does; past the end,
        the end. A prospect that has run no step yet (`started` False) starts at the top.
        """
        if not started:
            return 0
        steps = self.source.spec.steps
        for step in steps[old_index:]:
            new_id = self.ids.get(step.id)
            if new_id is not None:
                return self.target.spec.step_index(new_id)
        return len(self.target.spec.steps)

    def removed(self) -> list[str]:
        return [old for old, new in self.ids.items() if new is None]


def build(source: Version, target: Version, between: list[Version] | None = None) -> StepMap:
    """The mapping from `source` to `target`; AmbiguousMapping when ids cannot decide.

    `between` are the versions in between (in order from source to target), whose
    `renamed_from` declarations are followed too.
    """
    chain = [source, *(between or []), target]
    old_steps, new_steps = source.spec.steps, target.spec.steps
    new_ids = {s.id for s in new_steps}
    ids: dict[str, str | None] = {}
    for step in old_steps:
        if not _anonymous(step):
            ids[step.id] = _follow(step.id, chain, new_ids)
    for i, step in enumerate(old_steps):
        if _anonymous(step):
            ids[step.id] = _wait_target(i, old_steps, new_steps, ids)
    problems = _type_changes(source, target, ids) + _order_changes(source, target, ids)
    if problems:
        raise AmbiguousMapping(problems)
    mapped = {new for new in ids.values() if new is not None}
    return StepMap(
        source=source,
        target=target,
        ids=ids,
        renamed={
            step.id: new
            for step in old_steps
            if not _anonymous(step) and (new := ids[step.id]) is not None and new != step.id
        },
        changed=frozenset(
            old
            for old, new in ids.items()
            if new is not None and _differs(source, old, target, new)
        ),
        added=tuple(s.id for s in new_steps if s.id not in mapped),
    )


def _follow(step_id: str, chain: list[Version], new_ids: set[str]) -> str | None:
    """Follow `renamed_from` through the chain (newer versions) or back (older ones)."""
    current = step_id
    upward = chain[-1].number >= chain[0].number
    for before, after in itertools.pairwise(chain):
        after_ids = {s.id for s in after.spec.steps}
        if current in after_ids:
            continue
        if upward:
            renamed = [s.id for s in after.spec.steps if s.renamed_from == current]
        else:  # going back: the step we are on may say what it was called before
            here = next((s for s in before.spec.steps if s.id == current), None)
            back = here.renamed_from if here is not None else None
            renamed = [back] if back is not None and back in after_ids else []
        if len(renamed) != 1:
            return step_id if step_id in new_ids else None
        current = renamed[0]
    return current if current in new_ids else None


def _wait_target(
    index: int, old_steps: list[Step], new_steps: list[Step], ids: dict[str, str | None]
) -> str | None:
    """An id-less wait maps to the id-less wait at the same distance before the same step."""
    distance, anchor = 1, None
    for step in old_steps[index + 1 :]:
        if not isinstance(step, WaitStep):
            anchor = step
            break
        distance += 1
    if anchor is None:  # trailing waits: count from the end
        spot = len(new_steps) - (len(old_steps) - index)
    else:
        new_anchor = ids.get(anchor.id)
        if new_anchor is None:
            return None
        spot = _index(new_steps, new_anchor) - distance
    if spot < 0 or spot >= len(new_steps) or not _anonymous(new_steps[spot]):
        return None
    between = new_steps[spot + 1 : spot + distance]
    return new_steps[spot].id if all(isinstance(s, WaitStep) for s in between) else None


def _index(steps: list[Step], step_id: str) -> int:
    return next(i for i, s in enumerate(steps) if s.id == step_id)


def _type_changes(source: Version, target: Version, ids: dict[str, str | None]) -> list[str]:
    out = []
    for step in source.spec.steps:
        new_id = ids.get(step.id)
        if new_id is None:
            continue
        new = target.spec.steps[_index(target.spec.steps, new_id)]
        if new.type != step.type:
            out.append(
                f"step {step.id!r} is a {step.type} in v{source.number} but {new_id!r} is a "
                f"{new.type} in v{target.number}: the same id for a different kind of step "
                f"(give the {new.type} a new id, so {step.id!r} counts as removed)"
            )
    return out


def _order_changes(source: Version, target: Version, ids: dict[str, str | None]) -> list[str]:
    """Mapped steps must keep their order, or a prospect would skip or repeat one."""
    pairs = [
        (step.id, _index(target.spec.steps, new))
        for step in source.spec.steps
        if (new := ids.get(step.id)) is not None
    ]
    out = []
    for (a, ia), (b, ib) in itertools.pairwise(pairs):
        if ib < ia:
            out.append(
                f"steps {a!r} and {b!r} changed order between v{source.number} and "
                f"v{target.number}: prospects between them would skip or repeat a step (give "
                "the moved step a new id, so it counts as removed and added, or keep the order)"
            )
    return out


def _differs(source: Version, old_id: str, target: Version, new_id: str) -> bool:
    """Content changed: the step's settings (not its id) or a template it uses."""
    old = source.spec.steps[_index(source.spec.steps, old_id)]
    new = target.spec.steps[_index(target.spec.steps, new_id)]
    skip = {"id", "renamed_from"}
    if old.model_dump(exclude=skip) != new.model_dump(exclude=skip):
        return True
    if isinstance(old, EmailStep) and isinstance(new, EmailStep):
        names = {p for v in old.variant_names() for p in old.parts(v)[1:2] if p}
        names |= {p for v in new.variant_names() for p in new.parts(v)[1:2] if p}
        return any(source.templates.get(n) != target.templates.get(n) for n in names)
    return False


def kept_variant(step_map: StepMap, old_id: str, variant: str) -> str | None:
    """The A/B variant a prospect keeps on the mapped step, or None (a new one is chosen)."""
    new_id = step_map.ids.get(old_id)
    if new_id is None:
        return None
    new = step_map.target.spec.steps[_index(step_map.target.spec.steps, new_id)]
    if isinstance(new, EmailStep) and new.variants and variant in new.variants:
        return variant
    return None
