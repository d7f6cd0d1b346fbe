"""The reads: each person sees their own applications, each agent their services' ones;
everyone else gets NotFound, whatever the door (id, code, file)."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from tests.procedures.world import NOW, draft_filled, move, pdf, submitted_application
from ville.audit.models import AuditEvent
from ville.core.errors import NotFound, RateLimited
from ville.procedures import selectors, services
from ville.procedures.models import Application

pytestmark = pytest.mark.django_db


def viewed(application: Application) -> int:
    return AuditEvent.objects.filter(
        action="application_viewed", target_id=str(application.pk)
    ).count()


# --- one application -----------------------------------------------------------------------


def test_the_applicant_reads_their_application_unaudited(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    found = selectors.application_get_for(actor=world.citizen, application_id=application.pk)
    assert found.pk == application.pk
    assert viewed(application) == 0
    draft = draft_filled(world, citizen=world.other)
    assert selectors.application_get_for(actor=world.other, application_id=str(draft.pk)) == draft


def test_an_agent_of_the_service_reads_it_and_that_is_audited(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    selectors.application_get_for(actor=world.agent, application_id=application.pk, request=request)
    event = AuditEvent.objects.get(action="application_viewed")
    assert event.actor_id == world.agent.pk
    assert event.subject_id == world.citizen.pk
    assert event.ip == "192.0.2.7"
    assert event.data["tracking_code"] == application.tracking_code


@pytest.mark.parametrize("who", ["other", "roads_agent", "helper", "anonymous"])
def test_anyone_else_gets_not_found(world: SimpleNamespace, who: str) -> None:
    application = submitted_application(world)
    actor = AnonymousUser() if who == "anonymous" else getattr(world, who)
    attachment = application.attachments.get()
    with pytest.raises(NotFound):
        selectors.application_get_for(actor=actor, application_id=application.pk)
    with pytest.raises(NotFound):
        selectors.attachment_get_for(actor=actor, attachment_id=attachment.pk)
    with pytest.raises(NotFound):
        selectors.timeline_for(actor=actor, application=application)
    with pytest.raises(NotFound):
        selectors.messages_for(actor=actor, application=application)
    if who != "anonymous":
        assert list(selectors.applications_of(actor=actor)) == []
    assert viewed(application) == 0


def test_agents_do_not_see_drafts_except_the_one_they_file(world: SimpleNamespace) -> None:
    draft = draft_filled(world)
    with pytest.raises(NotFound):
        selectors.application_get_for(actor=world.agent, application_id=draft.pk)
    counter = services.application_start(
        actor=world.agent,
        procedure_slug="test-canteen",
        beneficiary_id=world.other_child.pk,
        channel="phone",
        on_behalf_of=world.other,
    )
    assert selectors.application_get_for(actor=world.agent, application_id=counter.pk) == counter
    with pytest.raises(NotFound):
        selectors.application_get_for(actor=world.colleague, application_id=counter.pk)


@pytest.mark.parametrize("bad", [uuid.uuid4(), "1", "'; DROP TABLE x; --", "", None])
def test_unknown_and_malformed_ids(world: SimpleNamespace, bad: Any) -> None:
    with pytest.raises(NotFound):
        selectors.application_get_for(actor=world.citizen, application_id=bad)
    with pytest.raises(NotFound):
        selectors.attachment_get_for(actor=world.citizen, attachment_id=bad)


def test_files_and_their_downloads(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    attachment = application.attachments.get()
    assert selectors.attachment_get_for(actor=world.citizen, attachment_id=attachment.pk) == (
        attachment
    )
    assert not AuditEvent.objects.filter(action="attachment_downloaded").exists()
    selectors.attachment_get_for(actor=world.agent, attachment_id=str(attachment.pk))
    event = AuditEvent.objects.get(action="attachment_downloaded")
    assert (event.actor_id, event.subject_id) == (world.agent.pk, world.citizen.pk)


def test_the_citizen_timeline_hides_back_office_events(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    services.application_assign(
        actor=world.agent,
        application_id=application.pk,
        assignee_id=world.agent.pk,
        expected_lock_version=application.lock_version,
    )
    move(application, world.agent, "start_review")
    citizen_view = [
        e.kind for e in selectors.timeline_for(actor=world.citizen, application=application)
    ]
    agent_view = [
        e.kind for e in selectors.timeline_for(actor=world.agent, application=application)
    ]
    assert citizen_view == ["created", "submitted", "transition"]
    assert agent_view == ["created", "submitted", "assigned", "transition"]


def test_messages_for(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        services.message_post(actor=world.agent, application_id=application.pk, body="Question")
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        services.message_post(actor=world.citizen, application_id=application.pk, body="Answer")
    bodies = [m.body for m in selectors.messages_for(actor=world.citizen, application=application)]
    assert bodies == ["Question", "Answer"]


# --- my applications -----------------------------------------------------------------------


def test_applications_of_lists_own_ones_and_searches(world: SimpleNamespace) -> None:
    first = submitted_application(world)
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        draft = services.application_start(
            actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
        )
    theirs = submitted_application(world, citizen=world.other)

    page = selectors.applications_of(actor=world.citizen)
    assert [a.pk for a in page] == [draft.pk, first.pk]
    assert theirs.pk not in [a.pk for a in page]

    code = first.tracking_code
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    assert [a.pk for a in selectors.applications_of(actor=world.citizen, query=typed)] == [first.pk]
    assert list(selectors.applications_of(actor=world.other, query=code)) == []
    by_title = selectors.applications_of(actor=world.citizen, query="canteen")
    assert len(by_title) == 2
    assert len(selectors.applications_of(actor=world.citizen, query="CANTINE")) == 2
    assert len(selectors.applications_of(actor=world.citizen, query="léo")) == 2
    assert list(selectors.applications_of(actor=world.citizen, query="Zoé")) == []
    drafts = selectors.applications_of(actor=world.citizen, state="draft")
    assert [a.pk for a in drafts] == [draft.pk]


def test_applications_of_pages(world: SimpleNamespace) -> None:
    for index in range(3):
        with time_machine.travel(NOW + dt.timedelta(minutes=index), tick=False):
            Application.objects.create(
                procedure=world.procedure,
                version=world.procedure.current_version,
                service=world.education,
                citizen=world.citizen,
            )
    page = selectors.applications_of(actor=world.citizen, per_page=2)
    assert (len(page.object_list), page.paginator.count, page.has_next()) == (2, 3, True)
    assert len(selectors.applications_of(actor=world.citizen, per_page=2, page=2)) == 1
    # A page past the end or a garbage page number gives a real page, not an error.
    assert len(selectors.applications_of(actor=world.citizen, per_page=2, page="x")) == 2
    assert len(selectors.applications_of(actor=world.citizen, per_page=2, page=99)) == 1


def test_applications_of_needs_someone(world: SimpleNamespace) -> None:
    with pytest.raises(NotFound):
        selectors.applications_of(actor=AnonymousUser())


# --- finding by code and e-mail --------------------------------------------------------------


def test_find_by_code_and_email(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    code = application.tracking_code
    email = world.citizen.email
    found = selectors.application_find_by_code(
        tracking_code=f" {code[:4].lower()} {code[4:]} ", email=f"  {email.upper()} "
    )
    assert found.pk == application.pk


@pytest.mark.parametrize("case", ["wrong_email", "other_email", "wrong_code", "bad_code", "empty"])
def test_find_by_code_says_nothing_about_what_did_not_match(
    world: SimpleNamespace, case: str
) -> None:
    application = submitted_application(world)
    submitted_application(world, citizen=world.other)
    code, email = application.tracking_code, world.citizen.email
    code, email = {
        "wrong_email": (code, "someone@example.org"),
        "other_email": (code, world.other.email),
        "wrong_code": ("ACDEFGHJ" if code != "ACDEFGHJ" else "KMNPQRTU", email),
        "bad_code": ("0000-0000", email),
        "empty": ("", ""),
    }[case]
    with pytest.raises(NotFound) as caught:
        selectors.application_find_by_code(tracking_code=code, email=email)
    assert caught.value.as_dict() == NotFound().as_dict()


def test_find_by_code_is_rate_limited_per_address(world: SimpleNamespace, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, selectors.LOOKUP_SCOPE: (3, 3600)}
    application = submitted_application(world)
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4")
    for _attempt in range(3):
        with pytest.raises(NotFound):
            selectors.application_find_by_code(
                tracking_code="ACDEFGHJ", email="guess@example.org", request=request
            )
    with pytest.raises(RateLimited):
        selectors.application_find_by_code(
            tracking_code=application.tracking_code, email=world.citizen.email, request=request
        )
    # Another address is not affected.
    elsewhere = RequestFactory().get("/", REMOTE_ADDR="198.51.100.5")
    assert (
        selectors.application_find_by_code(
            tracking_code=application.tracking_code, email=world.citizen.email, request=elsewhere
        )
        == application
    )


# --- the agents' queue -----------------------------------------------------------------------


@pytest.fixture
def queue(world: SimpleNamespace) -> SimpleNamespace:
    """Four submitted applications a day apart, one in another service, one draft."""
    apps = []
    for day, citizen in enumerate([world.citizen, world.other, world.citizen]):
        with time_machine.travel(NOW + dt.timedelta(days=day), tick=False):
            apps.append(submitted_application(world, citizen=citizen))
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        roads = services.application_start(
            actor=world.citizen, procedure_slug="test-roads", beneficiary_id=world.child.pk
        )
        services.application_save_step(
            actor=world.citizen,
            application_id=roads.pk,
            step_id="child",
            data={"child_first_name": "Léo", "has_allergy": "no"},
            lang="en",
        )
        services.application_save_step(
            actor=world.citizen,
            application_id=roads.pk,
            step_id="documents",
            data={"diet": "standard"},
            files={"proof_of_address": pdf()},
            lang="en",
        )
        roads = services.application_submit(
            actor=world.citizen, application_id=roads.pk, submission_key=uuid.uuid4(), lang="en"
        )
    draft = services.application_start(
        actor=world.other, procedure_slug="test-canteen", beneficiary_id=world.other_child.pk
    )
    return SimpleNamespace(apps=apps, roads=roads, draft=draft)


def pks(page: Any) -> list[Any]:
    return [application.pk for application in page]


def test_queue_holds_only_the_services_submitted_applications_by_due_date(
    world: SimpleNamespace, queue: SimpleNamespace, django_assert_max_num_queries: Any
) -> None:
    # The services (a literal list lets PostgreSQL use the queue index), a count, a page.
    with django_assert_max_num_queries(3):
        page = selectors.agent_queue(actor=world.agent)
        rows = [(a.tracking_code, a.citizen.last_name, a.procedure.slug) for a in page]
    assert pks(page) == [a.pk for a in queue.apps]
    assert len(rows) == 3
    assert pks(selectors.agent_queue(actor=world.roads_agent)) == [queue.roads.pk]
    assert pks(selectors.agent_queue(actor=world.citizen)) == []
    assert pks(selectors.agent_queue(actor=world.helper)) == []
    with pytest.raises(NotFound):
        selectors.agent_queue(actor=AnonymousUser())


def test_queue_filters(world: SimpleNamespace, queue: SimpleNamespace) -> None:
    first, second, _third = queue.apps
    move(first, world.agent, "start_review")
    services.application_assign(
        actor=world.agent,
        application_id=second.pk,
        assignee_id=world.agent.pk,
        expected_lock_version=Application.objects.get(pk=second.pk).lock_version,
    )
    assert pks(selectors.agent_queue(actor=world.agent, state="in_review")) == [first.pk]
    assert pks(selectors.agent_queue(actor=world.agent, assigned_to_me=True)) == [second.pk]
    assert pks(selectors.agent_queue(actor=world.colleague, assigned_to_me=True)) == []
    assert pks(selectors.agent_queue(actor=world.agent, procedure="test-roads")) == []
    assert len(selectors.agent_queue(actor=world.agent, procedure="test-canteen")) == 3
    # SLA of 15 days: on day 16 only the first is late; an hour later the second too.
    with time_machine.travel(NOW + dt.timedelta(days=16), tick=False):
        assert pks(selectors.agent_queue(actor=world.agent, overdue=True)) == [first.pk]
    with time_machine.travel(NOW + dt.timedelta(days=16, hours=1), tick=False):
        assert pks(selectors.agent_queue(actor=world.agent, overdue=True)) == [
            first.pk,
            second.pk,
        ]
        move(first, world.agent, "accept")
        assert pks(selectors.agent_queue(actor=world.agent, overdue=True)) == [second.pk]


def test_queue_search(world: SimpleNamespace, queue: SimpleNamespace) -> None:
    first, second, third = queue.apps
    code = second.tracking_code
    assert pks(selectors.agent_queue(actor=world.agent, query=code.lower())) == [second.pk]
    assert pks(selectors.agent_queue(actor=world.agent, query="durand")) == [second.pk]
    assert pks(selectors.agent_queue(actor=world.agent, query="Camille Martin")) == [
        first.pk,
        third.pk,
    ]
    assert pks(selectors.agent_queue(actor=world.agent, query="zoé")) == [second.pk]
    # Text inside the answers (the menu chosen).
    assert len(selectors.agent_queue(actor=world.agent, query="vegetarian")) == 3
    assert pks(selectors.agent_queue(actor=world.agent, query="nothing-like-this")) == []
    # Another service's application is not found by its code.
    assert pks(selectors.agent_queue(actor=world.agent, query=queue.roads.tracking_code)) == []


def test_queue_pages(world: SimpleNamespace, queue: SimpleNamespace) -> None:
    page = selectors.agent_queue(actor=world.agent, per_page=2)
    assert page.paginator.count == 3
    assert pks(page) == [a.pk for a in queue.apps[:2]]
    assert pks(selectors.agent_queue(actor=world.agent, per_page=2, page=2)) == [queue.apps[2].pk]


def test_queue_count_stops_at_the_cap(
    world: SimpleNamespace, queue: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 2)
    monkeypatch.setattr(selectors, "STATE_COUNT_CAP", 1)
    page = selectors.agent_queue(actor=world.agent, per_page=2)
    assert page.paginator.is_capped and page.paginator.count == 3
    assert pks(page) == [a.pk for a in queue.apps[:2]]
    assert not selectors.agent_queue(actor=world.roads_agent).paginator.is_capped
    # Three submitted applications in one state: counted up to the cap + 1, then "more than".
    counts = selectors.agent_queue_counts(actor=world.agent)
    assert counts == {queue.apps[0].state: 2}
