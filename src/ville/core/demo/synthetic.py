"""Plausible synthetic households (ages, partners, children and their schools), seeded.

Pure functions of a `random.Random` and of today's date: the same seed gives the same people.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from ville.core.demo.names import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES
from ville.core.demo.people import birth_date_for

PARTNER_SHARE = 0.55
CHILDREN_SHARE = 0.45
LANGUAGES: tuple[str, ...] = ("fr", "ar", "pt", "es", "en")
LANGUAGE_WEIGHTS: tuple[int, ...] = (82, 6, 4, 3, 5)
MATERNELLE = "maternelle"
ELEMENTAIRE = "elementaire"
PRIMAIRE = "primaire"


@dataclass(slots=True)
class Person:
    first_name: str
    last_name: str
    birth_date: date


@dataclass(slots=True)
class Adult(Person):
    phone: str
    language: str


@dataclass(slots=True)
class Kid(Person):
    school_level: str | None


@dataclass(slots=True)
class HouseholdPlan:
    adult: Adult
    partner: Adult | None
    children: list[Kid]


def school_level(age: int) -> str | None:
    """Maternelle from 3 to 5, élémentaire from 6 to 10; younger or older: no city school."""
    if 3 <= age <= 5:
        return MATERNELLE
    if 6 <= age <= 10:
        return ELEMENTAIRE
    return None


def _birth_date(rng: random.Random, today: date, age: int) -> date:
    # Any day of the year before the birthday keeps the age exact.
    return birth_date_for(today, years=age) - timedelta(days=rng.randrange(365))


def _first_name(rng: random.Random) -> str:
    return rng.choice(FEMALE_FIRST_NAMES if rng.random() < 0.5 else MALE_FIRST_NAMES)


def _adult(rng: random.Random, today: date, age: int, last_name: str) -> Adult:
    phone = f"06 39 98 {rng.randrange(100):02d} {rng.randrange(100):02d}"
    return Adult(
        first_name=_first_name(rng),
        last_name=last_name,
        birth_date=_birth_date(rng, today, age),
        phone=phone if rng.random() < 0.8 else "",
        language=rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0],
    )


def plan_household(rng: random.Random, today: date) -> HouseholdPlan:
    """One household: an adult, a partner 55% of the time, 1–3 children 45% of the time."""
    has_children = rng.random() < CHILDREN_SHARE
    # Parents of minors are mostly between 24 and 52; other households span adult life.
    age = rng.randint(24, 52) if has_children else min(rng.randint(18, 70), rng.randint(18, 95))
    last_name = rng.choice(LAST_NAMES)
    adult = _adult(rng, today, age, last_name)
    partner = None
    if rng.random() < PARTNER_SHARE:
        partner_age = max(18, age + rng.randint(-6, 6))
        partner_last = last_name if rng.random() < 0.4 else rng.choice(LAST_NAMES)
        partner = _adult(rng, today, partner_age, partner_last)
    children: list[Kid] = []
    if has_children:
        oldest = min(17, age - 19)
        for _ in range(rng.choices((1, 2, 3), (45, 40, 15))[0]):
            child_age = rng.randint(0, oldest)
            children.append(
                Kid(
                    first_name=_first_name(rng),
                    last_name=last_name,
                    birth_date=_birth_date(rng, today, child_age),
                    school_level=school_level(child_age),
                )
            )
    return HouseholdPlan(adult=adult, partner=partner, children=children)


@dataclass(frozen=True, slots=True)
class Place:
    """Something with an id and WGS84 coordinates (an address or a school)."""

    id: int
    lon: float
    lat: float


def nearest_schools(
    addresses: Sequence[Place], schools: Iterable[tuple[Place, str]]
) -> dict[int, dict[str, int]]:
    """For each address id, the nearest school id for each level ("primaire" serves both)."""
    by_level: dict[str, list[Place]] = {MATERNELLE: [], ELEMENTAIRE: []}
    for school, level in schools:
        for served in (MATERNELLE, ELEMENTAIRE) if level == PRIMAIRE else (level,):
            if served in by_level:
                by_level[served].append(school)
    result: dict[int, dict[str, int]] = {}
    for address in addresses:
        choice: dict[str, int] = {}
        for level, candidates in by_level.items():
            if candidates:
                choice[level] = min(candidates, key=partial(_distance2, address)).id
        result[address.id] = choice
    return result


def _distance2(a: Place, b: Place) -> float:
    # An equirectangular distance (squared) is exact enough to compare places in one city.
    dx = (b.lon - a.lon) * math.cos(math.radians(a.lat))
    return dx * dx + (b.lat - a.lat) ** 2
