# ruff: noqa: E501  (expected diagnostics are easier to read on one line)
"""Loading real files: every problem reported at its line, examples kept valid."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.errors import Diagnostic, SpecError
from engine.sequence_language.loader import (
    content_hash,
    load_sequence,
    spec_from_json,
    validate_paths,
)

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"


def diagnostics(path: Path) -> list[str]:
    """Diagnostics with the file part shortened to the file name."""
    out = []
    for d in validate_paths([path], FIXTURES / "templates"):
        out.append(f"{Path(d.file).name}:{d.line}:{d.column}: {d.message} ({d.fix})")
    return out


def refusals(path: Path) -> list[Diagnostic]:
    """What `load_sequence` refuses the file for (it must refuse it)."""
    with pytest.raises(SpecError) as exc:
        load_sequence(path)
    return exc.value.diagnostics


def test_every_example_sequence_is_valid() -> None:
    examples = sorted((ROOT / "sequences").glob("*.yaml"))
    assert len(examples) >= 2
    assert validate_paths([ROOT / "sequences"]) == []
    for path in examples:
        loaded = load_sequence(path)
        assert loaded.templates, f"{path.name} uses no template files"
        for name in loaded.templates:
            assert (ROOT / "templates" / name).is_file()


def test_everything_wrong_is_reported_at_once() -> None:
    found = diagnostics(FIXTURES / "broken" / "everything.yaml")
    expected_starts = [
        "everything.yaml:1:6: key: sequence key 'Broken Sequence' is not a valid id",
        "everything.yaml:4:13: schedule.timezone: unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?",
        "everything.yaml:5:11: schedule.window: 'mon-fry' is not a day or day range",
        "everything.yaml:6:13: schedule.holidays: unknown subdivision 'XY' of DE (use one of BB, BE, BW, BY",
        "everything.yaml:7:3: unknown key 'fallback_timezon' in schedule (did you mean 'fallback_timezone'?)",
        "everything.yaml:8:18: stop_on[1]: input should be 'reply', 'bounce'",
        "everything.yaml:14:11: steps[1].wait.duration: '3 buisness days' is not a duration",
        "everything.yaml:15:5: steps[2] has no step type (it has 'id', 'emial') (did you mean 'email'?",
        "everything.yaml:17:9: duplicate step id 'intro', already used by step 1",
        "everything.yaml:22:19: template syntax in title: unexpected '}'",
        "everything.yaml:24:39: template 'intro_typo.md.j2' not found in",
        "everything.yaml:26:19: rules[0].when.reply: input should be 'any', 'positive'",
        "everything.yaml:29:11: rules[1].then: `otherwise_pause` needs `pause_until: return_date`",
        "intro.md.j2:3:1: unknown template variable 'compnay' (did you mean 'company'?",
        "syntax.md.j2:4:1: template syntax: Unexpected end of template.",
    ]
    assert len(found) == len(expected_starts), "\n".join(found)
    for line, start in zip(found, expected_starts, strict=True):
        assert line.startswith(start), line


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tabs.yaml", ["tabs.yaml:4:1: tab character in YAML (indent with spaces, never tabs)"]),
        ("indent.yaml", ["indent.yaml:7:6: YAML syntax: expected <block end>"]),
        (
            "missing.yaml",
            [
                "missing.yaml:1:1: the file is missing `key`",
                "missing.yaml:1:1: the file is missing `steps`",
            ],
        ),
        (
            "threading.yaml",
            [
                "threading.yaml:8:15: `thread: previous` but no email step comes before this one",
                "threading.yaml:11:13: unknown template variable 'frist_name' (did you mean 'first_name'?",
            ],
        ),
    ],
)
def test_broken_files(name: str, expected: list[str]) -> None:
    found = diagnostics(FIXTURES / "broken" / name)
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), line


def write(tmp_path: Path, text: str, templates: dict[str, str] | None = None) -> Path:
    (tmp_path / "templates").mkdir(exist_ok=True)
    for name, source in (templates or {}).items():
        (tmp_path / "templates" / name).write_text(source)
    path = tmp_path / "seq.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_template_dir_is_found_beside_the_file_and_hash_covers_templates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        key: demo
        name: Demo
        steps:
          - id: intro
            email: {subject: "Hi", template: intro.md.j2}
        """,
        {"intro.md.j2": "Hi {{ first_name | default('there') }}", "unused.md.j2": "x"},
    )
    loaded = load_sequence(path)
    assert loaded.templates == {"intro.md.j2": "Hi {{ first_name | default('there') }}"}
    assert loaded.content_hash == content_hash(loaded.source, loaded.templates)
    assert load_sequence(path).content_hash == loaded.content_hash  # stable
    (tmp_path / "templates" / "intro.md.j2").write_text("Hello")
    assert load_sequence(path).content_hash != loaded.content_hash
    assert spec_from_json(loaded.spec.model_dump(mode="json")) == loaded.spec


def test_duplicate_yaml_keys_and_unsafe_template_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        key: demo
        name: Demo
        name: Again
        steps:
          - id: intro
            email: {subject: "Hi", template: ../secret.txt}
        """,
    )
    [only] = refusals(path)
    assert (only.line, only.column) == (4, 1) and "duplicate key" in only.message


def test_template_names_cannot_leave_the_templates_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        key: demo
        name: Demo
        steps:
          - id: intro
            email: {subject: "Hi\\nBcc: x", template: ../secret.txt}
        """,
    )
    messages = [f"{d.line}:{d.column}: {d.message}" for d in refusals(path)]
    assert messages == [
        "6:22: the subject must be one line",
        "6:46: template name '../secret.txt' must be a file name inside templates/",
    ]


def test_unknown_variables_but_guarded_and_custom_ones_pass(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        key: demo
        name: Demo
        steps:
          - id: intro
            email:
              subject: "{{ first_name }} / {{ plan | default('free') }}"
              body: |
                {% if seats is defined %}{{ seats }}{% endif %}
                {{ custom.anything }} {{ sender.name }} {{ sender.phone }}
                {% for x in custom.items %}{{ x }}{% endfor %}
          - id: t
            task: "Research {{ linkedin }}"
        """,
    )
    found = refusals(path)
    messages = [f"{d.line}: {d.message.split(' (')[0]}" for d in found]
    assert messages == [
        "10: unknown template variable 'sender.phone'",
        "13: unknown template variable 'linkedin'",
    ]


def test_rule_task_titles_may_read_the_reply_but_step_titles_may_not(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        key: demo
        name: Demo
        steps:
          - id: t
            task: "Research {{ referral }}"
        rules:
          - when: {reply: referral}
            then: {task: "Call {{ referral }} about {{ subject }}, for {{ first_name }}"}
          - when: {reply: positive}
            then: {task: "Book {{ refferal }}"}
        """,
    )
    found = refusals(path)
    messages = [f"{d.line}: {d.message.split(' (')[0]}" for d in found]
    assert messages == [
        "6: unknown template variable 'referral'",  # a step has no reply to read
        "11: unknown template variable 'refferal'",
    ]
    assert "did you mean 'referral'?" in found[-1].message


def test_validate_paths_expands_folders_and_flags_shared_keys(tmp_path: Path) -> None:
    body = "key: same\nname: N\nsteps:\n  - id: t\n    task: Do it\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yml").write_text(body)
    (tmp_path / "notes.txt").write_text("ignored")
    found = validate_paths([tmp_path])
    assert [d.message for d in found] == [f"key 'same' is also used by {tmp_path / 'a.yaml'}"]
    assert [d.message for d in validate_paths([tmp_path / "nope.yaml"])] == ["no such file"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "key: x\nname: y\nschedule:\n  extra_holidays: [2026-13-01]\nsteps: []\n",
            "4:20: '2026-13-01' is not a valid date (write YYYY-MM-DD)",
        ),
        (
            "key: x\nname: y\nsteps:\n  - id: a\n    email: Hello\n",
            "5:12: steps[0].email: `email:` needs its settings as a mapping",
        ),
        (
            "key: x\nname: y\nschedule: Mon-Fri\nsteps:\n  - id: a\n    task: Do it\n",
            "3:11: schedule: input should be a valid dictionary (got 'Mon-Fri')",
        ),
        ("- a\n- b\n", "1:1: a sequence file is a mapping"),
        ('key: "open\n', "2:1: YAML syntax: found unexpected end of stream"),
    ],
)
def test_new_user_mistakes_never_traceback(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "seq.yaml"
    path.write_text(text)
    found = [f"{d.line}:{d.column}: {d.message}" for d in validate_paths([path], tmp_path)]
    assert found[0].startswith(expected), found
