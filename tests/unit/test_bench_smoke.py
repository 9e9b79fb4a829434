"""The benchmark harness itself: imports, table rendering, and the pure helpers (no I/O).

The figures are measured by `make bench`, never asserted here (no timing assertions).
"""

from __future__ import annotations

import importlib

import pytest

from bench import __main__ as cli
from bench.common import Options, Row, Sample, not_measured


@pytest.mark.parametrize("module", sorted(cli.FIGURES.values()))
def test_every_figure_module_imports_and_has_run(module: str) -> None:
    assert callable(importlib.import_module(module).run)


def test_ratio_is_ours_over_baseline_for_rates_and_inverse_for_times() -> None:
    rate = Row("r", Sample([50.0], "msg/s"), Sample([100.0], "msg/s"), "")
    time = Row("t", Sample([200.0], "ms"), Sample([100.0], "ms"), "", higher_is_better=False)
    assert rate.ratio == pytest.approx(0.5)
    assert time.ratio == pytest.approx(0.5)


def test_sample_shows_median_and_range() -> None:
    assert Sample([3.0, 1.0, 2.0], "ms").show() == "2.00 ms (1.00–3.00)"
    assert Sample([1500.0], "rows/s").show() == "1,500 rows/s"


def test_table_names_what_was_not_measured() -> None:
    rows = [not_measured("workers", "not on main yet", "≥ 50%", Sample([10.0], "msg/s"))]
    table = cli.render_table(rows)
    assert "not measured: not on main yet" in table
    assert "10.0 msg/s" in table


def test_options_quick_preset_and_selection() -> None:
    opts, only, write = cli.parse(["--quick", "--only", "send,import", "--send-n", "20000"])
    assert opts.quick and opts.send_n == 20_000
    assert opts.events < Options().events
    assert only == ["send", "import"] and write
    with pytest.raises(SystemExit):
        cli.parse(["--only", "nope"])
