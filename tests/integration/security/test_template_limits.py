"""Issue 19 item 12: template resource limits. Each hostile template gives one line naming
the template line in `sequence preview` (never a traceback), in bounded time and memory;
`{{ lipsum }}` does not print a function's repr."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.context import Context
from engine.cli.main import app
from engine.clock import VirtualClock
from engine.errors import KadenzError
from engine.sequence_language.render import Renderer, RenderError
from engine.settings import Settings
from engine.store.db import Database
from tests.integration.sequence_language.test_store_and_preview import AT, add_prospect

HOSTILE = {
    "range_10_12": "Hi\n{% for i in range(10**12) %}x{% endfor %}",
    "nested_ranges": "Hi\n{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
    "{% endfor %}",
    "recursive_macro": "Hi\n{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}",
    "string_times_2e9": "Hi\n{{ 'x' * 2000000000 }}",
    "list_times_2e9": "Hi\n{{ ['x'] * 2000000000 }}",
    "wordwrap_on_int": "Hi\n{{ 5 | wordwrap }}",
    "center_1e9": "Hi\n{{ 'x' | center(1000000000) }}",
    "lipsum": "Hi\n{{ lipsum }}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_item12_hostile_templates_fail_in_one_line_with_the_template_line(name: str) -> None:
    renderer = Renderer({})
    tracemalloc.start()
    try:
        with pytest.raises(KadenzError) as caught:
            renderer.render_text(HOSTILE[name], {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message and "function" not in message
    assert peak < 50_000_000
    if isinstance(caught.value, RenderError):
        assert "template line 2" in message, message


def test_item12_ordinary_templates_still_render() -> None:
    renderer = Renderer({})
    text = renderer.render_text(
        "{% for n in range(3) %}{{ n }}{% endfor %} {{ 'ab' * 2 }} {{ name | upper }} "
        "{{ 'a b c' | wordwrap(3) | replace('\\n', '/') }} {{ 2 ** 8 }}",
        {"name": "erik"},
    )
    assert text == "012 abab ERIK a b/c 256"


def test_item12_preview_reports_the_template_line(db: Database, tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hostile.md.j2").write_text(
        "Hi {{ first_name }},\n\n{{ 'x' * 2000000000 }}\n"
    )
    (tmp_path / "hostile.yaml").write_text(
        "key: hostile\nname: Hostile\nsteps:\n"
        '  - id: intro\n    email: {subject: "Hi", template: hostile.md.j2}\n'
    )
    ctx = Context(settings=Settings(home=tmp_path / "home"), clock=VirtualClock(AT))
    ctx.__dict__["db"] = db
    runner = CliRunner()
    pushed = runner.invoke(app, ["sequence", "push", str(tmp_path / "hostile.yaml")], obj=ctx)
    assert pushed.exit_code == 0, pushed.output
    add_prospect(db, "erik@acme.example", first_name="Erik")
    result = runner.invoke(
        app, ["sequence", "preview", "hostile", "--prospect", "erik@acme.example"], obj=ctx
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, KadenzError | SystemExit), result.exception
    shown = str(result.exception) if isinstance(result.exception, KadenzError) else result.output
    assert "template line 3" in shown and "repeating a value" in shown
