"""`/<lang>/agents/citoyens/<id>/`: an agent gives a reason, then reads (never edits) a
citizen's profile and household; each reading is audited; everyone else gets a 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import (
    AddressFactory,
    AuthorityFactory,
    HouseholdMemberFactory,
    SchoolFactory,
    UserFactory,
)
from ville.accounts.models import Helper, Household, ServiceRole
from ville.accounts.selectors import citizen_get_for_agent
from ville.audit.models import AuditEvent
from ville.core.errors import NotFound, ValidationFailed
from ville.territory.models import Service

pytestmark = pytest.mark.django_db

REASON = "Crèche application 2026-0042"


def make_agent(**fields: Any) -> Any:
    agent = UserFactory(first_name="Agent", last_name="Crèche", **fields)
    service, _ = Service.objects.get_or_create(
        code="creches", defaults={"name": {"fr": "Crèches"}, "authority": AuthorityFactory()}
    )
    ServiceRole.objects.create(user=agent, service=service)
    return agent


def login_verified(client: Client, user: Any) -> Client:
    """Log in and mark the session as having passed TOTP, as agents must."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def record_url(user_id: Any, lang: str = "en") -> str:
    with translation.override(lang):
        return reverse("accounts:agent_citizen", args=[user_id])


@pytest.fixture
def citizen() -> Any:
    household = Household.objects.create()
    user = UserFactory(
        first_name="Camille",
        last_name="Martin",
        birth_date=dt.date(1988, 4, 2),
        phone="+33612345678",
        address=AddressFactory(),
        household=household,
    )
    HouseholdMemberFactory(
        household=household,
        first_name="Léo",
        birth_date=dt.date(2017, 9, 10),
        school=SchoolFactory(name="École Jean Jaurès"),
    )
    HouseholdMemberFactory(
        household=household,
        relation="partner",
        first_name="Sami",
        birth_date=dt.date(1986, 6, 2),
        school=None,
    )
    return user


def test_agent_is_asked_why_before_anything_is_shown(client: Client, citizen: Any) -> None:
    response = login_verified(client, make_agent()).get(record_url(citizen.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Why do you open this record?" in html
    assert '<label for="id_reason">' in html
    assert "Camille" not in html and "Léo" not in html
    assert not AuditEvent.objects.filter(action="citizen_record_viewed").exists()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("reason", ["", "   ", "ok", "x" * 501, "bad\x07reason"])
def test_without_a_proper_reason_nothing_is_read(client: Client, citizen: Any, reason: str) -> None:
    response = login_verified(client, make_agent()).post(record_url(citizen.pk), {"reason": reason})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert 'class="error-summary"' in response.content.decode()
    assert "Léo" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="citizen_record_viewed").exists()


def test_with_a_reason_the_agent_reads_profile_and_household(client: Client, citizen: Any) -> None:
    agent = make_agent()
    response = login_verified(client, agent).post(record_url(citizen.pk), {"reason": REASON})

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Camille", "Martin", citizen.email, "06 12 34 56 78", citizen.address.label):
        assert text in html
    assert "Léo" in html and "École Jean Jaurès" in html and "Sami" in html
    event = AuditEvent.objects.get(action="citizen_record_viewed")
    assert (event.actor_id, event.subject_id) == (agent.pk, citizen.pk)
    assert event.data == {"reason": REASON}


def test_the_record_is_read_only(client: Client, citizen: Any) -> None:
    html = (
        login_verified(client, make_agent())
        .post(record_url(citizen.pk), {"reason": REASON})
        .content.decode()
    )

    main = html[html.index("<main") : html.index("</main>")]
    assert "<form" not in main and "<input" not in main
    assert "/foyer/membre/" not in main


def test_staff_may_read_too(client: Client, citizen: Any) -> None:
    admin = UserFactory(is_staff=True, is_superuser=True)
    response = login_verified(client, admin).post(record_url(citizen.pk), {"reason": REASON})

    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="citizen_record_viewed", actor_id=admin.pk).count() == 1


def test_citizens_and_helpers_get_a_404(client: Client, citizen: Any) -> None:
    other = UserFactory()
    helper = UserFactory()
    Helper.objects.create(user=helper, organisation="Maison des services")

    for user, verify in ((other, False), (citizen, False), (helper, True)):
        client.logout()
        if verify:
            login_verified(client, user)
        else:
            client.force_login(user)
        assert client.get(record_url(citizen.pk)).status_code == 404
        assert client.post(record_url(citizen.pk), {"reason": REASON}).status_code == 404
    assert not AuditEvent.objects.filter(action="citizen_record_viewed").exists()


def test_anonymous_is_sent_to_login(client: Client, citizen: Any) -> None:
    response = client.get(record_url(citizen.pk))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_agent_without_totp_is_sent_to_the_code_page(client: Client, citizen: Any) -> None:
    client.force_login(make_agent())

    response = client.post(record_url(citizen.pk), {"reason": REASON})

    assert response.status_code == 302
    assert reverse("accounts:mfa_verify") in response["Location"]
    assert not AuditEvent.objects.filter(action="citizen_record_viewed").exists()


def test_unknown_citizen_is_a_404_and_not_audited(client: Client) -> None:
    response = login_verified(client, make_agent()).post(
        record_url(uuid.uuid4()), {"reason": REASON}
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.exists()


def test_names_are_shown_escaped(client: Client, citizen: Any) -> None:
    citizen.first_name = "<script>alert(1)</script>"
    citizen.save()

    html = (
        login_verified(client, make_agent())
        .post(record_url(citizen.pk), {"reason": "<b>check</b> file"})
        .content.decode()
    )

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;check&lt;/b&gt;" in html


def test_selector_checks_role_and_reason(citizen: Any) -> None:
    agent = make_agent()
    with pytest.raises(NotFound):
        citizen_get_for_agent(actor=UserFactory(), user_id=citizen.pk, reason=REASON)
    with pytest.raises(ValidationFailed):
        citizen_get_for_agent(actor=agent, user_id=citizen.pk, reason=" ")
    with pytest.raises(NotFound):
        citizen_get_for_agent(actor=agent, user_id="not-a-uuid", reason=REASON)

    user = citizen_get_for_agent(actor=agent, user_id=str(citizen.pk), reason=REASON)

    assert user == citizen
    assert AuditEvent.objects.filter(action="citizen_record_viewed").count() == 1


def test_record_page_query_count(
    client: Client, citizen: Any, django_assert_max_num_queries: Any
) -> None:
    login_verified(client, make_agent())
    for n in range(5):
        HouseholdMemberFactory(household=citizen.household, first_name=f"C{n}")
    # session, agent, device, roles, the citizen (+address), members, audit chain writes
    with django_assert_max_num_queries(16):
        response = client.post(record_url(citizen.pk), {"reason": REASON})
    assert response.status_code == 200
