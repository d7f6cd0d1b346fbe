"""Starting an application, saving it step by step, and submitting it: the citizen's side
(or the agent's, at the counter) until the application enters its workflow."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ville.accounts.models import HouseholdMember
from ville.audit import events as audit
from ville.core.errors import NotFound, PermissionDenied, ValidationFailed
from ville.procedures import workflow as wf
from ville.procedures.conditions import (
    EvalContext,
    context_for,
    eligibility_failures,
    evaluate,
    visible_data,
)
from ville.procedures.definitions import Definition, definition_of, text_in
from ville.procedures.errors import ApplicationClosed, Conflict, NotEligible, VersionInvalid
from ville.procedures.fields import step_validate
from ville.procedures.models import DRAFT, Application, Procedure
from ville.procedures.prefill import prefill_for
from ville.procedures.selectors import application_role_of, as_uuid, is_agent_of
from ville.procedures.services.common import (
    EVENT_SUBMITTED,
    Kind,
    Role,
    event_add,
    files_check,
    files_cleanup_on_error,
    json_safe,
    locked_update,
    webhook_payload,
)
from ville.procedures.tracking import with_new_tracking_code
from ville.procedures.webhooks import outbox_enqueue

logger = logging.getLogger(__name__)

CHANNELS_AT_DESK = {
    Application.Channel.COUNTER.value,
    Application.Channel.PHONE.value,
    Application.Channel.MAIL.value,
}


# --- reading the definition ------------------------------------------------------------


def _field_types(definition: Definition, step_id: str) -> dict[str, str]:
    return {str(field["name"]): str(field["type"]) for field in definition.fields(step_id)}


def _step_title(definition: Definition, step_id: str) -> str:
    return str(text_in(definition.step(step_id).get("title"), translation.get_language()))


def _lang(lang: str | None) -> str:
    return (lang or translation.get_language() or "fr").split("-")[0]


def _data_paths(condition: Any) -> Iterator[str]:
    if isinstance(condition, Mapping):
        for combinator in ("all", "any"):
            for part in condition.get(combinator) or []:
                yield from _data_paths(part)
        if "not" in condition:
            yield from _data_paths(condition["not"])
        path = condition.get("path")
        if isinstance(path, str) and path.startswith("data."):
            yield path.removeprefix("data.")


def _eligibility_failures_so_far(
    *, definition: Definition, ctx: EvalContext, lang: str
) -> list[str]:
    """The eligibility rules that fail on what is known now. A rule about an answer not
    given yet waits for it: refusing someone for a question they were never asked would
    be wrong (the full check runs again at submission)."""
    failures = []
    for rule in definition.eligibility:
        if any(ctx.data.get(name) in (None, "") for name in _data_paths(rule["condition"])):
            continue
        if not evaluate(rule["condition"], ctx):
            failures.append(str(text_in(rule["explanation"], lang)))
    return failures


# --- starting ----------------------------------------------------------------------------


def _beneficiary_for(
    *, definition: Definition, citizen: Any, beneficiary_id: UUID | str | None
) -> HouseholdMember | None:
    """The household member the application is for, if the procedure asks for one. A member
    of another household reads exactly like a member that does not exist."""
    spec = definition.beneficiary
    if spec is None or spec.get("relation") == "self":
        return None
    choose = _("Choose who this application is for, among the people of your household.")
    if beneficiary_id in (None, ""):
        if spec.get("required", True):
            raise ValidationFailed(fields={"beneficiary": [choose]})
        return None
    try:
        member_id = as_uuid(beneficiary_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise ValidationFailed(fields={"beneficiary": [choose]}) from exc
    member = None
    if citizen.household_id is not None:
        member = (
            HouseholdMember.objects.select_related("school")
            .filter(pk=member_id, household_id=citizen.household_id)
            .exclude(user_id=citizen.pk)
            .first()
        )
    relation = spec.get("relation")
    if member is None or (relation in ("child", "partner") and member.relation != relation):
        raise ValidationFailed(fields={"beneficiary": [choose]})
    return member


def application_start(
    *,
    actor: Any,
    procedure_slug: str,
    beneficiary_id: UUID | str | None = None,
    channel: str = Application.Channel.ONLINE,
    on_behalf_of: Any = None,
    request: HttpRequest | None = None,
) -> Application:
    """A draft of `procedure_slug` for the actor, or for `on_behalf_of` when an agent of the
    procedure's service files it at the counter, on the phone or from a letter (`channel`).

    Eligibility is checked first (NotEligible carries the explanations); the answers start
    from what the city already knows (`prefill_for`), each with its source. Starting twice
    resumes the same draft instead of opening a second one.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound()
    procedure = (
        Procedure.objects.select_related("current_version", "service")
        .filter(slug=procedure_slug, is_active=True, current_version__isnull=False)
        .first()
    )
    if procedure is None or procedure.current_version is None:
        raise NotFound()
    channel = str(channel)
    if on_behalf_of is not None:
        if not is_agent_of(actor=actor, service_id=procedure.service_id):
            raise PermissionDenied()
        if channel not in CHANNELS_AT_DESK:
            raise ValidationFailed(
                fields={"channel": [_("Say how the citizen reached you: counter, phone or post.")]}
            )
        citizen, filed_by = on_behalf_of, actor
    else:
        if channel != Application.Channel.ONLINE:
            raise PermissionDenied()
        citizen, filed_by = actor, None
    lang = _lang(None)
    version = procedure.current_version
    definition = definition_of(version)
    beneficiary = _beneficiary_for(
        definition=definition, citizen=citizen, beneficiary_id=beneficiary_id
    )
    prefilled = prefill_for(
        definition=definition, citizen=citizen, beneficiary=beneficiary, lang=lang
    )
    data = {name: json_safe(item.value) for name, item in prefilled.items()}
    ctx = context_for(
        citizen=citizen, beneficiary=beneficiary, data=data, today=timezone.localdate()
    )
    failures = _eligibility_failures_so_far(definition=definition, ctx=ctx, lang=lang)
    if failures:
        raise NotEligible(failures)

    with transaction.atomic():
        existing = (
            Application.objects.select_related("procedure", "version", "service")
            .filter(
                citizen_id=citizen.pk,
                procedure=procedure,
                beneficiary=beneficiary,
                filed_by_id=filed_by.pk if filed_by else None,
                state=DRAFT,
            )
            .order_by("-created_at")
            .first()
        )
        if existing is not None:
            return existing
        application = Application.objects.create(
            procedure=procedure,
            version=version,
            service=procedure.service,
            citizen=citizen,
            beneficiary=beneficiary,
            beneficiary_name=str(beneficiary) if beneficiary else "",
            data=data,
            provenance={
                name: {"source": item.source, "value": data[name], "corrected": False}
                for name, item in prefilled.items()
            },
            channel=channel,
            filed_by=filed_by,
        )
        event_add(
            application,
            kind=Kind.CREATED,
            actor=actor,
            role=Role.AGENT if filed_by else Role.CITIZEN,
            to_state=DRAFT,
        )
        if filed_by is not None:
            audit.record_application_started_for(
                request=request, actor=actor, application=application
            )
    return application


# --- saving a step -----------------------------------------------------------------------


def _draft_locked(*, actor: Any, application_id: UUID | str) -> tuple[Application, str]:
    """The application, locked for this transaction, and the actor's role on it."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("procedure", "version", "service", "citizen", "beneficiary")
        .filter(pk=as_uuid(application_id))
        .first()
    )
    if application is None:
        raise NotFound()
    role = application_role_of(actor=actor, application=application)
    if role is None:
        raise NotFound()
    return application, role


def _context(application: Application, data: Mapping[str, Any]) -> EvalContext:
    return context_for(
        citizen=application.citizen,
        beneficiary=application.beneficiary,
        data=data,
        today=timezone.localdate(),
    )


def application_save_step(
    *,
    actor: Any,
    application_id: UUID | str,
    step_id: str,
    data: Mapping[str, Any],
    files: Mapping[str, Any] | None = None,
    lang: str | None = None,
    expected_lock_version: int | None = None,
) -> Application:
    """Check and keep the answers of one step of a draft, with its files (each checked by
    content); the draft then resumes at the next step. Any refusal (a field, a file, an
    eligibility rule the answers break) raises with a message per field and leaves the
    draft exactly as it was. Saving an earlier step again is allowed; skipping one is not."""
    lang = _lang(lang)
    with (
        translation.override(lang),
        files_cleanup_on_error() as stored,
        transaction.atomic(),
    ):
        application, _role = _draft_locked(actor=actor, application_id=application_id)
        if application.state != DRAFT:
            raise ApplicationClosed()
        if expected_lock_version is not None and expected_lock_version != application.lock_version:
            raise Conflict()
        if application.version.procedure_id != application.procedure_id:
            raise VersionInvalid()
        definition = definition_of(application.version)
        step_ids = definition.step_ids
        if step_id not in step_ids:
            raise ValidationFailed(fields={"step": [_("This step is not part of the form.")]})
        index = step_ids.index(step_id)
        if index > application.step:
            missing = step_ids[application.step]
            raise ValidationFailed(
                fields={
                    missing: [
                        _("Please complete the step “%(step)s” first.")
                        % {"step": _step_title(definition, missing)}
                    ]
                }
            )
        field_types = _field_types(definition, step_id)
        # Earlier answers (and files already stored) are what `when` conditions look at.
        cleaned, errors = step_validate(
            definition=definition,
            step_id=step_id,
            data=data,
            files=files or {},
            ctx=_context(application, application.data),
            lang=lang,
        )
        errors = {name: [str(m) for m in messages] for name, messages in errors.items()}
        uploads = {name: value for name, value in cleaned.items() if field_types[name] == "file"}
        new_files, file_errors = files_check(
            {name: value for name, value in uploads.items() if hasattr(value, "read")}
        )
        for name, messages in file_errors.items():
            errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationFailed(fields=errors)

        # The step's answers replace the old ones: a field hidden now loses its answer.
        new_data = {
            name: value for name, value in application.data.items() if name not in field_types
        }
        new_data.update(
            {name: json_safe(value) for name, value in cleaned.items() if name not in uploads}
        )
        for name, value in uploads.items():
            if value:
                new_data[name] = value if isinstance(value, str | list) else None
        for item in new_files:
            attachment = stored.store(application, item, actor=actor)
            new_data[item.field_name] = str(attachment.pk)
        new_data = {name: value for name, value in new_data.items() if value is not None}
        failures = _eligibility_failures_so_far(
            definition=definition, ctx=_context(application, new_data), lang=lang
        )
        if failures:
            raise NotEligible(failures)
        provenance = dict(application.provenance)
        for name in field_types:
            if name in provenance:
                origin = dict(provenance[name])
                origin["corrected"] = new_data.get(name) != origin.get("value")
                provenance[name] = origin
        locked_update(
            application,
            expected_lock_version=application.lock_version,
            data=new_data,
            provenance=provenance,
            step=max(application.step, index + 1),
        )
    return application


# --- submitting ----------------------------------------------------------------------------


def _steps_errors(
    *, application: Application, definition: Definition, lang: str
) -> dict[str, list[str]]:
    """Every step checked again, as it stands now: what a forged or stale draft lacks is
    named by its step (and its fields)."""
    errors: dict[str, list[str]] = {}
    ctx = _context(application, application.data)
    for index, step_id in enumerate(definition.step_ids):
        title = _step_title(definition, step_id)
        if index >= application.step:
            errors[step_id] = [_("The step “%(step)s” is not completed.") % {"step": title}]
            continue
        field_types = _field_types(definition, step_id)
        # Stored files are found through `ctx`; only the other answers are fed back in.
        answers = {
            name: value
            for name, value in application.data.items()
            if name in field_types and field_types[name] != "file"
        }
        _cleaned, field_errors = step_validate(
            definition=definition, step_id=step_id, data=answers, files={}, ctx=ctx, lang=lang
        )
        if field_errors:
            errors[step_id] = [_("The step “%(step)s” needs your attention.") % {"step": title}]
            for name, messages in field_errors.items():
                errors.setdefault(name, []).extend(str(m) for m in messages)
    return errors


def application_submit(
    *,
    actor: Any,
    application_id: UUID | str,
    submission_key: UUID,
    lang: str | None = None,
    request: HttpRequest | None = None,
) -> Application:
    """Send a complete draft to the service: every step is checked again, a tracking code and
    the deadlines are set, the workflow starts. Idempotent on `submission_key`: a replay
    (a double click, a retried request) returns the same application and changes nothing."""
    lang = _lang(lang)
    with translation.override(lang), transaction.atomic():
        application, role = _draft_locked(actor=actor, application_id=application_id)
        if application.submission_key is not None and str(application.submission_key) == str(
            submission_key
        ):
            return application
        if application.state != DRAFT:
            raise ApplicationClosed()
        if Application.objects.filter(submission_key=submission_key).exists():
            raise ValidationFailed(
                _("This submission was already used for another application. Reload the page.")
            )
        if application.version.procedure_id != application.procedure_id:
            raise VersionInvalid()
        definition = definition_of(application.version)
        errors = _steps_errors(application=application, definition=definition, lang=lang)
        if errors:
            raise ValidationFailed(fields=errors)
        ctx = _context(application, application.data)
        failures = eligibility_failures(definition=definition, ctx=ctx, lang=lang)
        if failures:
            raise NotEligible([str(text) for text in failures])

        workflow = definition.workflow
        now = timezone.now()
        state = wf.initial_state(workflow)
        sla_due_at, silence_due_at, silence_outcome = wf.deadlines_for(workflow, now)
        if silence_outcome and not wf.state_is_final(workflow, silence_outcome):
            logger.error("%s: silence leads to a state that is not final", application.version)
            silence_due_at = None
        expected = application.lock_version
        # Answers to fields hidden by a later change are not sent to the service.
        kept = visible_data(definition=definition, ctx=ctx)

        def write(code: str) -> None:
            locked_update(
                application,
                expected_lock_version=expected,
                tracking_code=code,
                state=state,
                data=kept,
                submission_key=submission_key,
                submitted_at=now,
                sla_due_at=sla_due_at,
                silence_due_at=silence_due_at,
            )

        with_new_tracking_code(write)
        event_add(
            application,
            kind=Kind.SUBMITTED,
            actor=actor,
            role=Role.CITIZEN if role == Role.CITIZEN else Role.AGENT,
            from_state=DRAFT,
            to_state=state,
        )
        outbox_enqueue(
            application=application,
            event_type=EVENT_SUBMITTED,
            payload=webhook_payload(application, from_state=DRAFT, transition="submit"),
        )
        audit.record_application_submitted(request=request, actor=actor, application=application)
    return application
