"""What `kadenz demo` shows at the end: the report, the SDR queue, the checks, an HTML file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jinja2 import Environment, select_autoescape
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from engine.core.states import TaskState
from engine.demo.checks import Check
from engine.demo.driver import DemoRun
from engine.reporting import reports, rollups
from engine.reporting.table import report_table
from engine.store.models import Mailbox, Prospect, Task

BY = ("sequence", "step", "variant")


def _reports(run: DemoRun) -> list[reports.Report]:
    rollups.refresh_rollups(run.db)
    with run.db.session() as session:
        return [reports.build_report(session, by=by) for by in BY]


def _queue(run: DemoRun) -> list[tuple[str, str, str, str]]:
    """Open tasks in the SDR's queue: (due, kind, title, prospect)."""
    with run.db.session() as session:
        rows = session.execute(
            select(Task, Prospect)
            .join(Prospect, Prospect.id == Task.prospect_id, isouter=True)
            .where(Task.state == str(TaskState.OPEN))
            .order_by(Task.due_at)
        ).all()
    return [
        (t.due_at.strftime("%Y-%m-%d %H:%M"), t.kind, t.title, (p.email or "") if p else "")
        for t, p in rows
    ]


def print_summary(run: DemoRun, checks: list[Check], html: Path, seconds: float) -> None:
    out = Console(width=max(Console().width, 150), highlight=False, soft_wrap=True)
    for result in _reports(run):
        out.print(report_table(result))
    queue = _queue(run)
    table = Table(title=f"SDR queue: {len(queue)} open tasks (first 10)")
    for name in ("due (UTC)", "kind", "title", "prospect"):
        table.add_column(name)
    for row in queue[:10]:
        table.add_row(*row)
    out.print(table)
    with run.db.session() as session:
        for box in session.scalars(select(Mailbox).order_by(Mailbox.name)):
            state = f"[red]paused[/]: {box.paused_reason}" if box.paused else "[green]sending[/]"
            out.print(f"mailbox {box.name}: {state}")
    kinds = Counter(kind for _, _, kind in run.inbound_log)
    out.print("inbound: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + "\n")
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
        out.print(f"{mark} {check.name}: {check.detail}")
    home = run.settings.home
    out.print(
        f"\n{run.options.days} virtual days in {seconds:.0f} s. HTML report: {html}\n"
        f"Dashboard on the demo data: KADENZ_HOME={home} kadenz serve  "
        "(then open http://127.0.0.1:8025; create a login token with "
        f"KADENZ_HOME={home} kadenz token create --name me --role admin)"
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kadenz demo report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1d2433}
table{border-collapse:collapse;margin:1rem 0}td,th{padding:.3rem .6rem;border-bottom:1px solid #dde}
th{text-align:left;background:#f3f5fa}td.n{text-align:right}.ok{color:#17803d}.bad{color:#b42318}
small{color:#667}
</style></head><body>
<h1>Kadenz demo: {{ days }} days, {{ people }} prospects</h1>
<p>{{ imported }}<br>{{ enrolled | join("; ") }}</p>
<h2>What the run proved</h2><ul>
{% for c in checks %}<li class="{{ 'ok' if c.ok else 'bad' }}">{{ '✓' if c.ok else '✗' }}
{{ c.name }} <small>{{ c.detail }}</small></li>{% endfor %}</ul>
{% for r in reports %}<h2>Report by {{ r.by }}</h2><table><tr><th></th>
{% for col in columns %}<th>{{ col }}</th>{% endfor %}</tr>
{% for row in r.rows + [r.total] %}<tr><td>{{ row.group }}</td>
{% for col in columns %}<td class="n">{{ fmt(row, col) }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}
<h2>Metric definitions</h2><dl>{% for k, v in definitions.items() %}<dt>{{ k }}</dt>
<dd>{{ v }}</dd>{% endfor %}</dl>
<h2>SDR queue ({{ queue | length }} open)</h2><table><tr><th>due (UTC)</th><th>kind</th>
<th>title</th><th>prospect</th></tr>{% for q in queue %}<tr>{% for v in q %}<td>{{ v }}</td>
{% endfor %}</tr>{% endfor %}</table>
<h2>What came back</h2><table><tr><th>at (UTC)</th><th>what the world sent</th>
<th>classified as</th></tr>{% for at, what, kind in inbound %}<tr><td>{{ at }}</td>
<td>{{ what }}</td><td>{{ kind }}</td></tr>{% endfor %}</table>
</body></html>
"""

_COLUMNS = {
    "enrolled": "enrolled",
    "contacted": "contacted",
    "delivered": "delivered",
    "bounce rate": "bounce_rate",
    "replied": "replied",
    "reply rate": "reply_rate",
    "positive": "positive",
    "opt-outs": "opted_out",
    "meetings": "meetings",
    "median reply (h)": "median_reply_hours",
}


def _fmt(row: reports.ReportRow, column: str) -> str:
    value = getattr(row, _COLUMNS[column])
    if value is None:
        return "—"
    if column.endswith("rate"):
        return f"{value * 100:.1f}%"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def write(run: DemoRun, checks: list[Check]) -> Path:
    """A self-contained HTML report (no scripts, no external assets) next to the workspace."""
    results = _reports(run)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(_PAGE).render(
        days=run.options.days,
        people=len(run.people),
        imported=run.import_summary,
        enrolled=run.enroll_summary,
        checks=checks,
        reports=results,
        columns=list(_COLUMNS),
        fmt=_fmt,
        definitions=results[0].definitions if results else {},
        queue=_queue(run),
        inbound=[(at.strftime("%Y-%m-%d %H:%M"), what, kind) for at, what, kind in run.inbound_log],
    )
    path = run.options.out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path.resolve()
