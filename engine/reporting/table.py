"""The report as a terminal table (Rich), shared by `kadenz report` and the demo's summary."""

from __future__ import annotations

from rich.table import Table

from engine.reporting import reports


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def report_table(result: reports.Report) -> Table:
    title = f"Report by {result.by}" + (f" — {result.sequence}" if result.sequence else "")
    narrowed = result.filters.describe()
    if narrowed:
        title += f" ({narrowed})"
    table = Table(title=title, show_footer=False)
    for name in (
        "",
        "enrolled",
        "contacted",
        "delivered",
        "bounce",
        "replied",
        "reply rate",
        "positive",
        "opt-out",
        "meetings",
        "median reply",
    ):
        table.add_column(name, justify="left" if not name else "right", no_wrap=True)
    rows = [*result.rows, *([result.total] if result.total else [])]
    for i, row in enumerate(rows):
        table.add_row(
            f"[bold]{row.group}[/]" if i == len(rows) - 1 else row.group,
            "—" if row.enrolled is None else str(row.enrolled),
            str(row.contacted),
            str(row.delivered),
            f"{_pct(row.bounce_rate)} ({row.bounced})",
            str(row.replied),
            _pct(row.reply_rate),
            f"{_pct(row.positive_rate)} ({row.positive})",
            f"{_pct(row.opt_out_rate)} ({row.opted_out})",
            str(row.meetings),
            "—" if row.median_reply_hours is None else f"{row.median_reply_hours:.1f} h",
            end_section=i == len(rows) - 2,
        )
    return table
