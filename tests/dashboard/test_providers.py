"""The cards shown today: household, profile completeness, applications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.dashboard.conftest import make_family
from tests.factories import HouseholdMemberFactory, UserFactory
from ville.accounts.models import Household, HouseholdMember
from ville.dashboard.selectors import dashboard_build

pytestmark = pytest.mark.django_db


def _card(user: Any, kind: str) -> Any:
    [card] = [c for c in dashboard_build(user=user) if c.kind == kind]
    return card


def _bare_user(**fields: Any) -> Any:
    """A user with nothing filled in but the e-mail (factories may fill defaults)."""
    defaults: dict[str, Any] = {
        "first_name": "",
        "last_name": "",
        "birth_date": None,
        "phone": "",
        "address": None,
        "preferred_language": "fr",
        "email_verified_at": None,
        "household": None,
    }
    return UserFactory(**{**defaults, **fields})


def test_household_card_lists_partner_and_children_with_age_and_school(
    family: tuple[Any, list[HouseholdMember]],
) -> None:
    user, _members = family

    card = _card(user, "household")

    assert card.status == "ok"
    assert card.title == "My household"
    assert card.summary == "You, your partner and your 2 children."
    by_name = {item["first_name"]: item for item in card.items}
    # Children first, oldest first, then the partner (the selector's order).
    assert list(by_name) == ["Léo", "Inès", "Sami"]
    assert by_name["Sami"]["relation"] == "partner"
    assert by_name["Sami"]["school"] is None
    leo = by_name["Léo"]
    assert leo["relation"] == "child"
    assert leo["birth_date"] == "2017-09-20"
    assert (leo["age_years"], leo["age_label"]) == (8, "8 years")
    assert leo["school"] == {
        "name": "École élémentaire Jean Jaurès",
        "level": "elementaire",
        "level_label": "Primary school (élémentaire)",
    }
    ines = by_name["Inès"]
    assert (ines["age_years"], ines["age_label"]) == (5, "5 years")
    assert ines["school"]["name"] == "École maternelle Anatole France"
    assert card.actions == [{"label": "Manage my household", "url": reverse("accounts:household")}]


def test_babies_are_counted_in_months(frozen_today: None) -> None:
    household = Household.objects.create()
    user = UserFactory(household=household)
    HouseholdMemberFactory(
        household=household,
        relation=HouseholdMember.Relation.CHILD,
        first_name="Jade",
        birth_date=dt.date(2025, 11, 10),
        school=None,
    )

    [jade] = _card(user, "household").items

    assert (jade["age_years"], jade["age_months"], jade["age_label"]) == (0, 4, "4 months")


def test_household_not_declared_invites_to_declare_it() -> None:
    card = _card(_bare_user(), "household")

    assert card.status == "empty"
    assert card.items == []
    assert card.empty_message == "You have not declared your household yet."
    assert card.actions == [{"label": "Declare my household", "url": reverse("accounts:household")}]


def test_household_declared_but_empty_is_an_empty_state_too() -> None:
    card = _card(_bare_user(household=Household.objects.create()), "household")

    assert card.status == "empty"
    assert card.empty_message == "Nobody else is declared in your household."


def test_a_user_never_sees_another_users_household(
    family: tuple[Any, list[HouseholdMember]],
) -> None:
    other, _members = make_family(first_name="Other", email="other.family@example.org")
    HouseholdMemberFactory(
        household=other.household,
        relation=HouseholdMember.Relation.CHILD,
        first_name="Secret",
        last_name="Child",
        birth_date=dt.date(2019, 1, 1),
        school=None,
    )
    user, members = family

    mine = _card(user, "household")
    theirs = _card(other, "household")

    assert {i["id"] for i in mine.items} == {str(m.pk) for m in members}
    assert "Secret" not in {i["first_name"] for i in mine.items}
    assert "Secret" in {i["first_name"] for i in theirs.items}
    assert not {i["id"] for i in mine.items} & {i["id"] for i in theirs.items}


def test_the_adult_with_an_account_is_not_listed_as_their_own_member() -> None:
    household = Household.objects.create()
    user = UserFactory(household=household, first_name="Camille")
    HouseholdMemberFactory(
        household=household,
        relation=HouseholdMember.Relation.PARTNER,
        first_name="Camille",
        last_name="Self",
        user=user,
        school=None,
    )

    assert _card(user, "household").status == "empty"


def test_profile_completeness_of_an_empty_profile() -> None:
    card = _card(_bare_user(), "profile_completeness")

    # Only the preferred language (defaulted to French at sign-up) is there: 1 of 7.
    assert card.data == {"percent": 14, "completed": 1, "total": 7}
    assert card.summary == "Your profile is 14% complete."
    assert [i["field"] for i in card.items] == [
        "name",
        "birth_date",
        "phone",
        "address",
        "email_verified",
        "household",
    ]
    assert all(i["url"] and i["label"] for i in card.items)
    assert card.items[-1]["url"] == reverse("accounts:household")
    assert card.urgency > 0


def test_profile_completeness_counts_what_is_filled() -> None:
    user = _bare_user(
        first_name="Ana",
        last_name="Souza",
        phone="0601020304",
        email_verified_at=timezone.now(),
    )

    card = _card(user, "profile_completeness")

    # name, phone, language, verified e-mail: 4 of 7.
    assert card.data["percent"] == 57
    assert [i["field"] for i in card.items] == ["birth_date", "address", "household"]


def test_a_first_name_alone_is_not_a_name() -> None:
    card = _card(_bare_user(first_name="Ana"), "profile_completeness")
    assert "name" in [i["field"] for i in card.items]


def test_a_complete_profile_is_not_urgent(family: tuple[Any, list[HouseholdMember]]) -> None:
    from tests.factories import AddressFactory

    user, _members = family
    user.birth_date = dt.date(1985, 4, 12)
    user.phone = "0472000000"
    user.address = AddressFactory()
    user.save()

    card = _card(user, "profile_completeness")

    assert card.data["percent"] == 100
    assert card.items == []
    assert card.summary == "Your profile is complete."
    assert card.urgency == 0


def test_incomplete_profile_is_shown_first() -> None:
    ours = {"household", "profile_completeness", "applications"}
    kinds = [c.kind for c in dashboard_build(user=_bare_user()) if c.kind in ours]
    assert kinds == ["profile_completeness", "household", "applications"]


def test_applications_card_is_an_honest_empty_state() -> None:
    card = _card(_bare_user(), "applications")

    assert card.status == "empty"
    assert card.items == []
    assert card.empty_message == "You have no application in progress."
    assert "will appear here" in card.summary
