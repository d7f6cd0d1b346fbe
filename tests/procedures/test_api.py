"""`/api/v1/procedures` and `/api/v1/applications` with the real definitions: the form with
prefill and provenance, filing in one request, every refusal, own-only reads, agents."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import HouseholdFactory, HouseholdMemberFactory, UserFactory, agent_of
from ville.procedures.definitions import procedures_load
from ville.procedures.models import Application
from ville.territory.models import Service

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
API = "/api/v1"
ERROR_KEYS = {"code", "message", "fields"}


@pytest.fixture(autouse=True)
def _world(settings: Any, tmp_path: Any, catalogue_dir: Any, territory: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    for cache in caches.all():
        cache.clear()
    with time_machine.travel(NOW, tick=False):
        procedures_load(directory=catalogue_dir)
        yield


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code, body
    return body["error"]


def _verified(client: Client, user: Any) -> Client:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def canteen_body(family: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    """What a client sends for Léo: only what the city did not know."""
    body = {
        "procedure": "canteen-registration",
        "beneficiary": str(family.leo.pk),
        "data": {
            "start_date": "2026-03-09",
            "days": ["monday", "thursday"],
            "diet": "no_pork",
            "has_allergy": False,
            "accurate": True,
            "rules_read": True,
        },
    }
    body.update(overrides)
    return body


def _filed(client: Client, family: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    client.force_login(family.citizen)
    response = _post(client, f"{API}/applications", canteen_body(family, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


# --- procedures ------------------------------------------------------------------------------


def test_the_list_is_public_and_in_the_language_asked(client: Client) -> None:
    response = client.get(f"{API}/procedures")

    assert response.status_code == 200
    results = {item["slug"]: item for item in response.json()["results"]}
    assert set(results) == {
        "canteen-registration",
        "creche-application",
        "residential-parking-permit",
    }
    canteen = results["canteen-registration"]
    assert canteen["title"] == "School canteen registration"
    assert canteen["service"] == "education" and canteen["version"] == 1
    assert set(canteen) == {"slug", "title", "summary", "service", "version", "url"}
    assert canteen["url"].endswith("/demarches/canteen-registration/")
    french = client.get(f"{API}/procedures?lang=fr").json()["results"]
    assert "Inscription à la restauration scolaire" in [item["title"] for item in french]


def test_the_form_carries_the_prefill_and_where_it_comes_from(
    client: Client, family: SimpleNamespace
) -> None:
    client.force_login(family.citizen)

    response = client.get(f"{API}/procedures/canteen-registration?beneficiary={family.leo.pk}")

    assert response.status_code == 200
    form = response.json()
    assert form["eligible"] is True and form["not_eligible_reasons"] == []
    assert [step["id"] for step in form["steps"]] == ["child", "meals", "price", "confirm"]
    fields = {f["name"]: f for step in form["steps"] for f in step["fields"]}
    assert fields["child_first_name"]["prefill"] == {
        "value": "Léo",
        "source": "beneficiary.first_name",
        "label": "From your household",
        "verified": False,
    }
    assert fields["school"]["prefill"]["value"] == "elementaire-jean-jaures"
    assert fields["child_birth_date"]["prefill"]["value"] == "2017-09-20"
    assert fields["start_date"]["prefill"] is None
    assert fields["days"]["type"] == "multiple_choice"
    assert {"value": "monday", "label": "Monday"} in fields["days"]["choices"]
    assert fields["allergy_details"]["when"] == {
        "path": "data.has_allergy",
        "op": "eq",
        "value": True,
    }
    assert fields["accurate"]["required"] is True
    beneficiary = form["beneficiary"]
    assert beneficiary["relation"] == "child" and beneficiary["selected"] == str(family.leo.pk)
    assert {option["label"] for option in beneficiary["options"]} == {"Léo Martin", "Inès Martin"}
    assert {d["id"] for d in form["documents"]} == {"family_quotient_certificate", "pai"}


def test_the_form_without_a_beneficiary_or_anonymous_has_no_prefill(
    client: Client, family: SimpleNamespace
) -> None:
    anonymous = client.get(f"{API}/procedures/canteen-registration").json()
    assert anonymous["eligible"] is None
    assert all(f["prefill"] is None for step in anonymous["steps"] for f in step["fields"])
    assert anonymous["beneficiary"]["options"] == []

    client.force_login(family.citizen)
    own = client.get(f"{API}/procedures/residential-parking-permit").json()
    fields = {f["name"]: f for step in own["steps"] for f in step["fields"]}
    assert own["eligible"] is True
    assert fields["first_name"]["prefill"]["source"] == "profile.first_name"
    assert fields["address"]["prefill"]["value"] == family.address.pk
    # A child's procedure before the child is chosen: nobody can say yet.
    assert client.get(f"{API}/procedures/canteen-registration").json()["eligible"] is None


def test_the_form_says_why_someone_is_not_eligible(client: Client, family: SimpleNamespace) -> None:
    unschooled = HouseholdMemberFactory(
        household=family.household, first_name="Noé", birth_date=dt.date(2021, 1, 5), school=None
    )
    client.force_login(family.citizen)

    form = client.get(f"{API}/procedures/canteen-registration?beneficiary={unschooled.pk}").json()

    assert form["eligible"] is False
    assert form["not_eligible_reasons"] == [
        'The child must attend a Villeurbanne state school. Add their school in "My '
        'household"; if they are not enrolled at a school yet, do the school enrolment first.'
    ]


def test_unknown_procedure_and_someone_elses_child_are_404(
    client: Client, family: SimpleNamespace
) -> None:
    _error(client.get(f"{API}/procedures/no-such-thing"), 404, "not_found")
    stranger = HouseholdMemberFactory(household=HouseholdFactory())
    client.force_login(family.citizen)
    url = f"{API}/procedures/canteen-registration?beneficiary="
    _error(client.get(f"{url}{stranger.pk}"), 404, "not_found")
    _error(client.get(f"{url}not-a-uuid"), 404, "not_found")


# --- filing ----------------------------------------------------------------------------------


def test_camille_files_the_canteen_typing_only_what_the_city_did_not_know(
    client: Client, family: SimpleNamespace
) -> None:
    created = _filed(client, family)

    assert created["status"] == "submitted"
    assert len(created["tracking_code"]) == 8
    application = Application.objects.get(pk=created["id"])
    assert application.citizen == family.citizen and application.beneficiary == family.leo
    assert application.data["child_first_name"] == "Léo"
    assert application.data["school"] == "elementaire-jean-jaures"
    assert application.data["days"] == ["monday", "thursday"]
    assert application.provenance["child_first_name"] == {
        "source": "beneficiary.first_name",
        "value": "Léo",
        "corrected": False,
    }
    assert application.submission_key is not None
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds == ["created", "submitted"]


def test_a_replayed_submission_returns_the_same_application(
    client: Client, family: SimpleNamespace
) -> None:
    key = str(uuid.uuid4())
    first = _filed(client, family, submission_key=key)

    again = _post(client, f"{API}/applications", canteen_body(family, submission_key=key))

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["tracking_code"] == first["tracking_code"]
    assert Application.objects.count() == 1
    # Someone else replaying that key gets nothing of it.
    other = UserFactory(household=HouseholdFactory())
    client.force_login(other)
    body = canteen_body(family, submission_key=key)
    error = _error(_post(client, f"{API}/applications", body), 422, "validation_failed")
    assert "submission_key" in error["fields"]
    assert Application.objects.count() == 1


def test_a_correction_is_kept_and_marked(client: Client, family: SimpleNamespace) -> None:
    body = canteen_body(family)
    body["data"]["child_first_name"] = "Léopold"

    created = _filed(client, family, data=body["data"])

    application = Application.objects.get(pk=created["id"])
    assert application.data["child_first_name"] == "Léopold"
    assert application.provenance["child_first_name"]["corrected"] is True


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"days": "monday"}, "meals.days"),
        ({"days": ["sunday"]}, "meals.days"),
        ({"has_allergy": "maybe"}, "meals.has_allergy"),
        ({"start_date": "yesterday"}, "child.start_date"),
        ({"start_date": "2025-01-01"}, "child.start_date"),
        ({"diet": 3}, "meals.diet"),
        ({"accurate": False}, "confirm.accurate"),
        ({"has_allergy": True}, "meals.allergy_details"),
        ({"has_allergy": True, "allergy_details": "x" * 10_240}, "meals.allergy_details"),
        ({"child_first_name": ""}, "child.child_first_name"),
        ({"family_quotient": 500}, "price.quotient_certificate"),
        ({"family_quotient": 500, "quotient_certificate": "x.pdf"}, "price.quotient_certificate"),
        ({"not_a_field": 1}, "not_a_field"),
    ],
)
def test_bad_answers_are_refused_by_field_and_nothing_is_kept(
    client: Client, family: SimpleNamespace, changes: dict[str, Any], key: str
) -> None:
    body = canteen_body(family)
    body["data"].update(changes)
    client.force_login(family.citizen)

    error = _error(_post(client, f"{API}/applications", body), 422, "validation_failed")

    assert key in error["fields"], error
    assert all(isinstance(m, str) and m for m in error["fields"][key])
    assert not Application.objects.exists()


def test_not_eligible_is_explained_and_leaves_no_draft(
    client: Client, family: SimpleNamespace
) -> None:
    unschooled = HouseholdMemberFactory(
        household=family.household, first_name="Noé", birth_date=dt.date(2021, 1, 5), school=None
    )
    client.force_login(family.citizen)

    response = _post(
        client, f"{API}/applications", canteen_body(family, beneficiary=str(unschooled.pk))
    )

    error = _error(response, 422, "not_eligible")
    assert "Villeurbanne state school" in error["fields"]["eligibility"][0]
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"procedure": "no-such-procedure"}, 404, "not_found"),
        ({"version": 7}, 422, "version_invalid"),
        ({"beneficiary": "stranger"}, 422, "validation_failed"),
        ({"beneficiary": "partner"}, 422, "validation_failed"),
        ({"beneficiary": "not-a-uuid"}, 422, "validation_failed"),
        ({"beneficiary": None}, 422, "validation_failed"),
        ({"data": ["not", "a", "dict"]}, 422, "validation_failed"),
        ({"submission_key": "not-a-uuid"}, 422, "validation_failed"),
        ({"procedure": "x" * 10_240}, 422, "validation_failed"),
    ],
)
def test_forged_requests_are_refused_and_leave_nothing(
    client: Client,
    family: SimpleNamespace,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    stranger = HouseholdMemberFactory(household=HouseholdFactory())
    named = {"stranger": str(stranger.pk), "partner": str(family.partner.pk)}
    if overrides.get("beneficiary") in named:
        overrides = {"beneficiary": named[overrides["beneficiary"]]}
    client.force_login(family.citizen)

    response = _post(client, f"{API}/applications", canteen_body(family, **overrides))

    _error(response, status, code)
    assert not Application.objects.exists()


def test_nul_characters_are_refused(client: Client, family: SimpleNamespace) -> None:
    body = canteen_body(family)
    body["data"]["child_first_name"] = "Lé\x00o"
    client.force_login(family.citizen)

    response = _post(client, f"{API}/applications", body)
    # The root parser refuses the body before any endpoint runs (core/api.py).
    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) == ERROR_KEYS
    assert not Application.objects.exists()
    # In a query string too: never a 500.
    assert client.get(f"{API}/applications?q=a%00b&state=x%00").status_code == 200


def test_anonymous_cannot_file_and_writes_need_the_csrf_token(
    client: Client, family: SimpleNamespace
) -> None:
    _error(_post(client, f"{API}/applications", canteen_body(family)), 401, "not_authenticated")

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(family.citizen)
    response = _post(strict, f"{API}/applications", canteen_body(family))
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_an_existing_draft_is_completed_not_duplicated(
    client: Client, family: SimpleNamespace
) -> None:
    from ville.procedures.services import application_start

    draft = application_start(
        actor=family.citizen, procedure_slug="canteen-registration", beneficiary_id=family.leo.pk
    )

    created = _filed(client, family)

    assert created["id"] == str(draft.pk)
    assert Application.objects.count() == 1


# --- reading ---------------------------------------------------------------------------------


def test_my_applications_list_search_and_pages(client: Client, family: SimpleNamespace) -> None:
    created = _filed(client, family)
    _filed(client, family, beneficiary=str(family.ines.pk))

    listed = client.get(f"{API}/applications").json()

    assert listed["count"] == 2 and listed["page"] == 1 and listed["pages"] == 1
    item = next(i for i in listed["results"] if i["id"] == created["id"])
    assert item["tracking_code"] == created["tracking_code"]
    assert item["procedure"] == "canteen-registration"
    assert item["title"] == "School canteen registration"
    assert (item["state"], item["state_label"]) == ("submitted", "Received")
    assert item["beneficiary"] == "Léo Martin"
    found = client.get(f"{API}/applications?q={created['tracking_code']}").json()
    assert [i["id"] for i in found["results"]] == [created["id"]]
    assert client.get(f"{API}/applications?q=Inès").json()["count"] == 1
    assert client.get(f"{API}/applications?state=accepted").json()["count"] == 0
    assert client.get(f"{API}/applications?page=99").json()["page"] == 1
    _error(client.get(f"{API}/applications?page=0"), 422, "validation_failed")
    _error(client.get(f"{API}/applications?page=abc"), 422, "validation_failed")


def test_the_list_costs_the_same_queries_for_one_or_many(
    client: Client, family: SimpleNamespace
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _filed(client, family)
    with CaptureQueriesContext(connection) as one:
        client.get(f"{API}/applications")
    _filed(client, family, beneficiary=str(family.ines.pk))
    with CaptureQueriesContext(connection) as two:
        client.get(f"{API}/applications")
    assert len(two) == len(one)


def test_the_detail_has_the_timeline_and_the_citizens_actions(
    client: Client, family: SimpleNamespace
) -> None:
    created = _filed(client, family)

    detail = client.get(f"{API}/applications/{created['id']}").json()

    assert detail["role"] == "citizen"
    assert detail["title"] == "School canteen registration"
    assert detail["state_text"] == "Your application has reached the Education service."
    assert [e["kind"] for e in detail["timeline"]] == ["created", "submitted"]
    assert detail["timeline"][1]["state_label"] == "Received"
    assert [a["transition"] for a in detail["actions"]] == ["withdraw"]
    assert detail["data"]["diet"] == "no_pork"
    assert detail["lock_version"] >= 1


def test_nobody_else_sees_an_application(client: Client, family: SimpleNamespace) -> None:
    created = _filed(client, family)
    url = f"{API}/applications/{created['id']}"

    other = UserFactory(household=HouseholdFactory())
    client.force_login(other)
    _error(client.get(url), 404, "not_found")
    _error(_post(client, f"{url}/messages", {"body": "hello"}), 404, "not_found")
    body = {"transition": "withdraw", "expected_lock_version": 0}
    _error(_post(client, f"{url}/transitions", body), 404, "not_found")
    assert client.get(f"{API}/applications").json()["count"] == 0
    _error(client.get(f"{API}/applications/not-a-uuid"), 404, "not_found")
    _error(client.get(f"{API}/applications/{uuid.uuid4()}"), 404, "not_found")
    client.logout()
    _error(client.get(url), 401, "not_authenticated")
    _error(client.get(f"{API}/applications"), 401, "not_authenticated")


def test_citizen_messages_and_withdrawal_with_optimistic_locking(
    client: Client, family: SimpleNamespace
) -> None:
    created = _filed(client, family)
    url = f"{API}/applications/{created['id']}"

    message = _post(client, f"{url}/messages", {"body": "Léo starts on Monday."})
    assert message.status_code == 201
    assert message.json()["author_role"] == "citizen"
    _error(_post(client, f"{url}/messages", {"body": "   "}), 422, "validation_failed")
    _error(_post(client, f"{url}/messages", {"body": "x" * 10_240}), 422, "validation_failed")

    lock = client.get(url).json()["lock_version"]
    stale = {"transition": "withdraw", "expected_lock_version": lock - 1}
    _error(_post(client, f"{url}/transitions", stale), 409, "conflict")
    agent_only = {"transition": "accept", "expected_lock_version": lock}
    _error(_post(client, f"{url}/transitions", agent_only), 409, "transition_not_allowed")
    done = _post(
        client, f"{url}/transitions", {"transition": "withdraw", "expected_lock_version": lock}
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["state_label"]) == ("withdrawn", "Withdrawn")
    assert done.json()["lock_version"] == lock + 1
    timeline = client.get(url).json()["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "submitted", "message", "withdrawn"]


# --- agents ----------------------------------------------------------------------------------


def test_agents_see_only_their_services_queue(client: Client, family: SimpleNamespace) -> None:
    created = _filed(client, family)
    schools = agent_of(Service.objects.get(code="education"), email="ecoles@example.org")
    creches = agent_of(Service.objects.get(code="creche"), email="creches@example.org")

    queue = (
        _verified(Client(HTTP_ACCEPT_LANGUAGE="en"), schools)
        .get(f"{API}/applications/queue")
        .json()
    )
    assert [item["id"] for item in queue["results"]] == [created["id"]]
    item = queue["results"][0]
    assert item["citizen"] == "Camille Martin" and item["beneficiary"] == "Léo Martin"
    assert item["state_label"] == "Received" and item["overdue"] is False
    assert queue["count"] == 1

    other = _verified(Client(HTTP_ACCEPT_LANGUAGE="en"), creches)
    assert other.get(f"{API}/applications/queue").json()["count"] == 0
    _error(other.get(f"{API}/applications/{created['id']}"), 404, "not_found")
    body = {"transition": "start_review", "expected_lock_version": 1}
    url = f"{API}/applications/{created['id']}/agent-transitions"
    _error(_post(other, url, body), 404, "not_found")
    # A citizen has no queue; the applicant cannot act as an agent.
    client.force_login(family.citizen)
    _error(client.get(f"{API}/applications/queue"), 403, "permission_denied")
    _error(_post(client, url, body), 404, "not_found")


def test_queue_filters_and_overdue(client: Client, family: SimpleNamespace) -> None:
    created = _filed(client, family)
    agent = _verified(
        Client(HTTP_ACCEPT_LANGUAGE="en"), agent_of(Service.objects.get(code="education"))
    )

    assert agent.get(f"{API}/applications/queue?overdue=true").json()["count"] == 0
    Application.objects.filter(pk=created["id"]).update(sla_due_at=NOW - dt.timedelta(hours=1))
    overdue = agent.get(f"{API}/applications/queue?overdue=true").json()
    assert [i["id"] for i in overdue["results"]] == [created["id"]]
    assert overdue["results"][0]["overdue"] is True
    assert agent.get(f"{API}/applications/queue?state=in_review").json()["count"] == 0
    assert (
        agent.get(f"{API}/applications/queue?procedure=canteen-registration").json()["count"] == 1
    )
    assert agent.get(f"{API}/applications/queue?q=Camille").json()["count"] == 1
    assert agent.get(f"{API}/applications/queue?assigned_to_me=true").json()["count"] == 0


def test_agent_moves_an_application_and_the_citizen_sees_it(
    client: Client, family: SimpleNamespace
) -> None:
    created = _filed(client, family)
    agent = _verified(
        Client(HTTP_ACCEPT_LANGUAGE="en"), agent_of(Service.objects.get(code="education"))
    )
    url = f"{API}/applications/{created['id']}"

    detail = agent.get(url).json()
    assert detail["role"] == "agent"
    assert {a["transition"] for a in detail["actions"]} == {
        "start_review",
        "request_info",
        "accept",
    }
    lock = detail["lock_version"]
    ask = {"transition": "request_info", "comment": "", "expected_lock_version": lock}
    _error(_post(agent, f"{url}/agent-transitions", ask), 422, "validation_failed")
    ask["comment"] = "Please add your CAF certificate."
    moved = _post(agent, f"{url}/agent-transitions", ask)
    assert moved.status_code == 200 and moved.json()["status"] == "info_requested"
    # The other agent's click on the same version loses, with a clear conflict.
    _error(_post(agent, f"{url}/agent-transitions", ask), 409, "conflict")

    mine = client.get(url).json()
    assert mine["state_label"] == "Information requested"
    assert mine["timeline"][-1]["comment"] == "Please add your CAF certificate."
    assert [a["transition"] for a in mine["actions"]] == ["provide_info", "withdraw"]
    answer = {"transition": "provide_info", "expected_lock_version": mine["lock_version"]}
    assert _post(client, f"{url}/transitions", answer).json()["status"] == "in_review"


def test_an_agent_without_a_verified_session_is_stopped(family: SimpleNamespace) -> None:
    agent = agent_of(Service.objects.get(code="education"))
    TOTPDevice.objects.create(user=agent, name="phone", confirmed=True)
    unverified = Client()
    unverified.force_login(agent)

    _error(unverified.get(f"{API}/applications/queue"), 403, "mfa_required")


def test_the_openapi_schema_lists_every_endpoint(client: Client) -> None:
    schema = client.get(f"{API}/openapi.json").json()

    paths = schema["paths"]
    expected = {
        "/api/v1/procedures": {"get"},
        "/api/v1/procedures/{slug}": {"get"},
        "/api/v1/applications": {"get", "post"},
        "/api/v1/applications/queue": {"get"},
        "/api/v1/applications/{application_id}": {"get"},
        "/api/v1/applications/{application_id}/messages": {"post"},
        "/api/v1/applications/{application_id}/transitions": {"post"},
        "/api/v1/applications/{application_id}/agent-transitions": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    post = paths["/api/v1/applications"]["post"]
    assert {"200", "201", "404", "422"} <= set(post["responses"])
    assert "ApplicationIn" in json.dumps(post)
