"""Issue 19 items 3 and 10: YAML alias bombs, deep nesting and merge keys are refused at
parse time with one line naming FILE:LINE:COL — in the CLI and in the API (422, never 500)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from engine.errors import SpecError
from engine.sequence_language import loader, yamllimits
from tests.support.web import SeededApp, TestClient

# The 372-byte shape: each level aliases the one above nine times (9**7 values).
BOMB = "key: bomb\nname: Bomb\nsteps: []\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(8)
)
DEEP = "key: deep\nname: Deep\nsteps: " + "[" * 5000 + "]" * 5000 + "\n"
MERGE = (
    "key: merge\nname: Merge\n"
    "defaults: &d {subject: Hi, template: intro.md.j2}\n"
    "steps:\n  - id: intro\n    email:\n      <<: *d\n"
)


@pytest.mark.parametrize(
    ("name", "source", "where", "words"),
    [
        ("test_item03_alias_bomb", BOMB, ":9:", "aliases expand"),
        ("test_item10_nested_5000_deep", DEEP, ":3:", "nested more than"),
        ("test_item10_merge_key", MERGE, ":7:7:", "merge keys"),
    ],
)
def test_item03_item10_refused_in_one_line_with_bounded_memory(
    tmp_path: Path, name: str, source: str, where: str, words: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(source)
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as caught:
            loader.load_sequence(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [diagnostic] = caught.value.diagnostics
    line = str(diagnostic)
    assert "\n" not in line and where in line and words in line, line
    assert peak < 50_000_000  # the bomb alone would be hundreds of MB

    result = CliRunner().invoke(app, ["sequence", "validate", str(path)])
    assert (result.exit_code == 1 and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert words in result.stderr and "Traceback" not in result.stderr


def test_item03_item10_limits_are_reusable_and_tunable() -> None:
    yamllimits.check("a: &x [1, 2]\nb: [*x, *x]\n")  # ordinary aliases pass
    with pytest.raises(yamllimits.YamlLimitError, match="aliases expand") as caught:
        yamllimits.check("a: &x [1, 2]\nb: [*x, *x]\n", yamllimits.Limits(max_nodes=5))
    assert (caught.value.line, caught.value.column) == (2, 5)
    with pytest.raises(yamllimits.YamlLimitError, match="bytes"):
        yamllimits.check("a: " + "x" * 2000, yamllimits.Limits(max_bytes=1000))
    yamllimits.check("a: {<<: {b: 1}}", yamllimits.Limits(allow_merge_keys=True))
    yamllimits.check('a: {"<<": 1}')  # a quoted "<<" is a plain key, not a merge


@pytest.mark.parametrize("source", [BOMB, DEEP, MERGE], ids=["bomb", "deep", "merge"])
def test_item03_item10_api_answers_422_not_500(web: SeededApp, source: str) -> None:
    with TestClient(web.app) as client:
        r = client.post(
            "/api/v1/sequences/validate",
            content=source.encode(),
            headers={
                "Authorization": f"Bearer {web.tokens['growth']}",
                "Content-Type": "application/yaml",
            },
        )
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("posted.yaml:")
