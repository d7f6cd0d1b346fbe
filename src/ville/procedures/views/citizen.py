"""Citizen pages of online procedures: catalogue, start, step-by-step form, review and
submission, the application page with its live timeline, "my applications", lookup by code."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ville.accounts.services.profile import profile_update
from ville.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from ville.procedures import workflow as wf
from ville.procedures.conditions import context_for, visible_fields
from ville.procedures.definitions import Definition, definition_of, text_in
from ville.procedures.documents import (
    answers_by_step,
    decision_letter_pdf,
    pdf_language,
    receipt_pdf,
    state_citizen_text,
    state_label,
    tracking_code_display,
)
from ville.procedures.errors import Conflict, NotEligible
from ville.procedures.fields import household_members, step_form_class, step_validate
from ville.procedures.forms_citizen import (
    NO_BENEFICIARY,
    FindForm,
    MessageForm,
    SearchForm,
    StartForm,
    WithdrawForm,
)
from ville.procedures.models import DRAFT, Application, ApplicationEvent, Attachment, Procedure
from ville.procedures.prefill import prefill_for
from ville.procedures.selectors import (
    application_find_by_code,
    application_get_for,
    applications_of,
    attachment_get_for,
    messages_for,
    timeline_for,
)
from ville.procedures.services import (
    application_save_step,
    application_start,
    application_submit,
    application_transition,
    application_withdraw,
    message_post,
)
from ville.territory.models import Address

PROVIDE_INFO = "provide_info"
WITHDRAW = "withdraw"
# Profile fields a corrected prefilled answer may be written back to (`profile.<name>`).
PROFILE_SOURCES = {
    "profile.first_name": "first_name",
    "profile.last_name": "last_name",
    "profile.birth_date": "birth_date",
    "profile.phone": "phone",
    "profile.address": "address",
}
POLL_SECONDS = 15
# `message_post` names the files "files"; the forms call them "documents".
MESSAGE_FIELDS = {"files": "documents"}


def _lang() -> str:
    return (translation.get_language() or "fr").split("-")[0]


def _fold(text: str) -> str:
    """Lower case without accents: "ecole" finds "École"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _form_errors(
    form: forms.Form, exc: DomainError, *, aliases: dict[str, str] | None = None
) -> None:
    """A service's refusal shown on the form: per field where it has one, at the top else.
    `aliases` maps a service's field name to the form's."""
    for name, msgs in exc.fields.items():
        name = (aliases or {}).get(name, name)
        for msg in msgs:
            form.add_error(name if name in form.fields else None, str(msg))
    if not exc.fields:
        form.add_error(None, str(exc.message))


# --- catalogue and start ---------------------------------------------------------------------


def _online_procedures() -> list[Procedure]:
    # Public data (titles, summaries): no personal read, so no selector needed.
    return list(
        Procedure.objects.filter(is_active=True, current_version__isnull=False).select_related(
            "current_version", "service"
        )
    )


def _procedure_entry(procedure: Procedure, lang: str) -> dict[str, Any]:
    assert procedure.current_version is not None
    definition = definition_of(procedure.current_version)
    title = text_in(definition.title, lang)
    summary = text_in(definition.summary, lang)
    return {
        "slug": procedure.slug,
        "title": title,
        "summary": summary,
        "service": str(text_in(procedure.service.name, lang)) or procedure.service.code,
        "definition": definition,
    }


@require_safe
def catalogue_view(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    entries = [_procedure_entry(procedure, lang) for procedure in _online_procedures()]
    if query:
        wanted = _fold(query)
        entries = [entry for entry in entries if wanted in _fold(str(entry["title"]))]
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in sorted(entries, key=lambda item: (_fold(item["service"]), _fold(item["title"]))):
        groups.setdefault(entry["service"], []).append(entry)
    return render(
        request,
        "procedures/citizen/catalogue.html",
        {
            "title": _("Online procedures"),
            "form": form,
            "query": query,
            "groups": groups,
            "count": len(entries),
        },
    )


def _procedure_or_404(slug: str) -> Procedure:
    procedure = (
        Procedure.objects.filter(slug=slug, is_active=True, current_version__isnull=False)
        .select_related("current_version", "service")
        .first()
    )
    if procedure is None:
        raise Http404()
    return procedure


def _start_form(
    request: HttpRequest, definition: Definition, lang: str, data: Any = None
) -> StartForm | None:
    spec = definition.beneficiary
    if spec is None or spec.get("relation") == "self" or not request.user.is_authenticated:
        return None
    members = household_members(citizen=request.user, relation=spec.get("relation", "member"))  # type: ignore[arg-type]
    choices = [(str(member.pk), f"{member.first_name} {member.last_name}") for member in members]
    if not spec.get("required", True):
        choices.append((NO_BENEFICIARY, str(text_in(spec.get("none_label"), lang)) or _("Nobody")))
    return StartForm(data, label=str(text_in(spec.get("label"), lang)), choices=choices)


def _step_url(application: Application, step_id: str) -> str:
    return reverse("procedures:step", kwargs={"application_id": application.pk, "step_id": step_id})


def _resume_url(application: Application) -> str:
    """Where a draft picks up: the first step not yet completed, or the review."""
    if application.state != DRAFT:
        return reverse("procedures:application", kwargs={"application_id": application.pk})
    step_ids = definition_of(application.version).step_ids
    if application.step >= len(step_ids):
        return reverse("procedures:review", kwargs={"application_id": application.pk})
    return _step_url(application, step_ids[application.step])


@require_http_methods(["GET", "HEAD", "POST"])
def detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _procedure_or_404(slug)
    lang = _lang()
    entry = _procedure_entry(procedure, lang)
    definition: Definition = entry["definition"]
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.path)
    form = _start_form(
        request, definition, lang, request.POST if request.method == "POST" else None
    )
    not_eligible: list[str] = []
    status = 200
    if request.method == "POST" and (form is None or form.is_valid()):
        chosen = form.cleaned_data["beneficiary"] if form is not None else None
        try:
            application = application_start(
                actor=request.user,
                procedure_slug=procedure.slug,
                beneficiary_id=None if chosen in (None, NO_BENEFICIARY) else chosen,
                request=request,
            )
        except NotEligible as exc:
            not_eligible, status = exc.explanations, 422
        except ValidationFailed as exc:
            status = 422
            if form is not None:
                _form_errors(form, exc)
            else:
                messages.error(request, str(exc.message))
        else:
            return redirect(_resume_url(application))
    elif request.method == "POST":
        status = 422
    documents = [
        {"label": text_in(doc["label"], lang), "help": text_in(doc.get("help"), lang)}
        for doc in definition.documents
    ]
    return render(
        request,
        "procedures/citizen/detail.html",
        {
            "title": entry["title"],
            "entry": entry,
            "documents": documents,
            "eligibility": [text_in(rule["explanation"], lang) for rule in definition.eligibility],
            "steps": [text_in(step.get("title"), lang) for step in definition.steps],
            "form": form,
            "not_eligible": not_eligible,
            "login_url": f"{reverse('accounts:login')}?next={request.path}",
        },
        status=status,
    )


# --- the form, step by step ------------------------------------------------------------------


def _own_application(request: HttpRequest, application_id: Any) -> Application:
    """The applicant's own application: an agent's view of it lives in the back office."""
    application = application_get_for(
        actor=request.user, application_id=application_id, request=request
    )
    if application.citizen_id != request.user.pk:
        raise NotFound()
    return application


def _own_draft(request: HttpRequest, application_id: Any) -> Application | HttpResponse:
    application = _own_application(request, application_id)
    if application.state != DRAFT:
        return redirect("procedures:application", application_id=application.pk)
    return application


def _provenance(
    application: Application, definition: Definition, lang: str
) -> dict[str, dict[str, Any]]:
    """Per prefilled field: where the value came from, and whether it was corrected."""
    labels = {
        name: item.label
        for name, item in prefill_for(
            definition=definition,
            citizen=application.citizen,
            beneficiary=application.beneficiary,
            lang=lang,
        ).items()
    }
    result = {}
    for name, origin in (application.provenance or {}).items():
        label = labels.get(name)
        if label:
            result[name] = {"label": label, "corrected": bool(origin.get("corrected"))}
    return result


def _stored_files(application: Application) -> dict[str, Attachment]:
    wanted = {str(value) for value in application.data.values() if isinstance(value, str)}
    return {
        attachment.field_name: attachment
        for attachment in application.attachments.filter(message__isnull=True)
        if str(attachment.pk) in wanted
    }


def _rows(
    form: forms.Form, provenance: dict[str, dict[str, Any]], application: Application
) -> list[dict[str, Any]]:
    """Each field with how to lay it out, where its value comes from, its stored file."""
    stored = _stored_files(application)
    rows = []
    for field in form:
        kind = getattr(field.field, "ville_type", "")
        widget = field.field.widget
        group = isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
        rows.append(
            {
                "field": field,
                "group": group,
                "kind": kind,
                "source": provenance.get(field.name),
                "stored": stored.get(field.name) if kind == "file" else None,
            }
        )
    return rows


def _step_context(
    request: HttpRequest,
    application: Application,
    definition: Definition,
    step_id: str,
    form: forms.Form,
    lang: str,
) -> dict[str, Any]:
    step_ids = definition.step_ids
    index = step_ids.index(step_id)
    step = definition.step(step_id)
    previous = (
        _step_url(application, step_ids[index - 1])
        if index
        else reverse("procedures:detail", kwargs={"slug": application.procedure.slug})
    )
    return {
        "title": text_in(step.get("title"), lang),
        "procedure_title": text_in(definition.title, lang),
        "application": application,
        "step_id": step_id,
        "step_help": text_in(step.get("help"), lang),
        "step_number": index + 1,
        "step_count": len(step_ids),
        "form": form,
        "rows": _rows(form, _provenance(application, definition, lang), application),
        "has_files": any(field["type"] == "file" for field in definition.fields(step_id)),
        "previous_url": previous,
        "language_fallback": getattr(form, "language_fallback", False),
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def step_view(request: HttpRequest, application_id: uuid.UUID, step_id: str) -> HttpResponse:
    found = _own_draft(request, application_id)
    if isinstance(found, HttpResponse):
        return found
    application = found
    definition = definition_of(application.version)
    if step_id not in definition.step_ids:
        raise Http404()
    index = definition.step_ids.index(step_id)
    if index > application.step:
        # Steps are filled in order: an address typed ahead goes back to the one to do.
        return redirect(_resume_url(application))
    lang = _lang()
    ctx = context_for(
        citizen=application.citizen,
        beneficiary=application.beneficiary,
        data=application.data,
        today=timezone.localdate(),
    )
    shown_before = [field["name"] for field in visible_fields(definition, step_id, ctx)]
    if request.method != "POST":
        form_class = step_form_class(definition, step_id, ctx=ctx, lang=lang)
        initial = {name: value for name, value in application.data.items() if name in shown_before}
        form = form_class(initial=initial)
        return render(
            request,
            "procedures/citizen/step.html",
            _step_context(request, application, definition, step_id, form, lang),
        )

    try:
        expected = int(request.POST.get("lock_version", ""))
    except ValueError:
        expected = None
    try:
        application = application_save_step(
            actor=request.user,
            application_id=application.pk,
            step_id=step_id,
            data=request.POST,
            files=request.FILES,
            lang=lang,
            expected_lock_version=expected,
        )
    except DomainError as exc:
        return _step_refused(request, application, definition, step_id, exc, lang)

    ctx = ctx.with_data(application.data)
    shown_now = [field["name"] for field in visible_fields(definition, step_id, ctx)]
    if set(shown_now) - set(shown_before):
        # An answer opened follow-up questions on this same step: ask them before moving on.
        messages.info(request, _("Your answers are saved. Please answer the new questions below."))
        return redirect(_step_url(application, step_id))
    if request.POST.get("action") == "later":
        messages.success(
            request,
            _("Your draft is saved. You can take it up again from “My applications”."),
        )
        return redirect("procedures:my_applications")
    if index + 1 < len(definition.step_ids):
        return redirect(_step_url(application, definition.step_ids[index + 1]))
    return redirect("procedures:review", application_id=application.pk)


def _step_refused(
    request: HttpRequest,
    application: Application,
    definition: Definition,
    step_id: str,
    exc: DomainError,
    lang: str,
) -> HttpResponse:
    """The step again, with what was typed and the service's reasons. The form shows the
    fields the posted answers make visible (a follow-up question appears with its error)."""
    cleaned, _errors = step_validate(
        definition=definition,
        step_id=step_id,
        data=request.POST,
        files={},
        ctx=context_for(
            citizen=application.citizen,
            beneficiary=application.beneficiary,
            data=application.data,
            today=timezone.localdate(),
        ),
        lang=lang,
    )
    ctx = context_for(
        citizen=application.citizen,
        beneficiary=application.beneficiary,
        data={**application.data, **cleaned},
        today=timezone.localdate(),
    )
    form = step_form_class(definition, step_id, ctx=ctx, lang=lang)(data=request.POST)
    form.is_valid()
    # The service's judgement is the one shown (it also checks file contents, eligibility).
    form.errors.clear()
    if isinstance(exc, Conflict):
        form.add_error(None, str(exc.message))
    elif isinstance(exc, NotEligible):
        for text in exc.explanations:
            form.add_error(None, text)
    else:
        _form_errors(form, exc)
    context = _step_context(request, application, definition, step_id, form, lang)
    context["files_lost"] = bool(request.FILES)
    return render(request, "procedures/citizen/step.html", context, status=422)


# --- review and submission -------------------------------------------------------------------


def _profile_offers(application: Application, lang: str) -> list[dict[str, Any]]:
    """Corrected answers that came from the profile: the citizen may copy them back."""
    definition = definition_of(application.version)
    offers = []
    answers = {
        answer.name: answer
        for step in answers_by_step(application, lang=lang)
        for answer in step.answers
    }
    for name, origin in (application.provenance or {}).items():
        profile_field = PROFILE_SOURCES.get(str(origin.get("source")))
        if not profile_field or not origin.get("corrected") or name not in answers:
            continue
        if application.data.get(name) in (None, ""):
            continue
        offers.append(
            {
                "name": name,
                "profile_field": profile_field,
                "label": text_in(definition.field(name)["label"], lang),
                "text": answers[name].text,
            }
        )
    return offers


def _profile_value(profile_field: str, value: Any) -> Any:
    if profile_field == "birth_date":
        return dt.date.fromisoformat(str(value))
    if profile_field == "address":
        address = Address.objects.filter(pk=value).first()
        if address is None:
            raise ValidationFailed()
        return address
    return value


def _update_profile(request: HttpRequest, application: Application, wanted: list[str]) -> None:
    offers = {offer["name"]: offer for offer in _profile_offers(application, _lang())}
    data: dict[str, Any] = {}
    for name in wanted:
        offer = offers.get(name)
        if offer is None:
            continue
        try:
            data[offer["profile_field"]] = _profile_value(
                offer["profile_field"], application.data.get(name)
            )
        except (ValueError, ValidationFailed):
            continue
    if not data:
        return
    try:
        profile_update(request=request, actor=request.user, user=request.user, data=data)  # type: ignore[arg-type]
    except ValidationFailed:
        messages.warning(
            request, _("Your profile could not be updated with these values; please check it.")
        )
    else:
        messages.success(request, _("Your profile has been updated."))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    lang = _lang()
    errors: dict[str, list[str]] = {}
    message = ""
    if request.method == "POST":
        try:
            key = uuid.UUID(request.POST.get("submission_key", ""))
        except ValueError:
            key = None
        if key is None:
            message = _("The form was incomplete. Please submit it again.")
        else:
            wanted = request.POST.getlist("update_profile")
            try:
                application = application_submit(
                    actor=request.user,
                    application_id=application.pk,
                    submission_key=key,
                    lang=lang,
                    request=request,
                )
            except ValidationFailed as exc:
                errors, message = exc.fields, str(exc.message)
            except DomainError as exc:
                if application.state != DRAFT:
                    messages.error(request, str(exc.message))
                    return redirect("procedures:application", application_id=application.pk)
                message = str(exc.message)
                if isinstance(exc, NotEligible):
                    errors = {"eligibility": exc.explanations}
            else:
                if wanted:
                    _update_profile(request, application, wanted)
                return redirect("procedures:confirmation", application_id=application.pk)
    elif application.state != DRAFT:
        return redirect("procedures:application", application_id=application.pk)
    definition = definition_of(application.version)
    if application.step < len(definition.step_ids) and not errors:
        return redirect(_resume_url(application))
    steps = answers_by_step(application, lang=lang)
    step_titles = {step.step_id: step.title for step in steps}
    problems = [
        {
            "text": msg,
            "url": _step_url(application, name) if name in step_titles else "",
        }
        for name, msgs in errors.items()
        for msg in msgs
    ]
    return render(
        request,
        "procedures/citizen/review.html",
        {
            "title": _("Check your answers"),
            "procedure_title": text_in(definition.title, lang),
            "application": application,
            "steps": steps,
            "offers": _profile_offers(application, lang),
            "submission_key": uuid.uuid4(),
            "message": message,
            "problems": problems,
            "provenance": application.provenance or {},
        },
        status=422 if message else 200,
    )


@login_required
@require_safe
def confirmation_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    if application.state == DRAFT:
        return redirect(_resume_url(application))
    lang = _lang()
    definition = definition_of(application.version)
    return render(
        request,
        "procedures/citizen/confirmation.html",
        {
            "title": _("Your application has been sent"),
            "procedure_title": text_in(definition.title, lang),
            "application": application,
            "code": tracking_code_display(application.tracking_code),
            "state_label": state_label(application, lang=lang),
            "citizen_text": state_citizen_text(application, lang=lang),
            "pdf_in_french": pdf_language(lang) != lang,
        },
    )


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def receipt_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    if application.state == DRAFT:
        raise Http404()
    content = receipt_pdf(application, lang=_lang())
    return _pdf_response(content, f"receipt-{application.tracking_code}.pdf")


@login_required
@require_safe
def decision_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    workflow = definition_of(application.version).workflow
    if not wf.state_is_final(workflow, application.state) or wf.state_outcome(
        workflow, application.state
    ) not in ("accepted", "refused"):
        raise Http404()
    content = decision_letter_pdf(application, lang=_lang())
    return _pdf_response(content, f"decision-{application.tracking_code}.pdf")


# --- the application page --------------------------------------------------------------------


def _timeline(events: Any, application: Application, lang: str, *, comments: bool) -> list[dict]:
    workflow = definition_of(application.version).workflow
    entries = []
    for event in events:
        state = ""
        if event.to_state and event.to_state != event.from_state:
            state = (
                _("Draft")
                if event.to_state == DRAFT
                else str(text_in(wf.state_info(workflow, event.to_state).get("label"), lang))
            )
        entries.append(
            {
                "kind": event.get_kind_display(),
                "state": state,
                "at": event.created_at,
                "by_service": event.actor_role != ApplicationEvent.Role.CITIZEN,
                "comment": event.comment if comments else "",
            }
        )
    return entries


def _application_context(
    request: HttpRequest,
    application: Application,
    *,
    message_form: MessageForm | None = None,
    provide_form: MessageForm | None = None,
) -> dict[str, Any]:
    lang = _lang()
    definition = definition_of(application.version)
    workflow = definition.workflow
    moves = {
        str(move["name"]): move
        for move in wf.transitions_for(workflow, state=application.state, role=wf.CITIZEN)
    }
    thread = list(messages_for(actor=request.user, application=application))
    final = wf.state_is_final(workflow, application.state)
    return {
        "title": text_in(definition.title, lang),
        "application": application,
        "code": tracking_code_display(application.tracking_code),
        "state_label": state_label(application, lang=lang),
        "citizen_text": state_citizen_text(application, lang=lang),
        "timeline": _timeline(
            timeline_for(actor=request.user, application=application),
            application,
            lang,
            comments=True,
        ),
        "waiting": wf.state_is_waiting_citizen(workflow, application.state),
        "can_provide": PROVIDE_INFO in moves,
        "can_withdraw": WITHDRAW in moves,
        "final": final,
        "decision_letter": final
        and wf.state_outcome(workflow, application.state) in ("accepted", "refused"),
        "thread": thread,
        "message_form": message_form or MessageForm(prefix="message"),
        "provide_form": provide_form or MessageForm(prefix="provide"),
        "poll_seconds": POLL_SECONDS,
    }


@login_required
@require_safe
def application_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    if application.state == DRAFT:
        return redirect(_resume_url(application))
    if request.GET.get("fragment") == "timeline":
        entries = _timeline(
            timeline_for(actor=request.user, application=application),
            application,
            _lang(),
            comments=True,
        )
        response = render(
            request,
            "procedures/citizen/includes/timeline.html",
            {
                "timeline": entries,
                "state_label": state_label(application, lang=_lang()),
                "application": application,
            },
        )
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "procedures/citizen/application.html",
        _application_context(request, application),
    )


def _files(request: HttpRequest, prefix: str) -> list[Any]:
    return [file for file in request.FILES.getlist(f"{prefix}-documents") if file]


@login_required
@require_POST
def message_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    form = MessageForm(request.POST, prefix="message")
    form.is_valid()
    try:
        message_post(
            actor=request.user,
            application_id=application.pk,
            body=request.POST.get("message-body", ""),
            files=_files(request, "message"),
            request=request,
        )
    except DomainError as exc:
        form.errors.clear()
        # Files refused by content come back under "files"; the body is kept as typed.
        _form_errors(form, exc, aliases=MESSAGE_FIELDS)
        context = _application_context(request, application, message_form=form)
        return render(request, "procedures/citizen/application.html", context, status=422)
    messages.success(request, _("Your message has been sent."))
    return redirect("procedures:application", application_id=application.pk)


@login_required
@require_POST
def provide_info_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """The answer to "please complete": an optional message and files, then the application
    goes back to the service, in one click."""
    application = _own_application(request, application_id)
    form = MessageForm(request.POST, prefix="provide")
    form.is_valid()
    try:
        expected = int(request.POST.get("lock_version", ""))
    except ValueError:
        expected = -1
    body = request.POST.get("provide-body", "")
    files = _files(request, "provide")
    try:
        if expected != application.lock_version:
            raise Conflict()
        if body.strip() or files:
            message_post(
                actor=request.user,
                application_id=application.pk,
                body=body,
                files=files,
                request=request,
            )
        application_transition(
            actor=request.user,
            application_id=application.pk,
            transition=PROVIDE_INFO,
            expected_lock_version=expected,
            request=request,
        )
    except DomainError as exc:
        form.errors.clear()
        _form_errors(form, exc, aliases=MESSAGE_FIELDS)
        context = _application_context(request, application, provide_form=form)
        status = 409 if isinstance(exc, Conflict) else 422
        return render(request, "procedures/citizen/application.html", context, status=status)
    messages.success(request, _("Thank you. Your application is back with the service."))
    return redirect("procedures:application", application_id=application.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw_view(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    application = _own_application(request, application_id)
    if application.state == DRAFT:
        return redirect(_resume_url(application))
    workflow = definition_of(application.version).workflow
    allowed = any(
        move["name"] == WITHDRAW
        for move in wf.transitions_for(workflow, state=application.state, role=wf.CITIZEN)
    )
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and allowed and form.is_valid():
        try:
            expected = int(request.POST.get("lock_version", ""))
        except ValueError:
            expected = -1
        try:
            application_withdraw(
                actor=request.user,
                application_id=application.pk,
                expected_lock_version=expected,
                comment=form.cleaned_data["comment"],
                request=request,
            )
        except DomainError as exc:
            _form_errors(form, exc)
            status = exc.status if exc.status in (409, 422) else 422
        else:
            messages.success(request, _("Your application has been withdrawn."))
            return redirect("procedures:application", application_id=application.pk)
    return render(
        request,
        "procedures/citizen/withdraw.html",
        {
            "title": _("Withdraw your application"),
            "application": application,
            "procedure_title": text_in(definition_of(application.version).title, _lang()),
            "code": tracking_code_display(application.tracking_code),
            "allowed": allowed,
            "form": form,
        },
        status=status,
    )


@login_required
@require_safe
def attachment_view(
    request: HttpRequest, application_id: uuid.UUID, attachment_id: uuid.UUID
) -> FileResponse:
    application = _own_application(request, application_id)
    attachment = attachment_get_for(
        actor=request.user, attachment_id=attachment_id, request=request
    )
    if attachment.application_id != application.pk:
        raise NotFound()
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404() from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- my applications and lookup --------------------------------------------------------------


@login_required
@require_safe
def my_applications_view(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = applications_of(actor=request.user, query=query, page=request.GET.get("page", 1))
    rows = []
    for application in page.object_list:
        definition = definition_of(application.version)
        rows.append(
            {
                "application": application,
                "title": text_in(definition.title, lang),
                "state_label": state_label(application, lang=lang),
                "code": tracking_code_display(application.tracking_code),
                "url": _resume_url(application),
                "draft": application.state == DRAFT,
            }
        )
    return render(
        request,
        "procedures/citizen/my_applications.html",
        {
            "title": _("My applications"),
            "form": form,
            "query": query,
            "page": page,
            "rows": rows,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def find_view(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            application = application_find_by_code(
                tracking_code=form.cleaned_data["tracking_code"],
                email=form.cleaned_data["email"],
                request=request,
            )
        except RateLimited as exc:
            form.add_error(None, str(exc.message))
            status = 429
        except NotFound:
            # One message whatever did not match: nothing can be learnt by trying.
            form.add_error(
                None,
                _(
                    "We found no application with this tracking code and this e-mail "
                    "address. Check both, or ask at a help point."
                ),
            )
            status = 404
        else:
            return _found(request, application)
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "procedures/citizen/find.html",
        {"title": _("Find an application"), "form": form},
        status=status,
    )


def _found(request: HttpRequest, application: Application) -> HttpResponse:
    """The status of an application found by code: its state and timeline, nothing the
    citizen wrote nor any comment (the person at the counter may not be the applicant)."""
    lang = _lang()
    definition = definition_of(application.version)
    events = application.events.filter(visible_to_citizen=True).order_by("created_at", "id")
    response = render(
        request,
        "procedures/citizen/found.html",
        {
            "title": _("Status of the application"),
            "procedure_title": text_in(definition.title, lang),
            "application": application,
            "code": tracking_code_display(application.tracking_code),
            "state_label": state_label(application, lang=lang),
            "citizen_text": state_citizen_text(application, lang=lang),
            "timeline": _timeline(events, application, lang, comments=False),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


APPLICATION = "mes-demandes/<uuid:application_id>/"

urlpatterns = [
    path("demarches/", catalogue_view, name="catalogue"),
    path("demarches/<slug:slug>/", detail_view, name="detail"),
    path("mes-demandes/", my_applications_view, name="my_applications"),
    path(APPLICATION, application_view, name="application"),
    path(APPLICATION + "etape/<slug:step_id>/", step_view, name="step"),
    path(APPLICATION + "verifier/", review_view, name="review"),
    path(APPLICATION + "confirmation/", confirmation_view, name="confirmation"),
    path(APPLICATION + "recu.pdf", receipt_view, name="receipt"),
    path(APPLICATION + "decision.pdf", decision_view, name="decision_letter"),
    path(APPLICATION + "message/", message_view, name="message"),
    path(APPLICATION + "complement/", provide_info_view, name="provide_info"),
    path(APPLICATION + "retirer/", withdraw_view, name="withdraw"),
    path(APPLICATION + "pieces/<uuid:attachment_id>/", attachment_view, name="attachment"),
    path("suivi/", find_view, name="find"),
]
