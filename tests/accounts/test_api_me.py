"""`/api/v1/me` and `/api/v1/me/household`: shape, the same rules and messages as the
pages, one error shape, CSRF for writes, and nobody else's household."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.factories import AddressFactory, HouseholdMemberFactory, SchoolFactory, UserFactory
from ville.accounts.models import Household, HouseholdMember
from ville.audit.models import AuditEvent
from ville.territory.models import District

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
ME = "/api/v1/me"
HOUSEHOLD = "/api/v1/me/household"


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def citizen() -> Any:
    household = Household.objects.create()
    address = AddressFactory()
    address.district = District.objects.create(
        authority=address.street.authority, code="gratte-ciel", name="Gratte-Ciel", geometry={}
    )
    address.save()
    user = UserFactory(
        first_name="Camille",
        last_name="Martin",
        birth_date=dt.date(1988, 4, 2),
        phone="+33612345678",
        address=address,
        household=household,
    )
    HouseholdMemberFactory(
        household=household,
        relation="partner",
        first_name="Sami",
        last_name="Haddad",
        birth_date=dt.date(1986, 6, 2),
        school=None,
    )
    HouseholdMemberFactory(
        household=household,
        first_name="Léo",
        last_name="Martin",
        birth_date=dt.date(2017, 9, 10),
        school=SchoolFactory(code="jean-jaures", name="École Jean Jaurès"),
    )
    return user


@pytest.fixture
def api(client: Client, citizen: Any) -> Client:
    client.force_login(citizen)
    return client


def send(client: Client, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    return client.generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        **extra,
    )


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    if field:
        assert field in body["error"]["fields"], body
        assert all(isinstance(m, str) and m for m in body["error"]["fields"][field])
    return body["error"]


# --- reading ------------------------------------------------------------------------------


def test_anonymous_gets_401_in_the_error_shape(client: Client) -> None:
    for method in ("GET", "PATCH"):
        assert_error(
            send(client, method, ME, {} if method != "GET" else None), 401, "not_authenticated"
        )
    assert_error(send(client, "POST", HOUSEHOLD, {}), 401, "not_authenticated")


def test_me_returns_profile_address_and_household(api: Client, citizen: Any) -> None:
    response = api.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(citizen.pk),
        "email": citizen.email,
        "first_name": "Camille",
        "last_name": "Martin",
        "birth_date": "1988-04-02",
        "phone": "+33612345678",
        "preferred_language": "fr",
        "address": {
            "id": citizen.address.pk,
            "label": citizen.address.label,
            "district": "Gratte-Ciel",
        },
        "household": [
            {
                "id": body["household"][0]["id"],
                "relation": "child",
                "first_name": "Léo",
                "last_name": "Martin",
                "birth_date": "2017-09-10",
                "age": 8,
                "school": {"code": "jean-jaures", "name": "École Jean Jaurès"},
            },
            {
                "id": body["household"][1]["id"],
                "relation": "partner",
                "first_name": "Sami",
                "last_name": "Haddad",
                "birth_date": "1986-06-02",
                "age": 39,
                "school": None,
            },
        ],
    }


def test_me_without_address_or_household(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)

    body = client.get(ME).json()

    assert body["address"] is None and body["household"] == []


def test_me_query_count(api: Client, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(8):
        assert api.get(ME).status_code == 200


# --- PATCH /me ----------------------------------------------------------------------------


def test_patch_changes_only_what_was_sent_and_audits_it(api: Client, citizen: Any) -> None:
    address = AddressFactory()
    response = send(api, "PATCH", ME, {"phone": "07.98.76.54.32", "address": address.pk})

    assert response.status_code == 200
    assert response.json()["phone"] == "+33798765432"
    assert response.json()["address"]["id"] == address.pk
    citizen.refresh_from_db()
    assert (citizen.first_name, citizen.phone, citizen.address) == (
        "Camille",
        "+33798765432",
        address,
    )
    event = AuditEvent.objects.get(action="profile_updated")
    assert event.data["fields"] == ["address", "phone"]


def test_patch_null_address_removes_it(api: Client, citizen: Any) -> None:
    response = send(api, "PATCH", ME, {"address": None})

    assert response.status_code == 200
    citizen.refresh_from_db()
    assert citizen.address is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "x" * 10240}, "first_name"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": None}, "last_name"),
        ({"birth_date": "2027-01-01"}, "birth_date"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": "2020-13-45"}, "birth_date"),
        ({"birth_date": "2018-01-01"}, "birth_date"),  # after her child Léo
        ({"phone": "12"}, "phone"),
        ({"phone": "+33 6 12"}, "phone"),
        ({"phone": "x" * 10240}, "phone"),
        ({"preferred_language": "xx"}, "preferred_language"),
        ({"address": 999_999}, "address"),
        ({"address": 10**30}, "address"),
        ({"address": -1}, "address"),
        ({"first_name": 5}, "first_name"),
        ({"address": "rue du Pérou"}, "address"),
    ],
)
def test_patch_bad_input_is_422_with_field_errors(
    api: Client, citizen: Any, body: dict, field: str
) -> None:
    response = send(api, "PATCH", ME, body)

    assert_error(response, 422, "validation_failed", field)
    citizen.refresh_from_db()
    assert (citizen.first_name, citizen.phone, citizen.birth_date) == (
        "Camille",
        "+33612345678",
        dt.date(1988, 4, 2),
    )
    assert not AuditEvent.objects.filter(action="profile_updated").exists()


def test_messages_follow_the_users_language(api: Client) -> None:
    english = send(api, "PATCH", ME, {"birth_date": "2027-01-01"}, HTTP_ACCEPT_LANGUAGE="en")
    french = send(api, "PATCH", ME, {"first_name": "x" * 200}, HTTP_ACCEPT_LANGUAGE="fr")

    assert english.json()["error"]["fields"]["birth_date"] == [
        "A birth date cannot be in the future."
    ]
    assert "au plus 150 caractères" in french.json()["error"]["fields"]["first_name"][0]


def test_scripts_are_stored_as_text(api: Client, citizen: Any) -> None:
    script = "<script>alert(1)</script>"
    response = send(api, "PATCH", ME, {"first_name": script})

    assert response.status_code == 200
    assert response.json()["first_name"] == script
    assert response["Content-Type"].startswith("application/json")


def test_writes_need_the_csrf_token(citizen: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)

    refused = send(client, "PATCH", ME, {"first_name": "Camila"})
    assert refused.status_code == 403
    assert set(refused.json()["error"]) == {"code", "message", "fields"}

    client.get("/fr/foyer/")  # any page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = send(client, "PATCH", ME, {"first_name": "Camila"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


# --- the household ------------------------------------------------------------------------


def test_add_a_child(api: Client, citizen: Any) -> None:
    SchoolFactory(code="anatole-france", name="Maternelle Anatole France", level="maternelle")
    response = send(
        api,
        "POST",
        HOUSEHOLD,
        {
            "relation": "child",
            "first_name": "Inès",
            "last_name": "Martin",
            "birth_date": "2020-11-03",
            "school": "anatole-france",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["age"] == 5 and body["school"]["code"] == "anatole-france"
    assert HouseholdMember.objects.get(pk=body["id"]).household == citizen.household
    assert AuditEvent.objects.filter(action="household_member_added").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"relation": "partner", "birth_date": "1990-01-01"}, "relation"),  # already one
        ({"birth_date": "1980-01-01"}, "birth_date"),  # before the parent
        ({"birth_date": "2000-01-01"}, "birth_date"),  # older than 25
        ({"birth_date": "2030-01-01"}, "birth_date"),
        ({"school": "nowhere"}, "school"),
        ({"relation": "dog"}, "relation"),
        ({"first_name": "y" * 10240}, "first_name"),
    ],
)
def test_add_bad_member_is_422(api: Client, body: dict, field: str) -> None:
    payload = {
        "relation": "child",
        "first_name": "Inès",
        "last_name": "Martin",
        "birth_date": "2020-11-03",
        **body,
    }

    assert_error(send(api, "POST", HOUSEHOLD, payload), 422, "validation_failed", field)
    assert HouseholdMember.objects.count() == 2


def test_missing_fields_are_422(api: Client) -> None:
    assert_error(send(api, "POST", HOUSEHOLD, {"first_name": "A"}), 422, "validation_failed")
    assert_error(send(api, "POST", HOUSEHOLD, "not an object"), 422, "validation_failed")


def test_patch_and_delete_a_member(api: Client, citizen: Any) -> None:
    child = HouseholdMember.objects.get(first_name="Léo")

    response = send(api, "PATCH", f"{HOUSEHOLD}/{child.pk}", {"school": None})
    assert response.status_code == 200
    assert response.json()["school"] is None
    child.refresh_from_db()
    assert child.school is None and child.first_name == "Léo"

    response = send(api, "DELETE", f"{HOUSEHOLD}/{child.pk}")
    assert response.status_code == 204
    assert not HouseholdMember.objects.filter(pk=child.pk).exists()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["household_member_updated", "household_member_removed"]


def test_a_partner_gets_no_school_through_the_api(api: Client) -> None:
    partner = HouseholdMember.objects.get(relation="partner")
    SchoolFactory(code="x")

    response = send(api, "PATCH", f"{HOUSEHOLD}/{partner.pk}", {"school": "x"})

    assert_error(response, 422, "validation_failed", "school")


def test_patch_member_bad_date_is_422(api: Client) -> None:
    child = HouseholdMember.objects.get(first_name="Léo")

    assert_error(
        send(api, "PATCH", f"{HOUSEHOLD}/{child.pk}", {"birth_date": None}),
        422,
        "validation_failed",
        "birth_date",
    )


def test_someone_elses_member_is_404_and_unchanged(client: Client, citizen: Any) -> None:
    child = HouseholdMember.objects.get(first_name="Léo")
    intruder = UserFactory(household=Household.objects.create())
    client.force_login(intruder)

    assert_error(
        send(client, "PATCH", f"{HOUSEHOLD}/{child.pk}", {"first_name": "X"}), 404, "not_found"
    )
    assert_error(send(client, "DELETE", f"{HOUSEHOLD}/{child.pk}"), 404, "not_found")
    assert_error(send(client, "DELETE", f"{HOUSEHOLD}/not-a-uuid"), 404, "not_found")
    child.refresh_from_db()
    assert child.first_name == "Léo"
    assert not AuditEvent.objects.exists()


def test_openapi_lists_the_endpoints(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {"get", "patch"} <= set(paths[ME])
    assert "post" in paths[HOUSEHOLD]
    assert {"patch", "delete"} <= set(paths[HOUSEHOLD + "/{member_id}"])
