"""Issue 19: Hypothesis over the YAML, CSV, template and inbound parsers. Every input gives a
result or one clear line — never a traceback — within a memory bound. A modest example count
here; `python -m bench --only fuzz` runs thousands and reports the slowest input."""

from __future__ import annotations

from bench import fuzz


def test_fuzz_yaml_csv_template_and_inbound_parsers() -> None:
    fuzz.run_all(examples=60)
