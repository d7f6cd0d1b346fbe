"""The cards of the personal space that belong to no other domain: household and profile
completeness. Other domains register theirs from their own apps (see registry.py); the
applications card lives in `ville.procedures.providers`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ville.accounts.models import HouseholdMember
from ville.accounts.selectors import household_members_for
from ville.dashboard.registry import URGENCY_NONE, URGENCY_TODO, Card, card_provider


@card_provider(kind="household", order=10, title=gettext_lazy("My household"))
def household_card(*, user: Any, request: HttpRequest | None) -> Card:
    members = list(household_members_for(actor=user, user=user))
    household_url = reverse("accounts:household")
    card = Card(kind="household", title=_("My household"), urgency=URGENCY_NONE)
    if not members:
        card.status = "empty"
        if user.household_id is None:
            card.empty_message = _("You have not declared your household yet.")
            card.summary = _(
                "Declare your partner and children once: the city will use it to fill in "
                "your procedures for you."
            )
            card.actions = [{"label": _("Declare my household"), "url": household_url}]
        else:
            card.empty_message = _("Nobody else is declared in your household.")
            card.summary = _("If someone lives with you, add them so that they are counted.")
            card.actions = [{"label": _("Add a person"), "url": household_url}]
        return card

    today = timezone.localdate()
    card.items = [_member_item(member, today=today) for member in members]
    children = sum(1 for m in members if m.relation == HouseholdMember.Relation.CHILD)
    has_partner = any(m.relation == HouseholdMember.Relation.PARTNER for m in members)
    card.summary = _household_summary(has_partner=has_partner, children=children)
    card.actions = [{"label": _("Manage my household"), "url": household_url}]
    return card


def _member_item(member: HouseholdMember, *, today: date) -> dict[str, Any]:
    """One person of the household; `age_months` counts all months since birth."""
    years, months = _age(member.birth_date, today=today)
    school = member.school
    return {
        "id": str(member.pk),
        "label": f"{member.first_name} {member.last_name}".strip(),
        "relation": member.relation,
        "relation_label": str(member.get_relation_display()),
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "age_years": years,
        "age_months": months,
        "age_label": _age_label(years, months),
        "school": (
            {
                "name": school.name,
                "level": school.level,
                "level_label": str(school.get_level_display()),
            }
            if school is not None
            else None
        ),
        "url": reverse("accounts:member_edit", kwargs={"member_id": member.pk}),
    }


def _age(birth_date: date | None, *, today: date) -> tuple[int | None, int | None]:
    """Completed years and completed months since birth (None when unknown)."""
    if birth_date is None or birth_date > today:
        return None, None
    months = (today.year - birth_date.year) * 12 + today.month - birth_date.month
    if today.day < birth_date.day:
        months -= 1
    return months // 12, months


def _age_label(years: int | None, months: int | None) -> str:
    if years is None or months is None:
        return ""
    # Babies are counted in months, as parents and crèches do.
    if years < 1:
        return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}


def _household_summary(*, has_partner: bool, children: int) -> str:
    if has_partner and children:
        return ngettext(
            "You, your partner and %(count)d child.",
            "You, your partner and your %(count)d children.",
            children,
        ) % {"count": children}
    if children:
        return ngettext(
            "You and %(count)d child.", "You and your %(count)d children.", children
        ) % {"count": children}
    return _("You and your partner.")


@card_provider(kind="profile_completeness", order=20, title=gettext_lazy("My profile"))
def profile_completeness_card(*, user: Any, request: HttpRequest | None) -> Card:
    profile_url = reverse("accounts:profile")
    # (key, what is missing, done?, where to fix it). Only fields already loaded with the
    # user: this card must not cost a query.
    checks = [
        (
            "name",
            _("Your first and last name"),
            bool(user.first_name.strip() and user.last_name.strip()),
            f"{profile_url}#id_first_name",
        ),
        (
            "birth_date",
            _("Your birth date"),
            user.birth_date is not None,
            f"{profile_url}#id_birth_date",
        ),
        ("phone", _("Your phone number"), bool(user.phone.strip()), f"{profile_url}#id_phone"),
        ("address", _("Your address"), user.address_id is not None, profile_url),
        (
            "preferred_language",
            _("Your preferred language"),
            bool(user.preferred_language),
            f"{profile_url}#id_preferred_language",
        ),
        (
            "email_verified",
            _("Confirm your e-mail address"),
            user.email_verified_at is not None,
            profile_url,
        ),
        (
            "household",
            _("Declare your household"),
            user.household_id is not None,
            reverse("accounts:household"),
        ),
    ]
    done = sum(1 for _key, _label, ok, _url in checks if ok)
    percent = round(100 * done / len(checks))
    card = Card(
        kind="profile_completeness",
        title=_("My profile"),
        items=[
            {"field": key, "label": label, "url": url} for key, label, ok, url in checks if not ok
        ],
        data={"percent": percent, "completed": done, "total": len(checks)},
        actions=[{"label": _("Edit my profile"), "url": profile_url}],
    )
    if done == len(checks):
        card.summary = _("Your profile is complete.")
    else:
        card.summary = _("Your profile is %(percent)d%% complete.") % {"percent": percent}
        # Missing information blocks pre-filled procedures: put this card first.
        card.urgency = URGENCY_TODO
    return card
