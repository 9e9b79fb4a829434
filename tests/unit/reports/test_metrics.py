"""Metric arithmetic: Wilson intervals and the A/B verdict."""

from __future__ import annotations

import pytest

from engine.core import metrics


def test_wilson_interval_known_values() -> None:
    low, high = metrics.wilson_interval(10, 100)
    # Published value for 10/100 at 95 %: [0.0552, 0.1744]
    assert low == pytest.approx(0.0552, abs=1e-4)
    assert high == pytest.approx(0.1744, abs=1e-4)


def test_wilson_interval_edges_stay_in_unit_range() -> None:
    assert metrics.wilson_interval(0, 0) == (0.0, 1.0)
    low, high = metrics.wilson_interval(0, 20)
    assert low == 0.0 and 0.0 < high < 0.2
    low, high = metrics.wilson_interval(20, 20)
    assert 0.8 < low < 1.0 and high == 1.0


def test_rate_is_none_without_denominator() -> None:
    assert metrics.rate(0, 0) is None
    assert metrics.rate(1, 4) == 0.25


def test_small_samples_are_not_enough_data() -> None:
    result = metrics.compare_variants({"a": (2, 10), "b": (1, 10)})
    assert result.leader is None
    assert result.verdict.startswith("not enough data yet")
    assert [v.variant for v in result.variants] == ["a", "b"]


def test_clear_difference_names_a_winner() -> None:
    result = metrics.compare_variants({"a": (60, 400), "b": (20, 400), "c": (22, 400)})
    assert result.leader == "a"
    assert "two-proportion z-test" in result.verdict


def test_winner_must_beat_every_other_variant() -> None:
    result = metrics.compare_variants({"a": (60, 400), "b": (55, 400), "c": (10, 400)})
    assert result.leader is None


def test_z_statistic_sign_and_degenerate_cases() -> None:
    assert metrics.two_proportion_z(30, 100, 10, 100) > 3
    assert metrics.two_proportion_z(0, 10, 0, 10) == 0.0
    assert metrics.two_proportion_z(1, 0, 1, 10) == 0.0


def test_median() -> None:
    assert metrics.median([]) is None
    assert metrics.median([3.0, 1.0, 2.0]) == 2.0
    assert metrics.median([4.0, 1.0, 2.0, 3.0]) == 2.5


def test_every_report_column_has_a_definition() -> None:
    for name in (
        "contacted",
        "delivered",
        "bounce_rate",
        "reply_rate",
        "positive_rate",
        "opt_out_rate",
        "meetings",
        "median_reply_hours",
    ):
        assert metrics.DEFINITIONS[name]
    assert "auto-replies do not count" in metrics.DEFINITIONS["replied"]
