"""Issue 19 items 8 and 11: broken CSV quoting, huge fields and bad UTF-16 are refused as a
whole file with the row named — never "imported 1, refused 0" with rows folded into a name,
never a traceback; nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.clock import VirtualClock
from engine.errors import InvalidInput
from engine.people import prospects
from engine.store.db import Database
from engine.store.models import Prospect

HEADER = "email,first_name,company\n"


def count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Prospect)) or 0)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "test_item08_unbalanced_quote_swallows_rows",
            HEADER + 'a@acme.example,"Anna,Acme\n'
            "b@acme.example,Ben,Acme\nc@acme.example,Cleo,Acme\n"
            'd@acme.example,Dora",Acme\n',
            "row 2, column 'first_name': a quoted value runs over 4 lines that look like rows",
        ),
        (
            "test_item08_quote_open_at_end_of_file",
            HEADER + 'a@acme.example,Anna,Acme\nb@acme.example,"Ben,Acme\n',
            "row 3: a quote opened here is never closed",
        ),
        (
            "test_item11_field_over_128_kb",
            HEADER + 'a@acme.example,"' + "x" * 200_000 + '",Acme\n',
            "row 2: a value is longer than 128 KB",
        ),
    ],
)
def test_item08_item11_broken_files_are_refused_whole(
    db: Database,
    clock: VirtualClock,
    write_csv: Callable[..., Path],
    cli: Callable[..., Any],
    name: str,
    content: str,
    words: str,
) -> None:
    path = write_csv(content, name=f"{name}.csv")
    with pytest.raises(InvalidInput, match="row") as caught:
        prospects.import_csv(db, path, clock=clock)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert count(db) == 0
    result = cli("prospects", "import", str(path))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert count(db) == 0


def test_item11_utf16_with_a_lone_surrogate(
    db: Database, clock: VirtualClock, write_csv: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    good = (HEADER + "a@acme.example,Anna,Acme\n").encode("utf-16-le")
    lone = "b@acme.example,B".encode("utf-16-le") + b"\x00\xd8" + ",Acme\n".encode("utf-16-le")
    path = write_csv(b"\xff\xfe" + good + lone, name="utf16.csv")
    with pytest.raises(InvalidInput, match=r"row 3: the file says UTF-16 .* not valid UTF-16"):
        prospects.import_csv(db, path, clock=clock)
    result = cli("prospects", "import", str(path))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert count(db) == 0


def test_item08_real_multi_line_notes_still_import(
    db: Database, clock: VirtualClock, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        "email,first_name,notes\n"
        'a@acme.example,Anna,"Met at the fair.\nCall back in May, maybe."\n'
        'b@acme.example,"Ben ""the builder""",x\n'
    )
    report = prospects.import_csv(db, path, clock=clock)
    assert (report.created, report.refused) == (2, [])
