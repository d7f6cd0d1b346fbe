"""Agents' back office: the queue of their services, an application's file (answers,
documents, timeline, messages, decisions) and the counter, where they file for a citizen."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ville.accounts.models import HouseholdMember
from ville.accounts.selectors import actor_is_agent, citizen_get_for_agent
from ville.core.errors import NotFound, PermissionDenied, ValidationFailed
from ville.procedures import services
from ville.procedures import workflow as wf
from ville.procedures.conditions import context_for
from ville.procedures.definitions import Definition, definition_of, text_in
from ville.procedures.errors import ApplicationClosed, Conflict, NotEligible, TransitionNotAllowed
from ville.procedures.fields import step_form_class
from ville.procedures.forms_agent import (
    AssignForm,
    CounterSearchForm,
    CounterStartForm,
    MessageForm,
    QueueFilterForm,
    SubmitForm,
    TransitionForm,
    add_domain_errors,
)
from ville.procedures.models import DRAFT, Application, Procedure
from ville.procedures.selectors import (
    STATE_COUNT_CAP,
    agent_procedures,
    agent_queue,
    agent_queue_counts,
    agent_roles_on,
    application_get_for,
    attachment_get_for,
    citizens_find_for_agent,
    messages_for,
    service_agents_for,
    timeline_for,
    verified_facts_for,
)
from ville.territory.models import Address, School

# The reason written to the audit trail when a record is opened at the counter.
COUNTER_REASON = "counter"
QUEUE_PER_PAGE = 50
GROUP_WIDGETS = ("RadioSelect", "CheckboxSelectMultiple")


def _lang() -> str:
    return (translation.get_language() or "fr").split("-")[0]


def _require_agent(request: HttpRequest) -> None:
    # Citizens and helpers see the same 404 as for a page that does not exist.
    if not actor_is_agent(actor=request.user):
        raise NotFound()


def _transition_label(transition: Mapping[str, Any], workflow: wf.Workflow, lang: str) -> str:
    label = text_in(transition.get("label"), lang)
    if label:
        return str(label)
    known = {
        "start_review": _("Start the review"),
        "request_info": _("Request information"),
        "accept": _("Accept"),
        "refuse": _("Refuse"),
        "close": _("Close"),
    }
    name = str(transition.get("name", ""))
    if name in known:
        return known[name]
    return _("Move to “%(state)s”") % {"state": _state_label(workflow, str(transition["to"]), lang)}


def _state_label(workflow: wf.Workflow, state: str, lang: str) -> str:
    if state == DRAFT:
        return _("Draft")
    label = text_in(wf.state_info(workflow, state).get("label"), lang)
    return str(label) if label else state


def _is_overdue(application: Application, now: dt.datetime) -> bool:
    return bool(
        application.sla_due_at and application.sla_due_at < now and application.decided_at is None
    )


# --- the queue ----------------------------------------------------------------------------


def _procedure_labels(
    procedures: list[Procedure], lang: str
) -> tuple[dict[int, str], dict[int, wf.Workflow], list[tuple[str, str]]]:
    """Titles and workflows of the actor's procedures, and every state they use (labelled
    by the first procedure that names it), for the filters and the rows."""
    titles: dict[int, str] = {}
    workflows: dict[int, wf.Workflow] = {}
    states: dict[str, str] = {}
    for procedure in procedures:
        if procedure.current_version is None:
            titles[procedure.pk] = procedure.slug
            continue
        definition = definition_of(procedure.current_version)
        titles[procedure.pk] = str(text_in(definition.title, lang)) or procedure.slug
        workflows[procedure.pk] = definition.workflow
        for state in definition.workflow.get("states") or {}:
            states.setdefault(state, _state_label(definition.workflow, state, lang))
    return titles, workflows, sorted(states.items(), key=lambda item: item[1].lower())


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def queue_view(request: HttpRequest) -> HttpResponse:
    _require_agent(request)
    lang = _lang()
    procedures = list(agent_procedures(actor=request.user))
    titles, workflows, states = _procedure_labels(procedures, lang)
    form = QueueFilterForm(
        request.GET or None,
        states=states,
        procedures=[(p.slug, titles[p.pk]) for p in procedures],
    )
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        # A filter that is not valid is reported and left out; the valid ones still apply.
        filters = form.cleaned_data
    page = agent_queue(
        actor=request.user,
        state=filters.get("state") or None,
        overdue=bool(filters.get("overdue")),
        assigned_to_me=bool(filters.get("mine")),
        procedure=filters.get("procedure") or None,
        query=filters.get("q") or "",
        page=request.GET.get("page") or 1,
        per_page=QUEUE_PER_PAGE,
    )
    now = timezone.now()
    state_names = dict(states)
    rows = []
    for application in page.object_list:
        workflow = workflows.get(application.procedure_id)
        rows.append(
            {
                "application": application,
                "procedure": titles.get(application.procedure_id, application.procedure.slug),
                "state": _state_label(workflow, application.state, lang)
                if workflow
                else state_names.get(application.state, application.state),
                "overdue": _is_overdue(application, now),
            }
        )
    counts = agent_queue_counts(actor=request.user)
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "procedures/agent/queue.html",
        {
            "title": _("Applications to process"),
            "form": form,
            "page": page,
            "rows": rows,
            "counts": [
                {
                    "state": state,
                    "label": state_names.get(state, state),
                    "total": total,
                    "capped": total > STATE_COUNT_CAP,
                    "cap": STATE_COUNT_CAP,
                }
                for state, total in sorted(
                    counts.items(), key=lambda i: state_names.get(i[0], i[0])
                )
            ],
            "querystring": kept.urlencode(),
            "filtered": bool(form.is_bound and any(filters.values())),
            "has_services": bool(procedures),
        },
    )


# --- an application's file -------------------------------------------------------------------


def _display_value(
    item: Mapping[str, Any], value: Any, lang: str, lookups: dict[str, dict[str, str]]
) -> str:
    kind = item["type"]
    if value in (None, "", []):
        return "—"
    if kind == "yes_no":
        return _("Yes") if value else _("No")
    if kind == "consent":
        return _("Given") if value else _("Not given")
    if kind in ("choice", "multiple_choice"):
        labels = {c["value"]: str(text_in(c["label"], lang)) for c in item.get("choices") or []}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, str(v)) for v in values)
    if kind == "date":
        day = parse_date(str(value))
        return day.strftime("%d/%m/%Y") if day else str(value)
    if kind in ("household_member", "address", "school", "file"):
        return lookups[kind].get(str(value), str(value))
    return str(value)


def _lookups(application: Application, definition: Definition) -> dict[str, dict[str, str]]:
    """Names for the ids the answers hold (household members, addresses, schools, files),
    in four queries at most."""
    ids: dict[str, set[str]] = {"household_member": set(), "address": set(), "school": set()}
    for item in definition.fields():
        value = application.data.get(item["name"])
        if item["type"] in ids and value not in (None, ""):
            ids[item["type"]].add(str(value))
    members = (
        HouseholdMember.objects.filter(
            household_id=application.citizen.household_id, pk__in=ids["household_member"]
        )
        if ids["household_member"] and application.citizen.household_id
        else []
    )
    addresses = (
        Address.objects.filter(pk__in=[int(i) for i in ids["address"] if i.isdigit()])
        if ids["address"]
        else []
    )
    schools = School.objects.filter(code__in=ids["school"]) if ids["school"] else []
    return {
        "household_member": {str(m.pk): f"{m.first_name} {m.last_name}" for m in members},
        "address": {str(a.pk): a.label for a in addresses},
        "school": {s.code: s.name for s in schools},
        "file": {str(a.pk): a.original_name for a in application.attachments.all()},
    }


def _provenance_text(source: str) -> str:
    if source.startswith("profile."):
        return _("the citizen's profile")
    if source.startswith(("beneficiary.", "household.")):
        return _("the household record")
    if source.startswith("known."):
        return _("information already verified by the city")
    return source


def _answers(application: Application, definition: Definition, lang: str) -> list[dict[str, Any]]:
    """The answers step by step, each with where it comes from: pre-filled from what the
    city knew, pre-filled then corrected, or typed."""
    lookups = _lookups(application, definition)
    steps = []
    for step in definition.steps:
        rows = []
        for item in step["fields"]:
            name = item["name"]
            if name not in application.data:
                continue
            origin = application.provenance.get(name) or {}
            if origin and origin.get("corrected"):
                provenance = "corrected"
            elif origin:
                provenance = "prefilled"
            else:
                provenance = "typed"
            rows.append(
                {
                    "name": name,
                    "label": str(text_in(item["label"], lang)),
                    "value": _display_value(item, application.data.get(name), lang, lookups),
                    "provenance": provenance,
                    "source": _provenance_text(str(origin.get("source", ""))),
                    "was": _display_value(item, origin.get("value"), lang, lookups)
                    if provenance == "corrected"
                    else "",
                    "attachment": str(application.data.get(name))
                    if item["type"] == "file" and str(application.data.get(name)) in lookups["file"]
                    else None,
                }
            )
        steps.append({"id": step["id"], "title": str(text_in(step["title"], lang)), "rows": rows})
    return steps


def _decision_letter_available() -> bool:
    try:
        from ville.procedures import documents
    except ImportError:
        return False
    return hasattr(documents, "decision_letter_pdf")


def _detail(
    request: HttpRequest,
    application: Application,
    *,
    posted: TransitionForm | None = None,
    message_form: MessageForm | None = None,
    assign_form: AssignForm | None = None,
    conflict: str = "",
    kept_comment: str = "",
    status: int = 200,
) -> HttpResponse:
    """The page of one application for an agent of its service. `posted` is a transition
    form sent back with its errors (or the comment kept after a conflict)."""
    actor = request.user
    lang = _lang()
    definition = definition_of(application.version)
    workflow = definition.workflow
    roles = agent_roles_on(actor=actor, application=application)
    transition_forms = []
    kept_in_form = False
    for transition in wf.transitions_for(workflow, state=application.state, role=roles):
        name = str(transition["name"])
        required = wf.comment_required(transition)
        if posted is not None and name in (
            posted.data.get("transition"),
            posted.initial.get("transition"),
        ):
            form = posted
            kept_in_form = True
        else:
            form = TransitionForm(
                initial={"transition": name, "expected_lock_version": application.lock_version},
                comment_required=required,
                auto_id=f"id_{name}_%s",
            )
        transition_forms.append(
            {
                "name": name,
                "label": _transition_label(transition, workflow, lang),
                "to": _state_label(workflow, str(transition["to"]), lang),
                "form": form,
            }
        )
    events = [
        {
            "event": event,
            "from": _state_label(workflow, event.from_state, lang) if event.from_state else "",
            "to": _state_label(workflow, event.to_state, lang) if event.to_state else "",
        }
        for event in timeline_for(actor=actor, application=application)
    ]
    agents = service_agents_for(actor=actor, application=application)
    outcome = wf.state_outcome(workflow, application.state)
    context = {
        "title": _("Application %(code)s") % {"code": application.tracking_code or _("(draft)")},
        "application": application,
        "procedure_title": str(text_in(definition.title, lang)),
        "state_label": _state_label(workflow, application.state, lang),
        "is_final": wf.state_is_final(workflow, application.state),
        "overdue": _is_overdue(application, timezone.now()),
        "steps": _answers(application, definition, lang),
        "attachments": list(application.attachments.select_related("verified_by")),
        "facts": list(verified_facts_for(actor=actor, application=application)),
        "events": events,
        "messages_list": list(messages_for(actor=actor, application=application)),
        "transitions": transition_forms,
        "message_form": message_form or MessageForm(auto_id="id_message_%s"),
        "assign_form": assign_form
        or AssignForm(
            initial={
                "assignee": str(application.assigned_to_id or ""),
                "expected_lock_version": application.lock_version,
            },
            agents=agents,
        ),
        "is_assigned_to_me": application.assigned_to_id == actor.pk,
        "conflict": conflict,
        "kept_comment": "" if kept_in_form else kept_comment,
        "decision_letter": outcome in ("accepted", "refused") and _decision_letter_available(),
    }
    return render(request, "procedures/agent/application.html", context, status=status)


def _application_for_agent(request: HttpRequest, application_id: UUID) -> Application:
    """The application, read by an agent of its service (audited); NotFound for anyone else,
    including its own applicant when they are not an agent of the service."""
    _require_agent(request)
    application = application_get_for(
        actor=request.user, application_id=application_id, request=request
    )
    if application.citizen_id == request.user.pk:
        raise NotFound()
    return application


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def application_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = _application_for_agent(request, application_id)
    if application.state == DRAFT:
        # Only the agent filing it at the counter reaches a draft: back to its steps.
        return redirect(_resume_url(application))
    return _detail(request, application)


def _back(application: Application) -> HttpResponse:
    return redirect("procedures:agent_application", application_id=application.pk)


@never_cache
@login_required
@require_POST
def transition_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = _application_for_agent(request, application_id)
    if application.state == DRAFT:
        raise NotFound()
    workflow = definition_of(application.version).workflow
    name = request.POST.get("transition", "")
    transition = next(
        (
            t
            for t in wf.transitions_for(
                workflow,
                state=application.state,
                role=agent_roles_on(actor=request.user, application=application),
            )
            if t.get("name") == name
        ),
        None,
    )
    form = TransitionForm(
        request.POST,
        comment_required=bool(transition and wf.comment_required(transition)),
        auto_id=f"id_{name}_%s" if transition else "id_%s",
    )
    comment = request.POST.get("comment", "")
    if not form.is_valid():
        if "expected_lock_version" in form.errors or "transition" in form.errors:
            raise NotFound()
        if transition is None:
            return _conflict(request, application, comment)
        return _detail(request, application, posted=form, status=422)
    try:
        services.application_transition(
            actor=request.user,
            application_id=application.pk,
            transition=name,
            comment=form.cleaned_data["comment"],
            expected_lock_version=form.cleaned_data["expected_lock_version"],
            request=request,
        )
    except Conflict:
        return _conflict(request, application, comment)
    except TransitionNotAllowed as exc:
        # Nobody acted meanwhile: this move is simply not possible now (a forged request).
        return _conflict(request, application, comment, message=str(exc.message))
    except ValidationFailed as exc:
        add_domain_errors(form, exc)
        return _detail(request, application, posted=form, status=422)
    messages.success(request, _("Done: the application has moved on."))
    return _back(application)


def _conflict(
    request: HttpRequest, application: Application, comment: str, *, message: str = ""
) -> HttpResponse:
    """Someone acted first: show the application as it is now, keep what the agent typed
    (in the same form if that move is still possible, next to the message otherwise)."""
    application.refresh_from_db()
    workflow = definition_of(application.version).workflow
    name = request.POST.get("transition", "")
    roles = agent_roles_on(actor=request.user, application=application)
    still_possible = {
        str(t["name"]): t for t in wf.transitions_for(workflow, state=application.state, role=roles)
    }
    posted = None
    if name in still_possible:
        # Unbound, the comment as its initial value: nothing is flagged as an error yet.
        posted = TransitionForm(
            initial={
                "transition": name,
                "expected_lock_version": application.lock_version,
                "comment": comment,
            },
            comment_required=wf.comment_required(still_possible[name]),
            auto_id=f"id_{name}_%s",
        )
    if not message:
        state = {"state": _state_label(workflow, application.state, _lang())}
        message = (
            _(
                "Someone else changed this application a moment ago. It is now “%(state)s”. "
                "Check their change below, then act again if you still need to: "
                "your comment is kept."
            )
            % state
            if comment.strip()
            else _(
                "Someone else changed this application a moment ago. It is now “%(state)s”. "
                "Check their change below, then act again if you still need to."
            )
            % state
        )
    return _detail(
        request, application, posted=posted, conflict=message, kept_comment=comment, status=409
    )


@never_cache
@login_required
@require_POST
def message_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = _application_for_agent(request, application_id)
    form = MessageForm(request.POST, request.FILES, auto_id="id_message_%s")
    if form.is_valid():
        try:
            services.message_post(
                actor=request.user,
                application_id=application.pk,
                body=form.cleaned_data["body"],
                files=request.FILES.getlist("documents"),
                request=request,
            )
        except ValidationFailed as exc:
            if exc.fields and "files" in exc.fields:
                exc.fields["documents"] = exc.fields.pop("files")
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Your message has been sent."))
            return _back(application)
    return _detail(request, application, message_form=form, status=422)


@never_cache
@login_required
@require_POST
def assign_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = _application_for_agent(request, application_id)
    agents = service_agents_for(actor=request.user, application=application)
    data = request.POST.copy()
    if data.get("to_me"):
        data["assignee"] = str(request.user.pk)
    form = AssignForm(data, agents=agents)
    if form.is_valid():
        try:
            services.application_assign(
                actor=request.user,
                application_id=application.pk,
                assignee_id=form.cleaned_data["assignee"] or None,
                expected_lock_version=form.cleaned_data["expected_lock_version"],
                request=request,
            )
        except Conflict:
            return _conflict(request, application, "")
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("The assignment has been saved."))
            return _back(application)
    return _detail(request, application, assign_form=form, status=422)


@never_cache
@login_required
@require_POST
def attachment_verify_view(
    request: HttpRequest, application_id: UUID, attachment_id: UUID
) -> HttpResponse:
    application = _application_for_agent(request, application_id)
    # Only a file of this application, which the agent was just allowed to read.
    attachment = application.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound()
    services.attachment_verify(actor=request.user, attachment_id=attachment.pk, request=request)
    messages.success(
        request,
        _("“%(name)s” is marked as verified: nobody will ask the citizen for it again.")
        % {"name": attachment.original_name},
    )
    return _back(application)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def attachment_view(
    request: HttpRequest, application_id: UUID, attachment_id: UUID
) -> FileResponse:
    _require_agent(request)
    attachment = attachment_get_for(
        actor=request.user, attachment_id=attachment_id, request=request
    )
    if attachment.application_id != application_id or attachment.application.citizen_id == (
        request.user.pk
    ):
        raise NotFound()
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def decision_letter_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = _application_for_agent(request, application_id)
    workflow = definition_of(application.version).workflow
    if wf.state_outcome(workflow, application.state) not in ("accepted", "refused"):
        raise NotFound()
    try:
        from ville.procedures.documents import decision_letter_pdf
    except ImportError as exc:
        raise NotFound() from exc
    pdf = decision_letter_pdf(application, lang=_lang())
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"decision-{application.tracking_code or application.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- the counter ---------------------------------------------------------------------------


def _counter_start_form(
    request: HttpRequest, citizen: Any, data: Any = None
) -> tuple[CounterStartForm, list[Procedure]]:
    lang = _lang()
    procedures = [p for p in agent_procedures(actor=request.user) if p.is_active]
    titles, _workflows, _states = _procedure_labels(procedures, lang)
    members = list(citizen.household.members.all()) if citizen.household_id else []
    form = CounterStartForm(
        data,
        initial={"citizen": citizen.pk},
        procedures=[(p.slug, titles[p.pk]) for p in procedures if p.current_version_id],
        members=[(str(m.pk), f"{m.first_name} {m.last_name}") for m in members],
    )
    return form, procedures


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def counter_view(request: HttpRequest) -> HttpResponse:
    """Find the citizen (GET), open their record (POST `open`, audited with the reason
    "counter"), then start the application with them (POST `start`)."""
    _require_agent(request)
    context: dict[str, Any] = {"title": _("File an application for a citizen")}
    status = 200
    if request.method == "POST":
        try:
            citizen = citizen_get_for_agent(
                actor=request.user,
                user_id=request.POST.get("citizen", ""),
                reason=COUNTER_REASON,
                request=request,
            )
        except ValidationFailed as exc:
            raise NotFound() from exc
        if request.POST.get("action") == "start":
            form, _procedures = _counter_start_form(request, citizen, request.POST)
            if form.is_valid():
                try:
                    application = services.application_start(
                        actor=request.user,
                        procedure_slug=form.cleaned_data["procedure"],
                        beneficiary_id=form.cleaned_data["beneficiary"] or None,
                        channel=form.cleaned_data["channel"],
                        on_behalf_of=citizen,
                        request=request,
                    )
                except NotEligible as exc:
                    for explanation in exc.explanations:
                        form.add_error(None, explanation)
                except (ValidationFailed, PermissionDenied, NotFound) as exc:
                    if isinstance(exc, ValidationFailed):
                        add_domain_errors(form, exc)
                    else:
                        form.add_error("procedure", _("Choose a procedure of your service."))
                else:
                    return redirect(_resume_url(application))
            status = 422
        else:
            form, _procedures = _counter_start_form(request, citizen)
        context.update({"citizen": citizen, "start_form": form})
        return render(request, "procedures/agent/counter.html", context, status=status)

    search = CounterSearchForm(request.GET or None)
    results = None
    if search.is_bound and search.is_valid():
        results = citizens_find_for_agent(actor=request.user, query=search.cleaned_data["q"])
    context.update({"search_form": search, "results": results})
    return render(request, "procedures/agent/counter.html", context)


# --- counter drafts, step by step ------------------------------------------------------------


def _resume_url(application: Application) -> str:
    """Where a counter draft resumes: its first step not completed, or the final check."""
    step_ids = definition_of(application.version).step_ids
    if application.step >= len(step_ids):
        return reverse("procedures:agent_submit", kwargs={"application_id": application.pk})
    return reverse(
        "procedures:agent_step",
        kwargs={"application_id": application.pk, "step_id": step_ids[application.step]},
    )


def _counter_draft(request: HttpRequest, application_id: UUID) -> Application:
    """A draft this agent is filing at the counter; anything else is not found here."""
    application = _application_for_agent(request, application_id)
    if application.state != DRAFT or application.filed_by_id != request.user.pk:
        raise NotFound()
    return application


def _step_nav(application: Application, definition: Definition, lang: str) -> list[dict]:
    return [
        {
            "id": step_id,
            "title": str(text_in(definition.step(step_id)["title"], lang)),
            "done": index < application.step,
            "reachable": index <= application.step,
            "url": reverse(
                "procedures:agent_step",
                kwargs={"application_id": application.pk, "step_id": step_id},
            ),
        }
        for index, step_id in enumerate(definition.step_ids)
    ]


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def step_view(request: HttpRequest, application_id: UUID, step_id: str) -> HttpResponse:
    application = _counter_draft(request, application_id)
    lang = _lang()
    definition = definition_of(application.version)
    if step_id not in definition.step_ids:
        raise NotFound()
    index = definition.step_ids.index(step_id)
    if index > application.step:
        return redirect(_resume_url(application))
    ctx = context_for(
        citizen=application.citizen,
        beneficiary=application.beneficiary,
        data=application.data,
        today=timezone.localdate(),
    )
    form_class = step_form_class(definition, step_id, ctx=ctx, lang=lang)
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        try:
            application = services.application_save_step(
                actor=request.user,
                application_id=application.pk,
                step_id=step_id,
                data=request.POST,
                files=request.FILES,
                lang=lang,
                expected_lock_version=_int(request.POST.get("expected_lock_version")),
            )
        except NotEligible as exc:
            for explanation in exc.explanations:
                form.add_error(None, explanation)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        except ApplicationClosed:
            return _back(application)
        except ValidationFailed as exc:
            form.errors.clear()
            add_domain_errors(form, exc)
        else:
            step_ids = definition.step_ids
            if index + 1 < len(step_ids):
                return redirect(
                    "procedures:agent_step",
                    application_id=application.pk,
                    step_id=step_ids[index + 1],
                )
            return redirect("procedures:agent_submit", application_id=application.pk)
        status = 422
    else:
        form = form_class(initial=dict(application.data))
    fields = [
        {
            "field": form[name],
            "group": type(form.fields[name].widget).__name__.endswith(GROUP_WIDGETS),
            "prefilled": name in application.provenance,
        }
        for name in form.fields
    ]
    return render(
        request,
        "procedures/agent/step.html",
        {
            "title": str(text_in(definition.step(step_id)["title"], lang)),
            "application": application,
            "procedure_title": str(text_in(definition.title, lang)),
            "form": form,
            "fields": fields,
            "has_files": any(field.widget.needs_multipart_form for field in form.fields.values()),
            "steps": _step_nav(application, definition, lang),
            "step_number": index + 1,
            "step_count": len(definition.step_ids),
            "step_id": step_id,
        },
        status=status,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def submit_view(request: HttpRequest, application_id: UUID) -> HttpResponse:
    application = _counter_draft(request, application_id)
    lang = _lang()
    definition = definition_of(application.version)
    status = 200
    form = SubmitForm(request.POST or None, initial={"submission_key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_submit(
                actor=request.user,
                application_id=application.pk,
                submission_key=form.cleaned_data["submission_key"],
                lang=lang,
                request=request,
            )
        except NotEligible as exc:
            for explanation in exc.explanations:
                form.add_error(None, explanation)
        except ValidationFailed as exc:
            refusals = exc.fields or {"": [str(exc.message)]}
            for messages_of in refusals.values():
                for message in messages_of:
                    form.add_error(None, str(message))
        else:
            messages.success(
                request,
                _("Application filed. Give the citizen its tracking code: %(code)s.")
                % {"code": application.tracking_code},
            )
            return _back(application)
        status = 422
    return render(
        request,
        "procedures/agent/submit.html",
        {
            "title": _("Check and file the application"),
            "application": application,
            "procedure_title": str(text_in(definition.title, lang)),
            "answers": _answers(application, definition, lang),
            "steps": _step_nav(application, definition, lang),
            "form": form,
        },
        status=status,
    )


_APP = "agents/demandes/<uuid:application_id>/"

urlpatterns: list[URLPattern] = [
    path("agents/demandes/", queue_view, name="queue"),
    path(_APP, application_view, name="agent_application"),
    path(f"{_APP}action/", transition_view, name="agent_transition"),
    path(f"{_APP}message/", message_view, name="agent_message"),
    path(f"{_APP}attribution/", assign_view, name="agent_assign"),
    path(
        f"{_APP}pieces/<uuid:attachment_id>/",
        attachment_view,
        name="agent_attachment",
    ),
    path(
        f"{_APP}pieces/<uuid:attachment_id>/verifier/",
        attachment_verify_view,
        name="agent_attachment_verify",
    ),
    path(f"{_APP}decision.pdf", decision_letter_view, name="agent_decision_letter"),
    path(f"{_APP}etape/<slug:step_id>/", step_view, name="agent_step"),
    path(f"{_APP}envoyer/", submit_view, name="agent_submit"),
    path("agents/guichet/", counter_view, name="counter"),
]
