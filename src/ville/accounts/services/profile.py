"""Writes of a citizen's own profile and household, shared by the pages and `/api/v1/me`.

Forms check the syntax of what was typed; these services check what it means, write, audit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ville.accounts.models import Household, HouseholdMember, User, age_on
from ville.audit import events as audit
from ville.core.errors import NotFound, ValidationFailed
from ville.territory.models import Address, School

NAME_MAX_LENGTH = 150
OLDEST_AGE = 130
# Older "children" are adults of the household, declared as such once that exists.
CHILD_MAX_AGE = 25
PARTNER_MIN_AGE = 16
# Far above any real household; stops a script from filling a household with rows.
HOUSEHOLD_MAX_MEMBERS = 20

PROFILE_FIELDS = ("first_name", "last_name", "birth_date", "phone", "address", "preferred_language")
MEMBER_FIELDS = ("first_name", "last_name", "birth_date", "school")


# --- checks shared by the profile and the household --------------------------------------


def _require_self(actor: Any, user: User) -> None:
    # Only the citizen writes their own record; agents read it through
    # `citizen_get_for_agent` and never edit it here.
    if actor is None or not actor.is_authenticated or actor.pk != user.pk:
        raise NotFound()


def _birth_date_errors(birth_date: date | None, *, today: date) -> list[str]:
    if birth_date is None:
        return []
    if birth_date > today:
        return [_("A birth date cannot be in the future.")]
    age = age_on(birth_date, today)
    if age is not None and age > OLDEST_AGE:
        return [
            _("Please check the year: this date would make the person older than %(age)d.")
            % {"age": OLDEST_AGE}
        ]
    return []


def _name_errors(value: Any, *, required: bool) -> list[str]:
    # The forms already say this in detail; this guards every other caller.
    text = str(value or "")
    if required and not text.strip():
        return [_("This field is required.")]
    if len(text) > NAME_MAX_LENGTH:
        return [
            _("Please use at most %(max)d characters (you typed %(count)d).")
            % {"max": NAME_MAX_LENGTH, "count": len(text)}
        ]
    return []


def _short_date(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


# --- profile ------------------------------------------------------------------------------


def profile_update(
    *, request: HttpRequest | None, actor: Any, user: User, data: Mapping[str, Any]
) -> User:
    """Write the fields of `data` that differ from `user` and audit their names.

    `data` holds cleaned values: `birth_date` a date or None, `address` an Address or None.
    """
    _require_self(actor, user)
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")

    changed: dict[str, Any] = {}
    for name, value in data.items():
        if name == "address":
            new_id = value.pk if isinstance(value, Address) else None
            if new_id != user.address_id:
                changed[name] = value
        elif value != getattr(user, name):
            changed[name] = value
    if not changed:
        return user

    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    for name in ("first_name", "last_name"):
        if name in changed and (msgs := _name_errors(changed[name], required=False)):
            errors[name] = msgs
    if "birth_date" in changed:
        msgs = _birth_date_errors(changed["birth_date"], today=today)
        if not msgs and changed["birth_date"] is not None and user.household_id:
            older = (
                HouseholdMember.objects.filter(
                    household_id=user.household_id,
                    relation=HouseholdMember.Relation.CHILD,
                    birth_date__lte=changed["birth_date"],
                )
                .exclude(user_id=user.pk)
                .first()
            )
            if older is not None and older.birth_date is not None:
                msgs = [
                    _(
                        "Your child %(name)s was born on %(date)s, before this date. "
                        "Please check both dates."
                    )
                    % {"name": older.first_name, "date": _short_date(older.birth_date)}
                ]
        if msgs:
            errors["birth_date"] = msgs
    if "preferred_language" in changed and changed["preferred_language"] not in dict(
        settings.LANGUAGES
    ):
        errors["preferred_language"] = [_("Choose one of the languages of the list.")]
    if "phone" in changed and len(str(changed["phone"] or "")) > 30:
        errors["phone"] = [_("Enter a valid phone number.")]
    if errors:
        raise ValidationFailed(fields=errors)

    for name, value in changed.items():
        setattr(user, name, "" if value is None and name == "phone" else value)
    with transaction.atomic():
        user.save(update_fields=[*changed, "updated_at"])
        audit.record_profile_updated(
            request=request, actor=actor, subject=user, fields=list(changed)
        )
    return user


# --- household ----------------------------------------------------------------------------


def household_ensure(*, user: User) -> Household:
    """The household of `user`, created (and linked) the first time it is needed."""
    if user.household_id is not None:
        return user.household  # type: ignore[return-value]
    with transaction.atomic():
        # Locking the account row means two first additions at once create one household.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.household_id is None:
            locked.household = Household.objects.create()
            locked.save(update_fields=["household", "updated_at"])
    user.household = locked.household
    return locked.household  # type: ignore[return-value]


def _member_errors(
    *,
    user: User,
    relation: str,
    values: Mapping[str, Any],
    member_id: Any = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if relation not in HouseholdMember.Relation.values:
        errors["relation"] = [_("Choose partner or child.")]
        return errors
    for name in ("first_name", "last_name"):
        if msgs := _name_errors(values.get(name), required=True):
            errors[name] = msgs

    birth_date: date | None = values.get("birth_date")
    msgs = (
        [_("Please give the birth date.")]
        if birth_date is None
        else _birth_date_errors(birth_date, today=today)
    )
    if not msgs and birth_date is not None:
        age = age_on(birth_date, today) or 0
        if relation == HouseholdMember.Relation.CHILD:
            if user.birth_date is not None and birth_date <= user.birth_date:
                msgs = [
                    _(
                        "A child cannot be born before their parent: you were born on "
                        "%(date)s. Please check both dates."
                    )
                    % {"date": _short_date(user.birth_date)}
                ]
            elif age > CHILD_MAX_AGE:
                msgs = [
                    _(
                        "Children are declared here up to the age of %(max)d. A child who is "
                        "%(age)d is an adult of the household: you will be able to add them "
                        "as an adult later."
                    )
                    % {"max": CHILD_MAX_AGE, "age": age}
                ]
        elif age < PARTNER_MIN_AGE:
            msgs = [_("A partner must be at least %(min)d years old.") % {"min": PARTNER_MIN_AGE}]
    if msgs:
        errors["birth_date"] = msgs

    if relation == HouseholdMember.Relation.PARTNER:
        if values.get("school") is not None:
            errors["school"] = [_("Only children can have a school.")]
        if user.household_id is not None:
            partner = (
                HouseholdMember.objects.filter(
                    household_id=user.household_id, relation=HouseholdMember.Relation.PARTNER
                )
                .exclude(pk=member_id)
                .first()
            )
            if partner is not None:
                errors["relation"] = [_one_partner_message(partner)]
    return errors


def _one_partner_message(partner: HouseholdMember | None) -> str:
    if partner is None:
        return _("Your household already has a partner.")
    return _(
        "Your household already has a partner, %(name)s. A household has one partner: "
        "remove or edit that entry first."
    ) % {"name": partner.first_name}


def _one_partner_failed(household_id: Any) -> ValidationFailed:
    # Two requests passed the check at the same time; the database constraint stopped one.
    partner = HouseholdMember.objects.filter(
        household_id=household_id, relation=HouseholdMember.Relation.PARTNER
    ).first()
    return ValidationFailed(fields={"relation": [_one_partner_message(partner)]})


def _declared(name: str, value: Any) -> bool:
    return name != "id" and value not in (None, "")


def _member_create(
    *,
    request: HttpRequest | None,
    actor: Any,
    user: User,
    household: Household,
    relation: str,
    values: dict[str, Any],
) -> HouseholdMember:
    """Insert a checked member and audit it; the one-partner constraint becomes a message."""
    try:
        with transaction.atomic():
            member = HouseholdMember.objects.create(
                household=household, relation=relation, **values
            )
            audit.record_household_changed(
                request=request,
                actor=actor,
                subject=user,
                change="member_added",
                member_id=member.pk,
                fields=[
                    name
                    for name, value in values.items()
                    if name != "id" and value not in (None, "")
                ],
            )
    except IntegrityError as exc:
        raise _one_partner_failed(household.pk) from exc
    return member


def household_member_add(
    *,
    request: HttpRequest | None,
    actor: Any,
    user: User,
    relation: str,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    school: School | None = None,
) -> HouseholdMember:
    """Declare a partner or a child in `user`'s household (created on first use)."""
    _require_self(actor, user)
    values = {
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": birth_date,
        "school": school,
    }
    errors = _member_errors(user=user, relation=relation, values=values)
    if errors:
        raise ValidationFailed(fields=errors)
    household = household_ensure(user=user)
    if household.members.count() >= HOUSEHOLD_MAX_MEMBERS:
        raise ValidationFailed(
            _("A household can declare at most %(max)d people.") % {"max": HOUSEHOLD_MAX_MEMBERS}
        )
    return _member_create(
        request=request,
        actor=actor,
        user=user,
        household=household,
        relation=relation,
        values=values,
    )


def _require_member_of(user: User, member: HouseholdMember) -> None:
    if (
        user.household_id is None
        or member.household_id != user.household_id
        or member.user_id == user.pk
    ):
        raise NotFound()


def household_member_update(
    *,
    request: HttpRequest | None,
    actor: Any,
    user: User,
    member: HouseholdMember,
    data: Mapping[str, Any],
) -> HouseholdMember:
    """Change the names, birth date or school of a member; the relation stays."""
    _require_self(actor, user)
    _require_member_of(user, member)
    unknown = set(data) - set(MEMBER_FIELDS)
    if unknown:
        raise ValueError(f"Not member fields: {sorted(unknown)}")
    current = {name: getattr(member, name) for name in MEMBER_FIELDS}
    merged = {**current, **data}
    changed = [
        name
        for name in MEMBER_FIELDS
        if (merged[name].pk if isinstance(merged[name], School) else merged[name])
        != (current[name].pk if isinstance(current[name], School) else current[name])
    ]
    if not changed:
        return member
    errors = _member_errors(user=user, relation=member.relation, values=merged, member_id=member.pk)
    if errors:
        raise ValidationFailed(fields=errors)
    for name in changed:
        setattr(member, name, merged[name])
    with transaction.atomic():
        member.save(update_fields=[*changed, "updated_at"])
        audit.record_household_changed(
            request=request,
            actor=actor,
            subject=user,
            change="member_updated",
            member_id=member.pk,
            fields=changed,
        )
    return member


def household_member_remove(
    *, request: HttpRequest | None, actor: Any, user: User, member: HouseholdMember
) -> dict[str, Any]:
    """Remove a member; returns what is needed to restore it (JSON-serialisable)."""
    _require_self(actor, user)
    _require_member_of(user, member)
    snapshot = {
        "id": str(member.pk),
        "relation": member.relation,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "school": member.school.code if member.school_id and member.school else None,
    }
    with transaction.atomic():
        member_id = member.pk
        member.delete()
        audit.record_household_changed(
            request=request,
            actor=actor,
            subject=user,
            change="member_removed",
            member_id=member_id,
        )
    return snapshot


def household_member_restore(
    *, request: HttpRequest | None, actor: Any, user: User, snapshot: Mapping[str, Any]
) -> HouseholdMember:
    """Undo `household_member_remove`: the same person comes back, with the same id."""
    _require_self(actor, user)
    try:
        birth_date = date.fromisoformat(snapshot["birth_date"]) if snapshot["birth_date"] else None
        relation = str(snapshot["relation"])
        member_id = uuid.UUID(str(snapshot["id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise NotFound() from exc
    school = (
        School.objects.filter(code=snapshot.get("school")).first()
        if snapshot.get("school")
        else None
    )
    values = {
        "first_name": str(snapshot.get("first_name", "")),
        "last_name": str(snapshot.get("last_name", "")),
        "birth_date": birth_date,
        "school": school,
    }
    errors = _member_errors(user=user, relation=relation, values=values)
    if errors:
        raise ValidationFailed(
            _("This person could not be restored: %(reason)s")
            % {"reason": " ".join(msg for msgs in errors.values() for msg in msgs)},
            fields=errors,
        )
    household = household_ensure(user=user)
    if HouseholdMember.objects.filter(pk=member_id).exists():
        raise NotFound()
    return _member_create(
        request=request,
        actor=actor,
        user=user,
        household=household,
        relation=relation,
        values={**values, "id": member_id},
    )
