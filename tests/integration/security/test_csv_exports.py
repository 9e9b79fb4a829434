"""Issue 19 item 6: CSV formula injection. Every CSV Kadenz writes neutralises cells a
spreadsheet would run as a formula (OWASP: a leading quote before = + - @ tab CR)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.clock import VirtualClock
from engine.core import csv_safe
from engine.store.db import Database
from tests.integration.prospects.conftest import add_mailbox, add_sequence
from tests.integration.prospects.test_enroll import no_missing

# What an import keeps (it strips surrounding whitespace, so a leading tab is gone there).
IMPORTED = ['=HYPERLINK("https://evil.example","x")', "=1+2", "+1-2", "-2+3", "@SUM(A1)"]
HOSTILE = [*IMPORTED, "\tx", "\rx"]


def test_item06_report_csv_neutralises_formulas(
    db: Database, clock: VirtualClock, write_csv: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    from engine.people import enrollment

    add_sequence(db, at=clock.now())
    add_mailbox(db, "anna", at=clock.now())
    rows = "".join(
        f'p{i}@acme.example,"{o.replace(chr(34), 2 * chr(34))}"\n' for i, o in enumerate(IMPORTED)
    )
    imported = cli("prospects", "import", str(write_csv("email,owner\n" + rows)))
    assert imported.exit_code == 0, imported.output
    with db.session() as s:
        emails = [f"p{i}@acme.example" for i in range(len(IMPORTED))]
        done = enrollment.enroll(
            s, "saas-founders", emails, at=clock.now(), check_variables=no_missing
        )
        assert len(done.enrolled) == len(IMPORTED)
    result = cli("report", "--by", "owner", "--format", "csv")
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
    owners = [c for c in cells if c.lstrip("'") in IMPORTED]
    assert sorted(owners) == sorted("'" + h for h in IMPORTED)
    assert not [c for c in cells if c.startswith(csv_safe.TRIGGERS)]


def test_item06_one_helper_neutralises_and_reads_back() -> None:
    buffer = io.StringIO()
    csv_safe.Writer(buffer).writerow([*HOSTILE, -1.5, 3, "plain", "a=b"])
    cells = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert cells[: len(HOSTILE)] == ["'" + h for h in HOSTILE]
    assert cells[len(HOSTILE) :] == ["-1.5", "3", "plain", "a=b"]
    assert [csv_safe.unneutralise(c) for c in cells[: len(HOSTILE)]] == HOSTILE
    assert csv_safe.unneutralise("'quoted") == "'quoted"


def test_item06_every_csv_writer_uses_the_helper() -> None:
    """No module of the engine writes CSV with the bare csv module but csv_safe itself."""
    root = Path(__file__).resolve().parents[3] / "engine"
    bare = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if ("csv.writer(" in p.read_text() or "csv.DictWriter(" in p.read_text())
        and p.name != "csv_safe.py"
    ]
    # The API's bulk upsert builds CSV records in memory for the importer, never a file for
    # a spreadsheet: its values must reach the database unchanged.
    assert bare == ["api/rest_writes.py"]
