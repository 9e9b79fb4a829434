"""Decoding, delimiter sniffing, row numbers and per-row cleaning (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.people import csv_import
from engine.people.csv_import import CleanRow, RowIssue


def read(
    tmp_path: Path, data: bytes, overrides: dict[str, str] | None = None
) -> list[tuple[CleanRow | None, list[RowIssue]]]:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    source = csv_import.open_csv(path, overrides or {})
    return [csv_import.clean(source, row, rec) for row, rec in csv_import.iter_records(source)]


def test_utf8_with_bom_is_read_as_utf8() -> None:
    text, encoding, notices = csv_import.decode("\ufeffemail\nä@x.example\n".encode())
    assert (text, encoding, notices) == ("email\nä@x.example\n", "utf-8", [])


def test_a_windows_file_is_read_as_cp1252_and_says_so() -> None:
    text, encoding, notices = csv_import.decode("Vorname\nJürgen – €\n".encode("cp1252"))
    assert encoding == "cp1252"
    assert "Jürgen – €" in text
    assert "iconv" in notices[0]


def test_utf16_with_bom_is_decoded() -> None:
    text, encoding, _ = csv_import.decode("email\tname\n".encode("utf-16"))
    assert (text, encoding) == ("email\tname\n", "utf-16")


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("a,b,c", ","), ("E-Mail;Vorname;Firma", ";"), ("a\tb", "\t"), ("a|b", "|"), ("a", ",")],
)
def test_delimiter_is_sniffed_from_the_header(header: str, delimiter: str) -> None:
    assert csv_import.sniff_delimiter(header) == delimiter


def test_row_numbers_count_file_lines_including_header_and_multiline_values(
    tmp_path: Path,
) -> None:
    data = b'email,note\n\na@x.example,"two\nlines"\nnot-an-email,x\n'
    results = read(tmp_path, data)
    assert results[0][0] is not None and results[0][0].row == 3
    assert [str(i) for i in results[1][1]] == [
        "row 5, column 'email': 'not-an-email' is not a valid email: "
        "An email address must have an @-sign. (fix: fix the address or delete the row)"
    ]


def test_a_stray_non_utf8_row_in_a_utf8_file_is_refused_alone(tmp_path: Path) -> None:
    data = "email,note\na@x.example,Jürgen\nb@x.example,J".encode() + b"\xfcrgen\n"
    (first, _), (second, issues) = read(tmp_path, data)
    assert first is not None and first.custom == {"note": "Jürgen"}
    assert second is None
    assert issues[0].row == 3 and "not valid UTF-8" in issues[0].message


def test_too_many_values_is_refused_with_a_quoting_hint(tmp_path: Path) -> None:
    [(row, issues)] = read(tmp_path, b"email,company\na@x.example,Acme, Inc\n")
    assert row is None
    assert "quote values" in issues[0].fix


def test_values_are_cleaned_and_bad_optional_values_are_warnings(tmp_path: Path) -> None:
    data = (
        b"email,first name,country,time zone,state\n"
        b'  Erik@ACME.example ,"  Erik \r\n  Lund ",Sweden,Mars/Olympus,DE-BY\n'
    )
    [(row, issues)] = read(tmp_path, data)
    assert row is not None
    assert (row.email, row.email_key) == ("Erik@acme.example", "erik@acme.example")
    # No usable zone column, so Sweden's one zone is used; a Bavarian region in Sweden is
    # a contradiction the row is warned about, not a region stored as typed.
    assert row.values == {
        "first_name": "Erik Lund",
        "country": "SE",
        "timezone": "Europe/Stockholm",
        "timezone_source": "inferred from country SE",
    }
    assert [i.severity for i in issues] == ["warning", "warning"]
    assert "Mars/Olympus" in issues[0].message
    assert "'DE-BY' is not a region of SE" in issues[1].message


def test_a_full_name_column_is_split(tmp_path: Path) -> None:
    [(row, _)] = read(tmp_path, b"Name,Email\nAnna Maria Berg,anna@x.example\n")
    assert row is not None
    assert row.values == {"first_name": "Anna", "last_name": "Maria Berg"}


def test_a_file_without_an_email_column_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"Name,Firma\nAnna,Acme\n")
    with pytest.raises(InvalidInput, match='--map "Your Column=email"'):
        csv_import.open_csv(path, {})
