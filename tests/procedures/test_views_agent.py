"""The agents' back office pages: the queue of their services, an application's file with
its actions (transitions, conflicts, documents, assignment, messages), and the counter."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.accounts.test_permissions import _verified
from tests.factories import HouseholdMemberFactory, UserFactory
from tests.procedures.test_uploads import tiny_pdf
from tests.procedures.world import (
    draft_filled,
    make_world,
    move,
    pdf,
)
from ville.audit.models import AuditEvent
from ville.procedures import services
from ville.procedures.models import Application, ApplicationEvent, Attachment, Message
from ville.vault.models import KnownAttribute

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(db: None) -> Iterator[SimpleNamespace]:
    """The services' world of test_services, with one submitted application per service."""
    with time_machine.travel(NOW, tick=False):
        world = make_world()
        world.sister = HouseholdMemberFactory(
            household=world.citizen.household,
            first_name="Nina",
            last_name="Martin",
            birth_date=dt.date(2019, 4, 1),
        )
        world.app = submit(draft_filled(world), world.citizen)
        roads_draft = services.application_start(
            actor=world.other, procedure_slug="test-roads", beneficiary_id=world.other_child.pk
        )
        fill(roads_draft, world.other, world.other_child.first_name)
        world.roads_app = submit(roads_draft, world.other)
        yield world


def fill(application: Application, citizen: Any, first_name: str) -> None:
    services.application_save_step(
        actor=citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": first_name, "has_allergy": False},
        lang="en",
    )
    services.application_save_step(
        actor=citizen,
        application_id=application.pk,
        step_id="documents",
        data={"diet": "standard"},
        files={"proof_of_address": pdf()},
        lang="en",
    )


def submit(application: Application, citizen: Any) -> Application:
    return services.application_submit(
        actor=citizen, application_id=application.pk, submission_key=uuid.uuid4(), lang="en"
    )


def url(name: str, *args: Any, lang: str = "en") -> str:
    with translation.override(lang):
        return reverse(f"procedures:{name}", args=args)


def as_user(user: Any) -> Client:
    client = Client()
    if user.requires_mfa:
        _verified(user, client)
    else:
        client.force_login(user)
    return client


def text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def viewed(application: Application) -> int:
    return AuditEvent.objects.filter(
        action="application_viewed", target_id=str(application.pk)
    ).count()


# --- the queue ---------------------------------------------------------------------------------


def test_queue_shows_only_the_applications_of_the_agents_services(world: SimpleNamespace) -> None:
    response = as_user(world.agent).get(url("queue"))
    assert response.status_code == 200
    body = text(response)
    assert world.app.tracking_code in body
    assert world.roads_app.tracking_code not in body
    assert "Camille Martin" in body and "Léo Martin" in body
    # Counts per state, with the state's label.
    assert "Received : 1" in body or "Received: 1" in body

    roads = text(as_user(world.roads_agent).get(url("queue")))
    assert world.roads_app.tracking_code in roads
    assert world.app.tracking_code not in roads


def test_queue_filters_and_search(world: SimpleNamespace) -> None:
    with time_machine.travel(NOW, tick=False):
        second = submit(draft_filled(world, child=world.sister), world.citizen)
        move(second, world.agent, "start_review")
    client = as_user(world.agent)

    def codes(**params: str) -> set[str]:
        body = client.get(url("queue"), params).content.decode()
        return set(re.findall(r'class="code">([A-Z0-9]{8})<', body))

    assert codes() == {world.app.tracking_code, second.tracking_code}
    assert codes(state="in_review") == {second.tracking_code}
    assert codes(procedure="test-canteen") == {world.app.tracking_code, second.tracking_code}
    # Not one of the agent's procedures: refused with a message, never the other service's.
    assert codes(procedure="test-roads") == {world.app.tracking_code, second.tracking_code}
    assert "There is a problem" in text(client.get(url("queue"), {"procedure": "test-roads"}))
    assert codes(q=world.app.tracking_code.lower()) == {world.app.tracking_code}
    assert codes(q="nina") == {second.tracking_code}
    assert codes(q="vegetarian") == {world.app.tracking_code, second.tracking_code}
    assert codes(q="nobody-has-this") == set()
    assert codes(mine="on") == set()
    world.app.refresh_from_db()
    services.application_assign(
        actor=world.agent,
        application_id=world.app.pk,
        assignee_id=world.agent.pk,
        expected_lock_version=world.app.lock_version,
    )
    assert codes(mine="on") == {world.app.tracking_code}
    empty = client.get(url("queue"), {"q": "nobody-has-this"})
    assert "No application matches these filters." in text(empty)


def test_overdue_is_flagged_in_words_once_the_target_date_has_passed(
    world: SimpleNamespace,
) -> None:
    with time_machine.travel(NOW + dt.timedelta(days=14), tick=False):
        client = as_user(world.agent)
        assert "Overdue" not in text(client.get(url("queue")))
        assert world.app.tracking_code not in text(client.get(url("queue"), {"overdue": "on"}))
    with time_machine.travel(NOW + dt.timedelta(days=16), tick=False):
        client = as_user(world.agent)
        body = text(client.get(url("queue")))
        assert "Overdue" in body
        assert world.app.tracking_code in text(client.get(url("queue"), {"overdue": "on"}))
        assert "Overdue" in text(client.get(url("agent_application", world.app.pk)))


def test_queue_and_counter_are_not_found_for_citizens_and_helpers(world: SimpleNamespace) -> None:
    for user in (world.citizen, world.helper):
        client = as_user(user)
        assert client.get(url("queue")).status_code == 404
        assert client.get(url("counter")).status_code == 404
    anonymous = Client().get(url("queue"))
    assert anonymous.status_code == 302 and "/connexion/" in anonymous["Location"]


# --- an application's file --------------------------------------------------------------------


def test_detail_shows_answers_with_provenance_and_each_read_is_audited(
    world: SimpleNamespace,
) -> None:
    client = as_user(world.agent)
    before = viewed(world.app)
    response = client.get(url("agent_application", world.app.pk))
    assert response.status_code == 200
    assert viewed(world.app) == before + 1
    body = text(response)
    assert "Pre-filled from the household record" in body  # child_first_name
    assert "Typed" in body  # has_allergy
    assert "proof.pdf" in body and "Mark as verified" in body
    assert "Start the review" in body and "Request information" in body
    assert "Accept" not in body.split("Actions")[1].split("Assignment")[0]  # not from submitted
    html = response.content.decode()
    assert f'name="expected_lock_version" value="{world.app.lock_version}"' in html
    assert html.count("<h1") == 1


def test_request_information_then_the_citizen_answers_then_accept(world: SimpleNamespace) -> None:
    client = as_user(world.agent)
    app = world.app

    def post(transition: str, comment: str = "") -> Any:
        app.refresh_from_db()
        return client.post(
            url("agent_transition", app.pk),
            {
                "transition": transition,
                "expected_lock_version": app.lock_version,
                "comment": comment,
            },
        )

    assert post("start_review").status_code == 302
    # The definition requires a comment to request information.
    refused = post("request_info")
    assert refused.status_code == 422
    assert "There is a problem" in text(refused)
    app.refresh_from_db()
    assert app.state == "in_review"

    response = post("request_info", "Please send a recent proof of address.")
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "info_requested"
    event = app.events.filter(kind="info_requested").get()
    assert event.comment == "Please send a recent proof of address." and event.actor == world.agent

    # The citizen's side, through the services: a message with the document, then provide_info.
    services.message_post(
        actor=world.citizen,
        application_id=app.pk,
        body="Here it is.",
        files=[SimpleUploadedFile("new-proof.pdf", tiny_pdf(), content_type="application/pdf")],
    )
    move(app, world.citizen, "provide_info")
    page = text(client.get(url("agent_application", app.pk)))
    assert "Here it is." in page and "new-proof.pdf" in page
    assert "Information provided" in page

    assert post("accept").status_code == 302
    app.refresh_from_db()
    assert app.state == "accepted" and app.decided_at is not None
    detail = client.get(url("agent_application", app.pk))
    assert url("agent_decision_letter", app.pk) in detail.content.decode()
    assert "This application is closed" in text(detail)
    letter = client.get(url("agent_decision_letter", app.pk))
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")


def test_decision_letter_is_not_found_before_a_decision(world: SimpleNamespace) -> None:
    response = as_user(world.agent).get(url("agent_decision_letter", world.app.pk))
    assert response.status_code == 404


def test_a_stale_page_gets_a_conflict_keeps_the_comment_and_changes_nothing(
    world: SimpleNamespace,
) -> None:
    app = world.app
    move(app, world.agent, "start_review")
    app.refresh_from_db()
    seen_version = app.lock_version
    # A colleague acts first, from the same state.
    services.application_assign(
        actor=world.colleague,
        application_id=app.pk,
        assignee_id=world.colleague.pk,
        expected_lock_version=seen_version,
    )
    events_before = ApplicationEvent.objects.filter(application=app).count()
    response = as_user(world.agent).post(
        url("agent_transition", app.pk),
        {
            "transition": "request_info",
            "expected_lock_version": seen_version,
            "comment": "Merci d'envoyer l'attestation CAF.",
        },
    )
    assert response.status_code == 409
    body = text(response)
    assert "Someone else changed this application a moment ago" in body
    assert "It is now “In review”" in body
    # The comment is back in the same form, with the current version, ready to send again.
    html = response.content.decode()
    assert "Merci d&#x27;envoyer l&#x27;attestation CAF." in html
    app.refresh_from_db()
    assert f'name="expected_lock_version" value="{app.lock_version}"' in html
    assert app.state == "in_review"
    assert ApplicationEvent.objects.filter(application=app).count() == events_before


def test_conflict_when_the_move_is_no_longer_possible_keeps_the_comment_aside(
    world: SimpleNamespace,
) -> None:
    app = world.app
    seen = app.lock_version
    move(app, world.colleague, "start_review")
    move(app, world.colleague, "accept")
    response = as_user(world.agent).post(
        url("agent_transition", app.pk),
        {"transition": "start_review", "expected_lock_version": seen, "comment": "Je prends."},
    )
    assert response.status_code == 409
    body = text(response)
    assert "It is now “Accepted”" in body
    assert "The comment you typed, not sent: Je prends." in body
    app.refresh_from_db()
    assert app.state == "accepted"


def test_verify_a_document_once_and_show_it_as_already_verified(world: SimpleNamespace) -> None:
    attachment = Attachment.objects.get(application=world.app)
    client = as_user(world.agent)
    response = client.post(url("agent_attachment_verify", world.app.pk, attachment.pk))
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.verified_by == world.agent and attachment.verified_at is not None
    fact = KnownAttribute.objects.get(citizen=world.citizen, key="document.proof_of_address")
    assert fact.verified_at is not None
    body = text(client.get(url("agent_application", world.app.pk)))
    assert "Verified" in body and "already verified — do not ask again" in body
    assert "document.proof_of_address" in body
    # An attachment of another application, through this one's address: not found.
    other = Attachment.objects.get(application=world.roads_app)
    assert client.post(url("agent_attachment_verify", world.app.pk, other.pk)).status_code == 404
    other.refresh_from_db()
    assert other.verified_at is None


def test_download_a_document_is_audited(world: SimpleNamespace) -> None:
    attachment = Attachment.objects.get(application=world.app)
    response = as_user(world.agent).get(url("agent_attachment", world.app.pk, attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="attachment_downloaded", target_id=str(attachment.pk)
    ).exists()


def test_assign_to_me_to_a_colleague_and_never_outside_the_service(
    world: SimpleNamespace,
) -> None:
    client = as_user(world.agent)
    app = world.app

    def assign(**data: Any) -> Any:
        app.refresh_from_db()
        return client.post(
            url("agent_assign", app.pk), {"expected_lock_version": app.lock_version, **data}
        )

    assert assign(to_me="1").status_code == 302
    app.refresh_from_db()
    assert app.assigned_to == world.agent
    assert assign(assignee=str(world.colleague.pk)).status_code == 302
    app.refresh_from_db()
    assert app.assigned_to == world.colleague
    refused = assign(assignee=str(world.roads_agent.pk))
    assert refused.status_code == 422
    app.refresh_from_db()
    assert app.assigned_to == world.colleague
    internal = app.events.filter(kind="assigned").first()
    assert internal is not None and not internal.visible_to_citizen
    assert "Internal: not shown to the citizen" in text(
        client.get(url("agent_application", app.pk))
    )


def test_reply_with_a_file_and_refuse_a_disguised_one(world: SimpleNamespace) -> None:
    client = as_user(world.agent)
    response = client.post(
        url("agent_message", world.app.pk),
        {
            "body": "Merci, nous regardons.",
            "documents": [
                SimpleUploadedFile("note.pdf", tiny_pdf(), content_type="application/pdf")
            ],
        },
    )
    assert response.status_code == 302
    message = Message.objects.get(application=world.app)
    assert message.author == world.agent and message.author_role == "agent"
    assert message.attachments.get().original_name == "note.pdf"
    bad = client.post(
        url("agent_message", world.app.pk),
        {
            "body": "Encore",
            "documents": [
                SimpleUploadedFile("virus.pdf", b"MZ\x90\x00" * 20, content_type="application/pdf")
            ],
        },
    )
    assert bad.status_code == 422
    assert "There is a problem" in text(bad)
    assert Message.objects.filter(application=world.app).count() == 1


# --- the counter -----------------------------------------------------------------------------


def test_counter_files_an_application_for_a_citizen_on_the_phone(world: SimpleNamespace) -> None:
    client = as_user(world.agent)
    found = client.get(url("counter"), {"q": "martin camille"})
    assert found.status_code == 200
    body = text(found)
    assert "Camille Martin" in body
    assert "Agnès" not in body  # agents are not listed as citizens
    by_email = text(client.get(url("counter"), {"q": world.citizen.email.upper()}))
    assert world.citizen.email in by_email

    opened = client.post(url("counter"), {"action": "open", "citizen": str(world.citizen.pk)})
    assert opened.status_code == 200
    record = AuditEvent.objects.filter(action="citizen_record_viewed").latest("seq")
    assert record.data == {"reason": "counter"} and record.subject_id == world.citizen.pk
    assert "Léo Martin" in text(opened)
    assert "Test-Roads" not in text(opened)  # only the procedures of the agent's services

    started = client.post(
        url("counter"),
        {
            "action": "start",
            "citizen": str(world.citizen.pk),
            "procedure": "test-canteen",
            "beneficiary": str(world.child.pk),
            "channel": "phone",
        },
    )
    assert started.status_code == 302
    draft = Application.objects.get(filed_by=world.agent)
    assert (draft.citizen, draft.channel, draft.state) == (world.citizen, "phone", "draft")
    assert started["Location"] == url("agent_step", draft.pk, "child")

    step = client.get(started["Location"])
    assert step.status_code == 200
    assert 'value="Léo"' in step.content.decode()  # prefilled
    lock = re.search(r'name="expected_lock_version" value="(\d+)"', step.content.decode())
    assert lock is not None
    response = client.post(
        started["Location"],
        {"child_first_name": "Léo", "has_allergy": "no", "expected_lock_version": lock.group(1)},
    )
    assert response.status_code == 302
    assert response["Location"] == url("agent_step", draft.pk, "documents")
    draft.refresh_from_db()
    assert draft.step == 1
    documents = client.post(
        url("agent_step", draft.pk, "documents"),
        {
            "diet": "standard",
            "proof_of_address": pdf(),
            "expected_lock_version": draft.lock_version,
        },
    )
    assert documents.status_code == 302
    assert documents["Location"] == url("agent_submit", draft.pk)
    review = client.get(documents["Location"])
    assert review.status_code == 200
    key = re.search(r'name="submission_key" value="([0-9a-f-]+)"', review.content.decode())
    assert key is not None
    filed = client.post(documents["Location"], {"submission_key": key.group(1)})
    assert filed.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "submitted" and draft.tracking_code
    assert draft.filed_by == world.agent and draft.channel == "phone"
    assert draft.events.get(kind="submitted").actor_role == "agent"
    page = text(client.get(filed["Location"]))
    assert draft.tracking_code in page and "By phone" in page


def test_counter_refuses_an_online_channel_and_a_procedure_of_another_service(
    world: SimpleNamespace,
) -> None:
    client = as_user(world.agent)
    for data in (
        {"procedure": "test-canteen", "channel": "online"},
        {"procedure": "test-roads", "channel": "counter"},
    ):
        response = client.post(
            url("counter"),
            {
                "action": "start",
                "citizen": str(world.citizen.pk),
                "beneficiary": str(world.child.pk),
                **data,
            },
        )
        assert response.status_code == 422
    assert not Application.objects.filter(filed_by=world.agent).exists()


# --- permission matrix ------------------------------------------------------------------------

OK, NOT_FOUND, LOGIN = "ok", "404", "login"
ROLES = ["anonymous", "citizen", "other_citizen", "helper", "agent_x", "agent_y", "admin"]


def _users(world: SimpleNamespace) -> dict[str, Any]:
    return {
        "citizen": world.citizen,
        "other_citizen": world.other,
        "helper": world.helper,
        "agent_x": world.agent,
        "agent_y": world.roads_agent,
        "admin": UserFactory(first_name="Admin", is_staff=True, is_superuser=True),
    }


def _only_agent_x() -> dict[str, str]:
    return {"anonymous": LOGIN, **{role: NOT_FOUND for role in ROLES[1:]}, "agent_x": OK}


def _cases(world: SimpleNamespace) -> list[tuple[str, str, Callable[[], Any], dict[str, str]]]:
    app = world.app
    attachment = Attachment.objects.get(application=app)

    def lock() -> dict[str, str]:
        app.refresh_from_db()
        return {"expected_lock_version": str(app.lock_version)}

    everyone_agentish = {
        "anonymous": LOGIN,
        "citizen": NOT_FOUND,
        "other_citizen": NOT_FOUND,
        "helper": NOT_FOUND,
        "agent_x": OK,
        "agent_y": OK,
        "admin": OK,
    }
    return [
        ("queue", "GET", lambda: (url("queue"), None), everyone_agentish),
        ("counter", "GET", lambda: (url("counter"), None), everyone_agentish),
        ("detail", "GET", lambda: (url("agent_application", app.pk), None), _only_agent_x()),
        (
            "transition",
            "POST",
            lambda: (
                url("agent_transition", app.pk),
                {"transition": "start_review", "comment": "", **lock()},
            ),
            _only_agent_x(),
        ),
        (
            "message",
            "POST",
            lambda: (url("agent_message", app.pk), {"body": "Bonjour"}),
            _only_agent_x(),
        ),
        (
            "assign",
            "POST",
            lambda: (url("agent_assign", app.pk), {"to_me": "1", **lock()}),
            _only_agent_x(),
        ),
        (
            "attachment",
            "GET",
            lambda: (url("agent_attachment", app.pk, attachment.pk), None),
            _only_agent_x(),
        ),
        (
            "verify",
            "POST",
            lambda: (url("agent_attachment_verify", app.pk, attachment.pk), {}),
            _only_agent_x(),
        ),
        (
            "counter open",
            "POST",
            lambda: (url("counter"), {"action": "open", "citizen": str(world.citizen.pk)}),
            everyone_agentish,
        ),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix_over_every_agent_url(world: SimpleNamespace, role: str) -> None:
    users = _users(world)
    # A decided application (for its letter) and a counter draft of agent X (for its steps).
    with time_machine.travel(NOW, tick=False):
        decided = submit(draft_filled(world, child=world.sister), world.citizen)
        move(decided, world.agent, "start_review")
        move(decided, world.agent, "accept")
        draft = services.application_start(
            actor=world.agent,
            procedure_slug="test-canteen",
            beneficiary_id=world.child.pk,
            channel="counter",
            on_behalf_of=world.citizen,
        )
    extra = [
        (
            "decision letter",
            "GET",
            lambda: (url("agent_decision_letter", decided.pk), None),
            _only_agent_x(),
        ),
        ("step", "GET", lambda: (url("agent_step", draft.pk, "child"), None), _only_agent_x()),
        ("submit page", "GET", lambda: (url("agent_submit", draft.pk), None), _only_agent_x()),
    ]
    for name, method, make, expect in [*_cases(world), *extra]:
        client = Client() if role == "anonymous" else as_user(users[role])
        world.app.refresh_from_db()
        path, data = make()
        state_before = (world.app.state, world.app.assigned_to_id, world.app.lock_version)
        messages_before = Message.objects.filter(application=world.app).count()
        response = client.get(path) if method == "GET" else client.post(path, data)
        outcome = expect[role]
        if outcome == LOGIN:
            assert response.status_code == 302 and "/connexion/" in response["Location"], name
        elif outcome == NOT_FOUND:
            assert response.status_code == 404, f"{name} as {role}: {response.status_code}"
        else:
            assert response.status_code in (200, 302), f"{name} as {role}: {response.status_code}"
        if outcome != OK:
            world.app.refresh_from_db()
            assert (
                world.app.state,
                world.app.assigned_to_id,
                world.app.lock_version,
            ) == state_before, name
            assert Message.objects.filter(application=world.app).count() == messages_before, name
        if role == "agent_y" and name == "queue":
            assert world.app.tracking_code not in response.content.decode()


def test_a_move_the_workflow_does_not_allow_is_refused_without_claiming_a_conflict(
    world: SimpleNamespace,
) -> None:
    app = world.app
    response = as_user(world.agent).post(
        url("agent_transition", app.pk),
        {"transition": "provide_info", "expected_lock_version": app.lock_version, "comment": ""},
    )
    assert response.status_code == 409
    body = text(response)
    assert "This action is not possible at this stage" in body
    assert "Someone else changed" not in body
    app.refresh_from_db()
    assert app.state == "submitted"


def test_a_stale_assignment_is_a_conflict_and_keeps_the_colleagues_choice(
    world: SimpleNamespace,
) -> None:
    app = world.app
    seen = app.lock_version
    services.application_assign(
        actor=world.colleague,
        application_id=app.pk,
        assignee_id=world.colleague.pk,
        expected_lock_version=seen,
    )
    response = as_user(world.agent).post(
        url("agent_assign", app.pk), {"to_me": "1", "expected_lock_version": seen}
    )
    assert response.status_code == 409
    assert "Someone else changed this application a moment ago" in text(response)
    app.refresh_from_db()
    assert app.assigned_to == world.colleague
