"""Tables printed to a pipe or a file keep every column whole (no "reply ra…")."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.table import Table

from engine.cli.context import Context
from engine.settings import Settings

HEADERS = [f"column number {i} with a long name" for i in range(8)]  # ≈ 300 columns wide


def _table() -> Table:
    table = Table()
    for header in HEADERS:
        table.add_column(header)
    table.add_row(*(f"value {i} " * 3 for i in range(8)))
    return table


def test_piped_output_prints_the_table_at_its_natural_width(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = Context(settings=Settings(home=tmp_path))
    assert not c.out.is_terminal  # pytest captures stdout
    c.print_table(_table())
    out = capsys.readouterr().out
    for header in HEADERS:
        assert header in out
    assert "…" not in out
