"""The demo logins of DESIGN.md and their households, as data, with dates relative to today.

Ages are stored, never birth dates, so a demo loaded on any day shows the same ages.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

DEMO_PASSWORD = "demo-ville-2026"  # noqa: S105 - public by design: printed by `make demo`
# Synthetic demo residents get addresses in this domain so `--reset` finds exactly them.
SYNTHETIC_EMAIL_DOMAIN = "demo.example.org"
# The shared TOTP device of the demo staff accounts carries this name.
TOTP_DEVICE_NAME = "demo"

CAMILLE_STREET = "Rue du Pérou"
HELPER_ORGANISATION = "Maison de services au public — Villeurbanne"

# Jade's crèche application, Camille's parking permit ending within 30 days and the agents'
# queues are real applications, made by `procedures.py` through the procedures' services.


def shift_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of shorter months (31 Mar - 1 → 28 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def birth_date_for(today: date, *, years: int, months: int = 0, days: int = 0) -> date:
    """The birth date of someone exactly `years` y `months` m and `days` d old today."""
    return shift_months(today, -(years * 12 + months)) - timedelta(days=days)


def age_on(birth: date, today: date) -> int:
    """Age in completed years."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Age:
    years: int
    months: int = 0
    days: int = 0

    def birth_date(self, today: date) -> date:
        return birth_date_for(today, years=self.years, months=self.months, days=self.days)


@dataclass(frozen=True)
class Child:
    first_name: str
    last_name: str
    age: Age
    school_code: str | None


@dataclass(frozen=True)
class Login:
    """One account of the demo, with what it may do."""

    email: str
    first_name: str
    last_name: str
    role: str  # citizen | agent | helper | admin: what the banner says
    age: Age
    phone: str = ""
    preferred_language: str = "fr"
    service_code: str | None = None
    organisation: str | None = None
    children: tuple[Child, ...] = field(default_factory=tuple)

    @property
    def needs_totp(self) -> bool:
        return self.role in {"agent", "helper", "admin"}


# Phone numbers are in the ranges ARCEP reserves for fiction (06 39 98 xx xx, 04 99 00 xx xx).
CAMILLE = Login(
    email="camille.martin@example.org",
    first_name="Camille",
    last_name="Martin",
    role="citizen",
    age=Age(38, 3, 12),
    phone="06 39 98 12 34",
    children=(
        Child("Léo", "Martin", Age(8, 5, 3), "elementaire-jean-jaures"),
        Child("Inès", "Martin", Age(5, 2, 20), "maternelle-jean-jaures"),
        Child("Jade", "Martin", Age(0, 4), None),
    ),
)
SAMI = Login(
    email="sami.haddad@example.org",
    first_name="Sami",
    last_name="Haddad",
    role="citizen",
    age=Age(40, 8, 2),
    phone="06 39 98 56 78",
)
AGENT_CRECHE = Login(
    email="agent.creche@example.org",
    first_name="Claire",
    last_name="Dubois",
    role="agent",
    age=Age(45, 1),
    phone="04 99 00 10 01",
    service_code="creche",
)
AGENT_VOIRIE = Login(
    email="agent.voirie@example.org",
    first_name="Thomas",
    last_name="Nguyen",
    role="agent",
    age=Age(36, 7),
    phone="04 99 00 10 02",
    service_code="voirie",
)
AGENT_ECOLES = Login(
    email="agent.ecoles@example.org",
    first_name="Nadia",
    last_name="Benali",
    role="agent",
    age=Age(39, 2),
    phone="04 99 00 10 04",
    # The service that processes canteen, school and after-school registrations.
    service_code="education",
)
HELPER = Login(
    email="aidant@example.org",
    first_name="Fatou",
    last_name="Diallo",
    role="helper",
    age=Age(31, 10),
    phone="04 99 00 10 03",
    organisation=HELPER_ORGANISATION,
)
ADMIN = Login(
    email="admin@example.org",
    first_name="Alex",
    last_name="Moreau",
    role="admin",
    age=Age(42, 4),
)

LOGINS: tuple[Login, ...] = (
    CAMILLE,
    SAMI,
    AGENT_CRECHE,
    AGENT_VOIRIE,
    AGENT_ECOLES,
    HELPER,
    ADMIN,
)
LOGIN_EMAILS: frozenset[str] = frozenset(login.email for login in LOGINS)
LOGIN_ORDER: dict[str, int] = {login.email: i for i, login in enumerate(LOGINS)}
