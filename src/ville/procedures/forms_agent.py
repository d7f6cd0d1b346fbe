"""Forms of the agents' back office: queue filters, transitions, messages, assignment and
the counter. They only parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ville.core.errors import ValidationFailed
from ville.procedures.models import Application

DESK_CHANNELS = [
    (Application.Channel.COUNTER.value, Application.Channel.COUNTER.label),
    (Application.Channel.PHONE.value, Application.Channel.PHONE.label),
    (Application.Channel.MAIL.value, Application.Channel.MAIL.label),
]


def add_domain_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Put a service's refusal on the form: each message on its field when the form has
    it, at the top otherwise (the error summary lists both)."""
    fields = getattr(exc, "fields", None) or {}
    for name, messages in fields.items():
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            form.add_error(name if name in form.fields else None, str(message))
    if not fields:
        form.add_error(None, str(exc.message))


class QueueFilterForm(forms.Form):
    """The queue's filters, sent with GET so that a filtered queue has its own address."""

    q = forms.CharField(
        label=_("Search"),
        help_text=_("Tracking code, name of the citizen or of the beneficiary, or any answer."),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    state = forms.ChoiceField(label=_("Status"), required=False)
    procedure = forms.ChoiceField(label=_("Procedure"), required=False)
    overdue = forms.BooleanField(label=_("Only overdue applications"), required=False)
    mine = forms.BooleanField(label=_("Only applications assigned to me"), required=False)

    def __init__(
        self,
        *args: Any,
        states: list[tuple[str, str]],
        procedures: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All statuses")), *states]  # type: ignore[attr-defined]
        self.fields["procedure"].choices = [("", _("All procedures")), *procedures]  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    """One move of the workflow. `expected_lock_version` is the version the page showed:
    if someone acted since, the service refuses with a conflict and nothing changes."""

    transition = forms.CharField(widget=forms.HiddenInput, max_length=80)
    expected_lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, comment_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        comment = self.fields["comment"]
        # The service checks it too; the form says it before anything is sent.
        comment.required = comment_required
        if comment_required:
            comment.help_text = _("Required: the citizen reads it in their timeline.")
        else:
            comment.help_text = _("Shown to the citizen in their timeline.")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is checked by content by the service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message to the citizen"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    documents = MultipleFileField(
        label=_("Attach files"),
        help_text=_("PDF, JPEG or PNG, 10 MB at most each."),
        required=False,
    )


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)
    expected_lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, agents: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("Nobody")),
            *[(str(agent.pk), agent.get_full_name() or agent.email) for agent in agents],
        ]


class CounterSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Citizen's e-mail address or name"),
        help_text=_("The exact e-mail address, or the first and last name."),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class CounterStartForm(forms.Form):
    """What the agent files for the citizen in front of them (or on the phone)."""

    citizen = forms.UUIDField(widget=forms.HiddenInput)
    procedure = forms.ChoiceField(label=_("Procedure"))
    beneficiary = forms.ChoiceField(
        label=_("Who is the application for?"),
        help_text=_("Leave “Nobody in particular” for a procedure about the citizen."),
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("How did the citizen reach you?"),
        choices=DESK_CHANNELS,
        initial=Application.Channel.COUNTER.value,
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        *args: Any,
        procedures: list[tuple[str, str]],
        members: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [("", _("Choose…")), *procedures]  # type: ignore[attr-defined]
        self.fields["beneficiary"].choices = [("", _("Nobody in particular")), *members]  # type: ignore[attr-defined]


class SubmitForm(forms.Form):
    # A fresh key per page: a double click or a replayed request submits once.
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
