"""When a paused enrollment resumes: return dates, business days, local 09:00."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.schedule.calendar import BusinessCalendar
from engine.schedule.types import Duration, DurationUnit
from engine.store.models import Enrollment, Mailbox, Prospect

OOO_RESUME_AT = time(9, 0)  # local time on the first business day after the return date


def resume_after_return(
    back: date, zone: ZoneInfo, calendar: BusinessCalendar | None = None
) -> datetime:
    """09:00 local on the first business day after the return date (they need a day)."""
    calendar = calendar or BusinessCalendar()
    day = back + timedelta(days=1)
    for _ in range(60):  # a calendar without any business day in 60 days is a broken one
        if calendar.is_business_day(day):
            break
        day += timedelta(days=1)
    return datetime.combine(day, OOO_RESUME_AT, tzinfo=zone).astimezone(UTC)


def calendar_for(
    session: Session, enrollment: Enrollment, spec: dict[str, Any]
) -> BusinessCalendar:
    """The sequence's holidays (schedule.holidays), else the prospect's country/region."""
    schedule = spec.get("schedule")
    region = schedule.get("holidays") if isinstance(schedule, dict) else None
    if region == "prospect":  # `holidays: prospect`: the person's own calendar
        region = None
    if not isinstance(region, str):
        prospect = session.get(Prospect, enrollment.prospect_id)
        if prospect is not None and prospect.country:
            region = prospect.country + (f"-{prospect.region}" if prospect.region else "")
    try:
        return BusinessCalendar.from_region(region if isinstance(region, str) else None)
    except ValueError:
        return BusinessCalendar()


def add_duration(start: datetime, duration: Duration) -> datetime:
    if duration.unit is DurationUnit.MINUTES:
        return start + timedelta(minutes=duration.amount)
    if duration.unit is DurationUnit.HOURS:
        return start + timedelta(hours=duration.amount)
    if duration.unit is DurationUnit.DAYS:
        return start + timedelta(days=duration.amount)
    result, left = start, duration.amount
    while left > 0:
        result += timedelta(days=1)
        if result.weekday() < 5:
            left -= 1
    return result


def zone_for(session: Session, enrollment: Enrollment, spec: dict[str, Any]) -> ZoneInfo:
    """The prospect's time zone, else the sequence's, else the mailbox's, else UTC."""
    prospect = session.get(Prospect, enrollment.prospect_id)
    schedule = spec.get("schedule")
    mailbox = session.get(Mailbox, enrollment.mailbox_id) if enrollment.mailbox_id else None
    candidates = [
        prospect.timezone if prospect else None,
        schedule.get("fallback_timezone") if isinstance(schedule, dict) else None,
        schedule.get("timezone") if isinstance(schedule, dict) else None,
        mailbox.timezone if mailbox else None,
    ]
    for name in candidates:
        if isinstance(name, str) and "/" in name:
            try:
                return ZoneInfo(name)
            except (ValueError, OSError):
                continue
    return ZoneInfo("UTC")
