"""The step-id mapping between two versions (pure): ids, renames, id-less waits, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from engine.sequence_language import step_map
from engine.sequence_language.model import SequenceSpec


def version(number: int, *steps: dict[str, Any]) -> step_map.Version:
    spec = SequenceSpec.model_validate({"key": "k", "name": "k", "steps": list(steps)})
    return step_map.Version(number, spec, {})


def email(step_id: str, body: str = "Hi", **more: Any) -> dict[str, Any]:
    return {"id": step_id, "email": {"subject": "S", "body": body}, **more}


def wait(duration: str = "2 days") -> dict[str, Any]:
    return {"wait": duration}


def test_same_ids_map_to_themselves_and_content_changes_are_noticed() -> None:
    v1 = version(1, email("intro"), wait(), email("bump"))
    v2 = version(2, email("intro", "Hello"), wait("3 days"), email("bump"))
    mapped = step_map.build(v1, v2)
    assert mapped.ids == {"intro": "intro", "wait-1": "wait-1", "bump": "bump"}
    assert mapped.changed == {"intro", "wait-1"} and mapped.added == ()


def test_a_declared_rename_maps_and_a_removed_step_moves_them_on() -> None:
    v1 = version(1, email("intro"), wait(), email("bump"), wait(), email("nudge"), wait(),
                 email("breakup"))  # fmt: skip
    v2 = version(2, email("intro"), wait(), email("follow-up", renamed_from="bump"), wait(),
                 email("breakup"), wait(), email("case-study"))  # fmt: skip
    mapped = step_map.build(v1, v2)
    assert mapped.ids["bump"] == "follow-up" and mapped.renamed == {"bump": "follow-up"}
    assert mapped.ids["nudge"] is None and mapped.ids["wait-2"] is None
    assert mapped.ids["wait-3"] == "wait-2"  # the wait before breakup, wherever it is numbered
    assert mapped.added == ("wait-3", "case-study")
    steps = [s.id for s in v2.spec.steps]
    at = {s.id: i for i, s in enumerate(v1.spec.steps)}
    assert steps[mapped.position(at["bump"])] == "follow-up"
    assert steps[mapped.position(at["nudge"])] == "wait-2"  # next kept: the wait before breakup
    assert mapped.position(len(v1.spec.steps)) == len(v2.spec.steps)  # done stays done
    assert mapped.position(0, started=False) == 0


def test_an_inserted_step_does_not_re_pair_id_less_waits() -> None:
    v1 = version(1, email("intro"), wait("2 days"), email("bump"), wait("4 days"), email("end"))
    v2 = version(2, email("intro"), wait("1 day"), email("new"), wait("2 days"), email("bump"),
                 wait("4 days"), email("end"))  # fmt: skip
    mapped = step_map.build(v1, v2)
    # v1's wait-1 led up to bump: in v2 that is wait-2; v1's wait-2 (before end) is wait-3
    assert mapped.ids == {"intro": "intro", "bump": "bump", "end": "end",
                          "wait-1": "wait-2", "wait-2": "wait-3"}  # fmt: skip
    assert "wait-1" not in mapped.changed and mapped.added == ("wait-1", "new")


def test_renames_are_followed_through_versions_in_between_and_back() -> None:
    v1 = version(1, email("intro"), wait(), email("bump"))
    v2 = version(2, email("intro"), wait(), email("follow-up", renamed_from="bump"))
    v3 = version(3, email("intro"), wait(), email("second", renamed_from="follow-up"))
    assert step_map.build(v1, v3, [v2]).ids["bump"] == "second"
    assert step_map.build(v3, v1, [v2]).ids["second"] == "bump"


def test_variants_are_kept_only_where_they_still_exist() -> None:
    two = {"subject": "S", "variants": {"a": {"body": "A"}, "b": {"body": "B"}}}
    v1 = version(1, {"id": "intro", "email": two})
    v2 = version(2, {"id": "intro", "email": {**two, "variants": {"a": {"body": "A"}}}})
    mapped = step_map.build(v1, v2)
    assert step_map.kept_variant(mapped, "intro", "a") == "a"
    assert step_map.kept_variant(mapped, "intro", "b") is None


def test_a_step_that_changed_type_or_order_is_refused_with_the_fix() -> None:
    v1 = version(1, email("intro"), wait(), email("bump"), wait(), email("nudge"))
    as_call = version(2, email("intro"), wait(), {"id": "bump", "call": "Call them"}, wait(),
                      email("nudge"))  # fmt: skip
    with pytest.raises(step_map.AmbiguousMapping) as typed:
        step_map.build(v1, as_call)
    assert typed.value.problems == [
        "step 'bump' is a email in v1 but 'bump' is a call in v2: the same id for a different "
        "kind of step (give the call a new id, so 'bump' counts as removed)"
    ]
    swapped = version(2, email("intro"), wait(), email("nudge"), wait(), email("bump"))
    with pytest.raises(step_map.AmbiguousMapping) as ordered:
        step_map.build(v1, swapped)
    assert len(ordered.value.problems) == 1
    assert "changed order between v1 and v2" in ordered.value.problems[0]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([email("a", renamed_from="a")], "step 'a' is renamed from itself"),
        ([email("a"), email("b", renamed_from="a")], "but a step 'a' is still in this file"),
        (
            [email("a", renamed_from="x"), email("b", renamed_from="x")],
            "steps 'a' and 'b' both say renamed_from 'x'",
        ),
    ],
)
def test_renamed_from_is_checked_in_the_file(steps: list[dict[str, Any]], message: str) -> None:
    problems = SequenceSpec.model_validate(
        {"key": "k", "name": "k", "steps": steps}, context={"defer_structure": True}
    ).structure_problems()
    assert [loc for loc, _ in problems] == [("steps", len(steps) - 1, "renamed_from")]
    assert message in problems[0][1]
