"""Report numbers equal a hand-computed expectation on the seeded scenario (tests/support/seed)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.reporting import reports, rollups
from engine.store.db import Database
from engine.store.models import Event, ReportFact, ReportRollup
from tests.support.seed import EXPECTED, day, seed_scenario


def _row(report: reports.Report, group: str) -> reports.ReportRow:
    return next(r for r in report.rows if r.group == group)


def _numbers(row: reports.ReportRow) -> dict[str, int | None]:
    keys = (
        "enrolled",
        "contacted",
        "bounced",
        "delivered",
        "replied",
        "positive",
        "opted_out",
        "meetings",
    )
    return {k: getattr(row, k) for k in keys}


def test_by_sequence_matches_hand_computed(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.session() as s:
        report = reports.build_report(s, by="sequence")
    assert _numbers(_row(report, "saas-founders")) == EXPECTED["saas-founders"]
    assert _numbers(_row(report, "agencies")) == EXPECTED["agencies"]
    saas = _row(report, "saas-founders")
    # p2's reply was reclassified as automatic and p1's out-of-office does not count:
    assert saas.reply_rate == pytest.approx(4 / 9)
    assert saas.bounce_rate == pytest.approx(1 / 10)
    assert saas.opt_out_rate == pytest.approx(1 / 9)
    # first human replies: p0 24 h after intro; p1 (intro d0 09:01 → d4 09:01) 96 h;
    # p5 (d0 09:05 → d2 09:05) 48 h; p8 (d0 09:08 → d4 15:00) 101 h 52 min. Median = 72 h.
    assert saas.median_reply_hours == pytest.approx(72.0)
    assert report.total is not None and report.total.contacted == 13


def test_by_variant_and_step_attribute_to_last_email(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.session() as s:
        by_variant = reports.build_report(s, by="variant", sequence="saas-founders")
        by_step = reports.build_report(s, by="step", sequence="saas-founders")
        comparisons = reports.variant_comparisons(s, "saas-founders")
    a = _row(by_variant, "intro / a")
    b = _row(by_variant, "intro / b")
    assert (a.contacted, a.bounced, a.replied, a.positive, a.meetings) == (5, 0, 1, 1, 1)
    assert (b.contacted, b.bounced, b.delivered, b.replied, b.opted_out) == (5, 1, 4, 1, 1)
    assert [r.group for r in by_step.rows] == ["intro", "bump"]  # the sequence's order
    bump = _row(by_step, "bump")
    assert (bump.contacted, bump.replied, bump.positive, bump.meetings) == (6, 2, 1, 1)
    assert bump.enrolled is None
    # The total still counts prospects once, not step sends:
    assert by_step.total is not None and by_step.total.contacted == 10
    [intro] = comparisons
    assert intro.step_id == "intro"
    assert intro.comparison.leader is None
    assert intro.comparison.verdict.startswith("not enough data yet")


def test_by_owner_mailbox_week(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.session() as s:
        owners = reports.build_report(s, by="owner")
        weeks = reports.build_report(s, by="week")
        since = reports.build_report(s, by="sequence", since=date(2026, 3, 9))
    anna = _row(owners, "anna")
    ben = _row(owners, "ben")
    assert (anna.enrolled, anna.contacted, anna.replied) == (9, 8, 3)
    assert (ben.enrolled, ben.contacted, ben.bounced, ben.replied) == (5, 5, 1, 2)
    assert [r.group for r in weeks.rows] == ["2026-W10", "2026-W11"]
    assert _row(weeks, "2026-W11").contacted == 3
    assert [r.group for r in since.rows] == ["agencies"]


def test_reclassification_after_refresh_is_followed(db: Database) -> None:
    sc = seed_scenario(db)
    rollups.refresh_rollups(db)
    from engine.store.models import InboundMessage
    from tests.support.seed import Seeder

    with db.session() as s:
        inbound = s.scalars(
            select(InboundMessage).where(InboundMessage.enrollment_id == sc.enrollments["p5"])
        ).one()
        Seeder(s).reclassify(inbound, day(9), to="auto_reply")
    rollups.refresh_rollups(db)
    with db.session() as s:
        saas = _row(reports.build_report(s, by="sequence"), "saas-founders")
    assert saas.replied == 3
    with db.session() as s:
        Seeder(s).reclassify(inbound, day(9, 10), to="human_reply")
    rollups.refresh_rollups(db)
    with db.session() as s:
        saas = _row(reports.build_report(s, by="sequence"), "saas-founders")
    assert saas.replied == 4


def test_refresh_is_idempotent_and_incremental(db: Database) -> None:
    seed_scenario(db)
    first = rollups.refresh_rollups(db, batch_size=7)  # many small batches
    with db.session() as s:
        events = s.scalar(select(func.count()).select_from(Event))
        snapshot = sorted(
            (r.day, r.sequence_id, r.step_id, r.variant, r.metric, r.count)
            for r in s.scalars(select(ReportRollup))
        )
    assert first == events
    assert rollups.refresh_rollups(db) == 0
    with db.session() as s:
        again = sorted(
            (r.day, r.sequence_id, r.step_id, r.variant, r.metric, r.count)
            for r in s.scalars(select(ReportRollup))
        )
        report = reports.build_report(s, by="sequence")
    assert again == snapshot
    assert _numbers(_row(report, "saas-founders")) == EXPECTED["saas-founders"]


def test_concurrent_refreshes_count_once(db: Database) -> None:
    seed_scenario(db)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            rollups.refresh_rollups(db, batch_size=10)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        report = reports.build_report(s, by="sequence")
        facts = s.scalar(select(func.count()).select_from(ReportFact))
    assert _numbers(_row(report, "saas-founders")) == EXPECTED["saas-founders"]
    assert facts and facts > 0


def test_by_mailbox_and_version(db: Database) -> None:
    seed_scenario(db)
    rollups.refresh_rollups(db)
    with db.session() as s:
        boxes = reports.build_report(s, by="mailbox")
        versions = reports.build_report(s, by="version", sequence="saas-founders")
    anna, ben = _row(boxes, "anna"), _row(boxes, "ben")
    assert (anna.contacted, anna.bounced, ben.contacted, ben.bounced) == (8, 0, 5, 1)
    assert ben.bounce_rate == pytest.approx(0.2)
    assert [r.group for r in versions.rows] == ["saas-founders v1"]
    assert _numbers(versions.rows[0]) == EXPECTED["saas-founders"]


def test_reclassification_replacing_first_reply_in_one_batch(db: Database) -> None:
    """Two replies; the first is later reclassified: the second becomes the first reply,
    replacing the fact with the same key inside one refresh."""
    sc = seed_scenario(db)
    rollups.refresh_rollups(db)
    from engine.store.models import InboundMessage, OutboundMessage
    from tests.support.seed import Seeder

    with db.session() as s:
        first = s.scalars(
            select(InboundMessage).where(InboundMessage.enrollment_id == sc.enrollments["q0"])
        ).one()
        m = s.get(OutboundMessage, sc.outbound["q0.intro"])
        assert m is not None
        sd = Seeder(s)
        sd.reply(m, day(9, 9), intent="neutral", text="Actually, tell me more")
        sd.reclassify(first, day(9, 10), to="auto_reply")
    rollups.refresh_rollups(db)
    with db.session() as s:
        agencies = _row(reports.build_report(s, by="sequence"), "agencies")
        fact = s.scalars(
            select(ReportFact).where(
                ReportFact.enrollment_id == sc.enrollments["q0"], ReportFact.metric == "replied"
            )
        ).one()
    assert (agencies.replied, agencies.positive) == (1, 0)
    assert fact.at == day(9, 9)
