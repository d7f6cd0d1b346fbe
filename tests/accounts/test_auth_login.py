"""Login and logout pages: session rotation, language switch, safe `next`, no
enumeration, bad input, audit events."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory
from ville.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/fr/connexion/"


@pytest.fixture
def citizen() -> Any:
    return UserFactory(email="camille.martin@example.org")


def test_login_page_contract() -> None:
    assert reverse("accounts:login") == LOGIN
    response = Client().get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_email"' in html and 'for="id_email"' in html
    assert 'id="id_password"' in html and 'for="id_password"' in html
    assert 'autocomplete="current-password"' in html
    assert 'id="login-submit"' in html
    assert "csrfmiddlewaretoken" in html
    assert "style=" not in html
    assert "<script>" not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_login_rotates_session_and_goes_to_the_space(citizen: Any) -> None:
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    response = client.post(
        LOGIN, {"email": "Camille.Martin@example.org ", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/fr/espace/"
    assert client.session["_auth_user_id"] == str(citizen.pk)
    assert client.session.session_key != before
    event = AuditEvent.objects.get(action="login")
    assert event.actor_id == citizen.pk
    assert event.data == {"method": "password"}
    assert event.ip == "127.0.0.1"


def test_login_switches_to_the_preferred_language(citizen: Any) -> None:
    citizen.preferred_language = "ar"
    citizen.save()
    client = Client()
    response = client.post(
        LOGIN + "?next=/fr/profil/", {"email": citizen.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/ar/profil/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"


def test_language_chosen_on_this_visit_wins_over_the_profile(citizen: Any) -> None:
    citizen.preferred_language = "fr"
    citizen.save()
    client = Client()
    response = client.post("/ar/connexion/", {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response["Location"] == "/ar/espace/"

    switched = Client()
    switched.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    citizen.preferred_language = "pt"
    citizen.save()
    response = switched.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response["Location"] == "/fr/espace/"


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example",
        "//evil.example/fr/espace/",
        "https:///evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_unsafe_next_is_ignored(citizen: Any, evil: str) -> None:
    client = Client()
    page = client.get(LOGIN, {"next": evil})
    assert evil not in page.content.decode()
    response = client.post(
        LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD, "next": evil}
    )
    assert response.status_code == 302
    assert response["Location"] == "/fr/espace/"


def test_safe_next_is_kept_through_the_form(citizen: Any) -> None:
    client = Client()
    page = client.get(LOGIN, {"next": "/fr/foyer/"})
    assert 'name="next" value="/fr/foyer/"' in page.content.decode()
    response = client.post(
        LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD, "next": "/fr/foyer/"}
    )
    assert response["Location"] == "/fr/foyer/"


def test_wrong_password_and_unknown_email_look_the_same(citizen: Any) -> None:
    wrong = Client().post(LOGIN, {"email": citizen.email, "password": "not-the-password"})
    unknown = Client().post(LOGIN, {"email": "nobody@example.org", "password": "whatever-it-is"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert wrong.context["form"].non_field_errors()
    reasons = sorted(
        AuditEvent.objects.filter(action="login_failed").values_list("data__reason", flat=True)
    )
    assert reasons == ["bad_password", "unknown_account"]


def test_inactive_account_cannot_log_in(citizen: Any) -> None:
    citizen.is_active = False
    citizen.save()
    client = Client()
    response = client.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(data__reason="inactive_account").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not-an-email", "password": "x"},
        {"email": "", "password": ""},
        {"email": "a" * 10_000 + "@example.org", "password": "x"},
        {"email": "camille.martin@example.org", "password": "p" * 10_000},
        {"email": "<script>alert(1)</script>", "password": "x"},
        {},
    ],
)
def test_bad_input_is_a_form_error(citizen: Any, data: dict[str, str]) -> None:
    response = Client().post(LOGIN, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert 'class="error-summary"' in html


def test_logged_in_visitor_is_sent_on(citizen: Any) -> None:
    client = Client()
    client.force_login(citizen)
    assert client.get(LOGIN)["Location"] == "/fr/espace/"


def test_logout_get_confirms_post_logs_out(citizen: Any) -> None:
    client = Client()
    client.force_login(citizen)
    url = reverse("accounts:logout")
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="logout-submit"' in page.content.decode()
    assert client.session["_auth_user_id"] == str(citizen.pk)

    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/fr/"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="logout", actor_id=citizen.pk).count() == 1
    # Logging out twice is harmless and records nothing more.
    client.post(url)
    assert AuditEvent.objects.filter(action="logout").count() == 1


def test_logout_needs_csrf(citizen: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.post(reverse("accounts:logout")).status_code == 403
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_login_post_needs_csrf(citizen: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
