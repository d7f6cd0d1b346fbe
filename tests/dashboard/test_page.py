"""The page `/<lang>/espace/`: structure, accessibility, isolation and query count."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.dashboard.conftest import make_family
from tests.factories import HouseholdMemberFactory, UserFactory
from ville.accounts.models import Household, HouseholdMember
from ville.dashboard.registry import Card, register_provider

pytestmark = pytest.mark.django_db

# Today 7: session, user, the two MFA checks of the accounts middleware, the household,
# and (only inside a transaction, as in tests) one savepoint and its release.
MAX_QUERIES = 8


def _url(lang: str = "en") -> str:
    with translation.override(lang):
        return reverse("dashboard:home")


def _get(client: Client, user: Any, lang: str = "en") -> Any:
    client.force_login(user)
    return client.get(_url(lang))


def test_anonymous_is_sent_to_login_with_next(client: Client) -> None:
    response = client.get("/fr/espace/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/fr/espace/"


def test_page_greets_and_lists_the_cards(client: Client, family: Any) -> None:
    user, _members = family

    response = _get(client, user)

    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    html = response.content.decode()
    assert re.search(r"<h1>\s*Hello, Camille\s*</h1>", html)
    assert html.count("<h1") == 1
    cards = re.search(r'<ul class="cards"[^>]*>(.*?)</ul>\s*\{?', html, re.S)
    assert cards is not None
    for kind in ("household", "profile_completeness", "applications"):
        assert re.search(
            rf'<li>\s*<section id="card-{kind}" class="card card-\w+" '
            rf'aria-labelledby="card-{kind}-title">\s*<h2 id="card-{kind}-title">',
            html,
        ), kind
    assert "Sami Haddad" in html and "Léo Haddad" in html and "Inès Haddad" in html
    assert "8 years" in html and "École élémentaire Jean Jaurès" in html
    assert f'href="{reverse("accounts:household")}"' in html
    assert "style=" not in html and "<script>" not in html


def test_empty_states_are_useful(client: Client) -> None:
    response = _get(client, UserFactory(first_name="Noa", household=None))

    html = response.content.decode()
    assert "You have not declared your household yet." in html
    assert "Declare my household" in html
    assert "You have no application in progress." in html
    assert "will appear here" in html
    assert "Still missing:" in html


def test_a_failing_provider_costs_its_card_only(
    client: Client, family: Any, restore_registry: None
) -> None:
    def broken(*, user: Any, request: Any) -> Card:
        raise RuntimeError("works connector down")

    register_provider(kind="works_nearby", func=broken, order=15, title="Works near my home")
    user, _members = family

    response = _get(client, user)

    assert response.status_code == 200
    html = response.content.decode()
    section = re.search(
        r'<section id="card-works_nearby" class="card card-error".*?</section>', html, re.S
    )
    assert section is not None
    assert "Works near my home" in section.group(0)
    assert "Unavailable" in section.group(0)  # said in words, not only by colour
    assert "temporarily unavailable" in section.group(0)
    assert "works connector down" not in html
    assert "Sami Haddad" in html  # the other cards still render


def test_a_card_whose_template_breaks_costs_its_card_only(
    client: Client, family: Any, restore_registry: None
) -> None:
    class Exploding(str):
        # Valid JSON (it is a str) but rendering it in a template raises.
        __slots__ = ()

        def __str__(self) -> str:
            raise RuntimeError("template bug")

    def fragile(*, user: Any, request: Any) -> Card:
        return Card(kind="fragile", title="Fragile", items=[{"label": Exploding("x")}])

    register_provider(kind="fragile", func=fragile, order=1)
    user, _members = family

    response = _get(client, user)

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<section id="card-fragile" class="card card-error"', html)
    assert "template bug" not in html
    assert "Sami Haddad" in html


def test_a_card_of_an_unknown_kind_uses_the_generic_include(
    client: Client, family: Any, restore_registry: None
) -> None:
    def permits(*, user: Any, request: Any) -> Card:
        return Card(
            kind="permits",
            title="My permits",
            summary="One permit expires soon.",
            items=[{"label": "Residential parking card", "url": "/fr/demarches/parking/"}],
        )

    register_provider(kind="permits", func=permits)
    response = _get(client, family[0])

    html = response.content.decode()
    assert '<a href="/fr/demarches/parking/">Residential parking card</a>' in html


def test_names_are_escaped(client: Client, frozen_today: None) -> None:
    household = Household.objects.create()
    user = UserFactory(household=household, first_name="<b>Cam</b>")
    HouseholdMemberFactory(
        household=household,
        relation=HouseholdMember.Relation.CHILD,
        first_name="<script>alert(1)</script>",
        last_name="Doe",
        birth_date=dt.date(2018, 1, 1),
        school=None,
    )

    html = _get(client, user).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Cam</b>" not in html


def test_a_user_never_sees_another_users_household_on_the_page(client: Client, family: Any) -> None:
    user, _members = family
    stranger, _theirs = make_family(first_name="Zoé", email="zoe@example.org")
    HouseholdMemberFactory(
        household=stranger.household,
        relation=HouseholdMember.Relation.CHILD,
        first_name="Hidden",
        last_name="Kid",
        school=None,
    )

    html = _get(client, user).content.decode()

    assert "Hidden" not in html and "Zoé" not in html


def test_arabic_page_is_right_to_left(client: Client, family: Any) -> None:
    response = _get(client, family[0], lang="ar")

    assert response.status_code == 200
    assert re.search(r'<html lang="ar" dir="rtl"', response.content.decode())


def test_query_count_does_not_grow_with_the_household(
    client: Client, frozen_today: None, django_assert_max_num_queries: Any
) -> None:
    small_household = Household.objects.create()
    small = UserFactory(household=small_household)
    HouseholdMemberFactory(household=small_household, first_name="Only", school=None)
    big_household = Household.objects.create()
    big = UserFactory(household=big_household)
    for i in range(12):
        HouseholdMemberFactory(
            household=big_household,
            relation=HouseholdMember.Relation.CHILD,
            first_name=f"Child{i}",
            birth_date=dt.date(2015, 1, 1) + dt.timedelta(days=100 * i),
        )

    counts = []
    for user in (small, big):
        client.force_login(user)
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            assert client.get(_url()).status_code == 200
        counts.append(len(captured))
        sqls = [q["sql"] for q in captured.captured_queries]
        assert sum("accounts_householdmember" in sql for sql in sqls) <= 1
        # The user is read once, by the session middleware; no card fetches it again.
        assert sum('FROM "accounts_user"' in sql for sql in sqls) == 1
    assert counts[0] == counts[1]
