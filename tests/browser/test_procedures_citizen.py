"""Zero WCAG 2.1 A/AA violations (axe-core in Chromium, real CSP) on the citizen pages of
online procedures, in French and Arabic: catalogue, detail, a step with errors, review,
confirmation and the application page; and the form works with the keyboard alone."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import assert_accessible, url_for
from tests.factories import HouseholdFactory, HouseholdMemberFactory, UserFactory
from ville.accounts.models import HouseholdMember
from ville.procedures import services
from ville.procedures.definitions import procedures_load
from ville.territory.models import Address, School
from ville.territory.services import territory_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGS = [pytest.param("fr", id="fr"), pytest.param("ar", id="ar")]


def _world(settings_: Any, tmp_path: Any) -> SimpleNamespace:
    settings_.MEDIA_ROOT = str(tmp_path / "media")
    territory_load()
    procedures_load()
    household = HouseholdFactory()
    address = Address.objects.filter(street__name="Rue du Pérou").order_by("number").first()
    today = dt.date.today()
    citizen = UserFactory(
        email="camille.browser@example.org",
        first_name="Camille",
        last_name="Martin",
        address=address,
        household=household,
        birth_date=dt.date(1988, 6, 14),
    )
    leo = HouseholdMemberFactory(
        household=household,
        first_name="Léo",
        last_name="Martin",
        birth_date=today.replace(year=today.year - 8, day=1),
        school=School.objects.get(code="elementaire-jean-jaures"),
    )
    ines = HouseholdMemberFactory(
        household=household,
        relation=HouseholdMember.Relation.CHILD,
        first_name="Inès",
        last_name="Martin",
        birth_date=today.replace(year=today.year - 5, day=1),
        school=School.objects.get(code="maternelle-jean-jaures"),
    )
    start = (today + dt.timedelta(days=7)).isoformat()

    def complete(child: Any) -> Any:
        application = services.application_start(
            actor=citizen, procedure_slug="canteen-registration", beneficiary_id=child.pk
        )
        answers = {
            "child": {
                "child_first_name": child.first_name,
                "child_last_name": child.last_name,
                "child_birth_date": child.birth_date.isoformat(),
                "school": child.school.code,
                "start_date": start,
            },
            "meals": {"days": ["monday"], "diet": "standard", "has_allergy": False},
            "price": {},
            "confirm": {"accurate": True, "rules_read": True},
        }
        for step_id, data in answers.items():
            application = services.application_save_step(
                actor=citizen, application_id=application.pk, step_id=step_id, data=data
            )
        return application

    submitted = complete(leo)
    submitted = services.application_submit(
        actor=citizen, application_id=submitted.pk, submission_key=uuid.uuid4()
    )
    services.message_post(actor=citizen, application_id=submitted.pk, body="Bonjour")
    draft = complete(ines)
    return SimpleNamespace(citizen=citizen, submitted=submitted, draft=draft)


def _log_in(page: Any, user: Any, base_url: str) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def _check(page: Any, lang: str, axe_source: str, expected_status: int = 200) -> None:
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator("h1").count() == 1, f"one <h1> on {page.url}"
    assert_accessible(page, axe_source)


def _open(page: Any, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response.status}"


@pytest.mark.parametrize("lang", LANGS)
def test_citizen_procedure_pages_are_accessible(
    page: Any, base_url: str, axe_source: str, lang: str, settings: Any, tmp_path: Any
) -> None:
    world = _world(settings, tmp_path)
    _log_in(page, world.citizen, base_url)
    submitted_id = world.submitted.pk

    _open(page, url_for("procedures:catalogue", lang))
    _check(page, lang, axe_source)

    _open(page, url_for("procedures:detail", lang, slug="canteen-registration"))
    _check(page, lang, axe_source)

    # A step sent back with errors: the answers removed, then "Save and continue".
    _open(page, url_for("procedures:step", lang, application_id=world.draft.pk, step_id="child"))
    page.fill("#id_child_first_name", "")
    page.fill("#id_start_date", "")
    with page.expect_navigation():
        page.locator("button[value=next]").click()
    assert page.locator(".error-summary").count() == 1
    assert page.locator("[aria-invalid=true]").count() >= 2
    _check(page, lang, axe_source)

    _open(page, url_for("procedures:review", lang, application_id=world.draft.pk))
    _check(page, lang, axe_source)

    _open(page, url_for("procedures:confirmation", lang, application_id=submitted_id))
    _check(page, lang, axe_source)

    _open(page, url_for("procedures:application", lang, application_id=submitted_id))
    _check(page, lang, axe_source)

    _open(page, url_for("procedures:my_applications", lang))
    _check(page, lang, axe_source)

    _open(page, url_for("procedures:withdraw", lang, application_id=submitted_id))
    _check(page, lang, axe_source)


def test_lookup_and_keyboard_submission(
    page: Any, base_url: str, axe_source: str, settings: Any, tmp_path: Any
) -> None:
    world = _world(settings, tmp_path)
    _open(page, url_for("procedures:find", "fr"))
    _check(page, "fr", axe_source)
    page.fill("#id_tracking_code", world.submitted.tracking_code)
    page.fill("#id_email", world.citizen.email)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".tracking-code").count() == 1
    _check(page, "fr", axe_source)

    # The review page is submitted with the keyboard alone.
    _log_in(page, world.citizen, base_url)
    _open(page, url_for("procedures:review", "fr", application_id=world.draft.pk))
    page.locator("button[type=submit].button").last.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/confirmation/")
    assert page.locator(".tracking-code").count() == 1
