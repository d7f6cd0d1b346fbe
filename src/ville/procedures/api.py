"""`/api/v1/procedures` (the forms, with the logged-in person's prefill and its provenance)
and `/api/v1/applications` (filing in one request, tracking, citizen and agent actions).

Thin endpoints: parse → selector → one service → shape; the services and selectors check
every permission, and anything a person may not see is a 404 in the one error shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from ville.accounts.models import HouseholdMember, User
from ville.accounts.selectors import household_member_get_for
from ville.core.errors import NotFound, PermissionDenied, ValidationFailed
from ville.core.schemas import ErrorOut
from ville.procedures import workflow as wf
from ville.procedures.conditions import context_for
from ville.procedures.definitions import Definition, definition_of, text_in
from ville.procedures.errors import VersionInvalid
from ville.procedures.fields import household_members
from ville.procedures.models import DRAFT, Application, Procedure, ProcedureVersion
from ville.procedures.prefill import Prefilled, prefill_for
from ville.procedures.selectors import (
    AGENT,
    CITIZEN,
    agent_queue,
    agent_service_ids,
    application_get_for,
    application_role_of,
    applications_of,
    as_uuid,
    messages_for,
    timeline_for,
)
from ville.procedures.services import (
    application_save_step,
    application_start,
    application_submit,
    application_transition,
    message_post,
)
from ville.procedures.services.drafts import _eligibility_failures_so_far

procedures_router = Router(tags=["procedures"])
applications_router = Router(tags=["applications"])

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)
# Field types whose answer is a file: JSON cannot carry one (the pages and uploads can).
FILE_TYPES = frozenset({"file"})


# --- shared helpers ------------------------------------------------------------------------


def _user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None  # type: ignore[return-value]


def _actor(request: HttpRequest) -> User:
    # `django_auth` put the logged-in user there before any authenticated endpoint runs.
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _lang(lang: str | None) -> str:
    code = (lang or "").split("-")[0].lower()
    if code in LANGUAGE_CODES:
        return code
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def _clean(text: str | None, limit: int = 200) -> str:
    # Query strings are not JSON bodies: drop NUL here, PostgreSQL cannot compare with it.
    return (text or "").replace("\x00", "").strip()[:limit]


def page_url(name: str, **kwargs: Any) -> str:
    """The citizen page `name` in the current language."""
    return reverse(name, kwargs=kwargs or None)


def _definitions(version_ids: Iterable[int]) -> dict[int, Definition]:
    """The definitions of several versions in one query (lists defer the big JSON)."""
    wanted = set(version_ids)
    if not wanted:
        return {}
    versions = ProcedureVersion.objects.filter(pk__in=wanted).only("id", "checksum", "definition")
    return {version.pk: definition_of(version) for version in versions}


def _state_label(definition: Definition | None, state: str, lang: str) -> str:
    if state == DRAFT:
        return _("Draft")
    if definition is None:
        return state
    label = wf.state_info(definition.workflow, state).get("label")
    return str(text_in(label, lang)) if label else state


# --- procedures: schemas ---------------------------------------------------------------------


class ProcedureItemOut(Schema):
    slug: str
    title: str
    summary: str
    service: str
    version: int
    url: str


class ProcedureListOut(Schema):
    results: list[ProcedureItemOut]


class ChoiceOut(Schema):
    value: str
    label: str


class PrefillOut(Schema):
    value: Any
    source: str = Field(description="Where the city knows it from, e.g. profile.first_name")
    label: str = Field(description="The same, as a phrase for people")
    verified: bool


class FieldOut(Schema):
    name: str
    type: str
    label: str
    help: str
    required: bool
    choices: list[ChoiceOut]
    when: dict[str, Any] | None
    validation: dict[str, Any]
    prefill: PrefillOut | None


class StepOut(Schema):
    id: str
    title: str
    help: str
    fields: list[FieldOut]


class DocumentOut(Schema):
    id: str
    label: str
    help: str


class BeneficiaryOut(Schema):
    relation: str
    label: str
    required: bool
    none_label: str
    options: list[ChoiceOut] = Field(description="The logged-in person's household members")
    selected: str | None


class ProcedureOut(Schema):
    slug: str
    title: str
    summary: str
    service: str
    version: int
    url: str
    beneficiary: BeneficiaryOut | None
    eligible: bool | None = Field(
        description="null when it cannot be known yet (anonymous, or no beneficiary chosen)"
    )
    not_eligible_reasons: list[str]
    steps: list[StepOut]
    documents: list[DocumentOut]


# --- procedures: reading a definition -------------------------------------------------------


def _procedures() -> Any:
    return Procedure.objects.filter(is_active=True, current_version__isnull=False)


def _procedure_item(procedure: Procedure, definition: Definition, lang: str) -> dict[str, Any]:
    return {
        "slug": procedure.slug,
        "title": str(text_in(definition.title, lang)),
        "summary": str(text_in(definition.summary, lang)),
        "service": procedure.service.code,
        "version": procedure.current_version.number,  # type: ignore[union-attr]
        "url": page_url("procedures:detail", slug=procedure.slug),
    }


def _validation_out(validation: Mapping[str, Any], lang: str) -> dict[str, Any]:
    out = dict(validation)
    if isinstance(out.get("pattern_message"), Mapping):
        out["pattern_message"] = str(text_in(out["pattern_message"], lang))
    return out


def _member_label(member: HouseholdMember) -> str:
    return f"{member.first_name} {member.last_name}".strip()


def _field_out(
    field: Mapping[str, Any],
    *,
    lang: str,
    prefilled: Prefilled | None,
    citizen: User | None,
) -> dict[str, Any]:
    kind = str(field["type"])
    choices = [
        {"value": str(choice["value"]), "label": str(text_in(choice.get("label"), lang))}
        for choice in field.get("choices") or []
    ]
    if kind == "household_member" and citizen is not None:
        members = household_members(citizen=citizen, relation=field.get("relation", "member"))
        choices = [{"value": str(m.pk), "label": _member_label(m)} for m in members]
    return {
        "name": field["name"],
        "type": kind,
        "label": str(text_in(field.get("label"), lang)),
        "help": str(text_in(field.get("help"), lang)),
        "required": bool(field.get("required")) or kind == "consent",
        "choices": choices,
        "when": field.get("when"),
        "validation": _validation_out(field.get("validation") or {}, lang),
        "prefill": prefilled.as_dict() if prefilled is not None else None,
    }


def _beneficiary_out(
    definition: Definition,
    *,
    lang: str,
    citizen: User | None,
    selected: HouseholdMember | None,
) -> dict[str, Any] | None:
    spec = definition.beneficiary
    if spec is None:
        return None
    relation = str(spec.get("relation", "member"))
    options: list[dict[str, str]] = []
    if citizen is not None and relation != "self":
        members = household_members(citizen=citizen, relation=relation)
        options = [{"value": str(m.pk), "label": _member_label(m)} for m in members]
    return {
        "relation": relation,
        "label": str(text_in(spec.get("label"), lang)),
        "required": bool(spec.get("required", True)) and relation != "self",
        "none_label": str(text_in(spec.get("none_label"), lang)),
        "options": options,
        "selected": str(selected.pk) if selected is not None else None,
    }


def _eligibility(
    definition: Definition,
    *,
    citizen: User | None,
    beneficiary: HouseholdMember | None,
    prefilled: Mapping[str, Prefilled],
    lang: str,
) -> tuple[bool | None, list[str]]:
    """Whether the logged-in person may file it, as far as is known before any answer:
    unknown (None) for anonymous visitors and while the beneficiary is still to be chosen."""
    if citizen is None:
        return None, []
    spec = definition.beneficiary
    needs_one = spec is not None and spec.get("relation") != "self" and spec.get("required", True)
    if needs_one and beneficiary is None:
        return None, []
    ctx = context_for(
        citizen=citizen,
        beneficiary=beneficiary,
        data={name: item.value for name, item in prefilled.items()},
        today=timezone.localdate(),
    )
    failures = _eligibility_failures_so_far(definition=definition, ctx=ctx, lang=lang)
    return not failures, failures


@procedures_router.get(
    "",
    response=ProcedureListOut,
    summary="The procedures that can be filed online",
)
def procedures_list(request: HttpRequest, lang: str | None = None) -> dict[str, Any]:
    lang = _lang(lang)
    procedures = _procedures().select_related("service", "current_version").order_by("slug")
    return {
        "results": [
            _procedure_item(p, definition_of(p.current_version), lang)  # type: ignore[arg-type]
            for p in procedures
        ]
    }


@procedures_router.get(
    "/{slug}",
    response={200: ProcedureOut, 404: ErrorOut},
    summary="A procedure's form, pre-filled for the logged-in person",
    description=(
        "Steps, fields, conditions and required documents. For a logged-in person, each "
        "field the city can fill carries `prefill` (value, source and a phrase saying where "
        "it comes from) and `eligible` says whether the procedure is open to them; "
        "`?beneficiary=<household member id>` computes them for that member (a child…)."
    ),
)
def procedure_get(
    request: HttpRequest,
    slug: str,
    lang: str | None = None,
    beneficiary: str | None = None,
) -> dict[str, Any]:
    lang = _lang(lang)
    procedure = (
        _procedures().select_related("service", "current_version").filter(slug=slug[:80]).first()
    )
    if procedure is None:
        raise NotFound()
    definition = definition_of(procedure.current_version)  # type: ignore[arg-type]
    citizen = _user(request)
    member = None
    if citizen is not None and beneficiary:
        # Someone else's member reads exactly like one that does not exist.
        member = household_member_get_for(actor=citizen, member_id=_clean(beneficiary, 64))
    prefilled: dict[str, Prefilled] = {}
    if citizen is not None:
        prefilled = prefill_for(
            definition=definition, citizen=citizen, beneficiary=member, lang=lang
        )
    eligible, reasons = _eligibility(
        definition, citizen=citizen, beneficiary=member, prefilled=prefilled, lang=lang
    )
    return {
        **_procedure_item(procedure, definition, lang),
        "beneficiary": _beneficiary_out(definition, lang=lang, citizen=citizen, selected=member),
        "eligible": eligible,
        "not_eligible_reasons": reasons,
        "steps": [
            {
                "id": step["id"],
                "title": str(text_in(step.get("title"), lang)),
                "help": str(text_in(step.get("help"), lang)),
                "fields": [
                    _field_out(
                        field, lang=lang, prefilled=prefilled.get(field["name"]), citizen=citizen
                    )
                    for field in step["fields"]
                ],
            }
            for step in definition.steps
        ],
        "documents": [
            {
                "id": document["id"],
                "label": str(text_in(document.get("label"), lang)),
                "help": str(text_in(document.get("help"), lang)),
            }
            for document in definition.documents
        ],
    }


# --- applications: schemas -------------------------------------------------------------------


class ApplicationIn(Schema):
    procedure: str = Field(max_length=80, description="The procedure's slug")
    data: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Answers by field name, for every step. Fields the city already knows may be "
            "left out: their pre-filled value is used."
        ),
    )
    beneficiary: str | None = Field(None, max_length=64, description="Household member id")
    submission_key: UUID | None = Field(
        None, description="Idempotency key: sending it again returns the same application"
    )
    version: int | None = Field(
        None, description="The form version the client showed; refused if it is not current"
    )


class ApplicationCreatedOut(Schema):
    id: UUID
    tracking_code: str | None
    status: str
    state_label: str
    url: str


class ApplicationItemOut(Schema):
    id: UUID
    tracking_code: str | None
    procedure: str
    title: str
    state: str
    state_label: str
    submitted_at: datetime | None
    beneficiary: str
    url: str


class ApplicationListOut(Schema):
    results: list[ApplicationItemOut]
    count: int
    page: int
    pages: int


class EventOut(Schema):
    at: datetime
    kind: str
    kind_label: str
    from_state: str
    to_state: str
    state_label: str
    actor_role: str
    comment: str


class AttachmentOut(Schema):
    id: UUID
    name: str
    content_type: str
    size: int


class MessageOut(Schema):
    id: UUID
    created_at: datetime
    author_role: str
    body: str
    attachments: list[AttachmentOut]


class ActionOut(Schema):
    transition: str
    label: str
    to_state: str
    comment: str = Field(description="required, optional or none")


class ApplicationOut(Schema):
    id: UUID
    tracking_code: str | None
    procedure: str
    title: str
    version: int
    state: str
    state_label: str
    state_text: str
    channel: str
    beneficiary: str
    data: dict[str, Any]
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    sla_due_at: datetime | None
    valid_until: date | None
    lock_version: int
    role: str = Field(description="citizen or agent: what the caller is to this application")
    timeline: list[EventOut]
    messages: list[MessageOut]
    actions: list[ActionOut]
    url: str


class ApplicationStateOut(Schema):
    id: UUID
    tracking_code: str | None
    status: str
    state_label: str
    lock_version: int


class MessageIn(Schema):
    body: str = Field(max_length=20_000)


class TransitionIn(Schema):
    transition: str = Field(max_length=80)
    comment: str = Field("", max_length=20_000)
    expected_lock_version: int = Field(ge=0, le=2**31 - 1)


class QueueFilters(Schema):
    state: str | None = None
    overdue: bool = False
    assigned_to_me: bool = False
    procedure: str | None = None
    q: str = ""
    page: int = Field(1, ge=1, le=1_000_000)


class QueueItemOut(Schema):
    id: UUID
    tracking_code: str | None
    procedure: str
    title: str
    state: str
    state_label: str
    citizen: str
    beneficiary: str
    submitted_at: datetime | None
    sla_due_at: datetime | None
    overdue: bool
    assigned_to: str | None
    lock_version: int


class QueueOut(Schema):
    results: list[QueueItemOut]
    count: int
    page: int
    pages: int


# --- applications: shaping -------------------------------------------------------------------


def _detail_url(application: Application) -> str:
    return page_url("procedures:application", application_id=application.pk)


def _state_out(application: Application, lang: str) -> dict[str, Any]:
    definition = definition_of(application.version)
    return {
        "id": application.pk,
        "tracking_code": application.tracking_code,
        "status": application.state,
        "state_label": _state_label(definition, application.state, lang),
        "lock_version": application.lock_version,
    }


def _actions(definition: Definition, application: Application, roles: set[str], lang: str) -> list:
    if application.state == DRAFT:
        return []
    return [
        {
            "transition": str(move["name"]),
            "label": str(text_in(move.get("label"), lang)) or str(move["name"]),
            "to_state": str(move["to"]),
            "comment": str(move.get("comment") or "none"),
        }
        for move in wf.transitions_for(definition.workflow, state=application.state, role=roles)
    ]


def _roles_of(actor: User, application: Application, role: str) -> set[str]:
    if role == CITIZEN:
        return {wf.CITIZEN}
    roles = {wf.AGENT}
    supervisor = actor.service_roles.filter(  # type: ignore[attr-defined]
        service_id=application.service_id, role="supervisor"
    ).exists()
    if supervisor:
        roles.add(wf.SUPERVISOR)
    return roles


def _application_out(actor: User, application: Application, lang: str) -> dict[str, Any]:
    definition = definition_of(application.version)
    role = application_role_of(actor=actor, application=application) or CITIZEN
    workflow = definition.workflow
    timeline = [
        {
            "at": event.created_at,
            "kind": event.kind,
            "kind_label": str(event.get_kind_display()),
            "from_state": event.from_state,
            "to_state": event.to_state,
            "state_label": _state_label(definition, event.to_state, lang) if event.to_state else "",
            "actor_role": event.actor_role,
            "comment": event.comment,
        }
        for event in timeline_for(actor=actor, application=application)
    ]
    messages = [
        {
            "id": message.pk,
            "created_at": message.created_at,
            "author_role": message.author_role,
            "body": message.body,
            "attachments": [
                {
                    "id": attachment.pk,
                    "name": attachment.original_name,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                }
                for attachment in message.attachments.all()
            ],
        }
        for message in messages_for(actor=actor, application=application)
    ]
    return {
        "id": application.pk,
        "tracking_code": application.tracking_code,
        "procedure": application.procedure.slug,
        "title": str(text_in(definition.title, lang)),
        "version": application.version.number,
        "state": application.state,
        "state_label": _state_label(definition, application.state, lang),
        "state_text": str(
            text_in(wf.state_info(workflow, application.state).get("citizen_text"), lang)
        ),
        "channel": application.channel,
        "beneficiary": application.beneficiary_name,
        "data": application.data,
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
        "sla_due_at": application.sla_due_at,
        "valid_until": application.valid_until,
        "lock_version": application.lock_version,
        "role": role,
        "timeline": timeline,
        "messages": messages,
        "actions": _actions(definition, application, _roles_of(actor, application, role), lang),
        "url": _detail_url(application),
    }


def _step_of(definition: Definition) -> dict[str, str]:
    return {
        str(field["name"]): str(step["id"]) for step in definition.steps for field in step["fields"]
    }


def _keyed(definition: Definition, fields: Mapping[str, list[str]], step_id: str = "") -> dict:
    """Error keys as `step.field` for the fields of the form; other keys as they are."""
    step_of = _step_of(definition)
    keyed: dict[str, list[str]] = {}
    for name, messages in fields.items():
        key = f"{step_id or step_of[name]}.{name}" if name in step_of else name
        keyed.setdefault(key, []).extend(str(m) for m in messages)
    return keyed


def _own_by_key(actor: User, key: UUID) -> Application | None:
    """An application this person already filed with `key` (a replayed request)."""
    return (
        Application.objects.select_related("version")
        .filter(submission_key=key, citizen_id=actor.pk)
        .exclude(state=DRAFT)
        .first()
    )


def _created_out(application: Application, lang: str) -> dict[str, Any]:
    state = _state_out(application, lang)
    return {
        "id": application.pk,
        "tracking_code": application.tracking_code,
        "status": application.state,
        "state_label": state["state_label"],
        "url": _detail_url(application),
    }


def _file_in_one_go(
    request: HttpRequest, actor: User, payload: ApplicationIn, key: UUID, lang: str
) -> Application:
    """Start (or resume) the draft, save every step from the flat answers, submit; one
    transaction, so that any refusal leaves nothing behind."""
    with transaction.atomic():
        draft = application_start(
            actor=actor,
            procedure_slug=payload.procedure,
            beneficiary_id=payload.beneficiary or None,
            request=request,
        )
        if payload.version is not None and payload.version != draft.version.number:
            raise VersionInvalid()
        definition = definition_of(draft.version)
        step_of = _step_of(definition)
        unknown = sorted(name for name in payload.data if name not in step_of)
        if unknown:
            raise ValidationFailed(
                fields={
                    name[:80]: [_("This field is not part of the form.")] for name in unknown[:20]
                }
            )
        for step_id in definition.step_ids:
            answers: dict[str, Any] = {}
            for field in definition.fields(step_id):
                name = str(field["name"])
                if name in payload.data:
                    answers[name] = payload.data[name]
                elif name in draft.data and field["type"] not in FILE_TYPES:
                    # What the city knew (or what an earlier visit saved) stands unless sent.
                    answers[name] = draft.data[name]
            try:
                draft = application_save_step(
                    actor=actor, application_id=draft.pk, step_id=step_id, data=answers, lang=lang
                )
            except ValidationFailed as exc:
                exc.fields = _keyed(definition, exc.fields, step_id)
                raise
        try:
            return application_submit(
                actor=actor, application_id=draft.pk, submission_key=key, lang=lang, request=request
            )
        except ValidationFailed as exc:
            exc.fields = _keyed(definition, exc.fields)
            raise


# --- applications: endpoints -----------------------------------------------------------------

_WRITE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@applications_router.post(
    "",
    auth=django_auth,
    response={200: ApplicationCreatedOut, 201: ApplicationCreatedOut, **_WRITE_ERRORS},
    summary="File an application in one request",
    description=(
        "Starts the draft, saves every step from `data`, submits. 201 with the tracking code; "
        "the same `submission_key` again gives 200 and the same application. Refusals are "
        "422 with `fields` keyed `step.field` (`validation_failed`), `not_eligible` with the "
        "explanations in `fields.eligibility`, or `version_invalid`; nothing is kept then."
    ),
)
def application_create(
    request: HttpRequest, payload: ApplicationIn, lang: str | None = None
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    lang = _lang(lang)
    key = payload.submission_key or uuid.uuid4()
    replayed = _own_by_key(actor, key)
    if replayed is not None:
        return Status(200, _created_out(replayed, lang))
    if Application.objects.filter(submission_key=key).exists():
        raise ValidationFailed(
            fields={"submission_key": [_("This key was already used. Send a new one.")]}
        )
    with translation.override(lang):
        try:
            application = _file_in_one_go(request, actor, payload, key, lang)
        except IntegrityError:
            # The same request twice at once: the other one won, and it is this one.
            replayed = _own_by_key(actor, key)
            if replayed is None:
                raise
            return Status(200, _created_out(replayed, lang))
    return Status(201, _created_out(application, lang))


@applications_router.get(
    "",
    auth=django_auth,
    response={200: ApplicationListOut, 401: ErrorOut},
    summary="My applications, newest first",
    description="`q` matches the tracking code, the procedure or the beneficiary; 20 a page.",
)
def applications_list(
    request: HttpRequest,
    page: int = Query(1, ge=1, le=1_000_000),  # type: ignore[type-arg]
    q: str = "",
    state: str = "",
    lang: str | None = None,
) -> dict[str, Any]:
    actor = _actor(request)
    lang = _lang(lang)
    found = applications_of(
        actor=actor, query=_clean(q), state=_clean(state, 40) or None, page=page
    )
    rows = list(found.object_list)
    definitions = _definitions(row.version_id for row in rows)
    return {
        "results": [
            {
                "id": row.pk,
                "tracking_code": row.tracking_code,
                "procedure": row.procedure.slug,
                "title": str(text_in(definitions[row.version_id].title, lang)),
                "state": row.state,
                "state_label": _state_label(definitions.get(row.version_id), row.state, lang),
                "submitted_at": row.submitted_at,
                "beneficiary": row.beneficiary_name,
                "url": _detail_url(row),
            }
            for row in rows
        ],
        "count": found.paginator.count,
        "page": found.number,
        "pages": found.paginator.num_pages,
    }


@applications_router.get(
    "/queue",
    auth=django_auth,
    response={200: QueueOut, 401: ErrorOut, 403: ErrorOut},
    summary="Agents: the applications of my services, most urgent first",
    description=(
        "Only the services where the agent holds a role; sessions must have passed TOTP "
        "(403 `mfa_required` otherwise). 50 a page."
    ),
)
def agent_queue_list(
    request: HttpRequest,
    filters: Query[QueueFilters],  # type: ignore[type-arg]
    lang: str | None = None,
) -> dict[str, Any]:
    actor = _actor(request)
    lang = _lang(lang)
    if not agent_service_ids(actor=actor).exists():
        raise PermissionDenied()
    found = agent_queue(
        actor=actor,
        state=_clean(filters.state, 40) or None,
        overdue=filters.overdue,
        assigned_to_me=filters.assigned_to_me,
        procedure=_clean(filters.procedure, 80) or None,
        query=_clean(filters.q),
        page=filters.page,
    )
    rows = list(found.object_list)
    definitions = _definitions(row.version_id for row in rows)
    now = timezone.now()
    return {
        "results": [
            {
                "id": row.pk,
                "tracking_code": row.tracking_code,
                "procedure": row.procedure.slug,
                "title": str(text_in(definitions[row.version_id].title, lang)),
                "state": row.state,
                "state_label": _state_label(definitions.get(row.version_id), row.state, lang),
                "citizen": f"{row.citizen.first_name} {row.citizen.last_name}".strip(),
                "beneficiary": row.beneficiary_name,
                "submitted_at": row.submitted_at,
                "sla_due_at": row.sla_due_at,
                "overdue": bool(row.sla_due_at and row.sla_due_at < now and row.decided_at is None),
                "assigned_to": (
                    f"{row.assigned_to.first_name} {row.assigned_to.last_name}".strip()
                    if row.assigned_to
                    else None
                ),
                "lock_version": row.lock_version,
            }
            for row in rows
        ],
        "count": found.paginator.count,
        "page": found.number,
        "pages": found.paginator.num_pages,
    }


@applications_router.get(
    "/{application_id}",
    auth=django_auth,
    response={200: ApplicationOut, 401: ErrorOut, 404: ErrorOut},
    summary="One application: answers, timeline, messages and what I can do next",
    description=(
        "The applicant's own applications only, or, for an agent of the service in charge, "
        "the applications of that service (each such read is audited). 404 for anything else."
    ),
)
def application_detail(
    request: HttpRequest, application_id: str, lang: str | None = None
) -> dict[str, Any]:
    actor = _actor(request)
    application = application_get_for(
        actor=actor, application_id=_clean(application_id, 64), request=request
    )
    return _application_out(actor, application, _lang(lang))


def _application_as(actor: User, application_id: str, role: str) -> Application:
    application = (
        Application.objects.select_related("version")
        .filter(pk=as_uuid(_clean(application_id, 64)))
        .first()
    )
    if application is None or application_role_of(actor=actor, application=application) != role:
        raise NotFound()
    return application


@applications_router.post(
    "/{application_id}/messages",
    auth=django_auth,
    response={201: MessageOut, **_WRITE_ERRORS},
    summary="Write to the service about an application (or, for an agent, to the citizen)",
)
def application_message(
    request: HttpRequest, application_id: str, payload: MessageIn
) -> Status[dict[str, Any]]:
    message = message_post(
        actor=_actor(request),
        application_id=as_uuid(_clean(application_id, 64)),
        body=payload.body,
        request=request,
    )
    return Status(
        201,
        {
            "id": message.pk,
            "created_at": message.created_at,
            "author_role": message.author_role,
            "body": message.body,
            "attachments": [],
        },
    )


@applications_router.post(
    "/{application_id}/transitions",
    auth=django_auth,
    response={200: ApplicationStateOut, **_WRITE_ERRORS},
    summary="The applicant's actions: answer a request for information, withdraw…",
    description=(
        "`expected_lock_version` is the `lock_version` the client last read: if the "
        "application changed since, 409 `conflict` and nothing changes."
    ),
)
def application_citizen_transition(
    request: HttpRequest, application_id: str, payload: TransitionIn, lang: str | None = None
) -> dict[str, Any]:
    return _transition_as(request, application_id, payload, lang, role=CITIZEN)


@applications_router.post(
    "/{application_id}/agent-transitions",
    auth=django_auth,
    response={200: ApplicationStateOut, **_WRITE_ERRORS},
    summary="Agents: move an application of my service (review, request information, decide)",
    description=(
        "Agents of the service in charge only, with a session that passed TOTP. "
        "409 `conflict` when someone acted since `expected_lock_version`."
    ),
)
def application_agent_transition(
    request: HttpRequest, application_id: str, payload: TransitionIn, lang: str | None = None
) -> dict[str, Any]:
    return _transition_as(request, application_id, payload, lang, role=AGENT)


def _transition_as(
    request: HttpRequest, application_id: str, payload: TransitionIn, lang: str | None, *, role: str
) -> dict[str, Any]:
    actor = _actor(request)
    application = _application_as(actor, application_id, role)
    moved = application_transition(
        actor=actor,
        application_id=application.pk,
        transition=payload.transition,
        comment=payload.comment,
        expected_lock_version=payload.expected_lock_version,
        request=request,
    )
    return _state_out(moved, _lang(lang))
