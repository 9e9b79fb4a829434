"""A realistic, deterministic set of demo prospects and the persona each one plays."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from engine.core import csv_safe


class Persona(StrEnum):
    """How a demo recipient behaves when our email reaches them."""

    SILENT = "silent"  # reads nothing, answers nothing (most people)
    NO_SUCH_USER = "no_such_user"  # 550 5.1.1 at RCPT
    BOUNCE_LATER = "bounce_later"  # accepted, then a DSN arrives (5.1.1)
    MAILBOX_FULL = "mailbox_full"  # accepted, then a DSN arrives (5.2.2)
    POSITIVE = "positive"  # "sounds interesting, send me times"
    NEGATIVE = "negative"  # "not interested"
    REMOVE_ME = "remove_me"  # "please remove me"
    REFERRAL = "referral"  # "talk to my colleague"
    QUESTION = "question"  # asks a question
    OUT_OF_OFFICE = "out_of_office"  # away until a date, then silent


@dataclass(frozen=True, slots=True)
class DemoProspect:
    email: str
    first_name: str
    last_name: str
    company: str
    title: str
    country: str
    timezone: str
    language: str  # en | de
    persona: Persona
    sequence: str  # which example sequence this prospect is enrolled in


_EN_FIRST = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "James",
    "Sophia",
    "Lucas",
    "Mia",
    "Ethan",
    "Grace",
    "Henry",
    "Chloe",
    "Jack",
    "Ruby",
    "Owen",
    "Isla",
    "Leo",
    "Zoe",
    "Sam",
]
_EN_LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Clark",
    "Walker",
    "Wright",
    "Hughes",
    "Green",
    "Baker",
    "Hall",
    "Wood",
    "Turner",
]
_DE_FIRST = [
    "Lukas",
    "Anna",
    "Felix",
    "Lea",
    "Jonas",
    "Hannah",
    "Paul",
    "Marie",
    "Jan",
    "Sophie",
    "Tobias",
    "Laura",
    "Niklas",
    "Julia",
    "Moritz",
    "Katharina",
]
_DE_FEMALE = frozenset({"Anna", "Lea", "Hannah", "Marie", "Sophie", "Laura", "Julia", "Katharina"})
_DE_LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
]
_EN_COMPANIES = [
    "Brightloop",
    "Cloudberry",
    "Northstack",
    "Pixelforge",
    "Quillhaus",
    "Tidewise",
    "Lumenade",
    "Orbitly",
    "Sparrowsoft",
    "Fernhill Labs",
    "Kitebase",
    "Mosaicly",
]
_DE_COMPANIES = [
    "Nordwind Logistik",
    "Alpenblick Maschinenbau",
    "Rheinwerk Metall",
    "Isartal Software",
    "Elbe Präzision",
    "Schwarzwald Sensorik",
    "Donau Kunststoff",
    "Bodensee Elektronik",
]
_EN_TITLES = ["Founder & CEO", "Co-founder", "Head of Growth", "VP Sales", "CTO", "COO"]
_DE_TITLES = [
    "Geschäftsführer",
    "Leiter Vertrieb",
    "Leiterin Einkauf",
    "Technischer Leiter",
    "Inhaberin",
]
_EN_PLACES = [
    ("US", "America/New_York"),
    ("US", "America/Chicago"),
    ("US", "America/Los_Angeles"),
    ("GB", "Europe/London"),
    ("IE", "Europe/Dublin"),
    ("AU", "Australia/Sydney"),
]
_DE_PLACES = [("DE", "Europe/Berlin"), ("AT", "Europe/Vienna"), ("CH", "Europe/Zurich")]

# Share of each persona (the rest stay silent). Unknown addresses are kept to ~1.5%, a list
# that was cleaned once: much more and the bounce-rate breaker pauses the mailboxes, as it
# should.
_MIX = [
    (Persona.NO_SUCH_USER, 0.01),
    (Persona.BOUNCE_LATER, 0.005),
    (Persona.MAILBOX_FULL, 0.02),
    (Persona.POSITIVE, 0.06),
    (Persona.NEGATIVE, 0.06),
    (Persona.REMOVE_ME, 0.03),
    (Persona.REFERRAL, 0.03),
    (Persona.QUESTION, 0.03),
    (Persona.OUT_OF_OFFICE, 0.08),
]


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "&": "", " ": "", ".": ""})
    return "".join(c for c in text.lower().translate(table) if c.isalnum() or c == "-")


_EN_SUFFIXES = ["", "HQ", "io", "Labs", "AI", "Cloud", "Works", "Hub"]
_DE_PREFIXES = ["Nord", "Süd", "Ost", "West", "Alt", "Neu", "Ober", "Unter"]


def _company(rng: random.Random, german: bool) -> str:
    """About a hundred companies per language, so colleagues exist but are not everyone."""
    if german:
        # "Nordwind Logistik" -> "Neu-Nordwind Logistik": one word before the space, the domain.
        base = rng.choice(_DE_COMPANIES)
        prefix = rng.choice(_DE_PREFIXES)
        return f"{prefix}{base[0].lower()}{base[1:]}" if rng.random() < 0.9 else base
    base, suffix = rng.choice(_EN_COMPANIES), rng.choice(_EN_SUFFIXES)
    return f"{base}{suffix}" if suffix else base


def _personas(count: int, rng: random.Random) -> list[Persona]:
    """Each behaviour by its share, and at least once: a short demo still shows them all."""
    chosen = [p for p, share in _MIX for _ in range(max(1, round(share * count)))][:count]
    chosen += [Persona.SILENT] * (count - len(chosen))
    rng.shuffle(chosen)
    return chosen


def generate(count: int, seed: int) -> list[DemoProspect]:
    """`count` prospects, the same for the same seed: about 40% German-speaking."""
    rng = random.Random(seed)
    personas = _personas(count, rng)
    people: list[DemoProspect] = []
    seen: set[str] = set()
    while len(people) < count:
        german = rng.random() < 0.4
        first = rng.choice(_DE_FIRST if german else _EN_FIRST)
        last = rng.choice(_DE_LAST if german else _EN_LAST)
        company = _company(rng, german)
        domain = f"{_slug(company.split()[0] if german else company)}.example"
        email = f"{_slug(first)}.{_slug(last)}@{domain}"
        if email in seen:
            continue
        seen.add(email)
        country, tz = rng.choice(_DE_PLACES if german else _EN_PLACES)
        persona = personas[len(people)]
        people.append(
            DemoProspect(
                email=email,
                first_name=first,
                last_name=last,
                company=company,
                title=rng.choice(_DE_TITLES if german else _EN_TITLES),
                country=country,
                timezone=tz,
                language="de" if german else "en",
                persona=persona,
                sequence="mittelstand-de" if german else "saas-founders",
            )
        )
    return people


def write_csv(path: Path, people: list[DemoProspect], seed: int) -> None:
    """A CRM-style export, with the flaws real exports have (HubSpot-like headers)."""
    rng = random.Random(seed + 1)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv_safe.Writer(fh)
        out.writerow(
            [
                "Email",
                "First Name",
                "Last Name",
                "Company Name",
                "Job Title",
                "Country/Region",
                "Time Zone",
                "Anrede",
            ]
        )
        for p in people:
            tz = "" if rng.random() < 0.05 else p.timezone  # some have no timezone
            anrede = ""
            if p.language == "de":
                anrede = "Frau" if p.first_name in _DE_FEMALE else "Herr"
            out.writerow(
                [p.email, p.first_name, p.last_name, p.company, p.title, p.country, tz, anrede]
            )
        # Rows a real export contains and an import must report, not choke on:
        out.writerow(["not-an-address", "Broken", "Row", "Nowhere", "", "", "", ""])
        out.writerow(["", "Empty", "Email", "Nowhere", "", "", "", ""])
        out.writerow([people[0].email.upper(), people[0].first_name, "", "", "", "", "", ""])
