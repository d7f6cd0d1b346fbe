"""Agents and staff reading a citizen's record: a reason first, then the record, read-only.

Each opening is written to the audit trail by `citizen_get_for_agent` with the reason.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ville.accounts.forms.profile import AgentReasonForm, phone_display
from ville.accounts.selectors import actor_is_agent, citizen_get_for_agent
from ville.accounts.views.profile import add_domain_errors, age_label
from ville.core.errors import NotFound, ValidationFailed


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agent_citizen_view(request: HttpRequest, user_id: UUID) -> HttpResponse:
    if not actor_is_agent(actor=request.user):
        # Citizens and helpers see the same 404 as for a page that does not exist.
        raise NotFound()
    form = AgentReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            citizen = citizen_get_for_agent(
                actor=request.user,
                user_id=user_id,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            members = list(citizen.household.members.all()) if citizen.household else []
            return render(
                request,
                "accounts/agent/citizen_record.html",
                {
                    "title": _("Record of %(name)s") % {"name": citizen},
                    "citizen": citizen,
                    "phone": phone_display(citizen.phone),
                    "rows": [{"member": m, "age": age_label(m.birth_date)} for m in members],
                    "reason": form.cleaned_data["reason"],
                },
            )
    return render(
        request,
        "accounts/agent/citizen_reason.html",
        {"title": _("Open a citizen's record"), "form": form, "user_id": user_id},
    )
