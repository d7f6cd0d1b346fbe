"""Agents, helpers and administrators cannot use the platform before passing TOTP."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Pages an MFA-bound account may still reach before verifying: enrolment, check, logout.
MFA_EXEMPT_URL_NAMES = {"mfa_setup", "mfa_verify", "logout", "set_language"}


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified() or not user.requires_mfa:  # type: ignore[union-attr]
            return None
        match = request.resolver_match
        if match is not None and match.url_name in MFA_EXEMPT_URL_NAMES:
            return None
        if request.path.startswith("/static/") or request.path == "/healthz":
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "error": {
                        "code": "mfa_required",
                        "message": _("A one-time code is required for this account."),
                        "fields": {},
                    }
                },
                status=403,
            )
        return redirect(f"{reverse('accounts:mfa_verify')}?next={request.get_full_path()}")
