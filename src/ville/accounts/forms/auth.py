"""Forms of the authentication pages: they parse and validate input, services act on it.
Field names double as the HTML ids (`id_email`, `id_password`…) the browser tests use."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.core.validators import MaxLengthValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from ville.accounts.models import User

PASSWORD_HELP = _(
    "At least 12 characters. A few unrelated words make a strong password that is easy "
    "to remember; do not reuse a password from another site."
)


def _email_field(**attrs: str) -> forms.EmailField:
    return forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false", **attrs}),
    )


class LoginForm(forms.Form):
    email = _email_field(autocomplete="username")
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignupForm(forms.Form):
    email = _email_field()
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_terms = forms.BooleanField(
        label=_("I have read and accept the terms of use of the platform"),
        error_messages={"required": _("You must accept the terms of use to create an account.")},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            # Compared with the name and address typed here (UserAttributeSimilarity).
            candidate = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, user=candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class EmailForm(forms.Form):
    """One address: resending a confirmation link, asking for a password reset."""

    email = _email_field()


class NewPasswordForm(SetPasswordForm):
    """Django's two-field form (validators included), labelled for our pages."""

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password1"].help_text = PASSWORD_HELP
        for name in ("new_password1", "new_password2"):
            self.fields[name].validators.append(MaxLengthValidator(4096))
        self.fields["new_password2"].label = _("New password again")

    def save(self, commit: bool = True) -> Any:  # pragma: no cover - services write
        raise NotImplementedError("Use ville.accounts.services.auth instead.")


class PasswordChangeForm(NewPasswordForm):
    """The current password is checked by the service (through django-axes), not here."""

    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password1", "new_password2"]


class CodeField(forms.CharField):
    """Six digits; spaces ("123 456", as some apps show them) are dropped first."""

    def to_python(self, value: Any) -> str:
        return "".join(str(super().to_python(value)).split())


class CodeForm(forms.Form):
    code = CodeField(
        label=_("6-digit code"),
        help_text=_(
            "Open your authentication app and type the code it shows for Ville Intelligente."
        ),
        max_length=12,
        validators=[RegexValidator(r"^\d{6}$", _("Enter the 6 digits shown by your app."))],
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
            }
        ),
    )
