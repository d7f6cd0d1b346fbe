"""Pages of authentication: sign-up and confirmation, login (password, then TOTP), logout,
password reset and change, TOTP enrolment. Each parses a form and calls one service."""

from __future__ import annotations

from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from ville.accounts.forms.auth import (
    CodeForm,
    EmailForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    SignupForm,
)
from ville.accounts.models import User
from ville.accounts.services import auth as services
from ville.core.errors import AuthenticationFailed, RateLimited, ValidationFailed, error_body
from ville.core.i18n import set_language_cookie

# Remembered between the sign-up (or a refused login) and the "check your mailbox" page,
# so the resend form comes pre-filled.
SIGNUP_EMAIL_KEY = "ville_signup_email"
# Django's trick: the reset token leaves the URL (and so Referer headers and logs).
RESET_TOKEN_KEY = "ville_password_reset_token"  # noqa: S105 (a session key)
RESET_URL_TOKEN = "set-password"  # noqa: S105 (a placeholder)

GET_POST = require_http_methods(["GET", "POST"])


# --- Helpers shared by the pages ----------------------------------------------------------


def safe_next(request: HttpRequest, value: str | None) -> str | None:
    """`value` if it is a local path or URL of this site, else None (no open redirect)."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


def _posted(request: HttpRequest) -> Any:
    """The POST data (even empty, so the form is bound and says what is missing) or None."""
    return request.POST if request.method == "POST" else None


def _next_from(request: HttpRequest) -> str | None:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _redirect_after_login(request: HttpRequest, user: User, next_url: str | None) -> HttpResponse:
    """Go on in the person's language: the one chosen on this visit (a language other
    than the default in the URL, or the switcher's cookie) wins; otherwise the profile's.
    The target goes under that prefix and the cookie covers unprefixed URLs."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    chosen_now = (
        current != settings.LANGUAGE_CODE or settings.LANGUAGE_COOKIE_NAME in request.COOKIES
    )
    language = current if chosen_now else services.user_language(user)
    target = translate_url(next_url or reverse("dashboard:home"), language)
    translation.activate(language)
    response = redirect(target)
    set_language_cookie(response, language)
    return response


def _render_locked(request: HttpRequest, message: str | None = None) -> HttpResponse:
    return render(
        request,
        "accounts/auth/locked.html",
        {
            "title": _("Account temporarily locked"),
            "message": message or str(services.locked_error().message),
            "minutes": services.lockout_minutes(),
        },
        status=429,
    )


def _add_domain_error(form: Any, exc: ValidationFailed) -> None:
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, str(error))
    if not exc.fields:
        form.add_error(None, str(exc.message))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: django-axes calls it after any request that hit the lockout.

    Our login page and API have already answered 429 in the person's language, so that
    answer stands; any other place (a future form calling authenticate) gets the same page.
    """
    if original_response is not None and original_response.status_code == 429:
        return original_response
    message = str(services.locked_error().message)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("rate_limited", message), status=429)
    return _render_locked(request, message)


# --- Sign-up and e-mail confirmation ----------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@never_cache
@csrf_protect
@GET_POST
def signup_view(request: HttpRequest) -> HttpResponse:
    form = SignupForm(_posted(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_signup(
                request=request,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                password=data["password1"],
            )
        except RateLimited as exc:
            form.add_error(None, str(exc.message))
            status = 429
        else:
            request.session[SIGNUP_EMAIL_KEY] = services.normalise_email(data["email"])
            return redirect("accounts:signup_done")
    return render(
        request,
        "accounts/auth/signup.html",
        {"title": _("Create an account"), "form": form},
        status=status,
    )


@never_cache
@csrf_protect
@GET_POST
def signup_done_view(request: HttpRequest) -> HttpResponse:
    """ "Check your mailbox", with a form to send the link again."""
    email = request.session.get(SIGNUP_EMAIL_KEY, "")
    form = EmailForm(_posted(request), initial={"email": email})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.email_verification_resend(request=request, email=form.cleaned_data["email"])
        except RateLimited as exc:
            form.add_error(None, str(exc.message))
            status = 429
        else:
            messages.success(
                request,
                _(
                    "If an account is waiting for this address to be confirmed, "
                    "we have sent a new link. It can take a few minutes to arrive."
                ),
            )
            request.session[SIGNUP_EMAIL_KEY] = services.normalise_email(form.cleaned_data["email"])
            return redirect("accounts:signup_done")
    return render(
        request,
        "accounts/auth/signup_done.html",
        {
            "title": _("Check your mailbox"),
            "form": form,
            "email": email,
            "hours": settings.EMAIL_VERIFICATION_MAX_AGE // 3600,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET"])
def verify_email_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.email_verify(request=request, token=token)
    except services.InvalidLink as exc:
        return render(
            request,
            "accounts/auth/link_invalid.html",
            {
                "title": _("This link does not work"),
                "message": exc.message,
                "retry_url": reverse("accounts:signup_done"),
                "retry_label": _("Get a new confirmation link"),
            },
            status=400,
        )
    request.session.pop(SIGNUP_EMAIL_KEY, None)
    messages.success(request, _("Your e-mail address is confirmed. You can now log in."))
    return redirect("accounts:login")


# --- Login and logout --------------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
@csrf_protect
@GET_POST
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_from(request)
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url or "dashboard:home")
    form = LoginForm(_posted(request))
    unverified = False
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            user = services.auth_login(
                request=request, email=email, password=form.cleaned_data["password"]
            )
        except RateLimited as exc:
            return _render_locked(request, str(exc.message))
        except services.MfaRequired:
            return redirect(_with_next(reverse("accounts:mfa_verify"), next_url))
        except services.EmailNotVerified as exc:
            request.session[SIGNUP_EMAIL_KEY] = services.normalise_email(email)
            form.add_error(None, str(exc.message))
            unverified = True
        except AuthenticationFailed as exc:
            form.add_error(None, str(exc.message))
        else:
            return _redirect_after_login(request, user, next_url)
    return render(
        request,
        "accounts/auth/login.html",
        {"title": _("Log in"), "form": form, "next": next_url or "", "unverified": unverified},
    )


@never_cache
@csrf_protect
@GET_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation (a link or a prefetch must not end a session)."""
    if request.method == "POST":
        services.auth_logout(request=request)
        messages.success(request, _("You are logged out."))
        return redirect(settings.LOGOUT_REDIRECT_URL)
    if not request.user.is_authenticated:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return render(request, "accounts/auth/logout.html", {"title": _("Log out")})


# --- Passwords ---------------------------------------------------------------------------


@never_cache
@csrf_protect
@GET_POST
def password_reset_view(request: HttpRequest) -> HttpResponse:
    form = EmailForm(_posted(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_request(request=request, email=form.cleaned_data["email"])
        except RateLimited as exc:
            form.add_error(None, str(exc.message))
            status = 429
        else:
            # The same page whether or not the address has an account.
            return render(
                request,
                "accounts/auth/password_reset_sent.html",
                {
                    "title": _("Check your mailbox"),
                    "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
                },
            )
    return render(
        request,
        "accounts/auth/password_reset.html",
        {"title": _("Forgotten password"), "form": form},
        status=status,
    )


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@csrf_protect
@GET_POST
def password_reset_confirm_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    token_in_url = token != RESET_URL_TOKEN
    if not token_in_url:
        token = request.session.get(RESET_TOKEN_KEY, "")
    try:
        user = services.password_reset_user(uidb64=uidb64, token=token)
    except services.InvalidLink as exc:
        return render(
            request,
            "accounts/auth/link_invalid.html",
            {
                "title": _("This link does not work"),
                "message": exc.message,
                "retry_url": reverse("accounts:password_reset"),
                "retry_label": _("Ask for a new link"),
            },
            status=400,
        )
    if token_in_url:
        request.session[RESET_TOKEN_KEY] = token
        return redirect("accounts:password_reset_confirm", uidb64=uidb64, token=RESET_URL_TOKEN)
    form = NewPasswordForm(user, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_complete(
                request=request, user=user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationFailed as exc:
            _add_domain_error(form, exc)
        else:
            request.session.pop(RESET_TOKEN_KEY, None)
            messages.success(request, _("Your password has been changed. You can now log in."))
            return redirect("accounts:login")
    return render(
        request,
        "accounts/auth/password_reset_confirm.html",
        {"title": _("Choose a new password"), "form": form, "user_email": user.email},
    )


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
@csrf_protect
@GET_POST
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                request=request,
                user=request.user,  # type: ignore[arg-type]
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except RateLimited as exc:
            return _render_locked(request, str(exc.message))
        except ValidationFailed as exc:
            _add_domain_error(form, exc)
        else:
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:password_change")
    return render(
        request,
        "accounts/auth/password_change.html",
        {"title": _("Change my password"), "form": form},
    )


# --- TOTP --------------------------------------------------------------------------------


def _qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG: no style attribute, so the strict CSP holds."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr-code",
        lineclass=None,
        title=_("QR code to scan with your authentication app"),
        omitsize=True,
    )
    return svg.replace("<svg ", '<svg role="img" focusable="false" ', 1)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@csrf_protect
@GET_POST
def mfa_setup_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_from(request)
    user: User = request.user  # type: ignore[assignment]
    if services.mfa_device_get(user=user) is not None:
        if not user.is_verified():  # type: ignore[attr-defined]
            return redirect(_with_next(reverse("accounts:mfa_verify"), next_url))
        return render(
            request, "accounts/auth/mfa_enabled.html", {"title": _("Two-step verification")}
        )
    device = services.mfa_setup_start(user=user)
    form = CodeForm(_posted(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.mfa_setup_confirm(request=request, user=user, code=form.cleaned_data["code"])
        except RateLimited as exc:
            form.add_error("code", str(exc.message))
            status = 429
        except (AuthenticationFailed, ValidationFailed) as exc:
            form.add_error("code", str(exc.message))
        else:
            messages.success(request, _("Two-step verification is now on for your account."))
            return redirect(next_url or "dashboard:home")
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/auth/mfa_setup.html",
        {
            "title": _("Set up two-step verification"),
            "form": form,
            "next": next_url or "",
            "secret": _grouped(secret),
            # segno writes the SVG itself and escapes the title; the URI is ours.
            "qr_svg": mark_safe(_qr_svg(device.config_url)),
            "required": user.requires_mfa,
        },
        status=status,
    )


@never_cache
@csrf_protect
@GET_POST
def mfa_verify_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_from(request)
    user = request.user
    if user.is_authenticated:
        if user.is_verified():  # type: ignore[union-attr,attr-defined]
            return redirect(next_url or "dashboard:home")
        if services.mfa_device_get(user=user) is None:  # type: ignore[arg-type]
            return redirect(_with_next(reverse("accounts:mfa_setup"), next_url))
    elif services.auth_pending_user(request=request) is None:
        messages.error(request, str(services.LoginExpired.default_message))
        return redirect(_with_next(reverse("accounts:login"), next_url))
    form = CodeForm(_posted(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            verified = services.auth_login_second_factor(
                request=request, totp=form.cleaned_data["code"]
            )
        except services.LoginExpired as exc:
            messages.error(request, str(exc.message))
            return redirect(_with_next(reverse("accounts:login"), next_url))
        except RateLimited as exc:
            form.add_error("code", str(exc.message))
            status = 429
        except AuthenticationFailed as exc:
            form.add_error("code", str(exc.message))
        else:
            return _redirect_after_login(request, verified, next_url)
    return render(
        request,
        "accounts/auth/mfa_verify.html",
        {"title": _("Enter your code"), "form": form, "next": next_url or ""},
        status=status,
    )
