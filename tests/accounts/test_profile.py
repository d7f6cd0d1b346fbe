"""The profile page and `profile_update`: changed fields only, audited; phone formats;
the address picker; switching language; bad input gets a clear message, never a 500."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import AddressFactory, HouseholdMemberFactory, StreetFactory, UserFactory
from ville.accounts.forms.profile import phone_display, phone_normalise
from ville.accounts.models import Household
from ville.accounts.services.profile import profile_update
from ville.audit.models import AuditEvent
from ville.core.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
SCRIPT = '<script>alert("x")</script>'
SCRIPT_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def street() -> Any:
    return StreetFactory(name="Rue Paul Verlaine", search_name="rue paul verlaine")


@pytest.fixture
def citizen(street: Any) -> Any:
    return UserFactory(
        first_name="Camille",
        last_name="Martin",
        birth_date=dt.date(1988, 4, 2),
        phone="+33612345678",
        address=AddressFactory(
            street=street, number=3, label="3 Rue Paul Verlaine 69100 Villeurbanne"
        ),
    )


def url(lang: str = "fr") -> str:
    with translation.override(lang):
        return reverse("accounts:profile")


def form_data(user: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "birth_date": user.birth_date.isoformat() if user.birth_date else "",
        "phone": user.phone,
        "preferred_language": user.preferred_language,
        "address_query": "",
        "address": str(user.address_id or ""),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- the page -----------------------------------------------------------------------------


def test_profile_page_shows_the_citizens_data(client: Client, citizen: Any) -> None:
    client.force_login(citizen)
    response = client.get(url("en"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'value="Camille"' in html and 'autocomplete="given-name"' in html
    assert 'autocomplete="family-name"' in html and 'autocomplete="bday"' in html
    assert 'value="06 12 34 56 78"' in html and 'autocomplete="tel"' in html
    assert citizen.email in html and "cannot be changed on this page" in html
    assert re.search(
        rf'<input type="radio" name="address"[^>]*value="{citizen.address_id}" checked', html
    )
    assert 'name="address_query"' in html and 'name="address_search"' in html
    for code in ("fr", "en", "es", "ar", "pt"):
        assert f'<option value="{code}"' in html


def test_enter_in_a_field_saves_rather_than_searches(client: Client, citizen: Any) -> None:
    client.force_login(citizen)
    html = client.get(url()).content.decode()
    form = html[html.index('<form method="post" action="/fr/profil/"') :]

    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'type="submit"' in first_button and "address_search" not in first_button


def test_profile_page_query_count(
    client: Client, citizen: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(citizen)
    with django_assert_max_num_queries(8):
        assert client.get(url()).status_code == 200


def test_saving_writes_and_audits_only_the_changed_fields(
    client: Client, citizen: Any, street: Any
) -> None:
    new_address = AddressFactory(street=street, number=5)
    client.force_login(citizen)

    response = client.post(
        url(),
        form_data(
            citizen, last_name="Martin-Haddad", phone="07.98.76.54.32", address=str(new_address.pk)
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == url()
    citizen.refresh_from_db()
    assert citizen.last_name == "Martin-Haddad"
    assert citizen.phone == "+33798765432"
    assert citizen.address == new_address
    event = AuditEvent.objects.get(action="profile_updated")
    assert event.data["fields"] == ["address", "last_name", "phone"]
    assert event.subject_id == citizen.pk


def test_saving_unchanged_data_writes_nothing(client: Client, citizen: Any) -> None:
    client.force_login(citizen)
    response = client.post(url(), form_data(citizen, phone="06 12 34 56 78"))

    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


def test_choosing_no_address_removes_it(client: Client, citizen: Any) -> None:
    client.force_login(citizen)
    client.post(url(), form_data(citizen, address=""))

    citizen.refresh_from_db()
    assert citizen.address is None


def test_the_search_button_shows_results_and_saves_nothing(
    client: Client, citizen: Any, street: Any
) -> None:
    AddressFactory(street=street, number=12, label="12 Rue Paul Verlaine 69100 Villeurbanne")
    client.force_login(citizen)

    response = client.post(
        url("en"),
        form_data(
            citizen, first_name="Camilla", address_query="12 rue paul verlaine", address_search="1"
        ),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "12 Rue Paul Verlaine 69100 Villeurbanne" in html
    assert 'value="Camilla"' in html
    assert 'class="error-summary"' not in html
    citizen.refresh_from_db()
    assert citizen.first_name == "Camille"


def test_changing_the_language_switches_the_site(client: Client, citizen: Any) -> None:
    client.force_login(citizen)

    response = client.post(url("fr"), form_data(citizen, preferred_language="en"))

    assert response.status_code == 302
    assert response["Location"] == "/en/profil/"
    assert response.cookies["django_language"].value == "en"
    citizen.refresh_from_db()
    assert citizen.preferred_language == "en"
    page = client.get(response["Location"])
    assert 'lang="en"' in page.content.decode()
    assert "Your profile has been saved." in page.content.decode()


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": "x" * 10240}, "first_name", "at most 150 characters"),
        ({"last_name": "y" * 151}, "last_name", "at most 150 characters"),
        ({"first_name": ""}, "first_name", "This field is required"),
        ({"first_name": "Cam\tille"}, "first_name", "special characters"),
        ({"birth_date": "2026-03-16"}, "birth_date", "cannot be in the future"),
        ({"birth_date": "1880-01-01"}, "birth_date", "older than 130"),
        ({"birth_date": "2020-02-30"}, "birth_date", "Enter a valid date"),
        ({"birth_date": "1e9"}, "birth_date", "Enter a valid date"),
        ({"phone": "12345"}, "phone", "06 12 34 56 78"),
        ({"phone": "+33 6 12 34"}, "phone", "06 12 34 56 78"),
        ({"phone": "06 12 34 56 7a"}, "phone", "06 12 34 56 78"),
        ({"phone": "9" * 10240}, "phone", "at most 40 characters"),
        ({"preferred_language": "de"}, "preferred_language", "Select a valid choice"),
    ],
)
def test_bad_profile_input_gets_a_clear_message(
    client: Client, citizen: Any, overrides: dict, field: str, message: str
) -> None:
    client.force_login(citizen)
    response = client.post(url("en"), form_data(citizen, **overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    html = response.content.decode()
    assert 'class="error-summary"' in html and f'href="#id_{field}"' in html
    assert 'aria-invalid="true"' in html
    citizen.refresh_from_db()
    assert citizen.first_name == "Camille"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("address", ["999999", "abc", "1" * 40, "-3", "1; DROP TABLE"])
def test_an_unknown_address_is_refused(client: Client, citizen: Any, address: str) -> None:
    client.force_login(citizen)
    response = client.post(url("en"), form_data(citizen, address=address))

    assert response.status_code == 200
    html = response.content.decode()
    assert "not in the address table" in html
    assert 'class="error-summary"' in html and 'href="#id_address_query"' in html
    citizen.refresh_from_db()
    assert citizen.address is not None


def test_a_birth_date_after_ones_childs_is_refused(client: Client, citizen: Any) -> None:
    citizen.household = Household.objects.create()
    citizen.save()
    HouseholdMemberFactory(
        household=citizen.household, first_name="Léo", birth_date=dt.date(2017, 9, 10)
    )
    client.force_login(citizen)

    response = client.post(url("en"), form_data(citizen, birth_date="2018-01-01"))

    assert response.status_code == 200
    assert "Your child Léo was born on" in " ".join(response.context["form"].errors["birth_date"])


def test_scripts_are_stored_as_text_and_shown_escaped(client: Client, citizen: Any) -> None:
    client.force_login(citizen)
    client.post(url(), form_data(citizen, first_name=SCRIPT, last_name=SCRIPT))

    citizen.refresh_from_db()
    assert citizen.first_name == SCRIPT and citizen.last_name == SCRIPT
    html = client.get(url()).content.decode()
    assert SCRIPT not in html
    assert f'value="{SCRIPT_ESCAPED}"' in html


def test_errors_are_given_in_the_users_language(client: Client, citizen: Any) -> None:
    client.force_login(citizen)
    response = client.post(url("fr"), form_data(citizen, birth_date="pas une date"))

    assert "Saisissez une date valide" in " ".join(response.context["form"].errors["birth_date"])


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(url())

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url()}"


# --- the service and the phone numbers ----------------------------------------------------


def test_only_the_citizen_updates_their_profile(citizen: Any) -> None:
    with pytest.raises(NotFound):
        profile_update(request=None, actor=UserFactory(), user=citizen, data={"first_name": "X"})
    with pytest.raises(ValueError, match="Not profile fields"):
        profile_update(request=None, actor=citizen, user=citizen, data={"is_staff": True})


def test_service_refuses_what_a_form_would(citizen: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        profile_update(
            request=None,
            actor=citizen,
            user=citizen,
            data={"first_name": "x" * 151, "preferred_language": "de"},
        )
    assert set(exc.value.fields) == {"first_name", "preferred_language"}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("04 78 00 00 00", "+33478000000"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("+33 06 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("00 213 21 12 34 56", "+21321123456"),
        ("٠٦١٢٣٤٥٦٧٨", "+33612345678"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_phone_formats(raw: str, normalised: str) -> None:
    assert phone_normalise(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "6 12 34 56 78",
        "00 12 34",
        "+33 6 12",
        "+0 123456789",
        "+1234567890123456",
        "06 12 34 56 78 9",
        "phone",
        "+33 6 12 34 56 7x",
        "++33612345678",
    ],
)
def test_bad_phones(raw: str) -> None:
    with pytest.raises(ValidationError):
        phone_normalise(raw)


def test_phone_display() -> None:
    assert phone_display("+33612345678") == "06 12 34 56 78"
    assert phone_display("+442079460958") == "+442079460958"
    assert phone_display("") == ""
