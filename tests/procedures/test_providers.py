"""The "My applications" card: drafts to finish, applications in progress, waiting for the
citizen first (and more urgent), recent decisions, permits ending soon; constant queries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.factories import agent_of
from ville.dashboard.registry import URGENCY_NONE, URGENCY_TODO
from ville.dashboard.selectors import dashboard_build
from ville.procedures import services
from ville.procedures.definitions import procedures_load
from ville.procedures.models import Application
from ville.procedures.providers import applications_card
from ville.territory.models import Service

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _world(catalogue_dir: Any, territory: Any) -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        procedures_load(directory=catalogue_dir)
        yield


def _canteen(family: SimpleNamespace, child: Any, *, submit: bool = True) -> Application:
    citizen = family.citizen
    draft = services.application_start(
        actor=citizen, procedure_slug="canteen-registration", beneficiary_id=child.pk
    )
    if not submit:
        return draft
    answers = {
        "child": {**draft.data, "start_date": "2026-03-09"},
        "meals": {"days": ["monday"], "diet": "standard", "has_allergy": False},
        "price": {},
        "confirm": {"accurate": True, "rules_read": True},
    }
    for step_id, data in answers.items():
        draft = services.application_save_step(
            actor=citizen, application_id=draft.pk, step_id=step_id, data=data, lang="en"
        )
    return services.application_submit(
        actor=citizen, application_id=draft.pk, submission_key=uuid.uuid4(), lang="en"
    )


def _move(application: Application, actor: Any, transition: str, comment: str = "") -> None:
    application.refresh_from_db()
    services.application_transition(
        actor=actor,
        application_id=application.pk,
        transition=transition,
        comment=comment,
        expected_lock_version=application.lock_version,
    )


def _card(family: SimpleNamespace) -> Any:
    return applications_card(user=family.citizen, request=None)


def test_nothing_filed_is_an_honest_empty_card(family: SimpleNamespace) -> None:
    card = _card(family)

    assert card.status == "empty" and card.items == []
    assert card.empty_message == "You have no application in progress."
    assert card.urgency == URGENCY_NONE


def test_a_draft_to_finish_and_one_in_progress(family: SimpleNamespace) -> None:
    _canteen(family, family.ines, submit=False)
    submitted = _canteen(family, family.leo)

    card = _card(family)

    assert card.status == "ok"
    assert [item["status"] for item in card.items] == ["draft", "in_progress"]
    draft, progress = card.items
    assert draft["label"] == "School canteen registration — Inès Martin"
    assert (draft["status_label"], draft["tracking_code"]) == ("To finish", None)
    assert progress["tracking_code"] == submitted.tracking_code
    assert progress["state_label"] == "Received"
    assert progress["url"] == f"/en/mes-demandes/{submitted.pk}/"
    assert draft["url"].startswith(f"/en/mes-demandes/{draft['id']}/etape/")
    assert card.summary == "2 applications in progress."
    assert card.urgency == URGENCY_NONE


def test_waiting_for_the_citizen_comes_first_and_raises_urgency(
    family: SimpleNamespace,
) -> None:
    agent = agent_of(Service.objects.get(code="education"))
    _canteen(family, family.ines)
    waiting = _canteen(family, family.leo)
    _move(waiting, agent, "request_info", "Please send the CAF certificate.")

    card = _card(family)

    assert card.items[0]["id"] == str(waiting.pk)
    assert card.items[0]["status"] == "waiting"
    assert card.items[0]["status_label"] == "Waiting for you"
    assert card.items[0]["state_label"] == "Information requested"
    assert card.summary == "1 application is waiting for you."
    assert card.urgency == URGENCY_TODO
    # Among all the cards, it now comes before those with nothing to do.
    kinds = [c.kind for c in dashboard_build(user=family.citizen)]
    assert kinds.index("applications") < kinds.index("household")


def test_a_decision_shows_for_a_week_then_leaves_the_card(family: SimpleNamespace) -> None:
    agent = agent_of(Service.objects.get(code="education"))
    accepted = _canteen(family, family.leo)
    _move(accepted, agent, "accept")

    card = _card(family)
    assert [(i["status"], i["state_label"]) for i in card.items] == [
        ("decided", "Registration confirmed")
    ]
    assert card.urgency == URGENCY_TODO

    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        assert _card(family).status == "empty"


def test_a_permit_ending_within_a_month_is_shown(family: SimpleNamespace) -> None:
    accepted = _canteen(family, family.leo)
    Application.objects.filter(pk=accepted.pk).update(
        state="accepted",
        decided_at=NOW - dt.timedelta(days=300),
        valid_until=(NOW + dt.timedelta(days=20)).date(),
    )

    card = _card(family)

    assert [i["status"] for i in card.items] == ["expiring"]
    assert card.items[0]["status_label"] == "Ends on March 22, 2026"
    assert card.urgency == URGENCY_TODO


def test_another_persons_applications_never_show(family: SimpleNamespace) -> None:
    from tests.factories import HouseholdFactory, UserFactory

    _canteen(family, family.leo)
    other = UserFactory(household=HouseholdFactory())

    assert applications_card(user=other, request=None).status == "empty"


def test_the_card_costs_the_same_queries_for_one_or_many(family: SimpleNamespace) -> None:
    _canteen(family, family.leo)
    with CaptureQueriesContext(connection) as one:
        _card(family)
    _canteen(family, family.ines)
    _canteen(family, family.ines, submit=False)
    with CaptureQueriesContext(connection) as three:
        card = _card(family)
    assert len(card.items) == 3
    assert len(three) == len(one) == 1


def test_the_page_renders_the_card_with_text_labels(family: SimpleNamespace) -> None:
    agent = agent_of(Service.objects.get(code="education"))
    waiting = _canteen(family, family.leo)
    _move(waiting, agent, "request_info", "Please send the CAF certificate.")
    client = Client()
    client.force_login(family.citizen)

    html = client.get("/en/espace/").content.decode()

    assert 'id="card-applications"' in html
    assert "Waiting for you" in html and waiting.tracking_code in html
    assert "School canteen registration — Léo Martin" in html
