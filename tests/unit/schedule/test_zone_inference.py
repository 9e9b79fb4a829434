"""Zones and regions from what CRM exports carry: labels, Windows names, country/region/city."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.schedule import regions, zone_inference, zone_labels
from engine.schedule.zone_table import COUNTRY_ZONES


@pytest.mark.parametrize(
    ("label", "zone", "how"),
    [
        ("Europe/Berlin", "Europe/Berlin", "IANA name"),
        ("america/new york", "America/New_York", "IANA name"),
        ("(GMT+01:00) Europe/Berlin", "Europe/Berlin", "zone label"),  # HubSpot
        ("(GMT-05:00) America/New_York", "America/New_York", "zone label"),
        (
            "(GMT+01:00) Central European Standard Time (Europe/Berlin)",
            "Europe/Berlin",
            "zone label",
        ),
        ("(GMT-05:00) Eastern Time (US & Canada)", "America/New_York", "zone label"),
        ("W. Europe Standard Time", "Europe/Berlin", "Windows zone"),
        ("Pacific Standard Time", "America/Los_Angeles", "Windows zone"),
        ("GMT Standard Time", "Europe/London", "Windows zone"),
        ("europe_slash_berlin", "Europe/Berlin", "IANA name"),  # HubSpot's internal value
    ],
)
def test_a_label_reads_as_its_zone(label: str, zone: str, how: str) -> None:
    assert zone_labels.read(label) == zone_labels.ZoneLabel(zone, how)


@pytest.mark.parametrize("label", ["GMT+01:00", "(UTC-05:00)", "+02:00", "Mars/Olympus", ""])
def test_offsets_and_unknown_names_are_not_zones(label: str) -> None:
    # An offset says nothing about daylight saving time: never a zone.
    assert zone_labels.read(label) is None


@pytest.mark.parametrize(
    ("country", "text", "code"),
    [
        ("DE", "Bavaria", "DE-BY"),
        ("DE", "Bayern", "DE-BY"),
        ("DE", "BY", "DE-BY"),
        ("DE", "by", "DE-BY"),
        (None, "DE-BY", "DE-BY"),
        ("DE", "Baden-Wuerttemberg", "DE-BW"),
        ("DE", "baden württemberg", "DE-BW"),
        ("DE", "North Rhine-Westphalia", "DE-NW"),
        ("US", "New York", "US-NY"),
        ("US", "CA", "US-CA"),
        ("CA", "Québec", "CA-QC"),
        ("AT", "Vienna", "AT-9"),
        ("AU", "NSW", "AU-NSW"),
        ("GB", "Scotland", "GB-SCT"),
        ("ES", "Catalonia", "ES-CT"),
    ],
)
def test_regions_normalise_to_iso_3166_2(country: str | None, text: str, code: str) -> None:
    found = regions.read(country, text)
    assert found is not None and found.code == code


@pytest.mark.parametrize(
    ("country", "text"), [("DE", "Atlantis"), ("DE", "US-CA"), (None, "Bavaria"), ("DE", "")]
)
def test_unknown_or_mismatched_regions_are_none(country: str | None, text: str) -> None:
    assert regions.read(country, text) is None


@pytest.mark.parametrize(
    ("where", "zone", "source"),
    [
        (("FR", None, None), "Europe/Paris", "country"),
        (("DE", None, None), "Europe/Berlin", "country, main zone"),  # Büsingen is the other
        (("ES", None, None), "Europe/Madrid", "country, main zone"),
        (("US", "US-CA", None), "America/Los_Angeles", "region"),
        (("US", "NY", None), "America/New_York", "region"),
        (("US", "TX", None), "America/Chicago", "region"),
        (("ES", "CN", None), "Atlantic/Canary", "region"),
        (("AU", "WA", None), "Australia/Perth", "region"),
        (("US", None, "Chicago"), "America/Chicago", "city"),
        (("US", None, "los angeles"), "America/Los_Angeles", "city"),
    ],
)
def test_a_zone_is_inferred_from_country_region_city(
    where: tuple[str, str | None, str | None], zone: str, source: str
) -> None:
    assert zone_inference.infer(*where) == zone_inference.InferredZone(zone, source)


@pytest.mark.parametrize("country", ["US", "RU", "AU", "BR", "CA"])
def test_a_country_of_several_zones_alone_is_not_guessed(country: str) -> None:
    assert zone_inference.infer(country) is None
    assert zone_inference.zone_count(country) > 1


def test_every_zone_in_the_tables_loads() -> None:
    named = {z for zones in COUNTRY_ZONES.values() for z, _ in zones}
    named |= set(zone_inference._REGION_ZONES.values())
    for name in named:
        ZoneInfo(name)
    # every region the table names is a real ISO 3166-2 subdivision of its country
    for code in zone_inference._REGION_ZONES:
        country, _, part = code.partition("-")
        assert regions.read(country, part) is not None, code
