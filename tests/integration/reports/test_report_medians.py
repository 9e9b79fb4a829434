"""The median reply time per group (computed in SQL on PostgreSQL) is the plain median."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from engine.core import metrics
from engine.reporting import reports, rollups
from engine.store.db import Database
from engine.store.models import ReportFact, Sequence
from tests.support.seed import seed_scenario


@pytest.mark.parametrize("by", ["sequence", "step", "owner", "week"])
def test_medians_equal_the_median_of_the_facts(db: Database, by: str) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.session() as s:
        report = reports.build_report(s, by=by)
        names = {q.id: q.key for q in s.scalars(select(Sequence))}
        facts = list(s.scalars(select(ReportFact).where(ReportFact.metric == metrics.REPLIED)))
    hours: dict[str, list[float]] = defaultdict(list)
    for f in facts:
        year, week, _ = f.day.isocalendar()
        group = {
            "sequence": names[f.sequence_id],
            "step": f"{names[f.sequence_id]} / {f.step_id}",
            "owner": f.owner,
            "week": f"{year}-W{week:02d}",
        }[by]
        assert f.value is not None
        hours[group].append(f.value / 3600)
    assert len(hours) >= 2
    for group, values in hours.items():
        row = next(r for r in report.rows if r.group == group)
        assert row.median_reply_hours == pytest.approx(metrics.median(values), rel=1e-12)
    everything = [h for values in hours.values() for h in values]
    assert report.total is not None
    assert report.total.median_reply_hours == pytest.approx(metrics.median(everything), rel=1e-12)
