"""`ville seed-scale`: synthetic citizens with households, in bulk, numbered after existing ones."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tests.conftest import run_ville
from tests.factories import AddressFactory, AuthorityFactory, SchoolFactory, StreetFactory
from ville.accounts.models import Household, HouseholdMember, User
from ville.core.demo.people import age_on
from ville.core.demo.scale import scale_last_number
from ville.territory.models import School

pytestmark = pytest.mark.django_db

FROZEN = dt.datetime(2026, 3, 15, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def addresses() -> list[int]:
    commune = AuthorityFactory()
    streets = [StreetFactory(authority=commune) for _ in range(4)]
    ids = [
        AddressFactory(street=streets[n % 4], number=n + 1, lon=4.86 + n / 2000).pk
        for n in range(40)
    ]
    SchoolFactory(level=School.Level.MATERNELLE, authority=commune)
    SchoolFactory(level=School.Level.ELEMENTAIRE, authority=commune)
    return ids


def _seed(n: int, **options: object) -> str:
    out = io.StringIO()
    with time_machine.travel(FROZEN, tick=False):
        call_command("seed_scale", citizens=n, stdout=out, **options)
    return out.getvalue()


def test_creates_citizens_with_households(addresses: list[int]) -> None:
    output = _seed(500, batch=200)

    users = User.objects.filter(email__endswith="@example.net")
    assert users.count() == 500
    assert scale_last_number() == 500
    assert set(users.values_list("email", flat=True)) == {
        f"scale.{n}@example.net" for n in range(1, 501)
    }
    assert Household.objects.count() == 500
    assert users.filter(household__isnull=True).count() == 0
    assert users.values("household").distinct().count() == 500
    # Spread over the address table, languages mixed, every one verified and of age.
    assert users.values("address").distinct().count() > 30
    assert set(users.values_list("address_id", flat=True)) <= set(addresses)
    assert users.values("preferred_language").distinct().count() >= 4
    assert not users.filter(email_verified_at__isnull=True).exists()
    assert all(age_on(b, FROZEN.date()) >= 18 for b in users.values_list("birth_date", flat=True))
    # Accounts for load tests: nobody can log in with a password.
    assert not any(u.has_usable_password() for u in users[:20])

    partners = HouseholdMember.objects.filter(relation="partner").count()
    with_children = (
        HouseholdMember.objects.filter(relation="child").values("household").distinct().count()
    )
    assert 0.45 * 500 < partners < 0.65 * 500
    assert 0.35 * 500 < with_children < 0.55 * 500
    for child in HouseholdMember.objects.filter(relation="child").select_related("school"):
        age = age_on(child.birth_date, FROZEN.date())
        assert 0 <= age <= 17
        expected = "maternelle" if 3 <= age <= 5 else "elementaire" if 6 <= age <= 10 else None
        assert (child.school.level if child.school else None) == expected

    assert "500 citizens" in output and "/ 500 citizens" in output


def test_numbering_continues_after_existing_ones(addresses: list[int]) -> None:
    _seed(30)
    _seed(20, batch=7)

    assert User.objects.filter(email__endswith="@example.net").count() == 50
    assert User.objects.filter(email="scale.50@example.net").exists()
    assert scale_last_number() == 50


def test_demo_password_option(addresses: list[int]) -> None:
    _seed(3, demo_password=True)

    user = User.objects.get(email="scale.2@example.net")
    assert user.check_password("demo-ville-2026")


@pytest.mark.postgres
def test_seed_scale_on_postgres_with_copy(fresh_postgres_url: str) -> None:
    migrated = run_ville("migrate", "--noinput", database_url=fresh_postgres_url)
    assert migrated.returncode == 0, migrated.stderr

    result = run_ville(
        "seed-scale", "--citizens", "2000", "--batch", "500", database_url=fresh_postgres_url
    )

    assert result.returncode == 0, result.stderr
    assert "Created 2,000 citizens" in result.stdout

    import psycopg

    with psycopg.connect(fresh_postgres_url) as conn:
        users = conn.execute(
            "SELECT count(*), count(DISTINCT household_id), count(address_id) "
            "FROM accounts_user WHERE email LIKE 'scale.%@example.net'"
        ).fetchone()
        partners = conn.execute(
            "SELECT count(*) FROM accounts_householdmember WHERE relation = 'partner'"
        ).fetchone()[0]
    assert users == (2000, 2000, 2000)
    assert 900 < partners < 1300
