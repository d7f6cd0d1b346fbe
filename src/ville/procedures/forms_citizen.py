"""Small forms of the citizen pages (catalogue search, start, messages, withdrawal, lookup);
the step forms themselves are generated from the definitions by `fields.py`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ville.accounts.forms.profile import FirstOptionRadioSelect
from ville.procedures.services.exchanges import MAX_MESSAGE_FILES, MAX_MESSAGE_LENGTH

ACCEPTED_FILE_TYPES = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
NO_BENEFICIARY = "none"


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)


class StartForm(forms.Form):
    """Who the application is for, when the procedure asks (`choices` from the household)."""

    beneficiary = forms.ChoiceField(widget=FirstOptionRadioSelect)

    def __init__(self, *args: Any, label: str, choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["beneficiary"]
        field.label = label
        field.choices = choices  # type: ignore[attr-defined]
        field.error_messages["required"] = _(
            "Choose who this application is for, among the people of your household."
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is checked by content by the service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILE_TYPES, "multiple": True})
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=MAX_MESSAGE_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    documents = MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=_("PDF, JPEG or PNG, 10 MB at most each, up to %(max)d files.")
        % {"max": MAX_MESSAGE_FILES},
    )


class WithdrawForm(forms.Form):
    comment = forms.CharField(
        label=_("Why are you withdrawing it?"),
        help_text=_("Optional. It helps the service."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FindForm(forms.Form):
    tracking_code = forms.CharField(
        label=_("Tracking code"),
        help_text=_("8 characters, on your receipt; for example K7MP 3QXA."),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "dir": "ltr", "size": 12}
        ),
    )
    email = forms.EmailField(
        label=_("E-mail address of the applicant"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "dir": "ltr"}),
    )
