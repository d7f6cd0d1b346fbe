"""The household pages: list, add, edit, remove with confirmation and undo; the rules of
`household_member_*` services (one partner, plausible ages) and bad input."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import HouseholdMemberFactory, SchoolFactory, UserFactory
from ville.accounts.models import Household, HouseholdMember
from ville.accounts.services import profile as services
from ville.audit.models import AuditEvent
from ville.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
SCRIPT = '<script>alert("x")</script>'
SCRIPT_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def citizen() -> Any:
    return UserFactory(first_name="Camille", last_name="Martin", birth_date=dt.date(1988, 4, 2))


@pytest.fixture
def family(citizen: Any) -> dict[str, Any]:
    household = Household.objects.create()
    citizen.household = household
    citizen.save()
    school = SchoolFactory(name="École élémentaire Jean Jaurès", level="elementaire")
    partner = HouseholdMemberFactory(
        household=household,
        relation="partner",
        first_name="Sami",
        last_name="Haddad",
        birth_date=dt.date(1986, 6, 2),
        school=None,
    )
    child = HouseholdMemberFactory(
        household=household,
        first_name="Léo",
        last_name="Martin",
        birth_date=dt.date(2017, 9, 10),
        school=school,
    )
    return {"user": citizen, "partner": partner, "child": child, "school": school}


def url(name: str, *args: Any, lang: str = "fr") -> str:
    with translation.override(lang):
        return reverse(f"accounts:{name}", args=args)


def logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def child_data(**overrides: Any) -> dict[str, str]:
    return {
        "relation": "child",
        "first_name": "Inès",
        "last_name": "Martin",
        "birth_date": "2020-11-03",
        "school": "",
        **overrides,
    }


# --- the list -----------------------------------------------------------------------------


def test_household_page_lists_names_ages_and_schools(client: Client, family: dict) -> None:
    response = logged_in(client, family["user"]).get(url("household", lang="en"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sami" in html and "Haddad" in html
    assert "Léo" in html and "8 years" in html
    assert "École élémentaire Jean Jaurès" in html
    assert url("member_edit", family["child"].pk, lang="en") in html
    assert url("member_remove", family["child"].pk, lang="en") in html
    # One partner at most: the page no longer offers to add another.
    assert "relation=partner" not in html
    assert html.count("<h1") == 1


def test_babies_age_is_given_in_months(client: Client, citizen: Any) -> None:
    household = Household.objects.create()
    citizen.household = household
    citizen.save()
    HouseholdMemberFactory(household=household, first_name="Jade", birth_date=dt.date(2025, 11, 10))

    html = logged_in(client, citizen).get(url("household", lang="en")).content.decode()

    assert "4 months" in html


def test_empty_household_offers_both_additions(client: Client, citizen: Any) -> None:
    html = logged_in(client, citizen).get(url("household", lang="en")).content.decode()

    assert "relation=child" in html and "relation=partner" in html


def test_household_page_does_not_query_per_member(
    client: Client, family: dict, django_assert_max_num_queries: Any
) -> None:
    logged_in(client, family["user"])
    for n in range(6):
        HouseholdMemberFactory(
            household=family["user"].household,
            first_name=f"Child{n}",
            birth_date=dt.date(2015 + n, 1, 1),
            school=SchoolFactory(),
        )
    # session, user, MFA checks, the members with their schools (+ savepoints in tests)
    with django_assert_max_num_queries(8):
        response = client.get(url("household"))
    assert response.status_code == 200
    assert response.content.decode().count('class="card"') == 8


# --- adding -------------------------------------------------------------------------------


def test_adding_the_first_child_creates_the_household_and_audits(
    client: Client, citizen: Any
) -> None:
    school = SchoolFactory(code="maternelle-anatole-france", level="maternelle")
    response = logged_in(client, citizen).post(url("member_add"), child_data(school=school.code))

    assert response.status_code == 302
    assert response["Location"] == url("household")
    citizen.refresh_from_db()
    assert citizen.household is not None
    member = HouseholdMember.objects.get(household=citizen.household)
    assert (member.first_name, member.birth_date, member.school) == (
        "Inès",
        dt.date(2020, 11, 3),
        school,
    )
    event = AuditEvent.objects.get(action="household_member_added")
    assert event.subject_id == citizen.pk and event.actor_id == citizen.pk
    assert event.target_id == str(member.pk)
    assert event.data["fields"] == ["birth_date", "first_name", "last_name", "school"]


def test_add_page_preselects_the_relation_and_groups_schools(client: Client, citizen: Any) -> None:
    SchoolFactory(name="Maternelle A", level="maternelle")
    SchoolFactory(name="Élémentaire B", level="elementaire")

    html = logged_in(client, citizen).get(url("member_add") + "?relation=child").content.decode()

    assert re.search(r'<input[^>]*value="child"[^>]*checked', html)
    assert not re.search(r'<input[^>]*value="partner"[^>]*checked', html)
    assert html.count("<optgroup") == 2
    assert '<label for="id_birth_date">' in html


def test_a_second_partner_is_a_clear_form_error(client: Client, family: dict) -> None:
    response = logged_in(client, family["user"]).post(
        url("member_add", lang="en"),
        child_data(relation="partner", first_name="Alex", birth_date="1990-01-01"),
    )

    assert response.status_code == 200
    assert "already has a partner, Sami" in response.content.decode()
    assert 'class="error-summary"' in response.content.decode()
    assert HouseholdMember.objects.filter(relation="partner").count() == 1


def test_the_database_constraint_is_turned_into_the_same_error(
    family: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if two requests had passed the check at the same moment.
    monkeypatch.setattr(services, "_member_errors", lambda **kwargs: {})
    user = family["user"]

    with pytest.raises(ValidationFailed) as exc:
        services.household_member_add(
            request=None,
            actor=user,
            user=user,
            relation="partner",
            first_name="Alex",
            last_name="B",
            birth_date=dt.date(1990, 1, 1),
        )

    assert "relation" in exc.value.fields
    assert HouseholdMember.objects.filter(relation="partner").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"birth_date": "2026-03-16"}, "birth_date", "cannot be in the future"),
        ({"birth_date": "1890-01-01"}, "birth_date", "older than 130"),
        ({"birth_date": "1988-04-01"}, "birth_date", "cannot be born before their parent"),
        ({"birth_date": "1999-01-01"}, "birth_date", "add them as an adult later"),
        ({"birth_date": "31/02/2020"}, "birth_date", "Enter a valid date"),
        ({"birth_date": "yesterday"}, "birth_date", "Enter a valid date"),
        ({"birth_date": ""}, "birth_date", "This field is required"),
        ({"first_name": "x" * 10240}, "first_name", "at most 150 characters"),
        ({"last_name": "   "}, "last_name", "This field is required"),
        ({"first_name": "Inès\x07"}, "first_name", "special characters"),
        ({"first_name": "In\x00ès"}, "first_name", "Null characters are not allowed"),
        ({"school": "no-such-school"}, "school", "Select a valid choice"),
        ({"relation": "cousin"}, "relation", "Select a valid choice"),
        (
            {"relation": "partner", "birth_date": "2012-01-01"},
            "birth_date",
            "at least 16 years old",
        ),
    ],
)
def test_bad_member_input_gets_a_clear_message(
    client: Client, citizen: Any, overrides: dict, field: str, message: str
) -> None:
    if "school" in overrides or overrides.get("relation") == "partner":
        SchoolFactory()
    response = logged_in(client, citizen).post(
        url("member_add", lang="en"), child_data(**overrides)
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'aria-invalid="true"' in html or field == "relation"
    assert not HouseholdMember.objects.exists()


def test_errors_are_in_the_users_language(client: Client, citizen: Any) -> None:
    response = logged_in(client, citizen).post(
        url("member_add", lang="fr"), child_data(first_name="x" * 10240)
    )

    assert "au plus 150 caractères" in " ".join(response.context["form"].errors["first_name"])


def test_a_partner_cannot_have_a_school(citizen: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.household_member_add(
            request=None,
            actor=citizen,
            user=citizen,
            relation="partner",
            first_name="Alex",
            last_name="B",
            birth_date=dt.date(1990, 1, 1),
            school=SchoolFactory(),
        )
    assert "school" in exc.value.fields


def test_without_the_parents_birth_date_only_the_age_rules_apply(citizen: Any) -> None:
    citizen.birth_date = None
    citizen.save()

    member = services.household_member_add(
        request=None,
        actor=citizen,
        user=citizen,
        relation="child",
        first_name="Inès",
        last_name="Martin",
        birth_date=dt.date(2005, 1, 1),
    )

    assert member.age == 21


def test_scripts_are_stored_as_text_and_shown_escaped(client: Client, citizen: Any) -> None:
    logged_in(client, citizen).post(
        url("member_add"), child_data(first_name=SCRIPT, last_name=SCRIPT)
    )

    member = HouseholdMember.objects.get()
    assert member.first_name == SCRIPT and member.last_name == SCRIPT
    for page in (url("household"), url("member_edit", member.pk), url("member_remove", member.pk)):
        html = client.get(page).content.decode()
        assert SCRIPT not in html
        assert SCRIPT_ESCAPED in html


# --- editing ------------------------------------------------------------------------------


def test_editing_a_child_saves_and_audits_the_changed_fields(client: Client, family: dict) -> None:
    child = family["child"]
    page = logged_in(client, family["user"]).get(url("member_edit", child.pk))
    assert 'value="Léo"' in page.content.decode()
    assert 'name="relation"' not in page.content.decode()

    response = client.post(
        url("member_edit", child.pk),
        {
            "first_name": "Léon",
            "last_name": "Martin",
            "birth_date": "2017-09-10",
            "school": "",
        },
    )

    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.first_name, child.school) == ("Léon", None)
    event = AuditEvent.objects.get(action="household_member_updated")
    assert event.data["fields"] == ["first_name", "school"]


def test_the_partner_form_has_no_school(client: Client, family: dict) -> None:
    html = logged_in(client, family["user"]).get(url("member_edit", family["partner"].pk))

    assert 'name="school"' not in html.content.decode()


def test_editing_the_partner_keeps_the_one_partner_rule_quiet(client: Client, family: dict) -> None:
    partner = family["partner"]
    response = logged_in(client, family["user"]).post(
        url("member_edit", partner.pk),
        {"first_name": "Sami", "last_name": "Haddad-Martin", "birth_date": "1986-06-02"},
    )

    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.last_name == "Haddad-Martin"


def test_nothing_changed_writes_nothing(client: Client, family: dict) -> None:
    child = family["child"]
    logged_in(client, family["user"]).post(
        url("member_edit", child.pk),
        {
            "first_name": "Léo",
            "last_name": "Martin",
            "birth_date": "2017-09-10",
            "school": family["school"].code,
        },
    )

    assert not AuditEvent.objects.filter(action="household_member_updated").exists()


def test_changing_the_parents_birth_date_after_a_child_is_refused(family: dict) -> None:
    user = family["user"]
    with pytest.raises(ValidationFailed) as exc:
        services.profile_update(
            request=None, actor=user, user=user, data={"birth_date": dt.date(2018, 1, 1)}
        )
    assert "Léo" in exc.value.fields["birth_date"][0]


# --- removing and undo --------------------------------------------------------------------


def test_remove_asks_for_confirmation_first(client: Client, family: dict) -> None:
    child = family["child"]
    response = logged_in(client, family["user"]).get(url("member_remove", child.pk))

    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    assert HouseholdMember.objects.filter(pk=child.pk).exists()


def test_remove_then_undo_brings_the_same_member_back(client: Client, family: dict) -> None:
    child = family["child"]
    logged_in(client, family["user"])

    response = client.post(url("member_remove", child.pk))

    assert response.status_code == 302
    assert not HouseholdMember.objects.filter(pk=child.pk).exists()
    assert AuditEvent.objects.filter(action="household_member_removed", target_id=str(child.pk))
    html = client.get(url("household", lang="en")).content.decode()
    assert "Léo has been removed from your household." in html
    assert url("member_undo", lang="en") in html

    response = client.post(url("member_undo", lang="en"), follow=True)

    restored = HouseholdMember.objects.get(pk=child.pk)
    assert (restored.first_name, restored.birth_date, restored.school) == (
        "Léo",
        dt.date(2017, 9, 10),
        family["school"],
    )
    assert "Léo is back in your household." in response.content.decode()
    assert "has been removed" not in response.content.decode()
    # The same undo cannot be replayed.
    client.post(url("member_undo"))
    assert HouseholdMember.objects.filter(first_name="Léo").count() == 1


def test_undo_expires_after_a_few_minutes(
    client: Client, family: dict, frozen_today: time_machine.Traveller
) -> None:
    child = family["child"]
    logged_in(client, family["user"]).post(url("member_remove", child.pk))

    frozen_today.shift(dt.timedelta(minutes=6))
    assert "has been removed" not in client.get(url("household", lang="en")).content.decode()
    response = client.post(url("member_undo", lang="en"), follow=True)

    assert "too late to undo" in response.content.decode()
    assert not HouseholdMember.objects.filter(pk=child.pk).exists()


def test_undo_of_a_partner_when_a_new_partner_exists_explains_why(
    client: Client, family: dict
) -> None:
    logged_in(client, family["user"]).post(url("member_remove", family["partner"].pk))
    client.post(
        url("member_add"),
        child_data(relation="partner", first_name="Alex", birth_date="1990-01-01"),
    )

    response = client.post(url("member_undo", lang="en"), follow=True)

    assert response.status_code == 200
    assert "could not be restored" in response.content.decode()
    assert list(
        HouseholdMember.objects.filter(relation="partner").values_list("first_name", flat=True)
    ) == ["Alex"]


def test_removing_needs_post(client: Client, family: dict) -> None:
    logged_in(client, family["user"])
    assert client.get(url("member_undo")).status_code == 405
