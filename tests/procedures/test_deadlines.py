"""Silence vaut accord: past its deadline, an undecided application is decided by the
outcome its workflow gives to silence — not a second earlier, once, and audited."""

from __future__ import annotations

import copy
import datetime as dt
import io
import uuid
from types import SimpleNamespace

import pytest
import time_machine
from django.core.management import CommandError, call_command

from tests.factories import ProcedureFactory, procedure_definition
from tests.procedures.world import NOW, move, pdf, submitted_application
from ville.audit.models import AuditEvent
from ville.procedures import services, tasks
from ville.procedures.definitions import definition_checksum
from ville.procedures.models import Application, OutboxEvent, WebhookEndpoint
from ville.procedures.services import decisions

pytestmark = pytest.mark.django_db

DEADLINE = NOW + dt.timedelta(days=60)


def test_not_a_second_before_the_deadline(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    assert application.silence_due_at == DEADLINE
    decided = services.applications_apply_silence(now=DEADLINE - dt.timedelta(seconds=1))
    assert decided == 0
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.state, fresh.decided_at) == ("submitted", None)
    assert not fresh.events.filter(kind="auto_decided").exists()


def test_accepted_by_silence_after_the_deadline_once(world: SimpleNamespace) -> None:
    WebhookEndpoint.objects.create(service=world.education, url="http://127.0.0.1:9/", secret="s")
    application = submitted_application(world)
    move(application, world.agent, "start_review")  # an open state: silence still runs
    later = DEADLINE + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        assert services.applications_apply_silence() == 1
    fresh = Application.objects.get(pk=application.pk)
    assert fresh.state == "accepted"
    assert fresh.decided_at == later
    assert fresh.valid_until == dt.date(2026, 5, 1) + dt.timedelta(days=365)
    assert (fresh.silence_due_at, fresh.sla_due_at) == (None, None)
    event = fresh.events.get(kind="auto_decided")
    assert (event.actor, event.actor_role) == (None, "system")
    assert (event.from_state, event.to_state) == ("in_review", "accepted")
    assert event.visible_to_citizen is True
    audit = AuditEvent.objects.get(action="application_auto_decided")
    assert audit.subject_id == world.citizen.pk
    assert audit.actor_label == "system"
    assert audit.data["to_state"] == "accepted"
    last = OutboxEvent.objects.order_by("created_at").last()
    assert last.payload["data"]["transition"] == "silence"
    assert last.payload["application"]["state"] == "accepted"
    # Idempotent: a second run, or a later one, finds nothing.
    with time_machine.travel(later + dt.timedelta(days=1), tick=False):
        assert services.applications_apply_silence() == 0
    assert fresh.events.filter(kind="auto_decided").count() == 1
    assert AuditEvent.objects.filter(action="application_auto_decided").count() == 1


def test_waiting_for_the_citizen_stops_the_clock(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    move(application, world.agent, "request_info", "A recent bill, please.")
    assert services.applications_apply_silence(now=DEADLINE + dt.timedelta(days=5)) == 0
    with time_machine.travel(NOW + dt.timedelta(days=10), tick=False):
        answered = move(application, world.citizen, "provide_info")
    assert answered.silence_due_at == NOW + dt.timedelta(days=70)
    assert services.applications_apply_silence(now=NOW + dt.timedelta(days=69)) == 0
    assert services.applications_apply_silence(now=NOW + dt.timedelta(days=70)) == 1
    assert Application.objects.get(pk=application.pk).state == "accepted"


def test_decided_withdrawn_and_drafts_are_left_alone(world: SimpleNamespace) -> None:
    refused = submitted_application(world)
    move(refused, world.agent, "start_review")
    move(refused, world.agent, "refuse", "No.")
    withdrawn = submitted_application(world, citizen=world.other)
    services.application_withdraw(
        actor=world.other,
        application_id=withdrawn.pk,
        expected_lock_version=withdrawn.lock_version,
    )
    draft = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    assert services.applications_apply_silence(now=DEADLINE + dt.timedelta(days=400)) == 0
    states = dict(Application.objects.values_list("pk", "state"))
    assert states == {refused.pk: "refused", withdrawn.pk: "withdrawn", draft.pk: "draft"}


def test_a_workflow_without_silence_never_decides_alone(world: SimpleNamespace) -> None:
    definition = procedure_definition(slug="no-silence")
    del definition["workflow"]["deadlines"]["silence"]
    ProcedureFactory(slug="no-silence", service=world.education, definition=definition)
    application = services.application_start(
        actor=world.citizen, procedure_slug="no-silence", beneficiary_id=world.child.pk
    )
    services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no"},
        lang="en",
    )
    services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="documents",
        data={"diet": "standard"},
        files={"proof_of_address": pdf()},
        lang="en",
    )
    submitted = services.application_submit(
        actor=world.citizen, application_id=application.pk, submission_key=uuid.uuid4(), lang="en"
    )
    assert submitted.silence_due_at is None
    assert submitted.sla_due_at == NOW + dt.timedelta(days=15)
    assert services.applications_apply_silence(now=NOW + dt.timedelta(days=3650)) == 0


def test_a_silence_the_definition_no_longer_gives_is_dropped(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    version = application.version
    changed = copy.deepcopy(version.definition)
    del changed["workflow"]["deadlines"]["silence"]
    # Versions are immutable in practice; this simulates a repaired definition.
    type(version).objects.filter(pk=version.pk).update(
        definition=changed, checksum=definition_checksum(changed)
    )
    assert services.applications_apply_silence(now=DEADLINE) == 0
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.state, fresh.silence_due_at) == ("submitted", None)


def test_one_failure_does_not_stop_the_others(world: SimpleNamespace, monkeypatch) -> None:
    first = submitted_application(world)
    second = submitted_application(world, citizen=world.other)
    real = decisions.definition_of

    def flaky(version):
        if flaky.calls == 0:
            flaky.calls += 1
            raise RuntimeError("boom")
        return real(version)

    flaky.calls = 0
    monkeypatch.setattr(decisions, "definition_of", flaky)
    assert services.applications_apply_silence(now=DEADLINE) == 1
    states = sorted(
        Application.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)
    )
    assert states == ["accepted", "submitted"]
    # The next run picks up the one that failed.
    monkeypatch.setattr(decisions, "definition_of", real)
    assert services.applications_apply_silence(now=DEADLINE) == 1


def test_the_command_and_the_task(world: SimpleNamespace) -> None:
    submitted_application(world)
    out = io.StringIO()
    call_command("apply_deadlines", stdout=out)
    assert out.getvalue().startswith("0 ")
    with time_machine.travel(DEADLINE + dt.timedelta(minutes=1), tick=False):
        with pytest.raises(CommandError):
            call_command("apply_deadlines", "--now", "2099-01-01T00:00:00", stdout=out)
        with pytest.raises(CommandError):
            call_command("apply_deadlines", "--now", "yesterday", stdout=out)
        out = io.StringIO()
        call_command("apply_deadlines", "--now", DEADLINE.isoformat(), stdout=out)
        assert out.getvalue().startswith("1 ")
    second = submitted_application(world, citizen=world.other)
    with time_machine.travel(DEADLINE + dt.timedelta(days=1), tick=False):
        result = tasks.apply_deadlines.enqueue()
        assert result.return_value == 1
    assert Application.objects.get(pk=second.pk).state == "accepted"


def test_the_scheduler_runs_it_every_five_minutes() -> None:
    from ville.core.scheduler import registered_jobs

    [job] = [job for job in registered_jobs() if job.name == "procedures.apply_deadlines"]
    assert job.every_seconds == 300
    assert job.resolve() is services.applications_apply_silence
