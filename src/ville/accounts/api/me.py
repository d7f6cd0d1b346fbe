"""`/api/v1/me` and `/api/v1/me/household`: the logged-in person's profile and household.

Input goes through the same forms and services as the pages, so the rules and the
messages (in the user's language) are the same; errors use the one error shape.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import django_auth

from ville.accounts.forms.profile import HouseholdMemberForm, ProfileForm
from ville.accounts.models import HouseholdMember, User
from ville.accounts.selectors import (
    household_member_get_for,
    household_members_for,
    user_get_for,
)
from ville.accounts.services.profile import (
    household_member_add,
    household_member_remove,
    household_member_update,
    profile_update,
)
from ville.core.errors import ValidationFailed
from ville.core.schemas import ErrorOut
from ville.territory.models import Address
from ville.territory.selectors import address_get

router = Router(tags=["me"], auth=django_auth)

# Larger ids cannot be database keys (and would overflow SQLite): they are unknown.
_MAX_ID = 2**63 - 1


class AddressOut(Schema):
    id: int
    label: str
    district: str | None


class SchoolOut(Schema):
    code: str
    name: str


class MemberOut(Schema):
    id: UUID
    relation: str
    first_name: str
    last_name: str
    birth_date: date | None
    age: int | None
    school: SchoolOut | None


class MeOut(Schema):
    id: UUID
    email: str
    first_name: str
    last_name: str
    birth_date: date | None
    phone: str
    preferred_language: str
    address: AddressOut | None
    household: list[MemberOut]


class MePatch(Schema):
    """Only the fields sent are changed. `address` is an address id, or null to remove it."""

    first_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None  # YYYY-MM-DD
    phone: str | None = None
    preferred_language: str | None = None
    address: int | None = None


class MemberIn(Schema):
    relation: str  # "partner" or "child"
    first_name: str
    last_name: str
    birth_date: str  # YYYY-MM-DD
    school: str | None = None  # a school code, children only


class MemberPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None
    school: str | None = None


def _member_out(member: HouseholdMember) -> dict[str, Any]:
    school = member.school
    return {
        "id": member.pk,
        "relation": member.relation,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date,
        "age": member.age,
        "school": {"code": school.code, "name": school.name} if school else None,
    }


def _me_out(request: HttpRequest, user: User) -> dict[str, Any]:
    address = user.address
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "birth_date": user.birth_date,
        "phone": user.phone,
        "preferred_language": user.preferred_language,
        "address": (
            {
                "id": address.pk,
                "label": address.label,
                "district": address.district.name if address.district else None,
            }
            if address
            else None
        ),
        "household": [
            _member_out(m) for m in household_members_for(actor=_actor(request), user=user)
        ],
    }


def _actor(request: HttpRequest) -> User:
    # `django_auth` put the logged-in user there before any function of this router runs.
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _me(request: HttpRequest) -> User:
    return user_get_for(actor=_actor(request), user_id=_actor(request).pk)


def _checked(form: forms.Form, sent: dict[str, Any]) -> dict[str, Any]:
    """Validate only the fields that were sent; ValidationFailed with the form's messages."""
    for name in list(form.fields):
        if name not in sent:
            del form.fields[name]
    if not form.is_valid():
        raise ValidationFailed(
            fields={name: [str(msg) for msg in msgs] for name, msgs in form.errors.items()}
        )
    return form.cleaned_data


def _as_form_data(sent: dict[str, Any]) -> dict[str, Any]:
    return {name: "" if value is None else value for name, value in sent.items()}


def _address(address_id: int | None) -> Address | None:
    if address_id is None:
        return None
    address = address_get(address_id=address_id) if 0 < address_id <= _MAX_ID else None
    if address is None:
        raise ValidationFailed(
            fields={"address": [_("This address is not in our list. Search for it again.")]}
        )
    return address


@router.get("", response=MeOut, summary="The logged-in person's profile and household")
def me_get(request: HttpRequest) -> dict[str, Any]:
    return _me_out(request, _me(request))


@router.patch("", response={200: MeOut, 422: ErrorOut}, summary="Change one's own profile")
def me_update(request: HttpRequest, payload: MePatch) -> dict[str, Any]:
    user = _me(request)
    sent = payload.model_dump(exclude_unset=True)
    data = _checked(ProfileForm(_as_form_data(sent)), sent)
    if "address" in sent:
        data["address"] = _address(sent["address"])
    profile_update(request=request, actor=_actor(request), user=user, data=data)
    return _me_out(request, user)


@router.post(
    "/household",
    response={201: MemberOut, 422: ErrorOut},
    summary="Declare a partner or a child",
)
def member_add(request: HttpRequest, payload: MemberIn) -> Status[dict[str, Any]]:
    user = _me(request)
    sent = payload.model_dump()
    data = _checked(HouseholdMemberForm(_as_form_data(sent)), sent)
    member = household_member_add(request=request, actor=_actor(request), user=user, **data)
    return Status(201, _member_out(member))


@router.patch(
    "/household/{member_id}",
    response={200: MemberOut, 404: ErrorOut, 422: ErrorOut},
    summary="Change a member of one's household",
)
def member_update(request: HttpRequest, member_id: str, payload: MemberPatch) -> dict[str, Any]:
    member = household_member_get_for(actor=_actor(request), member_id=member_id)
    user = _me(request)
    sent = payload.model_dump(exclude_unset=True)
    if member.relation == HouseholdMember.Relation.PARTNER and sent.pop("school", None):
        raise ValidationFailed(fields={"school": [_("Only children can have a school.")]})
    form = HouseholdMemberForm(_as_form_data(sent), relation=member.relation)
    data = _checked(form, sent)
    household_member_update(
        request=request, actor=_actor(request), user=user, member=member, data=data
    )
    return _member_out(member)


@router.delete(
    "/household/{member_id}",
    response={204: None, 404: ErrorOut},
    summary="Remove a member of one's household",
)
def member_remove(request: HttpRequest, member_id: str) -> HttpResponse:
    member = household_member_get_for(actor=_actor(request), member_id=member_id)
    household_member_remove(
        request=request, actor=_actor(request), user=_me(request), member=member
    )
    return HttpResponse(status=204)
