"""Permission-checked reads of people's data. The security boundary: views and the API
never fetch a citizen's data any other way."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ville.accounts.models import HouseholdMember, User
from ville.audit import events as audit
from ville.core.errors import NotFound, ValidationFailed

# An agent says why they open a citizen's record; the reason goes to the audit trail.
AGENT_REASON_MIN_LENGTH = 5
AGENT_REASON_MAX_LENGTH = 500


def _can_read(actor: Any, subject: User) -> bool:
    # Citizens read only themselves. Agents and administrators go through
    # `citizen_get_for_agent`, which records why they looked.
    return bool(actor is not None and actor.is_authenticated and actor.pk == subject.pk)


def user_get_for(*, actor: Any, user_id: UUID | str) -> User:
    """The account `user_id`, if `actor` may read it; NotFound otherwise (never 403,
    so that nobody can probe which accounts exist)."""
    user = (
        User.objects.select_related("address__street", "address__district", "household")
        .filter(pk=user_id)
        .first()
    )
    if user is None or not _can_read(actor, user):
        raise NotFound()
    return user


def household_members_for(*, actor: Any, user: User) -> QuerySet[HouseholdMember]:
    """The partner and children declared in `user`'s household, oldest first."""
    if not _can_read(actor, user):
        raise NotFound()
    if user.household_id is None:
        return HouseholdMember.objects.none()
    return (
        HouseholdMember.objects.filter(household_id=user.household_id)
        .exclude(user_id=user.pk)
        .select_related("school")
        .order_by("relation", "birth_date", "first_name")
    )


def _as_uuid(value: UUID | str) -> UUID:
    # A malformed id is just another id that does not exist.
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError as exc:
        raise NotFound() from exc


def household_member_get_for(*, actor: Any, member_id: UUID | str) -> HouseholdMember:
    """A partner or child of `actor`'s own household; NotFound for anyone else's."""
    if actor is None or not actor.is_authenticated or actor.household_id is None:
        raise NotFound()
    member = (
        HouseholdMember.objects.select_related("school")
        .filter(pk=_as_uuid(member_id), household_id=actor.household_id)
        .exclude(user_id=actor.pk)
        .first()
    )
    if member is None:
        raise NotFound()
    return member


def actor_is_agent(*, actor: Any) -> bool:
    """Agents (a role in a service) and staff may open citizens' records, with a reason."""
    if actor is None or not actor.is_authenticated:
        return False
    return bool(actor.is_staff or actor.is_superuser or actor.service_roles.exists())


def citizen_get_for_agent(
    *, actor: Any, user_id: UUID | str, reason: str, request: HttpRequest | None = None
) -> User:
    """A citizen's record (profile and household, prefetched) for an agent or staff member.

    Citizens and helpers get NotFound, as for any other account. Every read is audited
    with the reason the agent gave; without a reason nothing is read.
    """
    if not actor_is_agent(actor=actor):
        raise NotFound()
    reason = (reason or "").strip()
    if len(reason) < AGENT_REASON_MIN_LENGTH:
        raise ValidationFailed(
            fields={"reason": [_("Please say why you open this record (a few words).")]}
        )
    if len(reason) > AGENT_REASON_MAX_LENGTH:
        raise ValidationFailed(
            fields={
                "reason": [
                    _("Please use at most %(max)d characters.") % {"max": AGENT_REASON_MAX_LENGTH}
                ]
            }
        )
    subject_id = _as_uuid(user_id)
    members = (
        HouseholdMember.objects.exclude(user_id=subject_id)
        .select_related("school")
        .order_by("relation", "birth_date", "first_name")
    )
    user = (
        User.objects.select_related("address__street", "address__district", "household")
        .prefetch_related(Prefetch("household__members", queryset=members))
        .filter(pk=subject_id)
        .first()
    )
    if user is None:
        raise NotFound()
    audit.record_citizen_record_viewed(request=request, actor=actor, subject=user, reason=reason)
    return user
