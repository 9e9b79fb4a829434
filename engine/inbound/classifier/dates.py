"""Return dates in out-of-office text, English and German. Pure: the reference is given.

"back on 3 March", "until March 3rd, 2026", "returning 03/03/2026", "bis zum 3. März",
"ab dem 04.03.2026 wieder", "2026-03-03", "back on Monday". A date without a year takes
the first such date on or after the reference (the auto-reply's own Date); without a
reference, only dates that carry a year are trusted.

Semantics: "back/returning/wieder ab/zurück am X" → X. "until/bis/till X" → X (people
write "out until Monday" meaning back Monday). "through X" / "bis einschließlich X" → the
day after X. A range ("away from 22 December, back on 5 January") gives its end: the words
after a date belong to it only when no other date follows within them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_MONTHS = {
    "january": 1, "jan": 1, "januar": 1, "jänner": 1, "jän": 1,
    "february": 2, "feb": 2, "februar": 2,
    "march": 3, "mar": 3, "märz": 3, "maerz": 3, "mär": 3, "mrz": 3,
    "april": 4, "apr": 4,
    "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juni": 6,
    "july": 7, "jul": 7, "juli": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12, "dezember": 12, "dez": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "montag": 0, "tuesday": 1, "dienstag": 1, "wednesday": 2, "mittwoch": 2,
    "thursday": 3, "donnerstag": 3, "friday": 4, "freitag": 4, "saturday": 5, "samstag": 5,
    "sonnabend": 5, "sunday": 6, "sonntag": 6,
}  # fmt: skip

_MONTH = "(?P<{}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_RE = re.compile(
    r"(?<!\d)(?:"
    r"(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<na>\d{1,2})(?P<sep>[./])(?P<nb>\d{1,2})(?:(?P=sep)(?P<ny>\d{4}|\d{2}(?!\d)))?\.?"
    r"|(?P<dd>\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:of\s+)?"
    + _MONTH.format("dm")
    + r",?(?:\s+(?P<dy>\d{4}))?"
    r"|" + _MONTH.format("md") + r"\s+(?P<mdd>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<mdy>\d{4}))?"
    r"|(?P<wd>" + "|".join(_WEEKDAYS) + r")\b"
    r")(?!\d)"
)
# Words before a date that make it a return date, and how to read it.
_BACK = re.compile(
    r"(?:back|return(?:ing|s)?|in the office|available|reachable|again|resume|"
    r"zurück|wieder|erreichbar)\W+(?:\w+\W+){0,5}$"
)
# "ab dem 04.03. wieder im Büro", "from 9 March back in the office"
_BACK_AFTER = re.compile(r"^\W*(?:\w+\W+){0,4}?(?:wieder|zurück|back|again)\b")
_UNTIL = re.compile(r"(?:until|till|til|bis(?: zum| zu| am)?|to|-)\W+(?:\w+\W+){0,3}$")
_THROUGH = re.compile(
    r"(?:through|thru|(?:bis )?einschlie(?:ß|ss)lich|inclusive(?: of)?|up to and including)"
    r"\W+(?:\w+\W+){0,3}$"
)
_AFTER_INCLUSIVE = re.compile(r"^\W{0,3}(?:einschlie(?:ß|ss)lich|inclusive|incl\.)")


def _resolve(match: re.Match[str], reference: date | None) -> date | None:
    g = match.groupdict()
    try:
        if g["iy"]:
            return date(int(g["iy"]), int(g["im"]), int(g["id"]))
        if g["wd"]:
            if reference is None:
                return None
            ahead = (_WEEKDAYS[g["wd"].lower()] - reference.weekday()) % 7 or 7
            return reference + timedelta(days=ahead)
        if g["na"]:
            a, b = int(g["na"]), int(g["nb"])
            year = _year(g["ny"])
            if g["sep"] == ".":  # German style is always day.month
                return _with_year(a, b, year, reference)
            if a > 12:
                return _with_year(a, b, year, reference)
            if b > 12:
                return _with_year(b, a, year, reference)
            options = [
                d
                for d in (_with_year(b, a, year, reference), _with_year(a, b, year, reference))
                if d
            ]
            if reference is not None and options:
                return min(options, key=lambda d: abs((d - reference).days))
            return options[0] if options else None
        if g["dd"]:
            return _with_year(int(g["dd"]), _MONTHS[g["dm"].lower()], _year(g["dy"]), reference)
        if g["md"]:
            return _with_year(int(g["mdd"]), _MONTHS[g["md"].lower()], _year(g["mdy"]), reference)
    except (ValueError, KeyError):
        return None
    return None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _with_year(day: int, month: int, year: int | None, reference: date | None) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    try:
        if year is not None:
            return date(year, month, day)
        if reference is None:
            return None
        candidate = date(reference.year, month, day)
        if candidate < reference - timedelta(days=7):
            candidate = date(reference.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def find_return_date(text: str, reference: date | None) -> tuple[date | None, str | None]:
    """The return date and the phrase it came from, or (None, None)."""
    best: tuple[int, int, date, str] | None = None
    text = text[:5000].lower()  # the patterns are lower case (faster than re.I)
    matches = list(_DATE_RE.finditer(text))
    for index, match in enumerate(matches):
        before = text[max(0, match.start() - 60) : match.start()]
        # "from 22 December and back on 5 January": the words after a date belong to it only
        # up to the next date, so a range's start never takes its end's "back".
        following = matches[index + 1].start() if index + 1 < len(matches) else len(text) + 41
        after = text[match.end() : match.end() + 40] if following > match.end() + 40 else ""
        when = _resolve(match, reference)
        if when is None:
            continue
        if _THROUGH.search(before) or _AFTER_INCLUSIVE.search(after):
            rank, when = 1, when + timedelta(days=1)
        elif _BACK.search(before) or _BACK_AFTER.search(after):
            rank = 0
        elif _UNTIL.search(before):
            rank = 2
        else:
            continue
        if reference is not None and when < reference - timedelta(days=1):
            continue  # a date in the past is not when they are back
        phrase = (before[-30:] + match.group(0)).strip()
        weekday_only = 1 if match.group("wd") else 0  # "Monday, 9 March": the date wins
        if best is None or (rank, weekday_only) < best[:2]:
            best = (rank, weekday_only, when, phrase)
    if best is None:
        return None, None
    return best[2], " ".join(best[3].split())
