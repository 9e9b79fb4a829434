"""Header recognition, --map parsing, countries and timezones."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.people import field_map
from engine.schedule import zones


def fields(*headers: str, overrides: str | None = None) -> list[str]:
    targets = field_map.map_headers(headers, field_map.parse_map(overrides))
    return [t.describe() for t in targets]


def test_hubspot_export_headers() -> None:
    assert fields(
        "Email",
        "First Name",
        "Last Name",
        "Company Name",
        "Job Title",
        "Phone Number",
        "Time Zone",
        "Country/Region",
    ) == [
        "email",
        "first_name",
        "last_name",
        "company",
        "title",
        "phone",
        "timezone",
        "country",
    ]


def test_salesforce_pipedrive_lemlist_and_german_headers() -> None:
    assert fields("Email", "Account Name", "Title", "Phone", "Mailing Country") == [
        "email",
        "company",
        "title",
        "phone",
        "country",
    ]
    assert fields("Person - Email", "Person - First name", "Organization - Name") == [
        "email",
        "first_name",
        "company",
    ]
    assert fields("email", "firstName", "lastName", "companyName") == [
        "email",
        "first_name",
        "last_name",
        "company",
    ]
    assert fields("E-Mail", "Vorname", "Nachname", "Firma", "Land") == [
        "email",
        "first_name",
        "last_name",
        "company",
        "country",
    ]


def test_unknown_columns_become_snake_cased_custom_fields() -> None:
    assert fields("Email", "Lead Source", "LinkedIn URL", "numberOfEmployees") == [
        "email",
        "custom.lead_source",
        "custom.linked_in_url",
        "custom.number_of_employees",
    ]


def test_a_field_is_filled_once_the_second_column_goes_to_custom() -> None:
    assert fields("Email", "Work Email") == ["email", "custom.work_email"]


def test_map_overrides_aliases_and_can_ignore_or_rename() -> None:
    assert fields(
        "Mail Adresse",
        "Email",
        "Notes",
        "Segment",
        overrides="Mail Adresse=email, notes=-, Segment=custom.tier",
    ) == ["email", "custom.email", "(ignored)", "custom.tier"]


@pytest.mark.parametrize(
    "text",
    ["Email Address", "Email=mail", "=email", "Email Address=emails"],
)
def test_bad_map_is_refused_with_the_fix(text: str) -> None:
    with pytest.raises(InvalidInput, match="--map"):
        field_map.parse_map(text)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("Österreich", "AT"),
        ("United States", "US"),
        ("USA", "US"),
        ("United Kingdom", "GB"),
        ("Narnia", None),
        ("XX", None),
    ],
)
def test_country_codes(raw: str, code: str | None) -> None:
    assert field_map.country_code(raw) == code


def test_timezones_are_iana_names_case_insensitive() -> None:
    assert zones.timezone_name("Europe/Berlin") == "Europe/Berlin"
    assert zones.timezone_name("europe/berlin") == "Europe/Berlin"
    assert zones.timezone_name("America/New York") == "America/New_York"
    assert zones.timezone_name("Mars/Olympus") is None
    assert zones.timezone_name("../../etc/passwd") is None
