"""`/api/v1/auth/csrf`, `/login`, `/logout`: CSRF enforced, one error shape, TOTP,
lockout as 429."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tests.accounts.conftest import totp_code
from tests.factories import DEFAULT_PASSWORD, AgentFactory, UserFactory
from ville.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

CSRF = "/api/v1/auth/csrf"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 0, 5, tzinfo=dt.UTC), tick=False) as t:
        yield t


@pytest.fixture
def citizen() -> Any:
    return UserFactory(email="camille.martin@example.org")


def _client() -> tuple[Client, str]:
    """A browser-like client holding the CSRF cookie and its token."""
    client = Client(enforce_csrf_checks=True)
    response = client.get(CSRF)
    assert response.status_code == 200
    return client, response.json()["csrf_token"]


def _post(client: Client, url: str, body: dict[str, Any] | None, token: str | None) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(
        url, data=json.dumps(body or {}), content_type="application/json", headers=headers
    )


def _error(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]["code"]


def test_csrf_sets_the_cookie_and_returns_the_token() -> None:
    client = Client()
    response = client.get(CSRF)
    assert response.status_code == 200
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert response.json()["csrf_token"]


def test_login_with_csrf_sets_the_session(citizen: Any) -> None:
    client, token = _client()
    response = _post(client, LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD}, token)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(citizen.pk),
        "email": citizen.email,
        "mfa_verified": False,
    }
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert client.session["_auth_user_id"] == str(citizen.pk)
    assert client.get("/api/v1/me").status_code != 401
    assert AuditEvent.objects.filter(action="login", actor_id=citizen.pk).exists()


def test_login_without_csrf_is_refused(citizen: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = _post(client, LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD}, None)
    assert response.status_code == 403
    assert _error(response) == "csrf_failed"
    assert "_auth_user_id" not in client.session
    # A token without its cookie does not pass either.
    _other, token = _client()
    response = _post(
        Client(enforce_csrf_checks=True),
        LOGIN,
        {"email": citizen.email, "password": DEFAULT_PASSWORD},
        token,
    )
    assert response.status_code == 403


def test_wrong_credentials_are_401(citizen: Any) -> None:
    client, token = _client()
    response = _post(client, LOGIN, {"email": citizen.email, "password": "nope-nope"}, token)
    assert response.status_code == 401
    assert _error(response) == "authentication_failed"
    unknown = _post(client, LOGIN, {"email": "x@example.org", "password": "nope-nope"}, token)
    assert unknown.status_code == 401
    assert unknown.json() == response.json()


def test_unverified_email_is_401(citizen: Any) -> None:
    citizen.email_verified_at = None
    citizen.save()
    client, token = _client()
    response = _post(client, LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD}, token)
    assert response.status_code == 401
    assert _error(response) == "email_unverified"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.org"},
        {"email": "a" * 10_000, "password": "x"},
        {"email": ["a"], "password": "x"},
        {"email": "a@example.org", "password": "x", "totp": "1" * 100},
    ],
)
def test_bad_bodies_are_422(body: dict[str, Any]) -> None:
    client, token = _client()
    response = _post(client, LOGIN, body, token)
    assert response.status_code == 422
    assert _error(response) == "validation_failed"


def test_agent_needs_totp(make_device: Any, clock: Any) -> None:
    agent = AgentFactory()
    device = make_device(agent)
    client, token = _client()
    credentials = {"email": agent.email, "password": DEFAULT_PASSWORD}

    response = _post(client, LOGIN, credentials, token)
    assert response.status_code == 401
    assert _error(response) == "mfa_required"
    assert "_auth_user_id" not in client.session

    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = _post(client, LOGIN, {**credentials, "totp": wrong}, token)
    assert response.status_code == 401
    assert _error(response) == "mfa_invalid"
    assert AuditEvent.objects.filter(action="mfa_failed", subject_id=agent.pk).count() == 1

    clock.shift(dt.timedelta(seconds=2))
    response = _post(client, LOGIN, {**credentials, "totp": totp_code(device)}, token)
    assert response.status_code == 200, response.content
    assert response.json()["mfa_verified"] is True
    assert client.session["otp_device_id"] == device.persistent_id


def test_lockout_is_429(citizen: Any) -> None:
    client, token = _client()
    body = {"email": citizen.email, "password": "wrong-password-1"}
    codes = [
        _post(client, LOGIN, body, token).status_code for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert codes[-1] == 429
    assert codes[:-1] == [401] * (settings.AXES_FAILURE_LIMIT - 1)
    response = _post(client, LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD}, token)
    assert response.status_code == 429
    assert _error(response) == "rate_limited"
    assert AuditEvent.objects.filter(action="login_locked_out").count() == 1


def test_logout_needs_csrf_and_ends_the_session(citizen: Any) -> None:
    client, token = _client()
    _post(client, LOGIN, {"email": citizen.email, "password": DEFAULT_PASSWORD}, token)
    # Login rotated the CSRF token.
    token = client.get(CSRF).json()["csrf_token"]
    refused = _post(client, LOGOUT, None, None)
    assert refused.status_code == 403
    assert client.session["_auth_user_id"] == str(citizen.pk)
    response = _post(client, LOGOUT, None, token)
    assert response.status_code == 204
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="logout", actor_id=citizen.pk).exists()


def test_unverified_agent_session_can_log_out_through_the_api() -> None:
    agent = AgentFactory()
    client, token = _client()
    response = _post(client, LOGIN, {"email": agent.email, "password": DEFAULT_PASSWORD}, token)
    # No device yet: a session confined to enrolment.
    assert response.status_code == 200
    assert response.json()["mfa_verified"] is False
    assert client.get("/api/v1/me").status_code == 403
    token = client.get(CSRF).json()["csrf_token"]
    assert _post(client, LOGOUT, None, token).status_code == 204


def test_endpoints_are_in_the_openapi_schema() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/login" in schema["paths"]
    assert "/api/v1/auth/csrf" in schema["paths"]
    assert "/api/v1/auth/logout" in schema["paths"]
