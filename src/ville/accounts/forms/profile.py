"""Forms of the profile and household pages, also used by `/api/v1/me` to parse input.

They check syntax (lengths, dates, phone formats); the services check what values mean.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

from ville.accounts.models import HouseholdMember
from ville.accounts.selectors import AGENT_REASON_MAX_LENGTH, AGENT_REASON_MIN_LENGTH
from ville.accounts.services.profile import NAME_MAX_LENGTH
from ville.territory.models import School

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

_PHONE_PUNCTUATION = re.compile(r"[\s.\-/()\u00a0]")
_PHONE_DIGITS = re.compile(r"\+?[0-9]+", re.ASCII)
PHONE_MAX_INPUT = 40


def phone_normalise(raw: str) -> str:
    """French numbers ("06 12 34 56 78", "+33 (0)6…", "0033 6…") and international ones
    ("+44 20 7946 0958") as E.164 ("+33612345678"); "" for an empty value."""
    # People type with their own digits (Arabic-Indic digits on an Arabic keyboard).
    text = "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char for char in raw.strip()
    )
    if not text:
        return ""
    compact = _PHONE_PUNCTUATION.sub("", text.replace("(0)", ""))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    invalid = ValidationError(
        _("Enter a phone number such as 06 12 34 56 78, or +44 20 7946 0958 from abroad."),
        code="invalid_phone",
    )
    if not _PHONE_DIGITS.fullmatch(compact):
        raise invalid
    if compact.startswith("+33"):
        national = compact[3:]
        national = national[1:] if national.startswith("0") else national
        if len(national) != 9 or national.startswith("0"):
            raise invalid
        return "+33" + national
    if compact.startswith("+"):
        digits = compact[1:]
        # E.164: a country code never starts with 0 and a number has at most 15 digits.
        if not 8 <= len(digits) <= 15 or digits.startswith("0"):
            raise invalid
        return compact
    if len(compact) == 10 and compact.startswith("0") and compact[1] != "0":
        return "+33" + compact[1:]
    raise invalid


def phone_display(value: str) -> str:
    """French numbers the way people write them ("06 12 34 56 78"); others as stored."""
    if value.startswith("+33") and len(value) == 12:
        national = "0" + value[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return value


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationError(
            _("Please remove the special characters (tabs, line breaks) from this field."),
            code="control_characters",
        )


def _no_control_characters_but_lines(value: str) -> None:
    _no_control_characters(value.replace("\r", "").replace("\n", " "))


def _name_field(label: StrOrPromise, *, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=NAME_MAX_LENGTH,
        validators=[_no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": autocomplete, "spellcheck": "false"}),
    )


def _birth_date_field(*, required: bool, autocomplete: str) -> forms.DateField:
    return forms.DateField(
        label=gettext_lazy("Birth date"),
        required=required,
        help_text=gettext_lazy("Day, month and year, for example 14/07/1990."),
        widget=forms.DateInput(
            attrs={"type": "date", "autocomplete": autocomplete}, format="%Y-%m-%d"
        ),
    )


def language_choices() -> list[tuple[str, str]]:
    # Each language in its own name, as in the language switcher.
    return [(code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]


class ProfileForm(forms.Form):
    """Names, birth date, phone and language (the address has its own picker)."""

    first_name = _name_field(gettext_lazy("First name"), autocomplete="given-name")
    last_name = _name_field(gettext_lazy("Last name"), autocomplete="family-name")
    birth_date = _birth_date_field(required=False, autocomplete="bday")
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        required=False,
        max_length=PHONE_MAX_INPUT,
        help_text=gettext_lazy("For example 06 12 34 56 78, or +44 20 7946 0958 from abroad."),
        widget=forms.TextInput(
            # Numbers read left to right in Arabic too.
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "dir": "ltr"}
        ),
    )
    preferred_language = forms.ChoiceField(
        label=gettext_lazy("Preferred language"),
        choices=language_choices,
        help_text=gettext_lazy("The language of the site and of our messages to you."),
        widget=forms.Select(attrs={"autocomplete": "language"}),
    )

    def clean_phone(self) -> str:
        return phone_normalise(self.cleaned_data.get("phone") or "")


def school_choices(schools: list[School]) -> list[Any]:
    """Schools grouped by level, for a select with option groups."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for school in schools:
        groups.setdefault(school.level, []).append(
            (school.code, f"{school.name} ({school.authority.name})")
        )
    choices: list[Any] = [("", _("No school, or a school outside the city"))]
    for level, label in School.Level.choices:
        if level in groups:
            choices.append((str(label), groups[level]))
    return choices


class FirstOptionRadioSelect(forms.RadioSelect):
    """Radios whose field id is the first radio's, so the error summary can link to it."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class HouseholdMemberForm(forms.Form):
    """A partner or a child. On edit the relation is fixed, and a partner has no school."""

    relation = forms.ChoiceField(
        label=gettext_lazy("This person is your"),
        choices=HouseholdMember.Relation.choices,
        widget=FirstOptionRadioSelect,
    )
    # "off": these are another person's names, not the user's own (WCAG 1.3.5).
    first_name = _name_field(gettext_lazy("First name"), autocomplete="off")
    last_name = _name_field(gettext_lazy("Last name"), autocomplete="off")
    birth_date = _birth_date_field(required=True, autocomplete="off")
    school = forms.ChoiceField(
        label=gettext_lazy("School"),
        required=False,
        help_text=gettext_lazy("Children only: the public school they go to."),
    )

    def __init__(self, *args: Any, relation: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if relation is not None:
            del self.fields["relation"]
        if relation == HouseholdMember.Relation.PARTNER:
            del self.fields["school"]
        else:
            schools = list(
                School.objects.select_related("authority").order_by("level", "name", "code")
            )
            self._schools = {school.code: school for school in schools}
            school_field = self.fields["school"]
            assert isinstance(school_field, forms.ChoiceField)
            school_field.choices = school_choices(schools)

    def clean_school(self) -> School | None:
        code = self.cleaned_data.get("school") or ""
        return self._schools.get(code) if code else None


class AgentReasonForm(forms.Form):
    """Why an agent opens a citizen's record: kept in the audit trail."""

    reason = forms.CharField(
        label=gettext_lazy("Why do you open this record?"),
        help_text=gettext_lazy(
            "For example: crèche application 2026-0042, question at the front desk. "
            "Your reason is kept in the audit trail with your name."
        ),
        min_length=AGENT_REASON_MIN_LENGTH,
        max_length=AGENT_REASON_MAX_LENGTH,
        validators=[_no_control_characters_but_lines],
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
