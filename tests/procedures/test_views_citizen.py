"""The citizen pages of online procedures, through the test client with the real YAML:
catalogue, start, steps with prefill, review, submission, application page, lookup."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
import yaml
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import HouseholdFactory, HouseholdMemberFactory, UserFactory, agent_of
from tests.procedures.conftest import minimal_definition
from tests.procedures.test_uploads import tiny_pdf, windows_exe
from ville.procedures import services
from ville.procedures.definitions import procedures_load
from ville.procedures.models import DRAFT, Application, ApplicationEvent, Attachment, Procedure

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
START = "2026-03-09"


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    for cache in caches.all():
        cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def world(family: SimpleNamespace) -> SimpleNamespace:
    procedures_load()
    client = Client()
    client.force_login(family.citizen)
    family.client = client
    return family


def url(name: str, lang: str = "en", **kwargs: Any) -> str:
    with translation.override(lang):
        return reverse(f"procedures:{name}", kwargs=kwargs or None)


def step_url(application: Application, step_id: str) -> str:
    return url("step", application_id=application.pk, step_id=step_id)


def start_canteen(world: SimpleNamespace, child: Any = None) -> Application:
    response = world.client.post(
        url("detail", slug="canteen-registration"), {"beneficiary": str((child or world.leo).pk)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get(citizen=world.citizen, state=DRAFT)
    assert response["Location"] == step_url(application, "child")
    return application


def save(client: Client, application: Application, step_id: str, data: dict) -> Any:
    application.refresh_from_db()
    return client.post(
        step_url(application, step_id), {"lock_version": application.lock_version, **data}
    )


CHILD = {
    "child_first_name": "Léo",
    "child_last_name": "Martin",
    "child_birth_date": "2017-09-20",
    "school": "elementaire-jean-jaures",
    "start_date": START,
}
MEALS = {"days": ["monday", "thursday"], "diet": "standard", "has_allergy": "no"}


def fill_until_review(world: SimpleNamespace, application: Application) -> None:
    assert save(world.client, application, "child", CHILD).status_code == 302
    assert save(world.client, application, "meals", MEALS).status_code == 302
    response = save(
        world.client,
        application,
        "price",
        {
            "family_quotient": "800",
            "quotient_certificate": SimpleUploadedFile("qf.pdf", tiny_pdf(), "application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    response = save(world.client, application, "confirm", {"accurate": "on", "rules_read": "on"})
    assert response["Location"] == url("review", application_id=application.pk)


def submit(world: SimpleNamespace, application: Application) -> Application:
    fill_until_review(world, application)
    page = world.client.get(url("review", application_id=application.pk))
    key = re.search(r'name="submission_key" value="([0-9a-f-]{36})"', page.content.decode())
    assert key is not None
    response = world.client.post(
        url("review", application_id=application.pk), {"submission_key": key.group(1)}
    )
    assert response["Location"] == url("confirmation", application_id=application.pk)
    application.refresh_from_db()
    return application


# --- catalogue and start ---------------------------------------------------------------------


def test_catalogue_lists_online_procedures_and_searches_titles(world: SimpleNamespace) -> None:
    page = world.client.get(url("catalogue"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "School canteen registration" in text
    assert url("detail", slug="canteen-registration") in text
    found = world.client.get(url("catalogue"), {"q": "canteen"}).content.decode()
    assert "School canteen registration" in found
    assert url("detail", slug="residential-parking-permit") not in found
    # French accents do not matter in a search.
    assert "Inscription à la restauration scolaire" in (
        world.client.get(url("catalogue", "fr"), {"q": "ecolaire"}).content.decode()
        + world.client.get(url("catalogue", "fr"), {"q": "restauration"}).content.decode()
    )


def test_catalogue_says_when_a_text_falls_back_to_french(world: SimpleNamespace) -> None:
    procedure = Procedure.objects.get(slug="canteen-registration")
    definition = dict(procedure.current_version.definition)
    definition["summary"] = {"fr": "Seulement en français."}
    procedure.current_version.definition = definition
    procedure.current_version.checksum = "x" * 64
    procedure.current_version.save()
    text = world.client.get(url("catalogue")).content.decode()
    assert '<p lang="fr">Seulement en français.</p>' in text
    assert "(in French)" in text


def test_detail_lists_documents_and_the_children_to_choose(world: SimpleNamespace) -> None:
    text = world.client.get(url("detail", slug="canteen-registration")).content.decode()
    assert "Family quotient certificate" in text
    assert "Which child is it for?" in text
    assert str(world.leo.pk) in text and str(world.ines.pk) in text
    assert str(world.partner.pk) not in text


def test_anonymous_is_sent_to_login(world: SimpleNamespace) -> None:
    anonymous = Client()
    detail = url("detail", slug="canteen-registration")
    page = anonymous.get(detail)
    assert page.status_code == 200
    assert "Log in to start" in page.content.decode()
    response = anonymous.post(detail, {"beneficiary": str(world.leo.pk)})
    assert response.status_code == 302 and "next=" in response["Location"]
    assert not Application.objects.exists()
    for name in ("my_applications",):
        response = anonymous.get(url(name))
        assert response.status_code == 302 and response["Location"].startswith("/en/")


def test_not_eligible_shows_the_plain_explanation(world: SimpleNamespace) -> None:
    toddler = HouseholdMemberFactory(
        household=world.household,
        first_name="Jade",
        last_name="Martin",
        birth_date=dt.date(2025, 11, 1),
        school=None,
    )
    response = world.client.post(
        url("detail", slug="canteen-registration"), {"beneficiary": str(toddler.pk)}
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "School canteens take children aged 2 to 11" in text
    assert "What you can do" in text
    assert not Application.objects.exists()


def test_start_without_choosing_a_child_asks_for_one(world: SimpleNamespace) -> None:
    response = world.client.post(url("detail", slug="canteen-registration"), {})
    assert response.status_code == 422
    assert "error-summary" in response.content.decode()
    assert not Application.objects.exists()


# --- the steps -------------------------------------------------------------------------------


def test_prefilled_values_show_where_they_come_from(world: SimpleNamespace) -> None:
    application = start_canteen(world)
    text = world.client.get(step_url(application, "child")).content.decode()
    assert "Step 1 of 4" in text
    assert 'value="Léo"' in text
    assert "From your household" in text
    assert 'value="2017-09-20"' in text
    assert '<option value="elementaire-jean-jaures" selected>' in text


def test_full_happy_path_to_a_tracking_code_and_a_receipt(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    assert application.state == "submitted"
    assert application.data["days"] == ["monday", "thursday"]
    assert application.data["quotient_certificate"]
    confirmation = world.client.get(url("confirmation", application_id=application.pk))
    text = confirmation.content.decode()
    code = application.tracking_code
    assert f"{code[:4]} {code[4:]}" in text
    assert "Your application has reached the Education service." in text
    receipt = world.client.get(url("receipt", application_id=application.pk))
    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"
    assert receipt["Content-Disposition"].startswith("attachment;")
    assert receipt.content.startswith(b"%PDF")
    assert code.encode() in receipt.content
    page = world.client.get(url("application", application_id=application.pk)).content.decode()
    assert "Received" in page and "<time datetime=" in page
    assert 'aria-live="polite"' in page


def test_draft_resumes_where_it_stopped(world: SimpleNamespace) -> None:
    application = start_canteen(world)
    response = save(world.client, application, "child", {**CHILD, "action": "later"})
    assert response["Location"] == url("my_applications")
    listing = world.client.get(url("my_applications")).content.decode()
    assert "Resume" in listing and step_url(application, "meals") in listing
    # Starting again resumes the same draft, at the step to do.
    again = world.client.post(
        url("detail", slug="canteen-registration"), {"beneficiary": str(world.leo.pk)}
    )
    assert again["Location"] == step_url(application, "meals")
    # A later step cannot be reached before.
    assert world.client.get(step_url(application, "confirm"))["Location"] == step_url(
        application, "meals"
    )
    assert Application.objects.filter(citizen=world.citizen).count() == 1


def test_a_disguised_file_is_refused_and_other_answers_are_kept(world: SimpleNamespace) -> None:
    application = start_canteen(world)
    save(world.client, application, "child", CHILD)
    save(world.client, application, "meals", MEALS)
    response = save(
        world.client,
        application,
        "price",
        {
            "family_quotient": "1234",
            "quotient_certificate": SimpleUploadedFile("qf.pdf", windows_exe(), "application/pdf"),
        },
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "is not a PDF document, a JPEG photo or a PNG image" in text
    assert 'value="1234"' in text
    assert 'aria-invalid="true"' in text
    assert "please choose them again" in text
    application.refresh_from_db()
    assert "family_quotient" not in application.data
    assert not Attachment.objects.exists()


def test_a_follow_up_question_appears_on_the_same_step(world: SimpleNamespace) -> None:
    application = start_canteen(world)
    save(world.client, application, "child", CHILD)
    response = save(world.client, application, "meals", {**MEALS, "has_allergy": "yes"})
    assert response.status_code == 422
    text = response.content.decode()
    assert 'name="allergy_details"' in text
    assert 'id="error-summary"' in text


def test_a_corrected_profile_value_is_offered_back_to_the_profile(
    world: SimpleNamespace, tmp_path: Path
) -> None:
    folder = tmp_path / "own"
    folder.mkdir()
    definition = minimal_definition(
        fields=[
            {
                "name": "first_name",
                "type": "text",
                "label": {"fr": "Prénom", "en": "First name"},
                "prefill": "profile.first_name",
                "required": True,
            },
            {"name": "agree", "type": "consent", "label": {"fr": "J'accepte", "en": "I agree"}},
        ]
    )
    (folder / "test-procedure.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    procedures_load(directory=folder)
    response = world.client.post(url("detail", slug="test-procedure"))
    application = Application.objects.get(procedure__slug="test-procedure")
    page = world.client.get(response["Location"]).content.decode()
    assert "From your profile" in page and 'value="Camille"' in page
    save(world.client, application, "main", {"first_name": "Camilla", "agree": "on"})
    review = world.client.get(url("review", application_id=application.pk)).content.decode()
    assert "changed by you" not in review  # the flag is shown on the step page
    assert 'name="update_profile" value="first_name"' in review
    step_page = world.client.get(step_url(application, "main")).content.decode()
    assert "changed by you" in step_page
    key = str(uuid.uuid4())
    world.client.post(
        url("review", application_id=application.pk),
        {"submission_key": key, "update_profile": "first_name"},
    )
    world.citizen.refresh_from_db()
    assert world.citizen.first_name == "Camilla"


def test_a_replayed_submission_gives_the_same_application_once(world: SimpleNamespace) -> None:
    application = start_canteen(world)
    fill_until_review(world, application)
    key = str(uuid.uuid4())
    review = url("review", application_id=application.pk)
    first = world.client.post(review, {"submission_key": key})
    second = world.client.post(review, {"submission_key": key})
    assert first["Location"] == second["Location"]
    application.refresh_from_db()
    assert application.state == "submitted"
    assert (
        ApplicationEvent.objects.filter(
            application=application, kind=ApplicationEvent.Kind.SUBMITTED
        ).count()
        == 1
    )
    # Another key on a submitted application: sent to its page, never a 500.
    third = world.client.post(review, {"submission_key": str(uuid.uuid4())})
    assert third["Location"] == url("application", application_id=application.pk)


# --- after submission ------------------------------------------------------------------------


def test_provide_info_in_one_click_and_the_timeline(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    agent = agent_of(application.service)
    services.application_transition(
        actor=agent,
        application_id=application.pk,
        transition="request_info",
        comment="Please send the PAI.",
        expected_lock_version=application.lock_version,
    )
    application.refresh_from_db()
    page = world.client.get(url("application", application_id=application.pk)).content.decode()
    assert "Provide the information" in page and "Please send the PAI." in page
    response = world.client.post(
        url("provide_info", application_id=application.pk),
        {
            "lock_version": application.lock_version,
            "provide-body": "Here it is.",
            "provide-documents": SimpleUploadedFile("pai.pdf", tiny_pdf(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "in_review"
    attachment = Attachment.objects.get(message__isnull=False)
    download = world.client.get(
        url("attachment", application_id=application.pk, attachment_id=attachment.pk)
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    fragment = world.client.get(
        url("application", application_id=application.pk), {"fragment": "timeline"}
    ).content.decode()
    assert '<ol class="timeline">' in fragment and "<h1" not in fragment
    assert "Information provided" in fragment


def test_a_stale_provide_info_is_a_conflict_and_keeps_the_text(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    agent = agent_of(application.service)
    services.application_transition(
        actor=agent,
        application_id=application.pk,
        transition="request_info",
        comment="Please send the PAI.",
        expected_lock_version=application.lock_version,
    )
    response = world.client.post(
        url("provide_info", application_id=application.pk),
        {"lock_version": application.lock_version, "provide-body": "My long answer"},
    )
    assert response.status_code == 409
    text = response.content.decode()
    assert "Someone else changed this application" in text
    assert "My long answer" in text


def test_withdrawal_asks_for_confirmation(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    withdraw = url("withdraw", application_id=application.pk)
    page = world.client.get(withdraw)
    assert page.status_code == 200 and "Yes, withdraw my application" in page.content.decode()
    application.refresh_from_db()
    assert application.state == "submitted"
    response = world.client.post(
        withdraw, {"lock_version": application.lock_version, "comment": "No longer needed"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "withdrawn"
    again = world.client.get(withdraw).content.decode()
    assert "can no longer be withdrawn" in again


def test_a_message_with_a_disguised_file_keeps_the_text(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    response = world.client.post(
        url("message", application_id=application.pk),
        {
            "message-body": "A question about menus",
            "message-documents": SimpleUploadedFile("menu.pdf", windows_exe(), "application/pdf"),
        },
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "A question about menus" in text and "is not a PDF document" in text
    assert 'id="id_message-documents-error"' in text


def test_another_citizen_gets_404_on_every_url(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    attachment = Attachment.objects.get(application=application)
    stranger = UserFactory(email="stranger@example.org", household=HouseholdFactory())
    client = Client()
    client.force_login(stranger)
    pk = application.pk
    gets = [
        url("application", application_id=pk),
        url("step", application_id=pk, step_id="child"),
        url("review", application_id=pk),
        url("confirmation", application_id=pk),
        url("receipt", application_id=pk),
        url("withdraw", application_id=pk),
        url("attachment", application_id=pk, attachment_id=attachment.pk),
        url("application", application_id=pk) + "?fragment=timeline",
    ]
    for address in gets:
        assert client.get(address).status_code == 404, address
    posts = [
        url("message", application_id=pk),
        url("provide_info", application_id=pk),
        url("withdraw", application_id=pk),
        url("review", application_id=pk),
    ]
    for address in posts:
        assert client.post(address, {"lock_version": 1}).status_code == 404, address
    # Anonymous: the login page, for each of them.
    anonymous = Client()
    for address in gets:
        response = anonymous.get(address)
        assert response.status_code == 302 and "next=" in response["Location"], address
    application.refresh_from_db()
    assert application.state == "submitted"


def test_my_applications_search_and_empty_state(world: SimpleNamespace) -> None:
    empty = world.client.get(url("my_applications")).content.decode()
    assert "You have no application yet." in empty
    application = submit(world, start_canteen(world))
    code = application.tracking_code
    found = world.client.get(url("my_applications"), {"q": code.lower()}).content.decode()
    assert code[:4] in found
    none = world.client.get(url("my_applications"), {"q": "zzz-nothing"}).content.decode()
    assert "No application matches this search." in none


# --- lookup without an account ---------------------------------------------------------------


def test_find_by_code_shows_the_status_and_no_answers(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    anonymous = Client()
    response = anonymous.post(
        url("find"),
        {"tracking_code": application.tracking_code.lower(), "email": world.citizen.email.upper()},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Received" in text
    assert "Léo" not in text and "800" not in text


def test_find_by_code_with_a_wrong_email_is_a_uniform_not_found(world: SimpleNamespace) -> None:
    application = submit(world, start_canteen(world))
    anonymous = Client()
    wrong_email = anonymous.post(
        url("find"), {"tracking_code": application.tracking_code, "email": "other@example.org"}
    )
    wrong_code = anonymous.post(
        url("find"), {"tracking_code": "ACDEFGHJ", "email": world.citizen.email}
    )
    assert wrong_email.status_code == wrong_code.status_code == 404
    message = "We found no application with this tracking code and this e-mail address."
    assert message in wrong_email.content.decode() and message in wrong_code.content.decode()


def test_find_by_code_is_rate_limited(world: SimpleNamespace, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "application_lookup": (2, 3600)}
    anonymous = Client()
    data = {"tracking_code": "ACDEFGHJ", "email": "a@example.org"}
    assert anonymous.post(url("find"), data).status_code == 404
    assert anonymous.post(url("find"), data).status_code == 404
    limited = anonymous.post(url("find"), data)
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
