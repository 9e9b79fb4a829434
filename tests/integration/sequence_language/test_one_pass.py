"""`sequence validate` reports every mistake of a file in one run, not one kind per run."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.sequence_language.loader import validate_paths


def test_schema_thread_and_template_errors_come_in_one_pass(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "thanks.md.j2").write_text("Hi {{ first_name }}, {{ slides_url }}\n")
    (tmp_path / "templates" / "bump.md.j2").write_text("Bump {{ first_name }}\n")
    path = tmp_path / "webinar.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            key: webinar
            name: Webinar follow-up
            steps:
              - id: bump
                email: {thread: previous, template: bump.md.j2}
              - id: thanks
                email: {subject: "Thanks, {{ first_name }}", template: thanks.md.j2}
              - wait: 2 business dayz
            """
        )
    )
    found = [f"{d.line}: {d.message}" for d in validate_paths([path], tmp_path / "templates")]
    assert any(m.startswith("5: `thread: previous` but no email step") for m in found), found
    assert any("2 business dayz" in m for m in found), found
    assert any("slides_url" in m for m in found), found
    assert len(found) == 3, found
