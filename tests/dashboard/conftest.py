"""Fixtures of the personal space tests: a citizen with a full household, and a
registry that tests may change and that is put back afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from tests.factories import HouseholdMemberFactory, SchoolFactory, UserFactory
from ville.accounts.models import Household, HouseholdMember
from ville.dashboard import registry

# Dates are frozen so that ages ("8 years", "4 months") are exact.
TODAY = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Wording is asserted in English (the msgids); French has its own test."""
    with translation.override("en"):
        yield


@pytest.fixture
def client() -> Client:
    # The API has no language prefix: it follows Accept-Language.
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def frozen_today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def restore_registry() -> Iterator[None]:
    """Put the real providers back whatever a test registered or removed."""
    saved = dict(registry._providers)
    try:
        yield
    finally:
        registry._providers.clear()
        registry._providers.update(saved)


@pytest.fixture
def empty_registry(restore_registry: None) -> None:
    registry._providers.clear()


def make_family(**user_fields: Any) -> tuple[Any, list[HouseholdMember]]:
    """A citizen living with a partner and two children at school (born 2017 and 2020)."""
    household = Household.objects.create()
    user = UserFactory(household=household, **user_fields)
    elementary = SchoolFactory(name="École élémentaire Jean Jaurès", level="elementaire")
    nursery = SchoolFactory(name="École maternelle Anatole France", level="maternelle")
    members = [
        HouseholdMemberFactory(
            household=household,
            relation=HouseholdMember.Relation.PARTNER,
            first_name="Sami",
            last_name="Haddad",
            birth_date=dt.date(1986, 6, 2),
            school=None,
        ),
        HouseholdMemberFactory(
            household=household,
            relation=HouseholdMember.Relation.CHILD,
            first_name="Léo",
            last_name="Haddad",
            birth_date=dt.date(2017, 9, 20),
            school=elementary,
        ),
        HouseholdMemberFactory(
            household=household,
            relation=HouseholdMember.Relation.CHILD,
            first_name="Inès",
            last_name="Haddad",
            birth_date=dt.date(2020, 11, 3),
            school=nursery,
        ),
    ]
    return user, members


@pytest.fixture
def family(frozen_today: None, db: None) -> tuple[Any, list[HouseholdMember]]:
    return make_family(
        first_name="Camille",
        last_name="Martin",
        email="camille.family@example.org",
        email_verified_at=timezone.now(),
    )
