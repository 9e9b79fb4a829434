"""Report metrics: their written definitions, the arithmetic, and Wilson intervals. Pure.

The same definitions are printed in docs/reports.md, beside the numbers in the dashboard and
under `kadenz report`, so a number is never shown without saying what it counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The fact names the rollups count (engine.reporting.rollups writes them).
ENROLLED = "enrolled"
CONTACTED = "contacted"  # once per enrollment: its first email sent or hard-refused at RCPT
STEP_SENT = "step_sent"  # once per (enrollment, step): that step's email was sent
BOUNCED = "bounced"  # once per enrollment: a hard bounce
REPLIED = "replied"  # once per enrollment: its first human reply (current classification)
POSITIVE = "positive_reply"  # once per enrollment: a human reply whose intent is positive
OPTED_OUT = "opted_out"  # once per enrollment: unsubscribe or complaint
MEETING = "meeting"  # once per enrollment: meeting.booked or a task done as meeting_booked

FACTS = (ENROLLED, CONTACTED, STEP_SENT, BOUNCED, REPLIED, POSITIVE, OPTED_OUT, MEETING)

# What each column means, in words. Keys are the report's column names.
DEFINITIONS: dict[str, str] = {
    "enrolled": "Enrollments created (a prospect put into a sequence).",
    "contacted": "Enrolled prospects who were sent at least one email, counting an email "
    "the receiving server refused as a hard bounce (by step/variant: that step's email).",
    "delivered": "Contacted prospects minus those whose email hard-bounced.",
    "bounce_rate": "Hard-bounced prospects / contacted prospects.",
    "replied": "Delivered prospects with at least one human reply. Out-of-office and other "
    "auto-replies do not count; a reply later reclassified as automatic stops counting.",
    "reply_rate": "Prospects with a human reply / delivered prospects.",
    "positive_rate": "Prospects whose reply was classified positive (interested) / delivered.",
    "opt_out_rate": "Prospects who unsubscribed or complained / delivered prospects.",
    "meetings": "Prospects with a meeting booked (meeting.booked event, or a task completed "
    "with outcome meeting_booked).",
    "median_reply_hours": "Median time from a prospect's first sent email to their first "
    "human reply, in hours.",
}

Z_95 = 1.959963984540054  # two-sided 95 %


def rate(numerator: int, denominator: int) -> float | None:
    """A ratio, or None when there is nothing to divide by (shown as "—", never as 0 %)."""
    return numerator / denominator if denominator > 0 else None


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion: honest for small samples and for 0 % / 100 %."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> float:
    """Pooled two-proportion z statistic (0 when either group is empty or p is 0 or 1)."""
    if n1 <= 0 or n2 <= 0:
        return 0.0
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0
    return (s1 / n1 - s2 / n2) / se


@dataclass(frozen=True, slots=True)
class VariantResult:
    variant: str
    successes: int
    trials: int
    low: float
    high: float

    @property
    def rate(self) -> float | None:
        return rate(self.successes, self.trials)


@dataclass(frozen=True, slots=True)
class Comparison:
    variants: tuple[VariantResult, ...]
    leader: str | None  # the variant that is significantly best, if any
    verdict: str  # a plain sentence for people


def compare_variants(counts: dict[str, tuple[int, int]], z_crit: float = Z_95) -> Comparison:
    """Compare A/B/n variants' reply rates (successes, trials per variant).

    A variant "wins" only when a two-sided pooled two-proportion z-test at 95 % against EVERY
    other variant is significant; otherwise the verdict is "not enough data yet".
    """
    results = tuple(
        VariantResult(name, s, n, *wilson_interval(s, n)) for name, (s, n) in sorted(counts.items())
    )
    if len(results) < 2:
        return Comparison(results, None, "only one variant: nothing to compare")
    best = max(results, key=lambda r: (r.rate or 0.0, r.trials))
    others = [r for r in results if r.variant != best.variant]
    zs = [two_proportion_z(best.successes, best.trials, o.successes, o.trials) for o in others]
    if all(z > z_crit for z in zs):
        return Comparison(
            results,
            best.variant,
            f"variant {best.variant} is better (two-proportion z-test, 95 %, z ≥ {min(zs):.2f})",
        )
    return Comparison(results, None, "not enough data yet (no significant difference at 95 %)")


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
