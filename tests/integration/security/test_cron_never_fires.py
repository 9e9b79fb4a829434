"""Issue 19 item 18: a cron window that never fires (31 February) is refused at validate,
with the line, instead of validating and later failing in the scheduler."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.sequence_language import loader

SOURCE = (
    "key: never\nname: Never\nschedule:\n  cron: {cron}\n"
    'steps:\n  - id: intro\n    email: {{subject: "Hi", body: "Hello"}}\n'
)


@pytest.mark.parametrize("cron", ["'0 0 31 2 *'", "'0 9 31 4,6,9,11 *'", "'0 0 30 2 *'"])
def test_item18_never_firing_cron_is_refused(tmp_path: Path, cron: str) -> None:
    path = tmp_path / "never.yaml"
    path.write_text(SOURCE.format(cron=cron))
    with pytest.raises(SpecError) as caught:
        loader.load_sequence(path)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.line == 4 and "never fires" in diagnostic.message


@pytest.mark.parametrize("cron", ["'0 9 29 2 *'", "'*/10 9-16 * * mon-fri'", "'0 9 31 * *'"])
def test_item18_rare_but_real_crons_still_validate(tmp_path: Path, cron: str) -> None:
    path = tmp_path / "rare.yaml"
    path.write_text(SOURCE.format(cron=cron))
    assert loader.load_sequence(path).spec.schedule.cron == cron.strip("'")
