"""The demo's applications: Camille's three (crèche in progress, a parking permit ending
within 30 days, last school year's canteen), the agents' queues, reloads and reset."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from ville.accounts.models import User
from ville.core.demo.services import demo_load
from ville.procedures.models import Application
from ville.procedures.providers import applications_card
from ville.procedures.selectors import agent_queue

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
FROZEN = dt.datetime(2026, 3, 15, 10, 0, tzinfo=PARIS)
CAMILLE = "camille.martin@example.org"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def loaded() -> Iterator[None]:
    with time_machine.travel(FROZEN, tick=False):
        demo_load()
        yield


def _camille_apps() -> dict[str, Application]:
    rows = Application.objects.filter(citizen__email=CAMILLE).select_related("procedure")
    return {row.procedure.slug: row for row in rows}


def test_camille_has_her_three_applications(loaded: None) -> None:
    today = timezone.localdate()
    apps = _camille_apps()

    assert set(apps) == {
        "creche-application",
        "residential-parking-permit",
        "canteen-registration",
    }
    creche = apps["creche-application"]
    assert creche.beneficiary_name == "Jade Martin"
    assert creche.state == "in_review" and creche.decided_at is None
    assert creche.tracking_code and creche.submitted_at < timezone.now()
    parking = apps["residential-parking-permit"]
    assert parking.state == "accepted"
    assert parking.valid_until is not None
    assert today < parking.valid_until <= today + dt.timedelta(days=30)
    assert 330 <= (timezone.now() - parking.decided_at).days <= 340
    canteen = apps["canteen-registration"]
    assert canteen.beneficiary_name == "Léo Martin" and canteen.state == "accepted"
    # Last school year (2024–2025 on 15 March 2026): filed at the end of August 2024.
    assert canteen.submitted_at.date() == dt.date(2024, 8, 25)
    assert canteen.data["start_date"] == "2024-09-02"
    # Each timeline runs forward in time, from the draft to the last decision.
    for application in apps.values():
        times = list(application.events.values_list("created_at", flat=True))
        assert times == sorted(times) and times[-1] <= timezone.now()
        kinds = list(application.events.values_list("kind", flat=True))
        assert kinds[:2] == ["created", "submitted"]

    card = applications_card(user=User.objects.get(email=CAMILLE), request=None)
    statuses = {item["id"]: item["status"] for item in card.items}
    assert statuses[str(creche.pk)] == "in_progress"
    assert statuses[str(parking.pk)] == "expiring"
    assert str(canteen.pk) not in statuses


def test_the_agents_queues_hold_a_realistic_mix(loaded: None) -> None:
    synthetic = Application.objects.filter(citizen__email__endswith="@demo.example.org")
    states = Counter(synthetic.values_list("state", flat=True))

    assert 35 <= synthetic.count() <= 45
    assert len(set(synthetic.values_list("procedure__slug", flat=True))) == 22
    assert states["submitted"] and states["in_review"] and states["info_requested"]
    assert states["accepted"] and states["refused"]
    assert not synthetic.filter(state="draft").exists()
    overdue = synthetic.filter(sla_due_at__lt=timezone.now(), decided_at__isnull=True)
    assert overdue.exists()
    # Nothing is past a "silence vaut accord" date: the scheduler would decide it at once.
    assert not Application.objects.filter(silence_due_at__lt=timezone.now()).exists()

    schools = User.objects.get(email="agent.ecoles@example.org")
    queue = agent_queue(actor=schools).object_list
    assert {a.service.code for a in queue} == {"education"}
    assert "canteen-registration" in {a.procedure.slug for a in queue}
    assert any(a.sla_due_at and a.sla_due_at < timezone.now() for a in queue)
    creche = User.objects.get(email="agent.creche@example.org")
    creche_queue = agent_queue(actor=creche).object_list
    assert "Jade Martin" in {a.beneficiary_name for a in creche_queue}
    voirie = User.objects.get(email="agent.voirie@example.org")
    assert "residential-parking-permit" in {
        a.procedure.slug for a in agent_queue(actor=voirie).object_list
    }


def test_reloading_creates_nothing_and_keeps_dates_current(loaded: None) -> None:
    first = Application.objects.count()
    demo_load()
    assert Application.objects.count() == first

    later = FROZEN + dt.timedelta(days=45)
    with time_machine.travel(later, tick=False):
        demo_load()
        today = timezone.localdate()
        assert Application.objects.count() == first
        parking = _camille_apps()["residential-parking-permit"]
        assert today < parking.valid_until <= today + dt.timedelta(days=30)
        assert not Application.objects.filter(silence_due_at__lt=timezone.now()).exists()
        creche = _camille_apps()["creche-application"]
        # Whole days (the clocks changed to summer time in between).
        assert round((timezone.now() - creche.submitted_at) / dt.timedelta(days=1)) == 18


def test_reset_starts_again_without_leftovers(loaded: None) -> None:
    first = Application.objects.count()
    old_ids = set(Application.objects.values_list("pk", flat=True))

    demo_load(reset=True)

    assert Application.objects.count() == first
    assert not Application.objects.filter(pk__in=old_ids).exists()
