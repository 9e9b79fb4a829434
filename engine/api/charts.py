"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, readable offline."""

from __future__ import annotations

from markupsafe import Markup, escape

from engine.core.metrics import VariantResult


def bar_chart(labels: list[str], values: list[int], *, title: str, width: int = 640) -> Markup:
    """Vertical bars with the value on top and the label below."""
    height, top, bottom, left = 220, 24, 36, 8
    n = max(1, len(values))
    peak = max([*values, 1])
    slot = (width - 2 * left) / n
    bar = min(48.0, slot * 0.7)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" '
        'class="axis"/>',
    ]
    if not values:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">'
            "no data yet</text>"
        )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (height - top - bottom) * value / peak
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom - h
        cx = x + bar / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        parts.append(f'<text x="{cx:.1f}" y="{y - 6:.1f}" text-anchor="middle">{value}</text>')
        parts.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'class="label">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def interval_chart(results: tuple[VariantResult, ...], *, title: str, width: int = 640) -> Markup:
    """Each variant's reply rate as a dot with its 95 % Wilson interval as a line."""
    row, left, right, top = 34, 90, 60, 26
    height = top + row * len(results) + 28
    scale_max = max([r.high for r in results] + [0.05])
    span = width - left - right

    def x(v: float) -> float:
        return left + span * v / scale_max

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for tick in range(0, 6):
        v = scale_max * tick / 5
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{top - 8}" x2="{x(v):.1f}" '
            f'y2="{height - 24}" class="grid"/>'
        )
        parts.append(
            f'<text x="{x(v):.1f}" y="{height - 8}" text-anchor="middle" class="label">'
            f"{v * 100:.0f} %</text>"
        )
    for i, r in enumerate(results):
        y = top + row * i + row / 2
        rate = r.rate or 0.0
        parts.append(
            f'<text x="{left - 10}" y="{y + 4:.1f}" text-anchor="end">'
            f"variant {escape(r.variant)}</text>"
        )
        parts.append(
            f'<line x1="{x(r.low):.1f}" y1="{y:.1f}" x2="{x(r.high):.1f}" y2="{y:.1f}" class="ci"/>'
        )
        for end in (r.low, r.high):
            parts.append(
                f'<line x1="{x(end):.1f}" y1="{y - 6:.1f}" x2="{x(end):.1f}" '
                f'y2="{y + 6:.1f}" class="ci"/>'
            )
        parts.append(
            f'<circle cx="{x(rate):.1f}" cy="{y:.1f}" r="5" class="dot">'
            f"<title>{r.successes}/{r.trials}</title></circle>"
        )
        parts.append(f'<text x="{width - right + 8}" y="{y + 4:.1f}">{rate * 100:.1f} %</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
