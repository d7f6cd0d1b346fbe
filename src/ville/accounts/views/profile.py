"""The citizen's own pages: profile (names, birth date, phone, address, language) and
household (partner and children, with undo after a removal)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ville.accounts.forms.profile import HouseholdMemberForm, ProfileForm, phone_display
from ville.accounts.models import HouseholdMember, User
from ville.accounts.selectors import (
    household_member_get_for,
    household_members_for,
    user_get_for,
)
from ville.accounts.services.profile import (
    household_member_add,
    household_member_remove,
    household_member_restore,
    household_member_update,
    profile_update,
)
from ville.core.errors import ValidationFailed
from ville.core.i18n import set_language_cookie
from ville.territory.forms import AddressPicker

# The last removed member is kept this long in the session so that "Undo" can bring it back.
UNDO_SECONDS = 5 * 60
UNDO_SESSION_KEY = "accounts.household_undo"


def add_domain_errors(
    form: forms.Form, exc: ValidationFailed, *, elsewhere: dict[str, Any] | None = None
) -> None:
    """Show a service's field errors on the form; `elsewhere` catches fields it lacks."""
    for name, msgs in exc.fields.items():
        if elsewhere is not None and name in elsewhere:
            elsewhere[name] = msgs
            continue
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)
    if not exc.fields:
        form.add_error(None, str(exc.message))


def age_label(birth_date: date | None) -> str:
    """ "4 months" for babies, "8 years" after; "" when the date is unknown."""
    if birth_date is None:
        return ""
    today = timezone.localdate()
    months = (today.year - birth_date.year) * 12 + today.month - birth_date.month
    months -= today.day < birth_date.day
    months = max(months, 0)
    if months < 24:
        return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    years = months // 12
    return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}


def _me(request: HttpRequest) -> User:
    # Views are behind login_required: the user has a key.
    return user_get_for(actor=request.user, user_id=str(request.user.pk))


# --- profile ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    data = request.POST if request.method == "POST" else None
    picker = AddressPicker(data, initial=user.address)
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "birth_date": user.birth_date,
        "phone": phone_display(user.phone),
        "preferred_language": user.preferred_language,
    }
    if data is not None and picker.is_search:
        # A search for an address keeps what was typed elsewhere, without judging it yet.
        form = ProfileForm(
            initial={**initial, **{k: data.get(k, "") for k in ProfileForm.base_fields}}
        )
    else:
        form = ProfileForm(data, initial=initial)

    if data is not None and not picker.is_search:
        form_valid = form.is_valid()
        if picker.is_valid() and form_valid:
            previous_language = user.preferred_language
            try:
                profile_update(
                    request=request,
                    actor=request.user,
                    user=user,
                    data={**form.cleaned_data, "address": picker.selected},
                )
            except ValidationFailed as exc:
                address_errors: dict[str, Any] = {"address": None}
                add_domain_errors(form, exc, elsewhere=address_errors)
                if address_errors["address"]:
                    picker.error = address_errors["address"][0]
            else:
                language = user.preferred_language
                if language != previous_language:
                    translation.activate(language)
                    request.LANGUAGE_CODE = language
                messages.success(request, _("Your profile has been saved."))
                response = redirect(reverse("accounts:profile"))
                if language != previous_language:
                    set_language_cookie(response, language)
                return response

    return render(
        request,
        "accounts/profile/profile.html",
        {"title": _("My profile"), "form": form, "picker": picker, "profile_user": user},
    )


# --- household ----------------------------------------------------------------------------


def _undo_pending(request: HttpRequest, user: User) -> dict[str, Any] | None:
    pending = request.session.get(UNDO_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    if pending.get("user") != str(user.pk) or pending.get("until", 0) < timezone.now().timestamp():
        del request.session[UNDO_SESSION_KEY]
        return None
    return pending


@login_required
@require_safe
def household_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    members = list(household_members_for(actor=request.user, user=user))
    rows = [{"member": member, "age": age_label(member.birth_date)} for member in members]
    undo = _undo_pending(request, user)
    return render(
        request,
        "accounts/profile/household.html",
        {
            "title": _("My household"),
            "rows": rows,
            "has_partner": any(m.relation == HouseholdMember.Relation.PARTNER for m in members),
            "undo": undo["snapshot"] if undo else None,
        },
    )


def _member_form_page(
    request: HttpRequest, form: HouseholdMemberForm, *, title: str, member: HouseholdMember | None
) -> HttpResponse:
    return render(
        request,
        "accounts/profile/member_form.html",
        {"title": title, "form": form, "member": member},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_add_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    preset = request.GET.get("relation")
    initial = {"relation": preset} if preset in HouseholdMember.Relation.values else {}
    data = request.POST if request.method == "POST" else None
    form = HouseholdMemberForm(data, initial=initial)
    if data is not None and form.is_valid():
        try:
            member = household_member_add(
                request=request, actor=request.user, user=user, **form.cleaned_data
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s has been added to your household.") % {"name": member.first_name},
            )
            return redirect("accounts:household")
    return _member_form_page(request, form, title=_("Add a person to your household"), member=None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_edit_view(request: HttpRequest, member_id: str) -> HttpResponse:
    member = household_member_get_for(actor=request.user, member_id=member_id)
    user = _me(request)
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date,
        "school": member.school.code if member.school else "",
    }
    data = request.POST if request.method == "POST" else None
    form = HouseholdMemberForm(data, initial=initial, relation=member.relation)
    if data is not None and form.is_valid():
        try:
            household_member_update(
                request=request,
                actor=request.user,
                user=user,
                member=member,
                data=form.cleaned_data,
            )
        except ValidationFailed as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("accounts:household")
    title = _("Edit the details of %(name)s") % {"name": member.first_name}
    return _member_form_page(request, form, title=title, member=member)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_remove_view(request: HttpRequest, member_id: str) -> HttpResponse:
    member = household_member_get_for(actor=request.user, member_id=member_id)
    if request.method != "POST":
        return render(
            request,
            "accounts/profile/member_remove.html",
            {
                "title": _("Remove %(name)s from your household?") % {"name": member.first_name},
                "member": member,
            },
        )
    user = _me(request)
    snapshot = household_member_remove(
        request=request, actor=request.user, user=user, member=member
    )
    request.session[UNDO_SESSION_KEY] = {
        "user": str(user.pk),
        "until": timezone.now().timestamp() + UNDO_SECONDS,
        "snapshot": snapshot,
    }
    return redirect("accounts:household")


@login_required
@require_POST
def member_undo_view(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    pending = _undo_pending(request, user)
    if pending is None:
        messages.error(request, _("It is too late to undo: please add the person again."))
        return redirect("accounts:household")
    del request.session[UNDO_SESSION_KEY]
    try:
        member = household_member_restore(
            request=request, actor=request.user, user=user, snapshot=pending["snapshot"]
        )
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(name)s is back in your household.") % {"name": member.first_name},
        )
    return redirect("accounts:household")
