"""Prefill: what the city already knows for each field of a definition, and where it comes
from ("Dites-le nous une fois"), as JSON-ready values the forms accept as they are."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from ville.accounts.models import HouseholdMember
from ville.procedures.definitions import Definition
from ville.vault.models import KnownAttribute

if TYPE_CHECKING:
    from ville.accounts.models import User

KNOWN_PREFIX = "known."
BENEFICIARY_KEY_PREFIX = "beneficiary."


@dataclass(frozen=True)
class Prefilled:
    """One prefilled value: `value` (JSON), `source` (e.g. `profile.first_name`) and
    `label`, the translated phrase shown next to the field ("From your profile")."""

    value: Any
    source: str
    label: str
    verified: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "label": self.label,
            "verified": self.verified,
        }


def known_attributes_usable(*, citizen: User) -> QuerySet[KnownAttribute]:
    """The citizen's known attributes that may be reused: verified by the city, or whose
    reuse the citizen agreed to."""
    return KnownAttribute.objects.filter(citizen=citizen).filter(
        Q(reuse_consented_at__isnull=False) | Q(verified_at__isnull=False)
    )


def known_key(key: str, beneficiary: HouseholdMember | None) -> str | None:
    """The vault key of `known.<key>`: `beneficiary.<rest>` means the beneficiary's own
    attribute, stored as `<relation>.<member id>.<rest>` (None without a beneficiary)."""
    if key.startswith(BENEFICIARY_KEY_PREFIX):
        if beneficiary is None:
            return None
        rest = key.removeprefix(BENEFICIARY_KEY_PREFIX)
        return f"{beneficiary.relation}.{beneficiary.pk}.{rest}"
    return key


def household_partner(citizen: User) -> HouseholdMember | None:
    """The partner declared in the citizen's household (never the citizen's own row)."""
    if citizen.household_id is None:
        return None
    return (
        HouseholdMember.objects.filter(
            household_id=citizen.household_id, relation=HouseholdMember.Relation.PARTNER
        )
        .exclude(user_id=citizen.pk)
        .first()
    )


def prefill_for(
    *,
    definition: Definition,
    citizen: User,
    beneficiary: HouseholdMember | None = None,
    lang: str | None = None,
) -> dict[str, Prefilled]:
    """Field name → Prefilled, for every field whose source has a value for this citizen
    (and beneficiary). Labels are in `lang` (the active language by default)."""
    sources = {
        field["name"]: field["prefill"] for field in definition.fields() if "prefill" in field
    }
    if not sources:
        return {}
    with translation.override(lang) if lang else contextlib.nullcontext():
        reader = _Reader(citizen=citizen, beneficiary=beneficiary)
        reader.load_known(
            source.removeprefix(KNOWN_PREFIX)
            for source in sources.values()
            if source.startswith(KNOWN_PREFIX)
        )
        found: dict[str, Prefilled] = {}
        for name, source in sources.items():
            prefilled = reader.read(source)
            if prefilled is not None and _fits(definition.field(name), prefilled.value):
                found[name] = prefilled
        return found


class _Reader:
    """Reads each source once; the partner and the vault are fetched only when asked for."""

    def __init__(self, *, citizen: User, beneficiary: HouseholdMember | None) -> None:
        self.citizen = citizen
        self.beneficiary = beneficiary
        self._partner: HouseholdMember | None = None
        self._partner_read = False
        self._known: dict[str, KnownAttribute] = {}

    def load_known(self, keys: Iterable[str]) -> None:
        wanted = {
            vault_key: key
            for key in keys
            if (vault_key := known_key(key, self.beneficiary)) is not None
        }
        if not wanted:
            return
        for attribute in known_attributes_usable(citizen=self.citizen).filter(key__in=wanted):
            self._known[wanted[attribute.key]] = attribute

    def partner(self) -> HouseholdMember | None:
        if not self._partner_read:
            self._partner = household_partner(self.citizen)
            self._partner_read = True
        return self._partner

    def read(self, source: str) -> Prefilled | None:
        if source.startswith(KNOWN_PREFIX):
            return self._read_known(source)
        head, _dot, attribute = source.partition(".")
        if head == "profile":
            value = _person_value(self.citizen, attribute)
            return _prefilled(value, source, _("From your profile"))
        if head == "beneficiary":
            value = _person_value(self.beneficiary, attribute)
            return _prefilled(value, source, _("From your household"))
        if source.startswith("household.partner."):
            value = _person_value(self.partner(), source.removeprefix("household.partner."))
            return _prefilled(value, source, _("From your household"))
        return None

    def _read_known(self, source: str) -> Prefilled | None:
        attribute = self._known.get(source.removeprefix(KNOWN_PREFIX))
        if attribute is None or attribute.value in (None, "", [], {}):
            return None
        if attribute.verified_at is not None:
            label = _("Known by the city (verified on %(date)s)") % {
                "date": _local_date(attribute.verified_at)
            }
        else:
            label = _("Known by the city (given on %(date)s)") % {
                "date": _local_date(attribute.updated_at)
            }
        return Prefilled(attribute.value, source, label, verified=attribute.verified_at is not None)


def _local_date(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localdate(moment), "DATE_FORMAT")


def _person_value(person: Any, attribute: str) -> Any:
    """A JSON value of the citizen or a household member: dates as ISO text, the address
    as its id, the school as its code, the member itself as its id."""
    if person is None:
        return None
    if attribute == "id":
        return str(person.pk)
    if attribute == "address":
        return person.address_id
    if attribute == "school":
        return person.school.code if person.school_id else None
    value = getattr(person, attribute, None)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _prefilled(value: Any, source: str, label: str) -> Prefilled | None:
    if value in (None, ""):
        return None
    return Prefilled(value, source, label)


def _fits(field: Any, value: Any) -> bool:
    """A stored value that the field could not take (a choice that no longer exists) is
    not offered: the citizen would see an answer that the form then refuses."""
    kind = field["type"]
    if kind == "choice":
        return value in {choice["value"] for choice in field["choices"]}
    if kind == "multiple_choice":
        values = {choice["value"] for choice in field["choices"]}
        return isinstance(value, list) and all(item in values for item in value)
    if kind in ("yes_no", "consent"):
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str | int | float) and not isinstance(value, bool)
