"""Is a CSV file's quoting sound? Checked over the whole file before any row is imported.

Nothing here touches the database; `csv_import.open_csv` calls `check`.
"""

from __future__ import annotations

import csv
import io
import re

from engine.errors import InvalidInput

# A bigger field is not a prospect's data; the csv module's own limit is 128 KB.
MAX_FIELD = 128 * 1024
_ADDRESS = re.compile(r"[^\s@,;|\t\"]+@[^\s@,;|\t\"]+\.[A-Za-z]{2,}")


def check(name: str, text: str, delimiter: str, headers: list[str]) -> None:
    """Refuse the whole file, before any row is written, when its quoting is broken.

    An unbalanced quote makes the csv module read on, across line breaks, until the next
    quote: the rows after it silently become part of one value ("imported 1, refused 0").
    Two signs give it away: a quote still open at the end of the file, and a value that
    spans lines whose later lines look like rows (the delimiter between fields, or an
    address and a delimiter). A real multi-line note rarely looks like that; when it does,
    the message says how to tell the two apart."""
    try:
        _scan(name, text, delimiter, headers, strict=True)
    except csv.Error as exc:
        row = getattr(exc, "kadenz_row", 0)
        if "field larger than field limit" in str(exc):
            raise InvalidInput(
                f"{name}: row {row}: a value is longer than {MAX_FIELD // 1024} KB "
                "(not a prospect's data; check the quotes on this row, or shorten the value)"
            ) from None
        if "unexpected end of data" in str(exc):
            raise InvalidInput(
                f"{name}: row {row}: a quote opened here is never closed before the "
                "end of the file; close it, or remove the stray quote"
            ) from None
        # Other strictness (`"Acme" GmbH`) the import tolerates: check the rest leniently.
        _scan(name, text, delimiter, headers, strict=False)


def _scan(name: str, text: str, delimiter: str, headers: list[str], *, strict: bool) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    minimum = max(1, min(2, len(headers) - 1))
    start = 1
    try:
        next(reader, None)
        start = reader.line_num
        for record in reader:
            row = start + 1
            start = reader.line_num
            for header, value in zip(headers, record, strict=False):
                if "\n" not in value and "\r" not in value:
                    continue
                for later in value.splitlines()[1:]:
                    count = later.count(delimiter)
                    if count >= minimum or (count and _ADDRESS.search(later)):
                        raise InvalidInput(
                            f"{name}: row {row}, column {header!r}: a quoted value "
                            f"runs over {len(value.splitlines())} lines that look like rows "
                            f"({later[:60]!r}): probably a quote that was never closed (fix "
                            f"the quotes on row {row}; a note that really spans lines must "
                            "not look like rows)"
                        )
    except csv.Error as exc:
        exc.kadenz_row = start + 1  # type: ignore[attr-defined]
        raise
