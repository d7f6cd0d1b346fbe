"""TOTP: agents are forced through it, enrolment with a QR code, wrong codes audited and
throttled, citizens who enrolled are asked too, codes cannot be replayed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import totp_code, verified_client
from tests.factories import DEFAULT_PASSWORD, AgentFactory, UserFactory
from ville.accounts.models import Helper
from ville.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/fr/connexion/"
VERIFY = "/fr/securite/code/"
SETUP = "/fr/securite/totp/"
SPACE = "/fr/espace/"
START = dt.datetime(2026, 3, 2, 8, 0, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agent() -> Any:
    return AgentFactory(email="agent.creche@example.org")


def _login(client: Client, user: Any, **extra: str) -> Any:
    return client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD, **extra})


def test_urls_are_the_contract() -> None:
    assert reverse("accounts:mfa_verify") == VERIFY
    assert reverse("accounts:mfa_setup") == SETUP


def test_who_must_use_mfa(agent: Any) -> None:
    assert agent.requires_mfa
    assert UserFactory(is_staff=True).requires_mfa
    helper = UserFactory()
    Helper.objects.create(user=helper, organisation="Maison France Services")
    assert helper.requires_mfa
    assert not UserFactory().requires_mfa


def test_agent_with_a_device_must_type_a_code(agent: Any, make_device: Any) -> None:
    device = make_device(agent)
    client = Client()
    response = _login(client, agent, next="/fr/profil/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Ffr%2Fprofil%2F"
    # The password alone opens nothing.
    assert "_auth_user_id" not in client.session
    assert client.get(SPACE)["Location"].startswith(LOGIN)

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_code"' in html and 'autocomplete="one-time-code"' in html
    assert 'id="mfa-verify-submit"' in html

    response = client.post(VERIFY, {"code": totp_code(device), "next": "/fr/profil/"})
    assert response.status_code == 302
    assert response["Location"] == "/fr/profil/"
    assert client.session["_auth_user_id"] == str(agent.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.get(SPACE).status_code == 200
    event = AuditEvent.objects.get(action="login")
    assert event.data == {"method": "password+totp"}


def test_wrong_code_is_audited_and_throttled(agent: Any, make_device: Any, clock: Any) -> None:
    device = make_device(agent)
    client = Client()
    _login(client, agent)
    response = client.post(
        VERIFY, {"code": "000000" if totp_code(device) != "000000" else "111111"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="mfa_failed", subject_id=agent.pk)
    assert failed.count() == 1

    # Straight after a failure django-otp makes the person wait, even with the right code.
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert failed.count() == 2

    clock.shift(dt.timedelta(seconds=2))
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_malformed_codes_are_form_errors(agent: Any, make_device: Any) -> None:
    make_device(agent)
    client = Client()
    _login(client, agent)
    for bad in ["", "12345", "abcdef", "1" * 10_000, "<script>", "12 34 5"]:
        response = client.post(VERIFY, {"code": bad})
        assert response.status_code == 200, bad
        assert response.context["form"].errors["code"]
        assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_too_many_wrong_codes_drop_the_pending_login(
    agent: Any, make_device: Any, clock: Any
) -> None:
    make_device(agent)
    client = Client()
    _login(client, agent)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": "999999"}).status_code == 200
        clock.shift(dt.timedelta(seconds=20))
    response = client.post(VERIFY, {"code": "999999"})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(VERIFY)["Location"].startswith(LOGIN)


def test_pending_login_expires(agent: Any, make_device: Any, clock: Any) -> None:
    device = make_device(agent)
    client = Client()
    _login(client, agent)
    clock.shift(dt.timedelta(minutes=6))
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


def test_verify_page_without_a_pending_login_goes_to_login() -> None:
    response = Client().get(VERIFY)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_code_cannot_be_replayed(agent: Any, make_device: Any, clock: Any) -> None:
    device = make_device(agent)
    first = Client()
    _login(first, agent)
    code = totp_code(device)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = Client()
    _login(second, agent)
    clock.shift(dt.timedelta(seconds=1))
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in second.session


def test_agent_without_device_is_sent_to_enrolment(agent: Any, clock: Any) -> None:
    client = Client()
    response = _login(client, agent)
    assert response.status_code == 302
    # Logged in but unverified: every page leads to the code page, then to enrolment.
    page = client.get(SPACE)
    assert page.status_code == 302
    assert page["Location"] == f"{VERIFY}?next=%2Ffr%2Fespace%2F"
    page = client.get(page["Location"])
    assert page["Location"] == f"{SETUP}?next=%2Ffr%2Fespace%2F"

    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'role="img"' in html and "<title>" in html
    assert "style=" not in html
    assert "<script>" not in html
    device = TOTPDevice.objects.get(user=agent)
    assert not device.confirmed
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert secret
    assert len(secret.group(1).replace(" ", "")) == 32
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    # Reloading shows the same secret (the app may already have it).
    assert secret.group(1) in client.get(SETUP).content.decode()

    response = client.post(SETUP, {"code": "000000" if totp_code(device) != "000000" else "1"})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="mfa_failed", subject_id=agent.pk).count() == 1

    clock.shift(dt.timedelta(seconds=2))
    response = client.post(SETUP, {"code": totp_code(device), "next": SPACE})
    assert response.status_code == 302
    assert response["Location"] == SPACE
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="mfa_enrolled", subject_id=agent.pk).count() == 1
    assert client.get(SPACE).status_code == 200

    # Enrolled: the setup page no longer shows a secret.
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "totp-secret" not in page.content.decode()


def test_unverified_agent_gets_403_from_the_api(agent: Any) -> None:
    client = Client()
    _login(client, agent)
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_unverified_agent_can_still_log_out(agent: Any) -> None:
    client = Client()
    _login(client, agent)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_citizen_who_enrolled_is_asked_for_a_code(make_device: Any) -> None:
    citizen = UserFactory()
    device = make_device(citizen)
    client = Client()
    response = _login(client, citizen)
    assert response["Location"].startswith(VERIFY)
    assert "_auth_user_id" not in client.session
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_citizen_can_enrol_voluntarily() -> None:
    citizen = UserFactory()
    client = Client()
    client.force_login(citizen)
    # Not required: the space opens without a code.
    assert client.get(SPACE).status_code == 200
    assert client.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user=citizen)
    response = client.post(SETUP, {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_setup_needs_login() -> None:
    response = Client().get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_verified_session_passes(agent: Any, make_device: Any) -> None:
    client = verified_client(agent, make_device(agent))
    assert client.get(SPACE).status_code == 200
    assert client.get(VERIFY)["Location"] == SPACE


def test_codes_are_rate_limited_per_account(
    agent: Any, make_device: Any, clock: Any, settings: Any
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "mfa_verify": (2, 900)}
    device = make_device(agent)
    client = Client()
    _login(client, agent)
    for _ in range(2):
        assert client.post(VERIFY, {"code": "999999"}).status_code == 200
        clock.shift(dt.timedelta(seconds=5))
    # Even the right code, from a new address, waits for the window to pass.
    other = Client(REMOTE_ADDR="198.51.100.9")
    _login(other, agent)
    assert other.post(VERIFY, {"code": totp_code(device)}).status_code == 429
    assert "_auth_user_id" not in other.session
    clock.shift(dt.timedelta(minutes=15))
    _login(other, agent)
    assert other.post(VERIFY, {"code": totp_code(device)}).status_code == 302
