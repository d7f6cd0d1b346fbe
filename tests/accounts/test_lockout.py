"""Lockout after repeated failures (django-axes), the page shown, and the security events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory
from ville.audit.models import AuditEvent
from ville.audit.services import audit_verify

pytestmark = pytest.mark.django_db

LOGIN = "/fr/connexion/"
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def citizen() -> Any:
    return UserFactory(email="camille.martin@example.org")


def _fail(client: Client, email: str = "camille.martin@example.org") -> Any:
    return client.post(LOGIN, {"email": email, "password": "wrong-password-123"})


def test_limit_is_configured() -> None:
    assert settings.AXES_FAILURE_LIMIT >= 3
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_locked_after_n_failures_with_security_events(citizen: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for _ in range(limit - 1):
        assert _fail(client).status_code == 200
    assert not AuditEvent.objects.filter(action="login_locked_out").exists()

    response = _fail(client)
    assert response.status_code == 429
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert '<html lang="fr"' in html
    assert reverse("accounts:password_reset") in html

    failed = AuditEvent.objects.filter(action="login_failed", category="security")
    assert failed.count() == limit
    assert set(failed.values_list("data__reason", flat=True)) == {"bad_password"}
    assert set(failed.values_list("actor_label", flat=True)) == {citizen.email}
    locked = AuditEvent.objects.get(action="login_locked_out")
    assert locked.category == "security"
    assert locked.actor_label == citizen.email
    assert locked.ip == "127.0.0.1"
    assert AccessAttempt.objects.get(username=citizen.email).failures_since_start == limit

    # Even the right password is refused now, with the lockout reason recorded.
    response = client.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert failed.filter(data__reason="locked_out").count() == 1
    # A lockout is recorded once, when it happens.
    assert AuditEvent.objects.filter(action="login_locked_out").count() == 1
    assert list(audit_verify()) == []


def test_lock_page_follows_the_language_of_the_url(citizen: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/ar/connexion/", {"email": citizen.email, "password": "wrong-password-123"}
        )
    assert response.status_code == 429
    assert '<html lang="ar" dir="rtl"' in response.content.decode()


def test_lock_is_per_account_and_client(citizen: Any) -> None:
    other = UserFactory(email="sami.haddad@example.org")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(client)
    # Another account from the same client still logs in.
    response = client.post(LOGIN, {"email": other.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    # The locked account from another client address too (no denial of service by a
    # stranger guessing passwords from elsewhere).
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    response = elsewhere.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def test_email_case_does_not_bypass_the_counter(citizen: Any) -> None:
    client = Client()
    variants = [
        "Camille.Martin@example.org",
        "CAMILLE.MARTIN@EXAMPLE.ORG",
        " camille.martin@example.org",
    ]
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = _fail(client, variants[n % len(variants)])
    assert response.status_code == 429


def test_lock_opens_after_the_cool_off(citizen: Any) -> None:
    client = Client()
    with time_machine.travel(START, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _fail(client)
        response = client.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 429
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    with time_machine.travel(START + cool_off + dt.timedelta(minutes=1), tick=False):
        response = client.post(LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    # A success resets the counter.
    assert not AccessAttempt.objects.filter(username=citizen.email).exists()


def test_unknown_email_is_locked_the_same_way() -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _fail(client, "nobody@example.org")
    assert response.status_code == 429
    assert set(
        AuditEvent.objects.filter(action="login_failed").values_list("data__reason", flat=True)
    ) == {"unknown_account"}


def test_password_change_counts_towards_the_lock(citizen: Any) -> None:
    client = Client()
    client.force_login(citizen)
    url = reverse("accounts:password_change")
    data = {
        "old_password": "wrong-password-123",
        "new_password1": "tramway-gratte-ciel-9",
        "new_password2": "tramway-gratte-ciel-9",
    }
    statuses = [client.post(url, data).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429
    citizen.refresh_from_db()
    assert citizen.check_password(DEFAULT_PASSWORD)
