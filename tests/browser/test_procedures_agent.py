"""Zero WCAG 2.1 A/AA violations (axe-core in Chromium) on the agents' back office: the
queue, an application's page showing a conflict message, and the counter, in French and
Arabic, with an agent whose session passed TOTP."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.accounts.test_permissions import _verified
from tests.browser.conftest import assert_accessible, url_for
from tests.procedures.world import draft_filled, make_world
from ville.procedures import services
from ville.vault.models import KnownAttribute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGS = [pytest.param("fr", id="fr"), pytest.param("ar", id="ar")]


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Any) -> SimpleNamespace:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = make_world()
    draft = draft_filled(world)
    world.app = services.application_submit(
        actor=world.citizen, application_id=draft.pk, submission_key=uuid.uuid4(), lang="fr"
    )
    # Something the city already verified, so that the page shows that section filled in.
    KnownAttribute.objects.create(
        citizen=world.citizen,
        key="family_quotient",
        value=612,
        source="caf",
        verified_at=dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC),
    )
    return world


def agent_page(page: Any, agent: Any, base_url: str) -> Any:
    """`page` with the agent's session cookie, already verified by TOTP."""
    client = Client()
    _verified(agent, client)
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
    return page


def check(page: Any, lang: str, axe_source: str) -> None:
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator("h1").count() == 1
    assert_accessible(page, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_queue_is_accessible(
    page: Any, world: SimpleNamespace, base_url: str, axe_source: str, lang: str
) -> None:
    agent_page(page, world.agent, base_url)
    response = page.goto(url_for("procedures:queue", lang))
    assert response is not None and response.status == 200
    assert page.get_by_role("link", name=world.app.tracking_code).count() == 1
    check(page, lang, axe_source)
    # The filtered, empty state too.
    page.goto(url_for("procedures:queue", lang) + "?q=personne-ici&overdue=on")
    check(page, lang, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_application_page_with_a_conflict_is_accessible(
    page: Any, world: SimpleNamespace, base_url: str, axe_source: str, lang: str
) -> None:
    agent_page(page, world.agent, base_url)
    path = url_for("procedures:agent_application", lang, application_id=world.app.pk)
    response = page.goto(path)
    assert response is not None and response.status == 200
    check(page, lang, axe_source)

    # A colleague acts while the page is open; then this agent asks for information.
    services.application_transition(
        actor=world.colleague,
        application_id=world.app.pk,
        transition="start_review",
        expected_lock_version=world.app.lock_version,
    )
    form = page.locator("form", has=page.locator("input[name=transition][value=request_info]"))
    form.locator("textarea").fill("Merci d'envoyer un justificatif récent.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("#conflict").is_visible()
    # The typed comment is still there, in the form of the same move.
    kept = page.locator("form:has(input[name=transition][value=request_info]) textarea")
    assert "justificatif récent" in kept.input_value()
    check(page, lang, axe_source)


@pytest.mark.parametrize("lang", LANGS)
def test_counter_pages_are_accessible(
    page: Any, world: SimpleNamespace, base_url: str, axe_source: str, lang: str
) -> None:
    agent_page(page, world.agent, base_url)
    response = page.goto(url_for("procedures:counter", lang))
    assert response is not None and response.status == 200
    check(page, lang, axe_source)
    page.goto(url_for("procedures:counter", lang) + "?q=Martin")
    assert page.get_by_role("cell", name=world.citizen.email).count() == 1
    check(page, lang, axe_source)
    with page.expect_navigation():
        page.locator("form:has(input[name=action][value=open]) button").first.click()
    assert page.locator("select[name=procedure]").count() == 1
    check(page, lang, axe_source)
