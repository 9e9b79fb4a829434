"""CSV for spreadsheets: every CSV Kadenz writes goes through here (formula injection).

A cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a NUL is read as a
formula by Excel, LibreOffice and Google Sheets; an imported first name of
`=HYPERLINK("https://evil.example","Click")` would become a live link in a manager's
report. Following OWASP's CSV Injection advice (and ASVS 1.2.10), such text cells get a
leading single quote, which spreadsheets take as "this is text" and do not display; RFC
4180 quoting is left to the csv module. Numbers stay numbers (a negative rate is not text).

Our importer drops that quote again (`unneutralise`), so an export read back is unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


def cell(value: Any) -> Any:
    """The value as it may go into a CSV cell."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """What `cell` wrote, read back: a quote before a trigger character is ours."""
    if len(value) > 1 and value[0] == "'" and value[1] in "".join(TRIGGERS):
        return value[1:]
    return value


class Writer:
    """csv.writer whose rows are neutralised."""

    def __init__(self, handle: TextIO, **kwargs: Any) -> None:
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([cell(v) for v in row])


class DictWriter:
    """csv.DictWriter whose values (and header) are neutralised."""

    def __init__(self, handle: TextIO, fieldnames: list[str], **kwargs: Any) -> None:
        self._writer = csv.DictWriter(handle, fieldnames=fieldnames, **kwargs)
        self.fieldnames = fieldnames

    def writeheader(self) -> None:
        self._writer.writerow({f: cell(f) for f in self.fieldnames})

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow({k: cell(v) for k, v in row.items()})
