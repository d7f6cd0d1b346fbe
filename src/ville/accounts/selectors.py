"""Permission-checked reads of people's data. The security boundary: views and the API
never fetch a citizen's data any other way."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from ville.accounts.models import HouseholdMember, User
from ville.core.errors import NotFound


def _can_read(actor: Any, subject: User) -> bool:
    # Citizens read only themselves. Agents and administrators go through
    # `citizen_get_for_agent`, which records why they looked.
    return bool(actor is not None and actor.is_authenticated and actor.pk == subject.pk)


def user_get_for(*, actor: Any, user_id: UUID | str) -> User:
    """The account `user_id`, if `actor` may read it; NotFound otherwise (never 403,
    so that nobody can probe which accounts exist)."""
    user = User.objects.select_related("address__street", "household").filter(pk=user_id).first()
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
