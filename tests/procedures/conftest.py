"""Fixtures of the procedures tests: the real territory, the real definition files, and a
family of Villeurbanne (Camille, her partner and two children at school), and the small
`world` of the services tests (see `world.py`)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.cache import caches

from tests.factories import HouseholdFactory, HouseholdMemberFactory, UserFactory
from tests.procedures.world import NOW, make_world
from ville.accounts.models import HouseholdMember
from ville.territory.models import Address, School
from ville.territory.services import territory_load

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "catalogue" / "procedures"
# The definitions this part of the code base writes and tests in depth.
OWN_DEFINITIONS = ("canteen-registration", "creche-application", "residential-parking-permit")


@pytest.fixture
def territory(db: None) -> dict[str, int]:
    return territory_load()


@pytest.fixture
def catalogue_dir(tmp_path: Path) -> Path:
    """A private copy of the three definitions, which a test may change freely."""
    folder = tmp_path / "procedures"
    folder.mkdir()
    for slug in OWN_DEFINITIONS:
        shutil.copy(CATALOGUE / f"{slug}.yaml", folder / f"{slug}.yaml")
    return folder


@pytest.fixture
def family(territory: dict[str, int]) -> SimpleNamespace:
    """Camille (Rue du Pérou, Villeurbanne), her partner Sami, Léo (8, élémentaire) and
    Inès (5, maternelle), on a fixed day: 2 March 2026."""
    today = dt.date(2026, 3, 2)
    household = HouseholdFactory()
    address = Address.objects.filter(street__name="Rue du Pérou").order_by("number").first()
    assert address is not None
    camille = UserFactory(
        email="camille.test@example.org",
        first_name="Camille",
        last_name="Martin",
        birth_date=dt.date(1988, 6, 14),
        phone="+33612345678",
        address=address,
        household=household,
    )
    partner = HouseholdMemberFactory(
        household=household,
        relation=HouseholdMember.Relation.PARTNER,
        first_name="Sami",
        last_name="Haddad",
        birth_date=dt.date(1986, 2, 3),
        school=None,
    )
    leo = HouseholdMemberFactory(
        household=household,
        first_name="Léo",
        last_name="Martin",
        birth_date=dt.date(2017, 9, 20),
        school=School.objects.get(code="elementaire-jean-jaures"),
    )
    ines = HouseholdMemberFactory(
        household=household,
        first_name="Inès",
        last_name="Martin",
        birth_date=dt.date(2020, 11, 5),
        school=School.objects.get(code="maternelle-jean-jaures"),
    )
    return SimpleNamespace(
        today=today,
        citizen=camille,
        partner=partner,
        leo=leo,
        ines=ines,
        address=address,
        household=household,
    )


def _text(fr: str, en: str | None = None) -> dict[str, str]:
    return {"fr": fr, "en": en} if en else {"fr": fr}


def minimal_definition(**fields: Any) -> dict[str, Any]:
    """A small valid definition without beneficiary: one step (`fields` replaces its fields),
    the usual workflow. Each call returns a fresh dict that a test may break at will."""
    step_fields = fields.pop("fields", None) or [
        {"name": "first_name", "type": "text", "label": _text("Prénom", "First name")},
        {"name": "agree", "type": "consent", "label": _text("J'accepte", "I agree")},
    ]
    definition: dict[str, Any] = {
        "slug": "test-procedure",
        "service": "accueil",
        "title": _text("Démarche de test", "Test procedure"),
        "steps": [{"id": "main", "title": _text("Étape", "Step"), "fields": step_fields}],
        "workflow": {
            "initial": "submitted",
            "states": {
                "submitted": {"kind": "open", "label": _text("Reçue")},
                "in_review": {"kind": "open", "label": _text("En cours")},
                "accepted": {"kind": "final", "outcome": "accepted", "label": _text("Acceptée")},
                "withdrawn": {"kind": "final", "outcome": "withdrawn", "label": _text("Retirée")},
            },
            "transitions": [
                {"name": "start", "from": ["submitted"], "to": "in_review", "roles": ["agent"]},
                {"name": "accept", "from": ["in_review"], "to": "accepted", "roles": ["agent"]},
                {
                    "name": "withdraw",
                    "from": ["submitted", "in_review"],
                    "to": "withdrawn",
                    "roles": ["citizen"],
                },
            ],
        },
    }
    definition.update(fields)
    return definition


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Files go to a temporary folder; rate-limit counters start at zero."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def world(db: None) -> Iterator[SimpleNamespace]:
    with time_machine.travel(NOW, tick=False):
        yield make_world()
