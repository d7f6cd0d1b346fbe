"""The application services end to end: start (online and at the counter), save each step,
submit once, move through the workflow, message, verify documents, withdraw, assign."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests.factories import (
    agent_of,
    procedure_definition,
)
from tests.procedures.test_uploads import tiny_jpeg, tiny_pdf, tiny_png, windows_exe
from tests.procedures.world import (
    NOW,
    audit_actions,
    draft_filled,
    move,
    pdf,
    submitted_application,
)
from ville.audit.models import AuditEvent
from ville.core.errors import NotFound, PermissionDenied, ValidationFailed
from ville.procedures import services
from ville.procedures.definitions import definition_checksum, procedures_load
from ville.procedures.errors import (
    ApplicationClosed,
    Conflict,
    NotEligible,
    TransitionNotAllowed,
    VersionInvalid,
)
from ville.procedures.models import (
    Application,
    ApplicationEvent,
    Attachment,
    Message,
    OutboxEvent,
    ProcedureVersion,
    WebhookEndpoint,
)
from ville.procedures.tracking import ALPHABET
from ville.territory.models import Service
from ville.vault.models import KnownAttribute

pytestmark = pytest.mark.django_db


# --- start ---------------------------------------------------------------------------------


def test_start_prefills_from_what_the_city_knows(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    assert application.state == "draft"
    assert application.tracking_code is None
    assert application.citizen == world.citizen
    assert application.beneficiary == world.child
    assert application.beneficiary_name == "Léo Martin"
    assert application.channel == "online"
    assert application.filed_by is None
    assert application.data == {"child_first_name": "Léo"}
    assert application.provenance == {
        "child_first_name": {"source": "beneficiary.first_name", "value": "Léo", "corrected": False}
    }
    event = application.events.get()
    assert (event.kind, event.actor, event.actor_role) == ("created", world.citizen, "citizen")
    # Starting again resumes the same draft.
    again = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=str(world.child.pk)
    )
    assert again.pk == application.pk
    assert Application.objects.count() == 1


def test_start_explains_why_someone_is_not_eligible(world: SimpleNamespace) -> None:
    with pytest.raises(NotEligible) as caught:
        services.application_start(
            actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.baby.pk
        )
    assert caught.value.code == "not_eligible"
    assert caught.value.explanations == ["De 2 à 11 ans."]
    assert caught.value.as_dict()["error"]["fields"] == {"eligibility": ["De 2 à 11 ans."]}
    assert not Application.objects.exists()


@pytest.mark.parametrize("whose", ["other_child", "nobody", "garbage", "self"])
def test_start_needs_a_child_of_ones_own_household(world: SimpleNamespace, whose: str) -> None:
    beneficiary = {
        "other_child": world.other_child.pk,
        "nobody": None,
        "garbage": "not-a-uuid",
        "self": world.citizen.pk,
    }[whose]
    with pytest.raises(ValidationFailed) as caught:
        services.application_start(
            actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=beneficiary
        )
    assert list(caught.value.fields) == ["beneficiary"]
    assert not Application.objects.exists()


def test_start_an_unknown_or_inactive_procedure_is_not_found(world: SimpleNamespace) -> None:
    with pytest.raises(NotFound):
        services.application_start(actor=world.citizen, procedure_slug="nope")
    world.procedure.is_active = False
    world.procedure.save()
    with pytest.raises(NotFound):
        services.application_start(
            actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
        )


def test_a_citizen_cannot_claim_a_counter_channel(world: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        services.application_start(
            actor=world.citizen,
            procedure_slug="test-canteen",
            beneficiary_id=world.child.pk,
            channel="counter",
        )


def test_counter_mode_records_the_agent_and_the_channel(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.agent,
        procedure_slug="test-canteen",
        beneficiary_id=world.child.pk,
        channel="counter",
        on_behalf_of=world.citizen,
    )
    assert application.citizen == world.citizen
    assert application.filed_by == world.agent
    assert application.channel == "counter"
    assert application.events.get().actor_role == "agent"
    assert audit_actions(application) == ["application_started_for"]
    # The agent fills and submits it for the citizen.
    services.application_save_step(
        actor=world.agent,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no"},
        lang="fr",
    )
    services.application_save_step(
        actor=world.agent,
        application_id=application.pk,
        step_id="documents",
        data={"diet": "standard"},
        files={"proof_of_address": pdf()},
        lang="fr",
    )
    submitted = services.application_submit(
        actor=world.agent, application_id=application.pk, submission_key=uuid.uuid4(), lang="fr"
    )
    assert submitted.state == "submitted"
    assert submitted.events.get(kind="submitted").actor_role == "agent"
    # A colleague does not see someone else's draft; the citizen sees their own.
    other_draft = services.application_start(
        actor=world.agent,
        procedure_slug="test-canteen",
        beneficiary_id=world.child.pk,
        channel="phone",
        on_behalf_of=world.citizen,
    )
    with pytest.raises(NotFound):
        services.application_save_step(
            actor=world.colleague,
            application_id=other_draft.pk,
            step_id="child",
            data={},
            lang="fr",
        )


def test_counter_mode_needs_a_role_in_the_service_and_a_desk_channel(
    world: SimpleNamespace,
) -> None:
    with pytest.raises(PermissionDenied):
        services.application_start(
            actor=world.roads_agent,
            procedure_slug="test-canteen",
            beneficiary_id=world.child.pk,
            channel="counter",
            on_behalf_of=world.citizen,
        )
    with pytest.raises(ValidationFailed) as caught:
        services.application_start(
            actor=world.agent,
            procedure_slug="test-canteen",
            beneficiary_id=world.child.pk,
            channel="online",
            on_behalf_of=world.citizen,
        )
    assert "channel" in caught.value.fields


# --- saving steps --------------------------------------------------------------------------


def test_save_step_keeps_clean_answers_and_marks_corrections(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    saved = services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léonard", "has_allergy": "yes", "allergy_details": "Arachides"},
        lang="en",
        expected_lock_version=application.lock_version,
    )
    assert saved.step == 1
    assert saved.lock_version == application.lock_version + 1
    assert saved.data == {
        "child_first_name": "Léonard",
        "has_allergy": True,
        "allergy_details": "Arachides",
    }
    assert saved.provenance["child_first_name"]["corrected"] is True
    assert saved.provenance["child_first_name"]["value"] == "Léo"
    # Changing the answer back: no longer a correction; the hidden field loses its answer.
    saved = services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no", "allergy_details": "ignored"},
        lang="en",
    )
    assert saved.data == {"child_first_name": "Léo", "has_allergy": False}
    assert saved.provenance["child_first_name"]["corrected"] is False
    assert saved.step == 1


def test_save_step_refuses_bad_answers_and_changes_nothing(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    with pytest.raises(ValidationFailed) as caught:
        services.application_save_step(
            actor=world.citizen,
            application_id=application.pk,
            step_id="child",
            data={"child_first_name": "", "has_allergy": "yes"},
            lang="en",
        )
    assert set(caught.value.fields) == {"child_first_name", "allergy_details"}
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.data, fresh.step, fresh.lock_version) == (
        application.data,
        0,
        application.lock_version,
    )


def test_steps_cannot_be_skipped_or_invented(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    with pytest.raises(ValidationFailed) as caught:
        services.application_save_step(
            actor=world.citizen,
            application_id=application.pk,
            step_id="documents",
            data={"diet": "standard"},
            files={"proof_of_address": pdf()},
            lang="en",
        )
    assert list(caught.value.fields) == ["child"]
    with pytest.raises(ValidationFailed) as caught:
        services.application_save_step(
            actor=world.citizen,
            application_id=application.pk,
            step_id="payment",
            data={},
            lang="en",
        )
    assert list(caught.value.fields) == ["step"]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (windows_exe(), "setup.pdf", "PDF"),
        (b"", "empty.pdf", "empty"),
        (tiny_pdf() + b"0" * (11 * 1024 * 1024), "big.pdf", "10"),
    ],
)
def test_a_refused_file_leaves_the_draft_as_it_was(
    world: SimpleNamespace, content: bytes, name: str, reason: str, tmp_path: Any
) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no"},
        lang="en",
    )
    before = Application.objects.get(pk=application.pk)
    with pytest.raises(ValidationFailed) as caught:
        services.application_save_step(
            actor=world.citizen,
            application_id=application.pk,
            step_id="documents",
            data={"diet": "standard"},
            files={"proof_of_address": SimpleUploadedFile(name, content)},
            lang="en",
        )
    assert list(caught.value.fields) == ["proof_of_address"]
    assert reason in caught.value.fields["proof_of_address"][0]
    after = Application.objects.get(pk=application.pk)
    assert (after.data, after.step, after.lock_version) == (
        before.data,
        before.step,
        before.lock_version,
    )
    assert not Attachment.objects.exists()
    media = tmp_path / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.parametrize("maker", [tiny_pdf, tiny_png, tiny_jpeg])
def test_a_real_file_is_stored_with_what_its_bytes_say(world: SimpleNamespace, maker) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no"},
        lang="en",
    )
    content = maker()
    saved = services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="documents",
        data={"diet": "standard"},
        files={"proof_of_address": SimpleUploadedFile("../../etc/passwd.pdf", content)},
        lang="en",
    )
    attachment = Attachment.objects.get()
    assert saved.data["proof_of_address"] == str(attachment.pk)
    assert attachment.field_name == "proof_of_address"
    assert attachment.original_name == "passwd.pdf"
    assert attachment.content_type in {"application/pdf", "image/png", "image/jpeg"}
    assert attachment.uploaded_by == world.citizen
    assert attachment.file.name.startswith(f"applications/{application.pk}/")
    assert ".." not in attachment.file.name
    with attachment.file.open("rb") as stored:
        assert stored.read() == content
    # Saving the step again without a new file keeps the stored one.
    again = services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="documents",
        data={"diet": "vegetarian"},
        lang="en",
    )
    assert again.data["proof_of_address"] == str(attachment.pk)
    assert again.data["diet"] == "vegetarian"


def test_an_answer_that_breaks_eligibility_is_refused_when_given(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no"},
        lang="en",
    )
    with pytest.raises(NotEligible) as caught:
        services.application_save_step(
            actor=world.citizen,
            application_id=application.pk,
            step_id="documents",
            data={"diet": "no_meals"},
            files={"proof_of_address": pdf()},
            lang="en",
        )
    assert caught.value.explanations == ["Choose some meals."]
    assert not Attachment.objects.exists()
    assert Application.objects.get(pk=application.pk).step == 1


# --- submitting ----------------------------------------------------------------------------


def test_submit_gives_a_code_deadlines_an_event_an_outbox_row_and_an_audit_row(
    world: SimpleNamespace,
) -> None:
    WebhookEndpoint.objects.create(service=world.education, url="http://127.0.0.1:9/", secret="s")
    WebhookEndpoint.objects.create(service=world.roads, url="http://127.0.0.1:9/r", secret="s")
    draft = draft_filled(world)
    key = uuid.uuid4()
    application = services.application_submit(
        actor=world.citizen, application_id=draft.pk, submission_key=key, lang="en"
    )
    assert application.state == "submitted"
    assert len(application.tracking_code) == 8
    assert set(application.tracking_code) <= set(ALPHABET)
    assert application.submitted_at == NOW
    assert application.sla_due_at == NOW + dt.timedelta(days=15)
    assert application.silence_due_at == NOW + dt.timedelta(days=60)
    assert application.submission_key == key
    event = application.events.get(kind="submitted")
    assert (event.from_state, event.to_state, event.actor) == ("draft", "submitted", world.citizen)
    outbox = OutboxEvent.objects.get()
    assert outbox.endpoint.service == world.education
    assert outbox.event_type == "application.submitted"
    assert outbox.payload["application"]["tracking_code"] == application.tracking_code
    assert outbox.payload["data"]["from"] == "draft"
    assert outbox.payload["data"]["to"] == "submitted"
    assert outbox.payload["data"]["transition"] == "submit"
    # No answers of the citizen in the webhook body.
    assert "Léo" not in str(outbox.payload)
    assert audit_actions(application) == ["application_submitted"]
    stored = Application.objects.get(pk=draft.pk)
    assert stored.tracking_code == application.tracking_code


def test_a_replayed_submission_changes_nothing(world: SimpleNamespace) -> None:
    WebhookEndpoint.objects.create(service=world.education, url="http://127.0.0.1:9/", secret="s")
    draft = draft_filled(world)
    key = uuid.uuid4()
    first = services.application_submit(
        actor=world.citizen, application_id=draft.pk, submission_key=key, lang="en"
    )
    with time_machine.travel(NOW + dt.timedelta(minutes=3), tick=False):
        replay = services.application_submit(
            actor=world.citizen, application_id=draft.pk, submission_key=key, lang="en"
        )
    assert replay.pk == first.pk
    assert replay.tracking_code == first.tracking_code
    assert replay.submitted_at == NOW
    assert replay.lock_version == first.lock_version
    assert ApplicationEvent.objects.filter(kind="submitted").count() == 1
    assert OutboxEvent.objects.count() == 1
    assert audit_actions(first) == ["application_submitted"]
    # Another key on a submitted application is not a replay.
    with pytest.raises(ApplicationClosed):
        services.application_submit(
            actor=world.citizen, application_id=draft.pk, submission_key=uuid.uuid4(), lang="en"
        )
    # Someone else replaying the key learns nothing.
    with pytest.raises(NotFound):
        services.application_submit(
            actor=world.other, application_id=draft.pk, submission_key=key, lang="en"
        )


def test_a_key_used_for_another_application_is_refused(world: SimpleNamespace) -> None:
    first = submitted_application(world)
    second = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    with pytest.raises(ValidationFailed):
        services.application_submit(
            actor=world.citizen,
            application_id=second.pk,
            submission_key=first.submission_key,
            lang="en",
        )
    assert Application.objects.get(pk=second.pk).state == "draft"


def test_submit_names_the_missing_step(world: SimpleNamespace) -> None:
    application = services.application_start(
        actor=world.citizen, procedure_slug="test-canteen", beneficiary_id=world.child.pk
    )
    services.application_save_step(
        actor=world.citizen,
        application_id=application.pk,
        step_id="child",
        data={"child_first_name": "Léo", "has_allergy": "no"},
        lang="en",
    )
    with pytest.raises(ValidationFailed) as caught:
        services.application_submit(
            actor=world.citizen,
            application_id=application.pk,
            submission_key=uuid.uuid4(),
            lang="en",
        )
    assert list(caught.value.fields) == ["documents"]
    assert "Meals and proof" in caught.value.fields["documents"][0]
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.state, fresh.tracking_code, fresh.submission_key) == ("draft", None, None)
    assert not fresh.events.filter(kind="submitted").exists()


def test_submit_revalidates_forged_answers(world: SimpleNamespace) -> None:
    draft = draft_filled(world)
    # Written behind the services' back (a forged request, an old bug): caught at submission.
    Application.objects.filter(pk=draft.pk).update(
        data={**draft.data, "has_allergy": True, "diet": "caviar"}
    )
    with pytest.raises(ValidationFailed) as caught:
        services.application_submit(
            actor=world.citizen, application_id=draft.pk, submission_key=uuid.uuid4(), lang="en"
        )
    assert {"child", "documents", "allergy_details", "diet"} <= set(caught.value.fields)
    assert Application.objects.get(pk=draft.pk).state == "draft"


def test_submit_refuses_a_forged_version(world: SimpleNamespace) -> None:
    draft = draft_filled(world)
    foreign: ProcedureVersion = world.roads_procedure.current_version
    Application.objects.filter(pk=draft.pk).update(version=foreign)
    with pytest.raises(VersionInvalid) as caught:
        services.application_submit(
            actor=world.citizen, application_id=draft.pk, submission_key=uuid.uuid4(), lang="en"
        )
    assert caught.value.code == "version_invalid"
    assert Application.objects.get(pk=draft.pk).state == "draft"


def test_an_application_keeps_the_version_it_was_filed_under(world: SimpleNamespace) -> None:
    draft = draft_filled(world)
    changed = copy.deepcopy(procedure_definition())
    changed["steps"][0]["fields"].append(
        {"name": "nickname", "type": "text", "label": {"fr": "Surnom"}, "required": True}
    )
    newer = ProcedureVersion.objects.create(
        procedure=world.procedure,
        number=2,
        checksum=definition_checksum(changed),
        definition=changed,
    )
    world.procedure.current_version = newer
    world.procedure.save()
    application = services.application_submit(
        actor=world.citizen, application_id=draft.pk, submission_key=uuid.uuid4(), lang="en"
    )
    assert application.state == "submitted"
    assert application.version.number == 1


def test_a_submitted_application_cannot_be_edited(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    with pytest.raises(ApplicationClosed):
        services.application_save_step(
            actor=world.citizen,
            application_id=application.pk,
            step_id="child",
            data={"child_first_name": "Other", "has_allergy": "no"},
            lang="en",
        )


# --- the workflow --------------------------------------------------------------------------


def test_the_whole_lifecycle(world: SimpleNamespace) -> None:
    WebhookEndpoint.objects.create(service=world.education, url="http://127.0.0.1:9/", secret="s")
    application = submitted_application(world)
    move(application, world.agent, "start_review")
    with pytest.raises(ValidationFailed) as caught:
        move(application, world.agent, "request_info")
    assert list(caught.value.fields) == ["comment"]
    requested = move(application, world.agent, "request_info", "Please send a recent bill.")
    assert requested.state == "info_requested"
    # The clocks stop while the service waits for the citizen.
    assert (requested.sla_due_at, requested.silence_due_at) == (None, None)
    message = services.message_post(
        actor=world.citizen,
        application_id=application.pk,
        body="Here it is.",
        files=[pdf("bill.pdf")],
    )
    assert message.attachments.get().original_name == "bill.pdf"
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        provided = move(application, world.citizen, "provide_info")
        # ...and start again in full from the complete file.
        assert provided.sla_due_at == NOW + dt.timedelta(days=3 + 15)
        assert provided.silence_due_at == NOW + dt.timedelta(days=3 + 60)
    with time_machine.travel(NOW + dt.timedelta(days=5), tick=False):
        accepted = move(application, world.agent, "accept")
    assert accepted.state == "accepted"
    assert accepted.decided_at == NOW + dt.timedelta(days=5)
    assert accepted.valid_until == dt.date(2026, 3, 7) + dt.timedelta(days=365)
    assert (accepted.sla_due_at, accepted.silence_due_at) == (None, None)
    kinds = list(application.events.values_list("kind", "from_state", "to_state"))
    assert kinds == [
        ("created", "", "draft"),
        ("submitted", "draft", "submitted"),
        ("transition", "submitted", "in_review"),
        ("info_requested", "in_review", "info_requested"),
        ("message", "info_requested", "info_requested"),
        ("info_provided", "info_requested", "in_review"),
        ("transition", "in_review", "accepted"),
    ]
    assert application.events.get(kind="info_requested").comment == "Please send a recent bill."
    assert OutboxEvent.objects.count() == 5
    assert list(
        OutboxEvent.objects.order_by("created_at").values_list(
            "payload__data__transition", flat=True
        )
    ) == ["submit", "start_review", "request_info", "provide_info", "accept"]
    assert audit_actions(application).count("application_transition") == 4
    # A final state is final.
    with pytest.raises(TransitionNotAllowed):
        move(application, world.citizen, "withdraw")


def test_refusal_needs_a_comment_and_grants_nothing(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    move(application, world.agent, "start_review")
    refused = move(application, world.agent, "refuse", "Not a resident.")
    assert (refused.state, refused.valid_until) == ("refused", None)
    assert refused.decided_at == NOW


def test_roles_are_checked_by_the_table(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    with pytest.raises(TransitionNotAllowed):
        move(application, world.citizen, "start_review")  # an agent's move
    with pytest.raises(TransitionNotAllowed):
        move(application, world.agent, "withdraw")  # the citizen's move
    with pytest.raises(TransitionNotAllowed):
        move(application, world.agent, "accept")  # wrong state
    with pytest.raises(TransitionNotAllowed):
        move(application, world.agent, "teleport")  # unknown
    assert Application.objects.get(pk=application.pk).state == "submitted"
    # A supervisor may do what an agent does.
    assert move(application, world.supervisor, "start_review").state == "in_review"


@pytest.mark.parametrize("who", ["other", "roads_agent", "helper"])
def test_strangers_get_not_found_everywhere(world: SimpleNamespace, who: str) -> None:
    application = submitted_application(world)
    stranger = getattr(world, who)
    attachment = application.attachments.get()
    calls = [
        lambda: move(application, stranger, "start_review"),
        lambda: move(application, stranger, "withdraw"),
        lambda: services.application_withdraw(
            actor=stranger, application_id=application.pk, expected_lock_version=1
        ),
        lambda: services.application_assign(
            actor=stranger,
            application_id=application.pk,
            assignee_id=None,
            expected_lock_version=application.lock_version,
        ),
        lambda: services.message_post(actor=stranger, application_id=application.pk, body="Hi"),
        lambda: services.attachment_verify(actor=stranger, attachment_id=attachment.pk),
        lambda: services.application_save_step(
            actor=stranger, application_id=application.pk, step_id="child", data={}, lang="en"
        ),
        lambda: services.application_submit(
            actor=stranger,
            application_id=application.pk,
            submission_key=uuid.uuid4(),
            lang="en",
        ),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert Application.objects.get(pk=application.pk).state == "submitted"
    assert not Message.objects.exists()


def test_an_unknown_or_malformed_id_is_not_found(world: SimpleNamespace) -> None:
    for application_id in (uuid.uuid4(), "nope", "", None):
        with pytest.raises(NotFound):
            services.application_transition(
                actor=world.agent,
                application_id=application_id,  # type: ignore[arg-type]
                transition="start_review",
                expected_lock_version=0,
            )


def test_agents_do_not_act_on_drafts(world: SimpleNamespace) -> None:
    draft = draft_filled(world)
    with pytest.raises(NotFound):
        move(draft, world.agent, "start_review")
    with pytest.raises(NotFound):
        services.message_post(actor=world.agent, application_id=draft.pk, body="Hello")
    with pytest.raises(ApplicationClosed):
        move(draft, world.citizen, "withdraw")


def test_a_stale_version_is_a_conflict_and_changes_nothing(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    seen = application.lock_version
    move(application, world.agent, "start_review")
    with pytest.raises(Conflict) as caught:
        services.application_transition(
            actor=world.colleague,
            application_id=application.pk,
            transition="request_info",
            comment="Missing bill",
            expected_lock_version=seen,
        )
    assert caught.value.status == 409
    assert caught.value.code == "conflict"
    with translation.override("en"):
        assert "nothing you typed is lost" in caught.value.as_dict()["error"]["message"]
    assert Application.objects.get(pk=application.pk).state == "in_review"


def test_withdraw(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    withdrawn = services.application_withdraw(
        actor=world.citizen,
        application_id=application.pk,
        expected_lock_version=application.lock_version,
        comment="Moving away",
    )
    assert withdrawn.state == "withdrawn"
    assert withdrawn.decided_at == NOW
    event = withdrawn.events.get(kind="withdrawn")
    assert (event.actor_role, event.comment) == ("citizen", "Moving away")
    with pytest.raises(NotFound):
        services.application_withdraw(
            actor=world.agent,
            application_id=application.pk,
            expected_lock_version=withdrawn.lock_version,
        )


def test_assign(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    assigned = services.application_assign(
        actor=world.agent,
        application_id=application.pk,
        assignee_id=world.colleague.pk,
        expected_lock_version=application.lock_version,
    )
    assert assigned.assigned_to == world.colleague
    event = assigned.events.get(kind="assigned")
    assert event.visible_to_citizen is False
    assert "application_assigned" in audit_actions(application)
    with pytest.raises(ValidationFailed):
        services.application_assign(
            actor=world.agent,
            application_id=application.pk,
            assignee_id=world.roads_agent.pk,
            expected_lock_version=assigned.lock_version,
        )
    with pytest.raises(Conflict):
        services.application_assign(
            actor=world.agent,
            application_id=application.pk,
            assignee_id=None,
            expected_lock_version=application.lock_version - 1,
        )
    cleared = services.application_assign(
        actor=world.colleague,
        application_id=application.pk,
        assignee_id=None,
        expected_lock_version=assigned.lock_version,
    )
    assert cleared.assigned_to is None


# --- messages and documents ----------------------------------------------------------------


def test_messages_both_ways_with_checked_files(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    question = services.message_post(
        actor=world.agent, application_id=application.pk, body="  Is the bill recent?  "
    )
    assert (question.author_role, question.body) == ("agent", "Is the bill recent?")
    answer = services.message_post(
        actor=world.citizen,
        application_id=application.pk,
        body="Yes",
        files=[SimpleUploadedFile("bill.png", tiny_png())],
    )
    assert answer.attachments.get().content_type == "image/png"
    with pytest.raises(ValidationFailed) as caught:
        services.message_post(
            actor=world.citizen,
            application_id=application.pk,
            body="And this",
            files=[pdf("ok.pdf"), SimpleUploadedFile("virus.pdf", windows_exe())],
        )
    assert list(caught.value.fields) == ["files"]
    with pytest.raises(ValidationFailed):
        services.message_post(actor=world.citizen, application_id=application.pk, body="   ")
    assert Message.objects.count() == 2
    assert Attachment.objects.filter(message__isnull=False).count() == 1


def test_a_verified_document_is_known_to_the_city(world: SimpleNamespace) -> None:
    application = submitted_application(world)
    attachment = application.attachments.get(field_name="proof_of_address")
    verified = services.attachment_verify(actor=world.agent, attachment_id=attachment.pk)
    assert verified.verified_by == world.agent
    assert verified.verified_at == NOW
    known = KnownAttribute.objects.get(citizen=world.citizen, key="document.proof_of_address")
    assert known.verified_at == NOW
    assert known.verified_by == world.agent
    assert known.value["sha256"] == attachment.sha256
    assert known.source == f"application:{application.tracking_code}"
    assert AuditEvent.objects.filter(action="attachment_verified").count() == 1
    # Twice is once.
    services.attachment_verify(actor=world.colleague, attachment_id=attachment.pk)
    assert AuditEvent.objects.filter(action="attachment_verified").count() == 1
    assert Attachment.objects.get(pk=attachment.pk).verified_by == world.agent
    # The citizen cannot verify their own document.
    with pytest.raises(NotFound):
        services.attachment_verify(actor=world.citizen, attachment_id=attachment.pk)


# --- with a real definition of the catalogue ------------------------------------------------


def test_canteen_registration_end_to_end(family: SimpleNamespace, catalogue_dir: Any) -> None:
    """The real `canteen-registration.yaml`: Camille sends back only what the city did not
    know; the schools service asks for a document, she answers, it accepts."""
    with time_machine.travel(NOW, tick=False):
        procedures_load(directory=catalogue_dir)
        agent = agent_of(Service.objects.get(code="education"))
        camille = family.citizen
        draft = services.application_start(
            actor=camille, procedure_slug="canteen-registration", beneficiary_id=family.leo.pk
        )
        known = dict(draft.data)
        assert known == {
            "child_first_name": "Léo",
            "child_last_name": "Martin",
            "child_birth_date": "2017-09-20",
            "school": "elementaire-jean-jaures",
        }
        answers = {
            "child": {**known, "start_date": "2026-03-09"},
            "meals": {"days": ["monday", "thursday"], "diet": "no_pork", "has_allergy": False},
            "price": {},
            "confirm": {"accurate": True, "rules_read": True},
        }
        for step_id, data in answers.items():
            draft = services.application_save_step(
                actor=camille, application_id=draft.pk, step_id=step_id, data=data, lang="fr"
            )
        assert not any(origin["corrected"] for origin in draft.provenance.values())
        application = services.application_submit(
            actor=camille, application_id=draft.pk, submission_key=uuid.uuid4(), lang="fr"
        )
        assert application.state == "submitted"
        assert application.data["days"] == ["monday", "thursday"]
        assert application.silence_due_at == NOW + dt.timedelta(days=60)

        move(application, agent, "request_info", "Merci d'ajouter votre attestation CAF.")
        services.message_post(
            actor=camille, application_id=application.pk, body="Voici.", files=[pdf("caf.pdf")]
        )
        move(application, camille, "provide_info")
        accepted = move(application, agent, "accept")
    assert accepted.state == "accepted"
    assert list(accepted.events.values_list("kind", flat=True)) == [
        "created",
        "submitted",
        "info_requested",
        "message",
        "info_provided",
        "transition",
    ]
