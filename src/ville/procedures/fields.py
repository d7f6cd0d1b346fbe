"""Django forms built from a definition's steps: one form class per step, with labels in
the citizen's language, and a validator that returns JSON-ready answers and field errors."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ville.accounts.forms.profile import FirstOptionRadioSelect, phone_normalise
from ville.accounts.models import HouseholdMember, User
from ville.core.errors import NotFound
from ville.procedures.conditions import EvalContext, evaluate, visible_fields
from ville.procedures.definitions import Definition, relative_date, text_in
from ville.territory.models import Address, Authority, School

DEFAULT_MAX_LENGTH = {"text": 1000, "long_text": 5000}
DEFAULT_MAX_SIZE_MB = 10
# Numbers are counts and amounts: without bounds in the definition, these keep them sane.
DEFAULT_NUMBER_MIN = 0
DEFAULT_NUMBER_MAX = 1_000_000_000
RADIO_MAX_OPTIONS = 6
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
ACCEPTED_FILE_TYPES = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"

# Browser autofill for the citizen's own data; "off" for other people's (WCAG 1.3.5).
AUTOCOMPLETE_BY_SOURCE = {
    "profile.first_name": "given-name",
    "profile.last_name": "family-name",
    "profile.birth_date": "bday",
    "profile.email": "email",
    "profile.phone": "tel",
    "beneficiary.first_name": "off",
    "beneficiary.last_name": "off",
    "beneficiary.birth_date": "off",
    "household.partner.first_name": "off",
    "household.partner.last_name": "off",
}
_UUID_TEXT = re.compile(r"[0-9a-fA-F-]{32,36}")
_ADDRESS_ID = re.compile(r"[0-9]{1,18}")
_LINE_BREAKS = str.maketrans({"\r": None, "\n": None, "\t": None})


# --- field classes -------------------------------------------------------------------------


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationError(
            _("Please remove the special characters (tabs, line breaks) from this field."),
            code="control_characters",
        )


def _no_control_characters_but_lines(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" for char in value.translate(_LINE_BREAKS)):
        raise ValidationError(
            _("Please remove the special characters from this text."), code="control_characters"
        )


class _PatternValidator:
    def __init__(self, pattern: str, message: Mapping[str, str] | None) -> None:
        self.regex = re.compile(pattern)
        self.message = message

    def __call__(self, value: str) -> None:
        if value and not self.regex.fullmatch(value):
            message = (
                str(text_in(self.message, translation.get_language()))
                if self.message
                else _("This value does not have the expected form; see the help under the field.")
            )
            raise ValidationError(message, code="pattern")


class NumberField(forms.IntegerField):
    """A whole number; spaces between thousands are accepted ("1 200")."""

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str):
            value = re.sub(r"[\s\u202f\u00a0]", "", value)
        return super().to_python(value)


class DecimalNumberField(forms.DecimalField):
    """A decimal number; a comma works as well as a point ("12,5")."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = re.sub(r"[\s\u202f\u00a0]", "", value).replace(",", ".")
        return super().to_python(value)


class DateBoundsField(forms.DateField):
    """A date between bounds given relative to today (`-18y`, `today`, `+30d`)."""

    def __init__(self, *, low: dt.date | None, high: dt.date | None, **kwargs: Any) -> None:
        self.low = low
        self.high = high
        super().__init__(input_formats=DATE_INPUT_FORMATS, **kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, str) and len(value) > 40:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        if self.low is not None and value < self.low:
            raise ValidationError(
                _("Enter a date on or after %(date)s.") % {"date": _show_date(self.low)},
                code="min_date",
            )
        if self.high is not None and value > self.high:
            raise ValidationError(
                _("Enter a date on or before %(date)s.") % {"date": _show_date(self.high)},
                code="max_date",
            )


def _show_date(day: dt.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


class PhoneField(forms.CharField):
    """A phone number, stored in E.164 (+33612345678)."""

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        return phone_normalise(text) if text else ""


class YesNoField(forms.TypedChoiceField):
    """Yes or no, as a boolean (radios named yes/no; JSON true/false accepted too)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            # Built under the form's language: the labels are that language's words.
            choices=[("yes", _("Yes")), ("no", _("No"))],
            coerce=lambda value: value == "yes",
            empty_value=None,
            widget=FirstOptionRadioSelect,
            **kwargs,
        )

    def to_python(self, value: Any) -> str:
        if value is True or value == "true":
            return "yes"
        if value is False or value == "false":
            return "no"
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value


class AddressField(forms.Field):
    """The id of an address of the territory's address table (the page shows the picker)."""

    default_error_messages = {
        "invalid": gettext_lazy(
            "The chosen address is not in the address table. Search again and choose one "
            "of the results."
        ),
    }

    def __init__(self, *, communes: list[str] | None = None, **kwargs: Any) -> None:
        self.communes = communes
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if isinstance(value, bool) or not _ADDRESS_ID.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        address = Address.objects.select_related("street__authority").filter(pk=value).first()
        if address is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if self.communes and address.street.authority.code not in self.communes:
            names = Authority.objects.filter(code__in=self.communes).values_list("name", flat=True)
            raise ValidationError(
                _("This procedure is for addresses in %(communes)s only.")
                % {"communes": ", ".join(sorted(names)) or ", ".join(self.communes)},
                code="commune",
            )


class MemberChoiceField(forms.ChoiceField):
    """A member of the citizen's own household, by id (any case of the UUID)."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if _UUID_TEXT.fullmatch(text):
            try:
                return str(uuid.UUID(text))
            except ValueError:
                return text
        return text


class FirstOptionCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes whose field id is the first box's, so the error summary can link to it."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class ChoiceCountField(forms.MultipleChoiceField):
    """Several choices, with an optional minimum and maximum number of them."""

    def __init__(self, *, low: int | None, high: int | None, **kwargs: Any) -> None:
        self.low = low
        self.high = high
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and self.low is not None and len(value) < self.low:
            raise ValidationError(
                _("Choose at least %(count)d options.") % {"count": self.low}, code="min_choices"
            )
        if self.high is not None and len(value) > self.high:
            raise ValidationError(
                _("Choose at most %(count)d options.") % {"count": self.high}, code="max_choices"
            )


class SizedFileField(forms.FileField):
    """A file no larger than the definition allows (its content is checked by uploads.py)."""

    def __init__(self, *, max_bytes: int, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(allow_empty_file=False, max_length=255, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and getattr(value, "size", 0) > self.max_bytes:
            raise ValidationError(
                _("This file is too large (%(size)s); the limit is %(limit)s.")
                % {"size": filesizeformat(value.size), "limit": filesizeformat(self.max_bytes)},
                code="file_size",
            )


# --- building ------------------------------------------------------------------------------


class StepForm(forms.Form):
    """Base of the generated step forms. `definition_fields` maps each form field to its
    definition; `language_fallback` is True when some text fell back to French."""

    definition_fields: dict[str, Mapping[str, Any]] = {}
    language_fallback: bool = False
    step_id: str = ""


def step_form_class(
    definition: Definition, step_id: str, *, ctx: EvalContext, lang: str
) -> type[StepForm]:
    """A form class for the fields of `step_id` visible under `ctx` (answers so far)."""
    return _form_class(definition, step_id, visible_fields(definition, step_id, ctx), ctx, lang)


def _form_class(
    definition: Definition,
    step_id: str,
    field_defs: list[Mapping[str, Any]],
    ctx: EvalContext,
    lang: str,
) -> type[StepForm]:
    attrs: dict[str, Any] = {
        "definition_fields": {item["name"]: item for item in field_defs},
        "step_id": step_id,
    }
    fallback = False
    with translation.override(lang):
        for item in field_defs:
            label = text_in(item["label"], lang)
            help_text = text_in(item.get("help"), lang)
            fallback = fallback or label.is_fallback or help_text.is_fallback
            attrs[item["name"]] = _form_field(item, ctx=ctx, label=label, help_text=help_text)
    attrs["language_fallback"] = fallback
    name = "".join(part.title() for part in step_id.split("_")) + "StepForm"
    return cast("type[StepForm]", forms.forms.DeclarativeFieldsMetaclass(name, (StepForm,), attrs))


def _form_field(
    item: Mapping[str, Any], *, ctx: EvalContext, label: str, help_text: str
) -> forms.Field:
    kind = item["type"]
    validation = item.get("validation") or {}
    common: dict[str, Any] = {
        "label": str(label),
        "help_text": str(help_text),
        "required": bool(item.get("required", False)),
    }
    builder = _BUILDERS[kind]
    field = builder(item, validation, ctx, common)
    autocomplete = item.get("autocomplete") or AUTOCOMPLETE_BY_SOURCE.get(item.get("prefill", ""))
    if autocomplete and not isinstance(field.widget, forms.RadioSelect | forms.FileInput):
        field.widget.attrs["autocomplete"] = autocomplete
    field.ville_type = kind  # type: ignore[attr-defined]  # read by templates to pick a layout
    return field


def _text(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    validators: list[Callable[[Any], None]] = [_no_control_characters]
    if "pattern" in v:
        validators.append(_PatternValidator(v["pattern"], v.get("pattern_message")))
    return forms.CharField(
        max_length=v.get("max_length", DEFAULT_MAX_LENGTH["text"]),
        min_length=v.get("min_length"),
        validators=validators,
        **common,
    )


def _long_text(
    item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict
) -> Any:
    return forms.CharField(
        max_length=v.get("max_length", DEFAULT_MAX_LENGTH["long_text"]),
        min_length=v.get("min_length"),
        validators=[_no_control_characters_but_lines],
        widget=forms.Textarea(attrs={"rows": 5}),
        **common,
    )


def _number(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    places = v.get("decimal_places", 0)
    low = v.get("min", DEFAULT_NUMBER_MIN)
    high = v.get("max", DEFAULT_NUMBER_MAX)
    if not places:
        return NumberField(
            min_value=int(low),
            max_value=int(high),
            widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
            **common,
        )
    return DecimalNumberField(
        min_value=Decimal(str(low)),
        max_value=Decimal(str(high)),
        max_digits=18,
        decimal_places=places,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        **common,
    )


def _date(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    low = relative_date(v["min_date"], ctx.today) if "min_date" in v else None
    high = relative_date(v["max_date"], ctx.today) if "max_date" in v else None
    attrs = {"type": "date"}
    if low:
        attrs["min"] = low.isoformat()
    if high:
        attrs["max"] = high.isoformat()
    return DateBoundsField(
        low=low, high=high, widget=forms.DateInput(attrs=attrs, format="%Y-%m-%d"), **common
    )


def _email(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    return forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"spellcheck": "false", "dir": "ltr"}),
        **common,
    )


def _phone(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    return PhoneField(
        max_length=40,
        # Numbers read left to right in Arabic too.
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "dir": "ltr"}),
        **common,
    )


def _choice(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    lang = translation.get_language()
    choices = [(c["value"], str(text_in(c["label"], lang))) for c in item["choices"]]
    if len(choices) <= RADIO_MAX_OPTIONS:
        return forms.ChoiceField(choices=choices, widget=FirstOptionRadioSelect, **common)
    return forms.ChoiceField(choices=[("", _("Choose…")), *choices], **common)


def _multiple(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    lang = translation.get_language()
    return ChoiceCountField(
        choices=[(c["value"], str(text_in(c["label"], lang))) for c in item["choices"]],
        low=v.get("min_choices"),
        high=v.get("max_choices"),
        widget=FirstOptionCheckboxSelectMultiple,
        **common,
    )


def _yes_no(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    return YesNoField(**common)


def _address(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    return AddressField(
        communes=v.get("communes"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        **common,
    )


def household_members(*, citizen: User | None, relation: str = "member") -> list[HouseholdMember]:
    """The partner and/or children of the citizen's household (`member`: both), never the
    citizen's own row."""
    if citizen is None or citizen.household_id is None:
        return []
    members = HouseholdMember.objects.filter(household_id=citizen.household_id).exclude(
        user_id=citizen.pk
    )
    if relation != "member":
        members = members.filter(relation=relation)
    return list(members.order_by("relation", "birth_date", "first_name"))


def _member(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    members = household_members(citizen=ctx.citizen, relation=item.get("relation", "member"))
    choices = [(str(member.pk), f"{member.first_name} {member.last_name}") for member in members]
    if len(choices) <= RADIO_MAX_OPTIONS:
        return MemberChoiceField(choices=choices, widget=FirstOptionRadioSelect, **common)
    return MemberChoiceField(choices=[("", _("Choose…")), *choices], **common)


def _school(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    schools = School.objects.select_related("authority").order_by("level", "name", "code")
    if v.get("communes"):
        schools = schools.filter(authority__code__in=v["communes"])
    groups: dict[str, list[tuple[str, str]]] = {}
    for school in schools:
        groups.setdefault(school.level, []).append(
            (school.code, f"{school.name} ({school.authority.name})")
        )
    choices: list[Any] = [("", _("Choose…"))]
    choices += [
        (str(label), groups[level]) for level, label in School.Level.choices if level in groups
    ]
    return forms.ChoiceField(choices=choices, **common)


def _file(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    # A file stored by an earlier save of the draft satisfies the field.
    if ctx.data.get(item["name"]):
        common = {**common, "required": False}
    return SizedFileField(
        max_bytes=int(float(v.get("max_size_mb", DEFAULT_MAX_SIZE_MB)) * 1024 * 1024),
        widget=forms.FileInput(attrs={"accept": ACCEPTED_FILE_TYPES}),
        **common,
    )


def _consent(item: Mapping[str, Any], v: Mapping[str, Any], ctx: EvalContext, common: dict) -> Any:
    return forms.BooleanField(
        error_messages={"required": gettext_lazy("Please tick this box to continue.")},
        **{**common, "required": True},
    )


_BUILDERS: dict[str, Callable[..., forms.Field]] = {
    "text": _text,
    "long_text": _long_text,
    "number": _number,
    "date": _date,
    "email": _email,
    "phone": _phone,
    "choice": _choice,
    "multiple_choice": _multiple,
    "yes_no": _yes_no,
    "address": _address,
    "household_member": _member,
    "school": _school,
    "file": _file,
    "consent": _consent,
}


# --- validating ----------------------------------------------------------------------------


def step_validate(
    *,
    definition: Definition,
    step_id: str,
    data: Mapping[str, Any],
    files: Mapping[str, Any] | None,
    ctx: EvalContext,
    lang: str,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check the answers to one step (`data`: a QueryDict from a page or a JSON dict).

    Returns (cleaned, errors): cleaned values are JSON-ready (dates as ISO text, numbers,
    booleans, lists, ids), except new files, returned as UploadedFile for the caller to
    store. A field whose `when` does not hold, given `ctx.data` and the answers earlier in
    this step, is left out of both. Never raises for bad input; NotFound for a step that
    the definition does not have.
    """
    try:
        field_defs = definition.fields(step_id)
    except KeyError:
        raise NotFound() from None
    with translation.override(lang):
        raw, type_errors = _raw_values(field_defs, data)
        form = _form_class(definition, step_id, field_defs, ctx, lang)(data=raw, files=files or {})  # type: ignore[arg-type]
        form.is_valid()
        cleaned: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        answers = dict(ctx.data)
        seen = ctx.with_data(answers)
        for item in field_defs:
            name = item["name"]
            answers.pop(name, None)
            if "when" in item and not evaluate(item["when"], seen):
                continue
            if name in type_errors or name in form.errors:
                errors[name] = type_errors.get(name) or [str(m) for m in form.errors[name]]
                continue
            value = _json_value(item, form.cleaned_data.get(name), ctx)
            cleaned[name] = answers[name] = value
    return cleaned, errors


def _raw_values(
    field_defs: list[Mapping[str, Any]], data: Mapping[str, Any]
) -> tuple[Any, dict[str, list[str]]]:
    """A page's QueryDict goes to the form as it is; a JSON body's values are checked for
    their type first, so that a list or an object never reaches a field that expects text."""
    if hasattr(data, "getlist"):
        return data, {}
    raw: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for item in field_defs:
        name = item["name"]
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if _accepts(item["type"], value):
            raw[name] = value if isinstance(value, bool | list) else str(value)
        else:
            errors[name] = [_("This value has the wrong type for this field.")]
    return raw, errors


def _accepts(kind: str, value: Any) -> bool:
    if isinstance(value, bool):
        return kind in ("yes_no", "consent")
    if isinstance(value, int | float):
        return kind in ("number", "address", "text", "long_text", "phone", "choice")
    if isinstance(value, str):
        return kind not in ("multiple_choice", "file")
    if isinstance(value, list):
        return kind == "multiple_choice" and all(isinstance(item, str) for item in value)
    return False


def _json_value(item: Mapping[str, Any], value: Any, ctx: EvalContext) -> Any:
    kind = item["type"]
    if kind == "file":
        # No new file: keep what an earlier save stored (an attachment id), if anything.
        return value if isinstance(value, UploadedFile) else ctx.data.get(item["name"])
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if kind == "multiple_choice":
        order = [choice["value"] for choice in item["choices"]]
        return [choice for choice in order if choice in (value or [])]
    if kind in ("choice", "household_member", "school"):
        return value or None
    return value
