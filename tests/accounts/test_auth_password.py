"""Password reset (neutral answer, mailed link in the person's language, single use) and
password change (current password checked, session kept)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory
from ville.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

RESET = "/fr/mot-de-passe/oubli/"
NEW = "tramway-gratte-ciel-9"


@pytest.fixture
def citizen() -> Any:
    return UserFactory(email="camille.martin@example.org", preferred_language="pt")


def _link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


def test_reset_answer_is_the_same_for_known_and_unknown(citizen: Any, committed: Any) -> None:
    known = committed(Client().post, RESET, {"email": "Camille.Martin@example.org"})
    unknown = committed(Client().post, RESET, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert [m.to for m in mail.outbox] == [[citizen.email]]
    requested = AuditEvent.objects.filter(action="password_reset_requested", category="security")
    assert sorted(requested.values_list("actor_label", flat=True)) == [
        citizen.email,
        "nobody@example.org",
    ]


def test_reset_link_works_once_and_in_the_person_language(citizen: Any, committed: Any) -> None:
    committed(Client().post, RESET, {"email": citizen.email})
    message = mail.outbox[0]
    link = _link(message)
    assert "/pt/mot-de-passe/nouveau/" in link
    assert 'lang="pt"' in message.alternatives[0][0]

    client = Client()
    response = client.get(link)
    # The token leaves the URL before the form is shown.
    assert response.status_code == 302
    assert response["Location"].endswith("/set-password/")
    form_url = response["Location"]
    page = client.get(form_url)
    assert page.status_code == 200
    assert 'id="id_new_password1"' in page.content.decode()

    response = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    citizen.refresh_from_db()
    assert citizen.check_password(NEW)
    event = AuditEvent.objects.get(action="password_changed")
    assert event.data == {"how": "reset"}
    assert event.actor_id == citizen.pk

    # Used once: the link is dead now.
    assert Client().get(link).status_code == 400
    assert client.get(form_url).status_code == 400


def test_reset_form_errors(citizen: Any, committed: Any) -> None:
    committed(Client().post, RESET, {"email": citizen.email})
    client = Client()
    form_url = client.get(_link(mail.outbox[0]))["Location"]
    for data, field in [
        ({"new_password1": NEW, "new_password2": NEW + "x"}, "new_password2"),
        ({"new_password1": "short", "new_password2": "short"}, "new_password2"),
        ({"new_password1": "x" * 10_000, "new_password2": "x" * 10_000}, "new_password1"),
        ({}, "new_password1"),
    ]:
        response = client.post(form_url, data)
        assert response.status_code == 200
        assert field in response.context["form"].errors
    citizen.refresh_from_db()
    assert citizen.check_password(DEFAULT_PASSWORD)


def test_reset_link_expires(citizen: Any, committed: Any) -> None:
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        committed(Client().post, RESET, {"email": citizen.email})
    link = _link(mail.outbox[0])
    later = start + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later, tick=False):
        assert Client().get(link).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/fr/mot-de-passe/nouveau/xxx/yyy/",
        "/fr/mot-de-passe/nouveau/MTIz/set-password/",
        "/fr/mot-de-passe/nouveau/%FF%FF/abc-def/",
    ],
)
def test_bad_reset_links_never_500(path: str) -> None:
    assert Client().get(path).status_code == 400


def test_reset_confirms_the_address_and_lifts_the_lock(committed: Any) -> None:
    user = UserFactory(email="late@example.org", email_verified_at=None)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/fr/connexion/", {"email": user.email, "password": "wrong-password-1"})
    committed(Client().post, RESET, {"email": user.email})
    reset = Client()
    form_url = reset.get(_link(mail.outbox[0]))["Location"]
    reset.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    user.refresh_from_db()
    assert user.email_verified_at is not None
    response = client.post("/fr/connexion/", {"email": user.email, "password": NEW})
    assert response.status_code == 302


def test_reset_is_rate_limited(settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": (2, 3600)}
    client = Client()
    assert client.post(RESET, {"email": "a@example.org"}).status_code == 200
    assert client.post(RESET, {"email": "b@example.org"}).status_code == 200
    response = client.post(RESET, {"email": "c@example.org"})
    assert response.status_code == 429
    assert not AuditEvent.objects.filter(actor_label="c@example.org").exists()


def test_reset_bad_email_is_a_form_error() -> None:
    response = Client().post(RESET, {"email": "<script>@@"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert "<script>@@" not in response.content.decode()


# --- Change -----------------------------------------------------------------------------


def test_change_needs_login() -> None:
    response = Client().get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_change_keeps_the_session_and_ends_the_others(citizen: Any) -> None:
    client = Client()
    client.force_login(citizen)
    other = Client()
    other.force_login(citizen)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"old_password": DEFAULT_PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password(NEW)
    assert AuditEvent.objects.get(action="password_changed").data == {"how": "change"}
    # This session stays open; the other one is logged out.
    assert client.get("/fr/espace/").status_code == 200
    assert other.get("/fr/espace/").status_code == 302


def test_change_refuses_a_wrong_current_password(citizen: Any) -> None:
    client = Client()
    client.force_login(citizen)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "not-my-password", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    citizen.refresh_from_db()
    assert citizen.check_password(DEFAULT_PASSWORD)
    assert not AuditEvent.objects.filter(action="password_changed").exists()


def test_change_validates_the_new_password(citizen: Any) -> None:
    client = Client()
    client.force_login(citizen)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    citizen.refresh_from_db()
    assert citizen.check_password(DEFAULT_PASSWORD)
