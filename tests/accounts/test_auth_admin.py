"""The staff admin site at `/<lang>/gestion/`: staff only, after TOTP; the audit trail is
read-only; no password hash on screen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.accounts.conftest import totp_code, verified_client
from tests.factories import DEFAULT_PASSWORD, UserFactory
from ville.audit import events as audit
from ville.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ADMIN = "/fr/gestion/"


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 0, 5, tzinfo=dt.UTC), tick=False) as t:
        yield t


@pytest.fixture
def staff() -> Any:
    return UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)


def test_admin_url() -> None:
    assert reverse("admin:index") == ADMIN


def test_anonymous_is_sent_to_the_platform_login() -> None:
    response = Client().get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "next=%2Ffr%2Fgestion%2F" in response.redirect_chain[-1][0]


def test_citizen_is_refused() -> None:
    client = Client()
    client.force_login(UserFactory())
    response = client.get(ADMIN, follow=True)
    assert response.status_code == 403


def test_staff_without_otp_cannot_enter(staff: Any, make_device: Any) -> None:
    make_device(staff)
    client = Client()
    client.force_login(staff)
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    # Not even a model page.
    response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302


def test_staff_with_otp_enters(staff: Any, make_device: Any) -> None:
    client = verified_client(staff, make_device(staff))
    response = client.get(ADMIN)
    assert response.status_code == 200


def test_full_login_to_the_admin(staff: Any, make_device: Any) -> None:
    device = make_device(staff)
    client = Client()
    response = client.post(
        "/fr/connexion/",
        {"email": staff.email, "password": DEFAULT_PASSWORD, "next": ADMIN},
    )
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    response = client.post(response["Location"], {"code": totp_code(device), "next": ADMIN})
    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_user_admin_searches_and_hides_the_hash(staff: Any, make_device: Any) -> None:
    citizen = UserFactory(email="camille.martin@example.org", last_name="Martin")
    UserFactory(email="other@example.org", last_name="Durand")
    client = verified_client(staff, make_device(staff))
    response = client.get(reverse("admin:accounts_user_changelist"), {"q": "martin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "camille.martin@example.org" in html
    assert "other@example.org" not in html
    page = client.get(reverse("admin:accounts_user_change", args=[citizen.pk]))
    assert page.status_code == 200
    assert citizen.password not in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_audit_trail_is_read_only(staff: Any, make_device: Any) -> None:
    event = audit.record_login_failed(request=None, email="x@example.org", reason="bad_password")
    client = verified_client(staff, make_device(staff))
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    response = client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "logout"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action == "login_failed"
    assert AuditEvent.objects.count() >= 1


@pytest.mark.parametrize(
    "name",
    [
        "accounts_household",
        "accounts_householdmember",
        "accounts_servicerole",
        "accounts_helper",
        "territory_authority",
        "territory_district",
        "territory_service",
        "territory_street",
        "territory_address",
        "territory_school",
        "axes_accessattempt",
        "otp_totp_totpdevice",
    ],
)
def test_registered_model_lists_open(staff: Any, make_device: Any, name: str) -> None:
    client = verified_client(staff, make_device(staff))
    assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
